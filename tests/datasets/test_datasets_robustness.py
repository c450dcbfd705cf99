"""The robustness suite: every truth against an independent computation.

Monte Carlo checks draw from the suite's own sampler and average the log
density ratio log p(x, y) / (p(x) p(y)) written with scipy's densities, so a
wrong sampler and a wrong truth both fail them; they pass within 4 standard
errors (a false failure once in ~16 000 runs). Gaussian-copula cases (a
Gaussian under strictly increasing maps) are checked through Spearman's rank
correlation, which every increasing map leaves unchanged and which equals
(6 / pi) arcsin(rho / 2) for a Gaussian.
"""

import pickle

import numpy as np
import pytest
from scipy import special, stats
from scipy.integrate import dblquad

from gmmmi import datasets

from helpers import mc_check
from reference import gaussian_mi, mixture_logpdf

MC_POINTS = 200_000
SUITE = {ds.name: ds for ds in datasets.robustness_suite()}

#: suite name -> correlation of the underlying bivariate Gaussian (copula cases)
GAUSSIAN_COPULAS = {
    "gaussian(rho=0.6)": 0.6,
    "exp:gaussian(rho=0.6)": 0.6,
    "cube:gaussian(rho=0.6)": 0.6,
    "tanh2:gaussian(rho=0.6)": 0.6,
    "logistic:gaussian(rho=0.6)": 0.6,
    "exp2:gaussian(rho=0.6)": 0.6,
    "softplus3:gaussian(rho=0.6)": 0.6,
    "exp|cube:gaussian(rho=0.6)": 0.6,
    "log:gaussian(rho=0.6)": 0.6,
    "exp:gaussian(rho=0.9)": 0.9,
    "cube:gaussian(rho=0.3)": 0.3,
    "uniform:gaussian(rho=0.6)": 0.6,
    "arcsine|beta25:gaussian(rho=0.6)": 0.6,
    "gamma05:gaussian(rho=0.6)": 0.6,
    "cauchy:gaussian(rho=0.6)": 0.6,
    "pareto15:gaussian(rho=0.6)": 0.6,
    "independent_cauchy": 0.0,
}


def spearman_of_gaussian(rho):
    return 6 / np.pi * np.arcsin(np.asarray(rho) / 2)


# ------------------------------------------------------------------ the suite
def test_suite_has_24_or_more_distinct_mi_datasets_that_sample_and_pickle():
    suite = datasets.robustness_suite()
    assert len(suite) >= 24
    assert len(SUITE) == len(suite)  # unique names
    for ds in suite:
        assert ds.quantity == "mi" and not ds.discrete_y
        assert np.isfinite(ds.truth) and ds.truth >= 0, ds.name
        x, y = ds.sample(50, np.random.default_rng(1))
        assert len(x) == len(y) == 50 and np.isfinite(x).all() and np.isfinite(y).all()
        again = pickle.loads(pickle.dumps(ds)).sample(50, np.random.default_rng(1))
        np.testing.assert_array_equal(again[0], x)


def test_every_suite_dataset_has_an_independent_check_below():
    checked = set(GAUSSIAN_COPULAS) | {
        "student_t(nu=1, rho=0)",
        "student_t(nu=3, rho=0.6)",
        "student_t(nu=5, rho=0.9)",
        "student_t(nu=4, 2x2)",
        "gamma_exponential_raw(alpha=1)",
        "uniform_noise(sigma=0.1)",
        "uniform_noise(sigma=0.3)",
        "x_shape_mixture",
        "two_clusters_mixture",
        "exp:D3",
        "gaussian_blocks(2x2, cross=0.5)",
        "gaussian_blocks(3x3, cross=0.5)",
        "gaussian_blocks(5x5, cross=0.4)",
        "exp:gaussian_blocks(2x2, cross=0.5)",
    }
    assert set(SUITE) == checked


@pytest.mark.parametrize("name", sorted(datasets.MARGINS))
def test_margins_are_strictly_increasing(name):
    # +-5 sd: beyond, bounded margins round to their end point in float64
    # (Beta(1/2, 1/2) at 6 sd is 1 - 2.5e-18); a sample of 10^6 stays inside.
    v = np.linspace(-5, 5, 4001)
    assert np.all(np.diff(datasets.MARGINS[name][0](v)) > 0)


# ------------------------------------------------------------ Gaussian copulas
@pytest.mark.parametrize("name", sorted(GAUSSIAN_COPULAS))
def test_gaussian_copula_truth_and_rank_correlation(name):
    """Truth = the Gaussian closed form of rho; the sample's Spearman matches rho.

    The sd of Spearman's coefficient is at most 1 / sqrt(n - 1) (its value
    under independence), so 4 / sqrt(n) bounds a 4-sd deviation.
    """
    rho, ds = GAUSSIAN_COPULAS[name], SUITE[name]
    assert ds.truth == pytest.approx(gaussian_mi([[1, rho], [rho, 1]], [0], [1]), abs=1e-14)
    x, y = ds.sample(MC_POINTS, np.random.default_rng(2))
    r_s = stats.spearmanr(x, y).statistic
    assert abs(r_s - spearman_of_gaussian(rho)) < 4 / np.sqrt(MC_POINTS), r_s


def test_block_with_exp_margins_keeps_the_block_copula():
    ds = SUITE["exp:gaussian_blocks(2x2, cross=0.5)"]
    cov = datasets._block_cov(2, 2, 0.3, 0.5)
    assert ds.truth == pytest.approx(gaussian_mi(cov, [0, 1], [2, 3]), abs=1e-12)
    x, y = ds.sample(MC_POINTS, np.random.default_rng(3))
    assert (x > 0).all() and (y > 0).all()
    r_s = stats.spearmanr(np.column_stack([x, y])).statistic
    np.testing.assert_allclose(r_s, spearman_of_gaussian(cov), atol=4 / np.sqrt(MC_POINTS))


def test_exp_of_d3_is_d3_under_exp():
    ds, base = SUITE["exp:D3"], datasets.paper("D3")
    assert ds.truth == datasets.PAPER_MI["D3"]  # checked by quadrature in test_datasets.py
    x, y = ds.sample(1000, np.random.default_rng(4))
    x0, y0 = base.sample(1000, np.random.default_rng(4))
    np.testing.assert_allclose(np.log(x), x0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.log(y), y0, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ Student-t
STUDENT = {
    "student_t(nu=1, rho=0)": (1.0, [[1, 0], [0, 1]], [0], [1]),
    "student_t(nu=3, rho=0.6)": (3.0, [[1, 0.6], [0.6, 1]], [0], [1]),
    "student_t(nu=5, rho=0.9)": (5.0, [[1, 0.9], [0.9, 1]], [0], [1]),
    "student_t(nu=4, 2x2)": (4.0, datasets._block_cov(2, 2, 0.3, 0.5), [0, 1], [2, 3]),
}


@pytest.mark.parametrize("name", sorted(STUDENT))
def test_student_t_truth_against_monte_carlo_with_scipy_densities(name):
    nu, cov, ix, iy = STUDENT[name]
    cov = np.asarray(cov, float)
    x, y = SUITE[name].sample(MC_POINTS, np.random.default_rng(5))
    xy = np.column_stack([x, y])
    joint = stats.multivariate_t(np.zeros(len(cov)), cov, df=nu)
    px = stats.multivariate_t(np.zeros(len(ix)), cov[np.ix_(ix, ix)], df=nu)
    py = stats.multivariate_t(np.zeros(len(iy)), cov[np.ix_(iy, iy)], df=nu)
    log_ratio = joint.logpdf(xy) - px.logpdf(xy[:, ix]) - py.logpdf(xy[:, iy])
    mc_check(log_ratio, SUITE[name].truth)


def test_student_t_mi_tends_to_the_gaussian_and_exceeds_it():
    cov = datasets._block_cov(2, 3, 0.2, 0.5)
    gauss = gaussian_mi(cov, [0, 1], [2, 3, 4])
    assert datasets.student_t_mi(1e8, cov, [0, 1], [2, 3, 4]) == pytest.approx(gauss, abs=1e-6)
    for nu in (0.5, 1, 3, 30):
        assert datasets.student_t_mi(nu, cov, [0, 1], [2, 3, 4]) > gauss


# ------------------------------------------------------------ other closed forms
@pytest.mark.parametrize("sigma", [0.1, 0.3])
def test_uniform_noise_truth_against_monte_carlo(sigma):
    ds = SUITE[f"uniform_noise(sigma={sigma:g})"]
    x, y = ds.sample(MC_POINTS, np.random.default_rng(6))
    assert ((x >= 0) & (x <= 1)).all()
    log_py = np.log(special.ndtr(y / sigma) - special.ndtr((y - 1) / sigma))
    mc_check(stats.norm.logpdf(y - x, scale=sigma) - log_py, ds.truth)


def test_uniform_noise_small_sigma_limit():
    # sigma -> 0: h(y) -> h(U[0, 1]) = 0, so I -> -ln(2 pi e sigma^2) / 2
    sigma = 1e-3
    expected = -0.5 * np.log(2 * np.pi * np.e * sigma**2)
    assert datasets.uniform_noise_mi(sigma) == pytest.approx(expected, abs=2 * sigma)


def test_raw_gamma_exponential_truth_against_monte_carlo():
    ds = SUITE["gamma_exponential_raw(alpha=1)"]
    x, y = ds.sample(MC_POINTS, np.random.default_rng(7))
    # p(x) = e^-x, p(y | x) = x e^(-x y), p(y) = 1 / (1 + y)^2
    mc_check(np.log(x) - x * y + 2 * np.log1p(y), ds.truth)
    assert ds.truth == pytest.approx(1 - np.euler_gamma, abs=1e-14)


@pytest.mark.parametrize(
    "name",
    [
        "gaussian_blocks(2x2, cross=0.5)",
        "gaussian_blocks(3x3, cross=0.5)",
        "gaussian_blocks(5x5, cross=0.4)",
    ],
)
def test_gaussian_block_truth_and_sample_covariance(name):
    ds = SUITE[name]
    dx = int(name.split("(")[1][0])
    cross = float(name.split("cross=")[1].rstrip(")"))
    cov = datasets._block_cov(dx, dx, 0.3, cross)
    assert ds.truth == pytest.approx(gaussian_mi(cov, range(dx), range(dx, 2 * dx)), abs=1e-12)
    x, y = ds.sample(MC_POINTS, np.random.default_rng(8))
    assert x.shape == y.shape == (MC_POINTS, dx)
    # the sd of a sample covariance of unit-variance variables is <= sqrt(2 / n)
    emp = np.cov(np.column_stack([x, y]).T)
    np.testing.assert_allclose(emp, cov, atol=4 * np.sqrt(2 / MC_POINTS))


def test_independent_pairs_give_the_sum_of_pairwise_mi():
    ds = datasets.gaussian_blocks(3, 3, within=0.0, cross=0.5)
    assert ds.truth == pytest.approx(-1.5 * np.log(1 - 0.25), abs=1e-12)


# ------------------------------------------------------------------ mixtures
MIXTURES = {
    "x_shape_mixture": datasets._X_SHAPE,
    "two_clusters_mixture": datasets._TWO_CLUSTERS,
}


def mixture_log_ratio(params, xy):
    w, m, c = (np.asarray(a, float) for a in params)
    joint = mixture_logpdf(xy, w, m, c)
    marg = [mixture_logpdf(xy[:, [j]], w, m[:, [j]], c[:, [j]][:, :, [j]]) for j in (0, 1)]
    return joint - marg[0] - marg[1]


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_mixture_truth_against_monte_carlo(name):
    x, y = SUITE[name].sample(MC_POINTS, np.random.default_rng(9))
    mc_check(mixture_log_ratio(MIXTURES[name], np.column_stack([x, y])), SUITE[name].truth)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_mixture_grid_integral_against_adaptive_dblquad(name):
    """The grid integral against scipy's adaptive dblquad of p ln(p / (p_x p_y))."""
    w, m, c = (np.asarray(a, float) for a in MIXTURES[name])
    inv, norm = np.linalg.inv(c), w / (2 * np.pi * np.sqrt(np.linalg.det(c)))
    sx, sy = np.sqrt(c[:, 0, 0]), np.sqrt(c[:, 1, 1])

    def f(yv, xv):
        d = np.array([xv, yv]) - m
        p = np.sum(norm * np.exp(-0.5 * np.einsum("ki,kij,kj->k", d, inv, d)))
        px = np.sum(w * stats.norm.pdf(xv, m[:, 0], sx))
        py = np.sum(w * stats.norm.pdf(yv, m[:, 1], sy))
        return p * np.log(p / (px * py)) if p > 0 else 0.0

    lo, hi = (m - 9 * np.stack([sx, sy], 1)).min(0), (m + 9 * np.stack([sx, sy], 1)).max(0)
    value, _ = dblquad(f, lo[0], hi[0], lo[1], hi[1], epsabs=1e-8, epsrel=1e-8)
    assert SUITE[name].truth == pytest.approx(value, abs=1e-6)


# ------------------------------------------------------------------ bad input
def test_with_margins_refuses_an_unknown_map():
    with pytest.raises(ValueError, match="Unknown map_y 'sqrt'; valid values are identity, exp"):
        datasets.with_margins(datasets.gaussian(), "exp", "sqrt")


def test_with_margins_refuses_a_categorical_dataset():
    with pytest.raises(ValueError, match="needs an MI dataset with continuous y"):
        datasets.with_margins(datasets.categorical_mixture(), "exp")


def test_generators_refuse_bad_parameters():
    with pytest.raises(ValueError, match="nu must be positive; got 0"):
        datasets.student_t(0)
    with pytest.raises(ValueError, match="sigma must be positive; got -1"):
        datasets.uniform_noise(-1)
