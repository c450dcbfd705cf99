"""gmmmi.integrate against closed forms and high-precision scipy quadrature."""

import functools
import warnings

import numba
import numpy as np
import pytest

import gmmmi
from gmmmi import integrate
from gmmmi.datasets import PAPER_MIXTURES, paper_mixture
from gmmmi.exceptions import IntegrationWarning
from gmmmi.integrate import (
    IntegralResult,
    class_mi,
    conditional_mi,
    kl_divergence,
    mutual_information,
    rules,
)
from gmmmi.integrate._closed_form import closed_form
from gmmmi.integrate._qmc import active_first
from gmmmi.integrate._quadrature import quad_term
from gmmmi.mixture import MixtureDraws

from helpers import DATA
from reference import (
    gaussian_cmi,
    gaussian_kl,
    gaussian_mi,
    mixture_entropy,
    mixture_mi_2d,
    random_covariance,
)

QUAD_TOL = 1e-6  # nats, the accuracy the quadrature rules are chosen for
MC_SAMPLES = 20_000


def gaussian_draws(mean, cov, copies=1) -> MixtureDraws:
    """One Gaussian as a single-draw MixtureDraws with ``copies`` identical components."""
    mean, cov = np.atleast_1d(mean), np.atleast_2d(cov)
    return MixtureDraws(
        np.full((1, copies), 1.0 / copies),
        np.broadcast_to(mean, (1, copies, mean.size)),
        np.broadcast_to(cov, (1, copies, *cov.shape)),
    )


def assert_mc_close(result: IntegralResult, truth, n_se=4.0):
    assert result.method == "mc"
    assert np.all(result.errors >= 0)  # 0 where the closed form was used
    np.testing.assert_array_less(np.abs(result.values - truth), n_se * result.errors + 1e-12)


def assert_quad_close(result: IntegralResult, truth, tol=QUAD_TOL):
    assert result.method == "quad"
    np.testing.assert_allclose(result.values, truth, rtol=0, atol=tol)


def assert_closed_form(compute, truth):
    """Every method gives the closed form (to 1e-12) with error 0."""
    for method in ("quad", "qmc", "mc"):
        result = compute(method=method, mc_samples=MC_SAMPLES, rng=np.random.default_rng(0))
        assert result.method in (method, "qmc")  # "quad" is "qmc" above QUAD_MAX_DIM
        np.testing.assert_allclose(result.values, truth, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(result.errors, 0.0)


@functools.cache
def paper_truth(name):
    return mixture_mi_2d(*PAPER_MIXTURES[name])


# ------------------------------------------------------------ closed forms
@pytest.mark.parametrize("dx,dy", [(1, 1), (1, 3), (2, 2), (4, 1), (3, 3), (2, 4), (4, 4), (8, 12)])
@pytest.mark.parametrize("copies", [1, 2])
def test_mi_gaussian(rng, dx, dy, copies):
    d = dx + dy
    cov = random_covariance(rng, d)
    draws = gaussian_draws(rng.normal(size=d), cov, copies)
    ix, iy = list(range(dx)), list(range(dx, d))
    truth = gaussian_mi(cov, ix, iy)
    assert_closed_form(functools.partial(mutual_information, draws, ix, iy), truth)


@pytest.mark.parametrize("dims", [(1, 1, 1), (2, 1, 2), (1, 3, 1), (2, 2, 2), (3, 3, 4)])
@pytest.mark.parametrize("copies", [1, 2])
def test_cmi_gaussian(rng, dims, copies):
    d = sum(dims)
    cov = random_covariance(rng, d)
    draws = gaussian_draws(rng.normal(size=d), cov, copies)
    perm = rng.permutation(d)  # blocks need not be contiguous
    ix, iy, iz = np.split(perm, np.cumsum(dims)[:-1])
    truth = gaussian_cmi(cov, ix, iy, iz)
    assert_closed_form(functools.partial(conditional_mi, draws, ix, iy, iz), truth)


@pytest.mark.parametrize("d", [1, 2, 3, 9])
def test_kl_gaussians(rng, d):
    m0, m1 = rng.normal(size=(2, d))
    c0, c1 = random_covariance(rng, d), random_covariance(rng, d)
    p, q = gaussian_draws(m0, c0), gaussian_draws(m1, c1, copies=2)
    truth = gaussian_kl(m0, c0, m1, c1)
    assert truth > 0.1
    assert_closed_form(functools.partial(kl_divergence, p, q), truth)


def test_mi_of_product_distributions_is_zero(rng):
    # block-diagonal covariance
    cov = np.zeros((3, 3))
    cov[:2, :2] = random_covariance(rng, 2)
    cov[2, 2] = 2.5
    draws = gaussian_draws(rng.normal(size=3), cov)
    assert_quad_close(mutual_information(draws, [0, 1], [2]), 0.0, tol=1e-12)
    # a mixture that factorises: (sum_a alpha_a N_a(x)) (sum_b beta_b N_b(y))
    alpha, beta = np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3])
    mx, my = rng.normal(scale=2, size=(2, 1)), rng.normal(scale=2, size=(3, 1))
    vx, vy = rng.uniform(0.1, 2, size=2), rng.uniform(0.1, 2, size=3)
    pairs = [(a, b) for a in range(2) for b in range(3)]
    draws = MixtureDraws(
        np.array([[alpha[a] * beta[b] for a, b in pairs]]),
        np.array([[[mx[a, 0], my[b, 0]] for a, b in pairs]]),
        np.array([[np.diag([vx[a], vy[b]]) for a, b in pairs]]),
    )
    quad = mutual_information(draws, 0, 1)
    assert_quad_close(quad, 0.0)
    mc = mutual_information(draws, 0, 1, method="mc", mc_samples=MC_SAMPLES, rng=rng)
    np.testing.assert_allclose(mc.values, 0.0, atol=1e-12)  # zero at every point


# ------------------------------------------------------- paper's mixtures
@pytest.mark.parametrize("name", ["D1", "D3", "D3p", "D5", "D5p"])
def test_mi_paper_mixtures(rng, name):
    truth = paper_truth(name)
    draws = paper_mixture(name)
    quad = mutual_information(draws, 0, 1)
    assert_quad_close(quad, truth)
    # the error estimate is conservative
    assert np.all(quad.errors + 1e-12 >= np.abs(quad.values - truth))
    assert np.all(quad.errors < 1e-4)
    mc = mutual_information(draws, [0], [1], method="mc", mc_samples=MC_SAMPLES, rng=rng)
    assert_mc_close(mc, truth)


def test_d3_mi_value():
    assert abs(mutual_information(paper_mixture("D3"), 0, 1).values[0] - 0.1325) < 5e-4


def test_many_draws_match_single_draws():
    names = ["D3", "D5", "D1", "D3p"]
    stacked = MixtureDraws.concatenate([paper_mixture(n) for n in names])
    together = mutual_information(stacked, 0, 1)
    single = [mutual_information(paper_mixture(n), 0, 1).values[0] for n in names]
    np.testing.assert_allclose(together.values, single, rtol=0, atol=1e-14)


# --------------------------------------------------------- dimension limits
def embedded_d5(rng, dx, dy) -> MixtureDraws:
    """D5 in coordinates (x_0, y_0) plus independent N(0, 1) coordinates, rotated within blocks.

    Its MI between the x block (dx dims) and the y block (dy dims) is D5's.
    """
    base = paper_mixture("D5")
    d, K = dx + dy, base.n_components
    means = np.zeros((1, K, d))
    covs = np.tile(np.eye(d), (1, K, 1, 1))
    pair = [0, dx]
    means[0][:, pair] = base.means[0]
    covs[0][:, [[0], [dx]], pair] = base.covariances[0]
    rot = np.zeros((d, d))
    rot[:dx, :dx] = np.linalg.qr(rng.normal(size=(dx, dx)))[0]
    rot[dx:, dx:] = np.linalg.qr(rng.normal(size=(dy, dy)))[0]
    return MixtureDraws(base.weights, means, covs).affine(rot, np.zeros(d))


@pytest.mark.parametrize("dx,dy", [(2, 1), (2, 2), (3, 2), (3, 3)])
def test_quad_in_higher_dimensions(rng, dx, dy):
    draws = embedded_d5(rng, dx, dy)
    truth = paper_truth("D5")
    quad = mutual_information(draws, list(range(dx)), list(range(dx, dx + dy)))
    assert quad.method in ("quad", "quad+qmc")  # QMC where the rule's error is too large
    err = abs(quad.values[0] - truth)
    assert err <= quad.errors[0] <= integrate.TOLERANCE


def test_quad_6d_gaussian(rng):
    cov = random_covariance(rng, 6)
    draws = gaussian_draws(rng.normal(size=6), cov, copies=2)
    result = mutual_information(draws, [0, 2, 4], [1, 3, 5])
    assert_quad_close(result, gaussian_mi(cov, [0, 2, 4], [1, 3, 5]), tol=1e-10)


@pytest.mark.parametrize("dx,dy", [(3, 4), (4, 4), (5, 5), (6, 6), (8, 8)])
def test_qmc_above_six_dimensions(rng, dx, dy):
    draws = embedded_d5(rng, dx, dy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning any more
        result = mutual_information(draws, list(range(dx)), list(range(dx, dx + dy)))
    assert result.method == "qmc"
    err = abs(result.values[0] - paper_truth("D5"))
    assert err <= result.errors[0] <= integrate.TOLERANCE


def test_closed_form_when_only_q_is_gaussian(rng):
    # KL[p || q] with p a mixture and q one Gaussian: E_p[log q] is exact, E_p[log p] is not
    p = paper_mixture("D3")
    m, c = rng.normal(size=2), random_covariance(rng, 2)
    q = gaussian_draws(m, c)
    exact, cross = closed_form(p, q)
    assert exact.tolist() == [True]
    w, mu, cov = p.weights[0], p.means[0], p.covariances[0]
    inv = np.linalg.inv(c)
    formula = sum(
        w[k]
        * -0.5
        * (
            2 * np.log(2 * np.pi)
            + np.linalg.slogdet(c)[1]
            + np.trace(inv @ cov[k])
            + (mu[k] - m) @ inv @ (mu[k] - m)
        )
        for k in range(p.n_components)
    )
    np.testing.assert_allclose(cross, [formula], rtol=1e-12)
    entropy = -mutual_information(p, 0, 1).values  # only to get E_p[log p] below
    self_term = kl_divergence(p, p).values  # zero: same mixture
    np.testing.assert_allclose(self_term, 0.0, atol=1e-12)
    quad = kl_divergence(p, q)
    assert np.isfinite(entropy).all()
    np.testing.assert_allclose(quad.values, quad_term(p, p)[0] - formula, rtol=0, atol=1e-12)


# ----------------------------------------------------------------- invariance
def test_mi_invariant_under_affine_maps_of_a_block(rng):
    draws = paper_mixture("D5")
    base = mutual_information(draws, 0, 1).values
    for scale, shift in [
        ([3.7, 1.0], [-2.0, 0.0]),
        ([-0.01, 1.0], [5.0, 0.0]),
        ([1.0, 250.0], [0.0, -40.0]),
    ]:
        moved = draws.affine(np.array(scale), np.array(shift))
        np.testing.assert_allclose(mutual_information(moved, 0, 1).values, base, atol=1e-8)
    # a full linear map inside a 2-d x block: nodes move, the result stays within tolerance
    draws3 = embedded_d5(rng, 2, 1)
    ref = mutual_information(draws3, [0, 1], [2])
    A = np.eye(3)
    A[:2, :2] = rng.normal(size=(2, 2))
    moved = mutual_information(draws3.affine(A, rng.normal(size=3)), [0, 1], [2])
    assert abs(moved.values[0] - ref.values[0]) <= moved.errors[0] + ref.errors[0]


# ---------------------------------------------------------------- categorical
def gaussian_entropy(cov):
    cov = np.atleast_2d(cov)
    return 0.5 * np.linalg.slogdet(2 * np.pi * np.e * cov)[1]


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("pi", [[0.5, 0.5], [0.9, 0.1], [0.2, 0.3, 0.5]])
def test_categorical_mi(rng, d, pi):
    pi = np.array(pi)
    C = pi.size
    means = rng.normal(scale=1.5, size=(C, d))
    covs = np.stack([random_covariance(rng, d, condition=4) * 0.5 for _ in range(C)])
    truth = mixture_entropy(pi, means, covs) - sum(
        pi[c] * gaussian_entropy(covs[c]) for c in range(C)
    )
    # class 0 as a K=2 mixture of the same Gaussian: K may differ per class
    classes = [gaussian_draws(means[c], covs[c], copies=2 if c == 0 else 1) for c in range(C)]
    quad = class_mi(classes, pi[None])
    assert_quad_close(quad, truth)
    mc = class_mi(classes, pi[None], method="mc", mc_samples=MC_SAMPLES, rng=rng)
    assert_mc_close(mc, truth)


def test_categorical_mi_per_draw_weights(rng):
    a, b = gaussian_draws([0.0], [[1.0]]), gaussian_draws([1.0], [[1.0]])
    classes = [MixtureDraws.concatenate([m, m]) for m in (a, b)]
    pi = np.array([[0.5, 0.5], [1.0, 0.0]])
    result = class_mi(classes, pi)
    truth = mixture_entropy([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]]) - gaussian_entropy(1.0)
    np.testing.assert_allclose(result.values, [truth, 0.0], atol=QUAD_TOL)


def test_the_old_name_of_class_mi_says_where_it_went():
    # gmmmi.categorical_mi is the estimand; the integral of the same name was renamed
    with pytest.raises(AttributeError) as info:
        integrate.categorical_mi  # noqa: B018
    assert str(info.value) == (
        "gmmmi.integrate.categorical_mi was renamed gmmmi.integrate.class_mi (the integral); "
        "gmmmi.categorical_mi is the estimand that fits the data and calls it."
    )
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        integrate.no_such_name  # noqa: B018


# --------------------------------------------------------------- MC behaviour
def test_mc_noise_independent_across_draws_and_reproducible():
    draws = MixtureDraws.concatenate([paper_mixture("D3")] * 2)
    run = lambda seed: mutual_information(  # noqa: E731
        draws, 0, 1, method="mc", mc_samples=5000, rng=np.random.default_rng(seed)
    )
    first, again, other = run(1), run(1), run(2)
    assert first.values[0] != first.values[1]
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.errors, again.errors)
    assert np.all(first.values != other.values)


def test_mc_draws_are_independent_of_the_other_draws():
    # a draw's points come from its own seed: the same draw alone or in a stack agrees
    names = ["D5", "D3", "D5p"]
    stacked = MixtureDraws.concatenate([paper_mixture(n) for n in names])
    kwargs = dict(method="mc", mc_samples=3000)
    together = mutual_information(stacked, 0, 1, rng=np.random.default_rng(3), **kwargs)
    seeds = np.random.default_rng(3).integers(0, 2**63, size=(1, 3))
    for s in range(len(names)):
        rng = _ReplayedSeeds(seeds[:, [s]])
        alone = mutual_information(stacked.select(s), 0, 1, rng=rng, **kwargs)
        assert alone.values[0] == together.values[s]
        assert alone.errors[0] == together.errors[s]


class _ReplayedSeeds(np.random.Generator):
    """A generator whose ``integers`` returns given seeds (to replay one draw's stream)."""

    def __init__(self, seeds):
        super().__init__(np.random.PCG64(0))
        self._seeds = seeds

    def integers(self, *args, **kwargs):
        return self._seeds


@pytest.mark.slow
def test_mc_memory_does_not_grow_with_mc_samples():
    import resource

    draws = paper_mixture("D3")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = np.random.default_rng(0)
    result = mutual_information(draws, 0, 1, method="mc", mc_samples=10**7, rng=rng)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50  # the old path held 10^7 x (d + 2) doubles: 300 MB
    assert abs(result.values[0] - paper_truth("D3")) < 5 * result.errors[0]


def test_mc_results_do_not_depend_on_thread_count():
    draws = MixtureDraws.concatenate([paper_mixture(n) for n in ("D3", "D5", "D3p", "D5p")])
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            rng = np.random.default_rng(7)
            results.append(mutual_information(draws, 0, 1, method="mc", mc_samples=4000, rng=rng))
    finally:
        numba.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r.values, results[0].values)
        np.testing.assert_array_equal(r.errors, results[0].errors)


# ------------------------------------------------------------------ options
def test_options_are_validated(rng):
    draws = paper_mixture("D3")
    with pytest.raises(ValueError, match="'quad', 'qmc', 'mc'"):
        mutual_information(draws, 0, 1, method="simpson")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        mutual_information(draws, 0, 1, method="mc")
    with pytest.raises(ValueError, match="integer"):
        mutual_information(draws, 0, 1, method="mc", mc_samples=10.5, rng=rng)
    with pytest.raises(ValueError, match="at least 1"):
        mutual_information(draws, 0, 1, method="mc", mc_samples=0, rng=rng)
    with pytest.raises(ValueError, match="disjoint"):
        mutual_information(draws, 0, [0, 1])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        mutual_information(draws, 0, 2)
    with pytest.raises(ValueError, match="same number of draws"):
        kl_divergence(draws, MixtureDraws.concatenate([draws, draws]))
    with pytest.raises(ValueError, match="rows summing to 1"):
        class_mi([draws, draws], [[0.5, 0.6]])
    result = mutual_information(draws, 0, 1, method="MC", mc_samples=1e3, rng=rng)
    assert result.method == "mc" and result.values.shape == (1,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mutual_information(draws, 0, 1, method="QUAD").method == "quad"


# ------------------------------------------------ honest errors (issue 10, item 9)
def two_gaussians(w, means, covs) -> MixtureDraws:
    return MixtureDraws(np.array([w]), np.array([means], float), np.array([covs], float))


@pytest.mark.parametrize(
    "mixture",
    [
        # widely separated scales: the old rule gave 0.468 +- 0.116 against 0.676
        two_gaussians([0.5, 0.5], [[0, 0], [0, 0]], [1e-3 * np.eye(2), 1e3 * np.eye(2)]),
        # a narrow, light component: the old rule gave a negative MI
        two_gaussians([0.99, 0.01], [[0, 0], [1, 1]], [np.eye(2), 1e-4 * np.eye(2)]),
    ],
    ids=["scales", "spike"],
)
def test_quad_error_bounds_the_error_on_the_reported_failures(mixture):
    quad = mutual_information(mixture, 0, 1)
    assert quad.method == "quad+qmc"  # the narrow component is detected
    mc = mutual_information(mixture, 0, 1, method="mc", mc_samples=2_000_000, rng=_rng(1))
    assert quad.values[0] > 0
    assert abs(quad.values[0] - mc.values[0]) <= quad.errors[0] + 4 * mc.errors[0]
    assert quad.errors[0] <= integrate.TOLERANCE


def _rng(seed):
    return np.random.default_rng(seed)


def test_error_of_a_fit_to_tanh_data():
    # a real fit to tanh-transformed data: narrow components pile up at the edges
    rng = _rng(2)
    G = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 2000)
    res = gmmmi.estimate(np.tanh(2 * G), random_state=0, n_bootstrap=4, progress=False)
    fits = MixtureDraws.concatenate([res.diagnostics.reference_fit, res.mixture])
    default = mutual_information(fits, 0, 1)
    fine = _finer_mi(fits, [0], [1])
    assert np.all(np.abs(default.values - fine.values) <= default.errors + fine.errors)


def _finer_mi(mixture, ix, iy):
    """I(x; y) by a much finer rule: trapezoid with 0.6 h on a larger ball, QMC at 2**15."""
    saved, levels = dict(rules._QUAD_RULES), rules._QMC_LEVELS
    try:
        rules._QUAD_RULES.update({d: (0.6 * h, t + 4) for d, (h, t) in saved.items()})
        rules._QMC_LEVELS = (15,)
        integrate.quad_rule.cache_clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            return mutual_information(mixture, ix, iy)
    finally:
        rules._QUAD_RULES.update(saved)
        rules._QMC_LEVELS = levels
        integrate.quad_rule.cache_clear()


def random_mixture(rng, d) -> MixtureDraws:
    """1-4 components: light ones, ill-conditioned ones, scales 30x apart, various spreads."""
    K = int(rng.integers(1, 5))
    w = rng.dirichlet(np.full(K, 0.7))
    if K > 1 and rng.random() < 0.3:
        w[rng.integers(K)] = 0.01
        w /= w.sum()
    means = rng.normal(scale=rng.choice([0.5, 2.0, 5.0]), size=(K, d))
    covs = []
    for _ in range(K):
        rot = np.linalg.qr(rng.standard_normal((d, d)))[0]
        eig = np.exp(rng.uniform(0, np.log(10.0 ** rng.choice([1, 2, 4])), d))
        scale = 10 ** rng.uniform(-1.5, 1.5) if rng.random() < 0.4 else 1.0
        covs.append(scale * (rot * eig) @ rot.T / eig.mean())
    return MixtureDraws(w[None], means[None], np.array(covs)[None])


@pytest.mark.slow
def test_reported_errors_bound_the_true_errors_on_random_mixtures():
    """>= 99 % coverage on 220 random mixtures, against a much finer rule."""
    rng = _rng(2026)
    cases = [("quad", int(rng.choice([2, 3, 4, 5, 6]))) for _ in range(120)]
    cases += [("qmc", int(rng.choice([2, 3, 7, 8, 10]))) for _ in range(100)]
    misses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for method, d in cases:
            mixture = random_mixture(rng, d)
            dx = int(rng.integers(1, d))
            ix, iy = list(range(dx)), list(range(dx, d))
            result = mutual_information(mixture, ix, iy, method=method)
            truth = _finer_mi(mixture, ix, iy)
            if abs(result.values[0] - truth.values[0]) > result.errors[0] + truth.errors[0]:
                misses.append((method, d, result.values[0], truth.values[0], result.errors[0]))
    assert len(misses) <= 2, misses


def test_large_errors_warn_at_the_callers_line(monkeypatch):
    monkeypatch.setattr(rules, "TOLERANCE", 1e-12)
    monkeypatch.setattr(rules, "_QMC_LEVELS", (9,))
    with pytest.warns(IntegrationWarning, match=r"above 1e-12 nat in 1 of 1 mixture draws") as rec:
        result = mutual_information(paper_mixture("D5"), 0, 1)
    assert rec[0].filename == __file__
    assert result.method == "quad"  # the quadrature's error is smaller than QMC's: kept
    X = paper_mixture("D3").sample(500, _rng(0))[0]
    with pytest.warns(IntegrationWarning, match="even after refinement") as rec:
        gmmmi.estimate(X, random_state=0, n_bootstrap=2, progress=False)
    assert rec[0].filename == __file__


def test_empty_components_and_zero_class_weights_give_no_numpy_warnings():
    # D3 is padded with empty components to D5's K; a class of weight 0 has an infinite
    # excess bound; neither may produce 0 * inf (a RuntimeWarning, then NaN)
    stacked = MixtureDraws.concatenate([paper_mixture("D3"), paper_mixture("D5")])
    a, b = gaussian_draws([0.0], [[1.0]]), paper_mixture("D5").marginal([0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("quad", "qmc"):
            result = mutual_information(stacked, 0, 1, method=method)
            assert np.all(np.isfinite(result.values))
            cat = class_mi([a, b], [[1.0, 0.0]], method=method)
            np.testing.assert_allclose(cat.values, 0.0, atol=1e-12)


def test_qmc_rotation_survives_a_component_far_narrower_than_another(rng):
    """A bootstrap fit of raw gamma-exponential data (9 components, eigenvalues 5e-8 to 5e-4):
    inverting L_p^-1 Sigma_q L_p^-T for the QMC rotation raised a raw LinAlgError("Singular
    matrix") from gmmmi.estimate; the rotation is now built without that inverse.
    """
    data = np.load(DATA / "qmc_singular_rotation.npz")
    mix = MixtureDraws(data["weights"], data["means"], data["covariances"])
    rotation = active_first(mix, mix)
    assert np.all(np.isfinite(rotation))
    qmc = integrate.mutual_information(mix, [0], [1], method="qmc")
    mc = integrate.mutual_information(mix, [0], [1], method="mc", mc_samples=400_000, rng=rng)
    assert np.all(np.isfinite(qmc.values))
    tolerance = qmc.errors[0] + 4 * mc.errors[0]
    assert abs(qmc.values[0] - mc.values[0]) <= tolerance


@pytest.mark.parametrize("d", [1, 2, 3])
def test_extreme_singular_values_match_numpy_svd(d):
    # the closed forms for d <= 2 (the narrow-component test of "quad") against LAPACK,
    # on well- and ill-conditioned factors (condition numbers up to 1e8), zero and empty
    from gmmmi.integrate._quadrature import extreme_singular_values

    g = np.random.default_rng(d)
    b = g.normal(size=(200, d, d)) * np.logspace(-8, 0, d)[None, None, :]
    b = np.concatenate([b, np.zeros((1, d, d)), np.eye(d)[None]])
    largest, smallest = extreme_singular_values(b)
    sigma = np.linalg.svd(b, compute_uv=False)
    np.testing.assert_allclose(largest, sigma[:, 0], rtol=1e-12)
    np.testing.assert_allclose(smallest, sigma[:, -1], rtol=1e-7, atol=1e-300)
