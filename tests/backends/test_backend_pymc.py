"""The PyMC backend: real NUTS sampling, seeded, CI-sized.

Truths are analytic (Gaussian MI/CMI from tests/reference.py) or the quadrature
MI of the generating mixture; posterior means are compared with them in units
of the posterior sd. R-hat and ESS are computed on the MI draws (MI does not
change under relabelling of components, so label switching cannot affect them).
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import xarray as xr

import gmmmi
from gmmmi.backends import get_backend
from gmmmi.backends.pymc import (
    PyMCBackend,
    _build_model,
    _check_options,
    _initial_point,
    _unconstrained_point,
    sampler_warnings,
)
from gmmmi.datasets import paper_mixture
from gmmmi.diagnostics import DrawKind, FitDiagnostics, mixing_messages
from gmmmi.integrate import conditional_mi, mutual_information
from gmmmi.mixture import MixtureDraws

from helpers import standardise
from reference import gaussian_cmi

pytest.importorskip("pymc")

README_TRUTH = -0.5 * np.log(1 - 0.6**2)  # 0.2231 nats


def _readme_data():
    rng = np.random.default_rng(0)
    return rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200)


def _rhat(values):
    from gmmmi import _arviz

    ds = xr.Dataset({"q": (("chain", "draw"), values)})
    return _arviz.summary(ds, var_names=["q"], hdi_prob=0.9).loc["q", ["r_hat", "ess_bulk"]]


# ----------------------------------------------------------------- fast checks
def test_registered_with_its_options():
    be = get_backend("pymc")
    assert isinstance(be, PyMCBackend) and be.name == "pymc"
    for name, value in {"draws": 1000, "tune": 1000, "chains": 2, "target_accept": 0.9}.items():
        assert be.options[name] == value
    assert be.options["method"] == "nuts"
    assert be.options["sampler"] == "pymc"  # nutpie is opt-in: see docs/bayesian.md


def test_nutpie_is_imported_only_when_used():
    code = (
        "import sys, gmmmi, gmmmi.backends.pymc; gmmmi.get_backend('pymc'); "
        "print('nutpie' in sys.modules, 'pymc' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"method": "advi"}, ValueError, "docs/bayesian.md"),
        ({"method": "mcmc"}, ValueError, "valid values are 'nuts', 'advi'"),
        ({"target_accept": 1.0}, ValueError, r"target_accept must be in \(0, 1\)"),
        ({"draws": 0}, ValueError, "draws must be at least 1"),
        ({"prior_mean_sd": -1.0}, ValueError, "prior_mean_sd must be greater than 0"),
        ({"n_bootstrap": 10}, TypeError, "Unknown option.*n_bootstrap"),
        ({"sampler": "stan"}, ValueError, "valid values are 'pymc', 'nutpie'"),
        (
            {"sampler": "nutpie", "compile_mode": "FAST_RUN"},
            ValueError,
            r"compile_mode='FAST_RUN' applies to sampler=\"pymc\" only: nutpie always compiles",
        ),
    ],
)
def test_bad_options_are_refused_before_sampling(rng, options, error, match):
    X = rng.standard_normal((50, 2))
    with pytest.raises(error, match=match):
        PyMCBackend().fit(X, n_components=1, rng=rng, progress=False, **options)


def test_init_must_match_data_and_k(rng):
    X = rng.standard_normal((50, 2))
    init = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 3)), np.eye(3)[None, None])
    with pytest.raises(ValueError, match="init has dimension 3 but the data have 2 columns"):
        PyMCBackend().fit(X, n_components=None, rng=rng, progress=False, init=init)
    init2 = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 2)), np.eye(2)[None, None])
    with pytest.raises(ValueError, match="init has 1 components but n_components=2"):
        PyMCBackend().fit(X, n_components=2, rng=rng, progress=False, init=init2)


def test_missing_pymc_names_the_install_command(rng, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymc", None)  # makes `import pymc` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "\.\[pymc\]"'):
        PyMCBackend().fit(rng.standard_normal((20, 2)), n_components=1, rng=rng, progress=False)


def test_missing_nutpie_names_the_install_command(rng, monkeypatch):
    monkeypatch.setitem(sys.modules, "nutpie", None)
    X = rng.standard_normal((20, 2))
    with pytest.raises(ImportError, match=r'pip install "\.\[nutpie\]", or use sampler="pymc"'):
        PyMCBackend().fit(X, n_components=1, rng=rng, progress=False, sampler="nutpie")


def test_nutpie_start_points_match_pymc_transforms(rng):
    """`_unconstrained_point` against PyMC's own initial-point function (no jitter)."""
    import pymc as pm
    import pytensor
    from pymc.initial_point import make_initial_point_fn

    K, d = 3, 2
    X = rng.standard_normal((30, d))
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    init = MixtureDraws(
        np.array([[0.2, 0.5, 0.3]]),
        rng.standard_normal((1, K, d)),
        np.stack([cov * scale for scale in (0.5, 1.0, 2.0)])[None],
    )
    point = _initial_point(init, rng, jitter=0.0)
    model = _build_model(pm, X, K, _check_options({}))
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        ref = make_initial_point_fn(
            model=model, overrides=point, jitter_rvs=set(), return_transformed=True
        )(0)
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    expected = np.concatenate([np.ravel(ref[name]) for name in names])
    np.testing.assert_allclose(_unconstrained_point(point), expected, rtol=1e-12, atol=1e-12)


def _diag(diverging=None, treedepth=None):
    stats = {}
    if diverging is not None:
        stats["diverging"] = (("chain", "draw"), diverging)
    if treedepth is not None:
        stats["reached_max_treedepth"] = (("chain", "draw"), treedepth)
    return FitDiagnostics(
        kind=DrawKind.POSTERIOR,
        n_components=1,
        sample_shape=(2, 500),
        method="NUTS",
        sample_stats=xr.Dataset(stats),
    )


def test_sampler_warnings_silent_for_good_draws(rng):
    mi = 0.2 + 0.01 * rng.standard_normal((2, 500))
    no = np.zeros((2, 500), dtype=bool)
    assert sampler_warnings(_diag(no, no)) == []
    assert mixing_messages(mi) == []


def test_sampler_warnings_name_remedies(rng):
    mi = 0.2 + 0.01 * rng.standard_normal((2, 500))
    mi[1] += 0.05  # chains in different modes
    div = np.zeros((2, 500), dtype=bool)
    div[0, :3] = True
    messages = sampler_warnings(_diag(div, div))
    assert len(messages) == 2
    assert "3 of 1000 posterior draws followed a divergent transition" in messages[0]
    assert "target_accept" in messages[0] and "tune" in messages[0]
    assert "maximum tree depth" in messages[1]
    # the advice names the option estimate takes (it refuses n_components)
    advice = "fewer components (fixed_components_number=K)"
    assert messages[0].endswith(f"use more tuning steps (tune), or {advice}.")
    assert messages[1].endswith(f"Use more tuning steps (tune) or {advice}.")
    messages = mixing_messages(mi)
    assert len(messages) == 2
    assert messages[0].endswith(f"(tune, draws), {advice}, or check the fit with result.plot().")
    assert "effective sample size of MI" in messages[1]


def test_sampler_warnings_flag_few_effective_draws(rng):
    walk = np.cumsum(rng.standard_normal((2, 400)), axis=1) * 1e-3 + 0.2  # a random walk
    assert any("effective sample size of MI" in m for m in mixing_messages(walk))


# ----------------------------------------------------------- sampling (slow)
SAMPLERS = ["pymc", "nutpie"]


@pytest.fixture(scope="module", params=SAMPLERS)
def readme_results(request):
    if request.param == "nutpie":
        pytest.importorskip("nutpie")
    X = _readme_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gmmmi.estimate(X, backend="pymc", sampler=request.param, random_state=0)
    boot = gmmmi.estimate(X, random_state=0)
    return res, boot, caught


@pytest.mark.slow
def test_readme_example_posterior_of_mi(readme_results):
    res, boot, caught = readme_results
    mi = res.draws["mi"]
    assert mi.shape == (2, 1000)
    assert res.meta["method"] == "NUTS" and res.meta["backend"] == "pymc"
    assert res.diagnostics.kind is DrawKind.POSTERIOR and res.diagnostics.sample_shape == (2, 1000)
    assert res.diagnostics.extra["sampler"] in SAMPLERS
    assert abs(mi.mean() - README_TRUTH) < 2 * mi.std()
    # the fit check of a posterior looks at its most likely draw, and passes here
    assert res.fit_check is not None and res.fit_check.ok
    assert not any(issubclass(w.category, gmmmi.MisfitWarning) for w in caught)
    rhat, ess = _rhat(mi)
    assert rhat < 1.01 and ess > 400
    assert res.diagnostics.extra["divergences"] == 0
    assert int(res.diagnostics.sample_stats["diverging"].sum()) == 0
    assert not [w for w in caught if issubclass(w.category, gmmmi.exceptions.ConvergenceWarning)]
    # the posterior sd agrees with the bootstrap's on the same data
    assert abs(mi.std() / boot.draws["mi"].std() - 1) < 0.3


@pytest.mark.slow
def test_readme_example_arviz_groups(readme_results):
    res = readme_results[0]
    idata = res.to_arviz()
    assert idata.posterior["mi"].dims == ("chain", "draw")
    assert idata.sample_stats["diverging"].shape == (2, 1000)
    assert res.summary().loc["mi", "r_hat"] < 1.01


@pytest.mark.slow
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_seed_same_draws_other_seed_other_draws(sampler):
    if sampler == "nutpie":
        pytest.importorskip("nutpie")
    Xs = standardise(_readme_data())
    kw = {"n_components": 1, "progress": False, "draws": 50, "tune": 50, "sampler": sampler}
    fit = lambda seed: PyMCBackend().fit(Xs, rng=np.random.default_rng(seed), **kw)[0]  # noqa: E731
    a, b, c = fit(3), fit(3), fit(4)
    assert a.n_draws == 100
    if sampler == "nutpie":  # chains in threads: cheap to check that cores changes nothing
        two_cores = PyMCBackend().fit(Xs, rng=np.random.default_rng(3), cores=2, **kw)[0]
        np.testing.assert_array_equal(a.covariances, two_cores.covariances)
    np.testing.assert_array_equal(a.covariances, b.covariances)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.covariances, c.covariances)


@pytest.mark.slow
def test_two_component_mixture_in_2d(rng):
    truth_mix = MixtureDraws(
        np.array([[0.4, 0.6]]),
        np.array([[[-1.5, 0.5], [1.0, -0.5]]]),
        np.array([[[[0.5, 0.3], [0.3, 0.6]], [[0.6, -0.2], [-0.2, 0.4]]]]),
    )
    truth = mutual_information(truth_mix, [0], [1]).values[0]
    X = truth_mix.sample(400, rng)[0]
    res = gmmmi.estimate(
        X, backend="pymc", random_state=1, fixed_components_number=2, draws=500, tune=500
    )
    mi = res.draws["mi"]
    assert res.n_components == 2
    assert abs(mi.mean() - truth) < 3 * mi.std()
    assert _rhat(mi)["r_hat"] < 1.01
    assert res.diagnostics.extra["divergences"] == 0


@pytest.mark.slow
def test_three_dimensional_cmi(rng):
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    truth = gaussian_cmi(cov, [0], [1], [2])
    X = rng.multivariate_normal(np.zeros(3), cov, 300)
    draws, diag = PyMCBackend().fit(
        standardise(X), n_components=1, rng=rng, progress=False, draws=500, tune=500
    )
    cmi = conditional_mi(draws, [0], [1], [2]).values.reshape(2, 500)
    assert diag.extra["k_source"] == "given"
    assert abs(cmi.mean() - truth) < 3 * cmi.std()
    assert _rhat(cmi)["r_hat"] < 1.01


@pytest.mark.slow
def test_k3_chains_mix_from_em_starts():
    """D3 (K=3): both chains explore the same mode (a trial without EM starts gave R-hat 1.3)."""
    rng = np.random.default_rng(5)
    mix = paper_mixture("D3")
    truth = mutual_information(mix, [0], [1]).values[0]
    X = mix.sample(500, rng)[0]
    shift, scale = X.mean(0), X.std(0)
    draws, diag = PyMCBackend().fit(
        (X - shift) / scale, n_components=3, rng=rng, progress=False, draws=500, tune=500
    )
    mi = mutual_information(draws.affine(scale, shift), [0], [1]).values.reshape(2, 500)
    rhat, ess = _rhat(mi)
    assert diag.n_components == 3 and diag.extra["divergences"] == 0
    assert rhat < 1.01 and ess > 200
    assert abs(mi.mean() - truth) < 3 * mi.std()
    # per-chain sorted mean weights agree: no chain is stuck in another mode
    w = np.sort(draws.weights.reshape(2, 500, 3).mean(axis=1), axis=1)
    np.testing.assert_allclose(w[0], w[1], atol=0.03)


@pytest.mark.slow
def test_both_samplers_give_the_same_posterior_of_mi():
    """Same model, two NUTS implementations: posterior mean and sd of MI agree within MCSE."""
    pytest.importorskip("nutpie")
    X = _readme_data()
    summaries = {
        sampler: gmmmi.estimate(
            X, backend="pymc", sampler=sampler, random_state=3, draws=1000, chains=4
        )
        .summary()
        .loc["mi"]
        for sampler in SAMPLERS
    }
    a, b = summaries["pymc"], summaries["nutpie"]
    assert abs(a["mean"] - b["mean"]) < 4 * np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert abs(a["sd"] - b["sd"]) < 4 * np.hypot(a["mcse_sd"], b["mcse_sd"])
    assert a["r_hat"] < 1.01 and b["r_hat"] < 1.01


@pytest.mark.slow
def test_nutpie_k3_chains_mix_from_em_starts():
    """D3 (K=3) with nutpie: the chains agree and the MI covers the truth."""
    pytest.importorskip("nutpie")
    rng = np.random.default_rng(5)
    mix = paper_mixture("D3")
    truth = mutual_information(mix, [0], [1]).values[0]
    X = mix.sample(500, rng)[0]
    res = gmmmi.estimate(
        X,
        backend="pymc",
        sampler="nutpie",
        random_state=5,
        fixed_components_number=3,
        draws=500,
        tune=500,
    )
    mi = res.draws["mi"]
    rhat, ess = _rhat(mi)
    assert res.n_components == 3 and res.diagnostics.extra["divergences"] == 0
    assert rhat < 1.01 and ess > 200
    assert abs(mi.mean() - truth) < 3 * mi.std()


# ------------------------------------------------------------------------- Ctrl-C
INTERRUPTED = (
    r"^{}'s sampling was interrupted \(Ctrl-C\); its partial draws are discarded and no "
    r"result is returned\.$"
)


def test_interrupt_recording_reraises_what_a_library_swallowed():
    import os
    import signal

    from gmmmi import _interrupt

    def swallowing_library(callback):
        """Like PyMC's sequential sampler: a chain ends at Ctrl-C, the next one starts."""
        done = []
        for chain in range(2):
            try:
                for draw in range(1000):
                    if (chain, draw) == (0, 3):
                        os.kill(os.getpid(), signal.SIGINT)
                    callback()
                    done.append((chain, draw))
            except KeyboardInterrupt:
                pass
        return done

    before = signal.getsignal(signal.SIGINT)
    done = []
    with pytest.raises(KeyboardInterrupt, match=INTERRUPTED.format("X")):
        with _interrupt.recording("X's sampling") as ctrl_c:
            done = swallowing_library(ctrl_c.stop_if_interrupted)
    assert signal.getsignal(signal.SIGINT) is before
    assert done == [(0, 0), (0, 1), (0, 2)]  # the second chain stopped at its first draw
    # the library's own error after the interrupt (PyMC: "Not enough samples") is replaced
    with pytest.raises(KeyboardInterrupt, match=INTERRUPTED.format("Y")) as info:
        with _interrupt.recording("Y's sampling"):
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                pass
            raise ValueError("Not enough samples to build a trace.")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ValueError, match="not an interrupt"):  # other errors pass unchanged
        with _interrupt.recording("Z"):
            raise ValueError("not an interrupt")
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_ctrl_c_while_pymc_samples_is_a_keyboard_interrupt_at_once(monkeypatch):
    """It ended in a ValueError about mixture counts after the other chain ran to its end."""
    import os
    import signal

    from gmmmi import _interrupt

    calls = []
    original = _interrupt.InterruptRecorder.stop_if_interrupted

    def ctrl_c_at_the_fifth_draw(self, *args, **kwargs):
        calls.append(kwargs["draw"].chain)
        if len(calls) == 5:
            os.kill(os.getpid(), signal.SIGINT)
        original(self, *args, **kwargs)

    monkeypatch.setattr(
        _interrupt.InterruptRecorder, "stop_if_interrupted", ctrl_c_at_the_fifth_draw
    )
    with pytest.raises(KeyboardInterrupt, match=INTERRUPTED.format("PyMC")):
        gmmmi.estimate(
            _readme_data(), backend="pymc", draws=300, tune=50, chains=2, cores=1, random_state=0
        )
    assert calls == [0] * 5 + [1]  # chain 1 stopped at its first draw, of 350


@pytest.mark.slow
def test_ctrl_c_while_nutpie_samples_is_a_keyboard_interrupt(monkeypatch):
    import os
    import signal
    import threading

    nutpie = pytest.importorskip("nutpie")
    real_sample = nutpie.sample

    def sample_then_ctrl_c(*args, **kwargs):
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", sample_then_ctrl_c)
    Xs = standardise(_readme_data())
    with pytest.raises(KeyboardInterrupt, match=INTERRUPTED.format("nutpie")):
        PyMCBackend().fit(
            Xs,
            n_components=1,
            rng=np.random.default_rng(3),
            progress=False,
            sampler="nutpie",
            draws=10**7,
            tune=50,
        )
