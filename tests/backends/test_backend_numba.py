"""NumbaBackend: option checks, draws and diagnostics, bootstrap, determinism."""

import sys
import warnings

import numpy as np
import pytest

import gmmmi
import gmmmi.backends.numba as numba_backend
from gmmmi._em import bootstrap as em_bootstrap
from gmmmi._em import procedure as em_procedure
from gmmmi._em.bootstrap import bootstrap_fits
from gmmmi._em.fit import EMSettings
from gmmmi.backends import get_backend
from gmmmi.backends.numba import NumbaBackend
from gmmmi.datasets import gamma_exponential_mi, paper_mixture
from gmmmi.exceptions import ConvergenceWarning
from gmmmi.mixture import MixtureDraws

from helpers import DATA, interrupt_after_start, standardise


def _d3(rng, n=600):
    return standardise(paper_mixture("D3").sample(n, rng)[0])


def test_registered_with_gmm_mi_defaults_except_the_search_start():
    """GMM-MI's defaults, except k-means starts, one per K, and shared-scale mixtures on."""
    be = get_backend("numba")
    assert isinstance(be, NumbaBackend) and be.name == "numba"
    assert be.options == {
        "init_type": "kmeans",
        "scale": None,
        "threshold_fit": 1e-5,
        "reg_covar": 1e-15,
        "max_iter": 10000,
        "n_inits": 1,
        "n_folds": 2,
        "metric_method": "valid",
        "threshold_components": 1e-5,
        "patience": 1,
        "max_components": 50,
        "n_bootstrap": 50,
        "reselect_components": False,
        "scale_mixtures": True,
    }


def test_bootstrap_draws_and_diagnostics(rng):
    X = _d3(rng)
    draws, diag = NumbaBackend().fit(X, n_components=None, rng=rng, n_bootstrap=8)
    K = diag.n_components
    assert draws.weights.shape == (8, K) and draws.covariances.shape == (8, K, 2, 2)
    assert diag.method == "bootstrap" and diag.metric_method == "valid"
    assert diag.reference_fit.n_draws == 1 and diag.reference_fit.n_components == K
    assert diag.n_iter.shape == (8,) and diag.converged.all()
    assert set(diag.metric_per_k) == {"n_components", "valid", "aic", "bic"}
    # K is one the search scored, or the wider search's (run when the first fit failed its check)
    widened = diag.search is not None and diag.search.accepted
    assert K == diag.search.n_components if widened else K in diag.metric_per_k["n_components"]
    n_fits = NumbaBackend.options["n_inits"] * NumbaBackend.options["n_folds"]
    assert len(diag.loss_curves["train"]) == len(diag.loss_curves["valid"]) == n_fits
    assert diag.extra["fold_assignment"].shape == (600,)
    np.testing.assert_allclose(draws.weights.sum(axis=1), 1.0)
    # every replica is a different fit
    assert np.unique(draws.means[:, 0, 0]).size == 8


def test_single_fit_when_no_bootstrap(rng):
    X = _d3(rng, 400)
    draws, diag = NumbaBackend().fit(X, n_components=3, rng=rng, n_bootstrap=0)
    assert diag.method == "single fit" and draws.n_draws == 1
    np.testing.assert_array_equal(draws.means, diag.reference_fit.means)
    assert diag.metric_per_k == {} and diag.metric_method is None
    assert diag.n_iter.shape == (1,)


def test_reference_fit_is_a_maximum(rng):
    """EM from the reference fit does not move it (it is a converged full-data fit)."""
    X = _d3(rng, 500)
    _, diag = NumbaBackend().fit(X, n_components=3, rng=rng, n_bootstrap=0, threshold_fit=1e-10)
    ref = diag.reference_fit
    again, d2 = NumbaBackend().fit(X, rng=rng, init=ref, n_bootstrap=0, threshold_fit=1e-10)
    assert d2.extra["warm_start"] and d2.n_components == 3
    np.testing.assert_allclose(again.means, ref.means, atol=1e-4)


def test_bootstrap_spread_matches_the_standard_error(rng):
    """For one Gaussian the replicas' means scatter by about sd / sqrt(n)."""
    n, B = 400, 60
    X = standardise(rng.normal(size=(n, 2)))
    init = (np.ones(1), np.zeros((1, 2)), np.eye(2)[None])
    boot = bootstrap_fits(X, init, B, rng=rng, settings=EMSettings())
    sd = boot.means[:, 0, :].std(axis=0, ddof=1)
    # the sd of B draws has a relative standard error of about 1 / sqrt(2 (B - 1)) ~ 9%
    np.testing.assert_allclose(sd, 1 / np.sqrt(n), rtol=4 / np.sqrt(2 * (B - 1)))


def test_bootstrap_chunks_do_not_change_results(rng, monkeypatch):
    X = _d3(rng, 300)
    init = (np.full(3, 1 / 3), X[:3].copy(), np.stack([np.eye(2)] * 3))
    seed = int(rng.integers(2**32))
    one = bootstrap_fits(X, init, 5, rng=np.random.default_rng(seed), settings=EMSettings())
    monkeypatch.setattr(em_bootstrap, "_BOOTSTRAP_MEMORY", 1)  # one replica per chunk
    many = bootstrap_fits(X, init, 5, rng=np.random.default_rng(seed), settings=EMSettings())
    np.testing.assert_array_equal(one.means, many.means)
    np.testing.assert_array_equal(one.n_iter, many.n_iter)


@pytest.mark.parametrize(
    ("d", "n", "block_length", "memory"),
    [(2, 300, None, None), (3, 200, None, 1), (5, 120, 7, None), (2, 30, None, None)],
)
def test_one_gaussian_replicas_in_closed_form_are_the_em_fits_bit_for_bit(
    rng, monkeypatch, d, n, block_length, memory
):
    """Large K = 1 bootstraps skip the EM kernel (`single_gaussian_replicas`); same fits."""
    X = standardise(rng.normal(size=(n, d)) @ rng.normal(size=(d, d)))
    init = (np.ones(1), X.mean(axis=0)[None] + 0.01, np.cov(X.T)[None])
    seed = int(rng.integers(2**32))

    def run(closed_form_rows):
        monkeypatch.setattr(em_bootstrap, "_CLOSED_FORM_ROWS", closed_form_rows)
        if memory is not None:  # one replica per chunk
            monkeypatch.setattr(em_bootstrap, "_BOOTSTRAP_MEMORY", memory)
        kw = {"block_length": block_length}
        return bootstrap_fits(
            X, init, 9, rng=np.random.default_rng(seed), settings=EMSettings(), **kw
        )

    em, closed = run(10**18), run(0)
    for field in ("weights", "means", "covariances", "n_iter", "status", "train_ll", "valid_ll"):
        np.testing.assert_array_equal(getattr(closed, field), getattr(em, field), err_msg=field)
    assert closed.means.shape == (9, 1, d) and not np.isnan(closed.means).any()


def test_same_seed_same_draws(rng):
    X = _d3(rng, 300)
    seed = int(rng.integers(2**32))
    a, _ = NumbaBackend().fit(X, rng=np.random.default_rng(seed), n_bootstrap=4)
    b, _ = NumbaBackend().fit(X, rng=np.random.default_rng(seed), n_bootstrap=4)
    np.testing.assert_array_equal(a.covariances, b.covariances)


_THREADS_SCRIPT = """
import hashlib, numpy as np
import gmmmi._threads as threads
from gmmmi.backends.numba import NumbaBackend
threads.PARALLEL_MIN_WORK = 0.0  # every batch through the parallel path, even this small one
from gmmmi.datasets import paper_mixture
X = paper_mixture("D3").sample(800, np.random.default_rng(5))[0]
X = (X - X.mean(0)) / X.std(0)
draws, diag = NumbaBackend().fit(X, n_components=None, rng=np.random.default_rng(7), n_bootstrap=6)
h = hashlib.sha256()
for a in (draws.weights, draws.means, draws.covariances, diag.reference_fit.means, diag.n_iter):
    h.update(np.ascontiguousarray(a).tobytes())
print(diag.n_components, h.hexdigest())
"""


@pytest.mark.slow
def test_bit_identical_across_thread_counts(outputs_per_thread_count):
    outputs = outputs_per_thread_count(_THREADS_SCRIPT)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"init_type": "kmeans++"}, ValueError, "valid values are 'random', 'minmax'"),
        ({"metric_method": "loglik"}, ValueError, "'valid', 'aic', 'bic'"),
        ({"n_folds": 1}, ValueError, "n_folds must be at least 2"),
        ({"n_inits": 0}, ValueError, "n_inits must be at least 1"),
        ({"patience": 1.5}, ValueError, "patience must be an integer"),
        ({"max_iter": "100"}, TypeError, "max_iter must be an integer"),
        ({"reg_covar": -1.0}, ValueError, "reg_covar must be at least 0"),
        ({"scale": 0.0}, ValueError, "scale must be greater than 0"),
        ({"n_bootstrapp": 3}, TypeError, "Unknown option.*'n_bootstrapp'"),
        ({"reselect_components": "yes"}, TypeError, "reselect_components must be True or False"),
    ],
)
def test_option_errors(rng, options, error, match):
    with pytest.raises(error, match=match):
        NumbaBackend().fit(rng.normal(size=(50, 2)), rng=rng, **options)


def test_too_few_samples(rng):
    with pytest.raises(ValueError, match="needs at least n_folds x n_components = 9 samples"):
        NumbaBackend().fit(rng.normal(size=(8, 2)), n_components=3, n_folds=3, rng=rng)


def test_bad_init_is_rejected(rng):
    wrong = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 3)), np.eye(3)[None, None])
    with pytest.raises(ValueError, match="S=1 draw and d=2"):
        NumbaBackend().fit(rng.normal(size=(50, 2)), rng=rng, init=wrong)


def test_max_iter_warns(rng):
    X = _d3(rng, 300)
    with (
        pytest.warns(ConvergenceWarning, match="stopped at max_iter=2"),
        # two iterations are also GMM-MI's sign of a poor fit: both warnings are raised
        pytest.warns(ConvergenceWarning, match="Every cross-validation fit stopped within 2 EM"),
    ):
        _, diag = NumbaBackend().fit(X, n_components=3, rng=rng, max_iter=2, n_bootstrap=3)
    assert not diag.converged.any()


def test_gaussian_fit_is_quiet(rng):
    X = standardise(rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, diag = NumbaBackend().fit(X, rng=rng, n_bootstrap=3)
    assert diag.n_components == 1


# --------------------------------------------------------------------------- collapsed components


def _duplicated_point_data(rng, n=300, copies=5):
    """A standard Gaussian sample plus ``copies`` identical rows far from it."""
    X = np.vstack([rng.normal(size=(n, 2)), np.repeat([[4.0, -4.0]], copies, axis=0)])
    # a start whose second component sits on the duplicates: EM collapses it onto them
    start = (
        np.array([0.98, 0.02]),
        np.array([[0.0, 0.0], [4.0, -4.0]]),
        np.eye(2)[None] * [[[1]], [[1e-3]]],
    )
    return X, start


def test_collapsed_replicas_are_refitted_without_the_component(rng):
    X, start = _duplicated_point_data(rng)
    init = MixtureDraws(*(a[None] for a in start))
    with pytest.warns(ConvergenceWarning, match="collapsed component.*reg_covar=1e-15"):
        draws, diag = NumbaBackend().fit(X, rng=rng, init=init, n_bootstrap=10)
    # every replica holds the duplicates (P(missed) = (1 - 1/n)^(5 n) ~ 0.7 %)
    assert diag.extra["repaired_fits"] >= 10
    draws.cholesky()  # no component left that the integrators cannot factorise
    assert np.all(np.linalg.eigvalsh(draws.covariances)[..., 0] > 1e-3)
    np.testing.assert_array_equal(draws.weights[:, 1], 0.0)  # the dropped component: padding
    # what remains is the one-Gaussian maximum-likelihood fit: sample mean and covariance
    ref = diag.reference_fit
    np.testing.assert_array_equal(ref.weights[0], [1.0, 0.0])
    np.testing.assert_allclose(ref.means[0, 0], X.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(ref.covariances[0, 0], np.cov(X.T, bias=True), atol=1e-12)


def test_healthy_fits_are_not_repaired(rng):
    X = _d3(rng, 600)
    _, diag = NumbaBackend().fit(X, rng=rng, n_bootstrap=10)
    assert diag.extra["repaired_fits"] == 0


@pytest.mark.parametrize(
    "name, seed",
    [
        ("gamma_exponential_collapse_17", 6763636283796308087),
        ("gamma_exponential_collapse_114", 7511931647531637288),
    ],
)
def test_calibration_data_sets_that_collapsed(name, seed):
    """Two gamma-exponential (alpha=1, N=1000) calibration data sets whose replicas collapsed.

    With the seeds of the study, a bootstrap replica had a component of
    weight 0.008 on a few repeated rows (eigenvalue ~1e-15), which either
    failed the integrator's Cholesky factorisation or inflated the MI.
    """
    X = np.load(DATA / f"{name}.npy")
    with pytest.warns(ConvergenceWarning, match="reg_covar"):
        # the study's search (GMM-MI's) on the raw data, whose replicas collapsed
        # (gmmmi.estimate's defaults now start from k-means and map these margins first)
        result = gmmmi.estimate(
            X, random_state=seed, init_type="random_sklearn", n_inits=3, transform="none"
        )
    mean, sd = result
    assert result.diagnostics.extra["repaired_fits"] >= 1
    assert np.all(np.isfinite(result.draws["mi"]))
    # truth psi(2) - ln 1; the bootstrap sd of N=1000 is about 0.025 nat
    assert abs(mean - gamma_exponential_mi(1.0)) < 3 * sd
    assert 0.01 < sd < 0.05


# --------------------------------------------------------------------------- re-selecting K
def test_reselect_components_chooses_k_per_replica(rng):
    X = _d3(rng, 600)
    seed = int(rng.integers(2**32))
    draws, diag = NumbaBackend().fit(
        X, rng=np.random.default_rng(seed), n_bootstrap=6, reselect_components=True
    )
    K, replica_k = diag.n_components, diag.extra["replica_n_components"]
    assert replica_k.shape == (6,) and np.all(replica_k >= max(1, K - 2))
    assert draws.n_draws == 6 and draws.n_components == max(replica_k.max(), K)
    # each draw: its own K components (repairs could only drop some), then empty padding
    assert np.all(np.count_nonzero(draws.weights, axis=1) <= replica_k)
    np.testing.assert_allclose(draws.weights.sum(axis=1), 1.0)
    draws.cholesky()
    again, _ = NumbaBackend().fit(
        X, rng=np.random.default_rng(seed), n_bootstrap=6, reselect_components=True
    )
    np.testing.assert_array_equal(draws.means, again.means)


def test_reselect_components_ignored_for_a_fixed_k(rng):
    X = _d3(rng, 300)
    draws, diag = NumbaBackend().fit(
        X, n_components=3, rng=rng, n_bootstrap=3, reselect_components=True
    )
    assert diag.extra["replica_n_components"] is None and draws.n_components == 3


def test_reselected_replicas_of_one_gaussian_spread_like_the_plain_bootstrap(rng):
    """One Gaussian: replicas choose K = 1 and their means scatter by sd / sqrt(n)."""
    n, B = 400, 30
    X = standardise(rng.normal(size=(n, 2)))
    draws, diag = NumbaBackend().fit(X, rng=rng, n_bootstrap=B, reselect_components=True)
    assert diag.n_components == 1
    # an extra component may win a replica's cross-validation now and then
    assert np.mean(diag.extra["replica_n_components"] == 1) >= 0.8
    one = diag.extra["replica_n_components"] == 1
    sd = draws.means[one, 0, :].std(axis=0, ddof=1)
    np.testing.assert_allclose(sd, 1 / np.sqrt(n), rtol=4 / np.sqrt(2 * (one.sum() - 1)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"n_bootstrap": 10**9},
            r"n_bootstrap=1000000000 needs at least 149 GiB of memory for the fitted mixtures "
            r"alone \(160 bytes per fit with 2 column\(s\)\), more than this machine's 8 GiB; "
            r"a few hundred replicas give a stable sd\.",
        ),
        (
            {"n_inits": 10**9},
            r"n_inits=1000000000 with n_folds=2 needs at least 298 GiB .* more than this "
            r"machine's 8 GiB; a few initialisations per K are enough \(default 1; GMM-MI's 3\)\.",
        ),
    ],
)
def test_absurd_counts_are_refused_before_any_work(monkeypatch, options, message):
    monkeypatch.setattr(numba_backend, "physical_memory", lambda: 8 * 2**30)

    def no_work(*args, **kwargs):
        raise AssertionError("nothing may be fitted")

    monkeypatch.setattr(em_procedure, "select_components", no_work)
    X = np.random.default_rng(1).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 500)
    with pytest.raises(ValueError, match=message):
        gmmmi.estimate(X, random_state=0, **options)
    with pytest.raises(ValueError, match=message.split(" needs")[0]):
        gmmmi.estimate_many([(X[:, 0], X[:, 1])], **options)


def test_counts_that_fit_in_memory_are_not_refused(monkeypatch):
    monkeypatch.setattr(numba_backend, "physical_memory", lambda: 8 * 2**30)
    opts = NumbaBackend.check_options({"n_bootstrap": 10**6, "n_inits": 100}, n_dim=2)
    assert (opts["n_bootstrap"], opts["n_inits"]) == (10**6, 100)
    monkeypatch.undo()
    assert numba_backend.physical_memory() > 2**20  # the real figure, from os.sysconf


# ------------------------------------------------------------------- Ctrl-C
_LONG_ESTIMATE = """
import sys, numpy as np, gmmmi
X = np.random.default_rng(1).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 2000)
# imports and kernels loaded first: a SIGINT during an extension module's import is
# an ImportError, not what this test is about
gmmmi.estimate(X[:100], n_bootstrap=2, random_state=0, progress=False)
print("started", flush=True)
try:
    # K=3 EM in every replica: minutes of compiled work (K=1 replicas are closed-form)
    gmmmi.estimate(
        X, n_bootstrap=100000, fixed_components_number=3, random_state=0, progress=False
    )
except KeyboardInterrupt:
    print("caught KeyboardInterrupt", flush=True)
    sys.exit(3)
"""


@pytest.mark.parametrize("wait", [1.0, 3.0])
def test_ctrl_c_during_an_estimate_is_a_keyboard_interrupt(wait):
    # inside compiled code it used to surface as a chain of SystemError in 5 of 6 runs
    args = [sys.executable, "-c", _LONG_ESTIMATE]
    rc, out, err = interrupt_after_start(args, b"started", wait=wait)
    assert "caught KeyboardInterrupt" in out, err.decode()
    assert rc == 3 and b"SystemError" not in err, err.decode()


def test_interruptible_turns_only_interrupt_chains_into_keyboard_interrupt():
    from gmmmi._interrupt import interruptible

    def numba_like():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(f) returned a result with an exception set") from exc

    with pytest.raises(KeyboardInterrupt) as info:
        interruptible(numba_like)()
    assert info.value.__cause__ is None and info.value.__suppress_context__

    def genuine():
        raise SystemError("a real one")

    with pytest.raises(SystemError, match="a real one"):
        interruptible(genuine)()
    assert interruptible(lambda a, b=1: a + b)(1, b=2) == 3
