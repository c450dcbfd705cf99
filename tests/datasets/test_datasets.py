"""Every dataset's truth, against a closed form, an independent quadrature or a 1e7-point MC."""

import pickle

import numpy as np
import pytest
from scipy import special
from scipy.integrate import dblquad

from gmmmi import datasets

from helpers import mc_check
from reference import gaussian_cmi, gaussian_mi, random_covariance

MC_POINTS = 10**7


# ------------------------------------------------------------------ paper mixtures
def dblquad_mi(name, eps=1e-8):
    """I(x; y) of a paper mixture by scipy dblquad, written independently of gmmmi."""
    w, m, c = (np.asarray(a, float) for a in datasets.PAPER_MIXTURES[name])
    inv, norm = np.linalg.inv(c), w / (2 * np.pi * np.sqrt(np.linalg.det(c)))
    sx, sy = np.sqrt(c[:, 0, 0]), np.sqrt(c[:, 1, 1])

    def f(y, x):
        d = np.array([x, y]) - m
        p = np.sum(norm * np.exp(-0.5 * np.einsum("ki,kij,kj->k", d, inv, d)))
        px = np.sum(w * np.exp(-0.5 * ((x - m[:, 0]) / sx) ** 2) / (np.sqrt(2 * np.pi) * sx))
        py = np.sum(w * np.exp(-0.5 * ((y - m[:, 1]) / sy) ** 2) / (np.sqrt(2 * np.pi) * sy))
        return p * np.log(p / (px * py)) if p > 0 else 0.0

    box = [(m[:, i] - 10 * s).min() for i, s in enumerate((sx, sy))]
    top = [(m[:, i] + 10 * s).max() for i, s in enumerate((sx, sy))]
    return dblquad(f, box[0], top[0], box[1], top[1], epsabs=eps, epsrel=eps)[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(datasets.PAPER_MIXTURES))
def test_paper_truth_matches_independent_dblquad(name):
    assert datasets.PAPER_MI[name] == pytest.approx(dblquad_mi(name), abs=1e-7)


def test_paper_truths_against_mc(rng):
    """All six cached truths against a 1e6-point MC of the mixture (cheap, catches typos)."""
    for name in datasets.PAPER_MIXTURES:
        mix = datasets.paper_mixture(name)
        pts = mix.sample(10**6, rng)[0]
        log_ratio = (
            mix.logpdf(pts)[0]
            - mix.marginal([0]).logpdf(pts[:, :1])[0]
            - mix.marginal([1]).logpdf(pts[:, 1:])[0]
        )
        mc_check(log_ratio, datasets.PAPER_MI[name])


def test_d1_truth_is_closed_form():
    assert datasets.PAPER_MI["D1"] == pytest.approx(-0.5 * np.log(1 - 0.4**2), abs=1e-12)


def test_paper_truths_match_gmmmi_quadrature():
    integrate = pytest.importorskip("gmmmi.integrate")
    for name, truth in datasets.PAPER_MI.items():
        got = integrate.mutual_information(datasets.paper_mixture(name), [0], [1], method="quad")
        assert np.asarray(got.values).ravel()[0] == pytest.approx(truth, abs=1e-6), name


def test_paper_sampler_moments(rng):
    ds = datasets.paper("D3")
    x, y = ds.sample(200_000, rng)
    w, m, c = (np.asarray(a, float) for a in datasets.PAPER_MIXTURES["D3"])
    mean = w @ m
    cov = np.einsum("k,kij->ij", w, c) + np.einsum("k,ki,kj->ij", w, m - mean, m - mean)
    got = np.cov(np.stack([x, y]))
    assert np.allclose([x.mean(), y.mean()], mean, atol=4 * np.sqrt(np.diag(cov) / x.size))
    assert np.allclose(got, cov, atol=0.02)


def test_unknown_paper_name():
    with pytest.raises(ValueError, match="valid names are D1"):
        datasets.paper("D4")


# ---------------------------------------------------------------------- Gaussians
def test_block_gaussian_truths_match_reference(rng):
    cov = random_covariance(rng, 6)
    ds = datasets.block_gaussian(cov, [0, 1], [2, 3, 4])
    assert ds.quantity == "mi"
    assert ds.truth == pytest.approx(gaussian_mi(cov, [0, 1], [2, 3, 4]), rel=1e-12)
    ds = datasets.block_gaussian(cov, [0], [2, 3], [4, 5])
    assert ds.quantity == "cmi"
    assert ds.truth == pytest.approx(gaussian_cmi(cov, [0], [2, 3], [4, 5]), rel=1e-12)
    x, y, z = ds.sample(10, rng)
    assert x.shape == (10,) and y.shape == (10, 2) and z.shape == (10, 2)


def test_gaussian_closed_forms():
    assert datasets.gaussian(0.6).truth == pytest.approx(-0.5 * np.log(1 - 0.36), rel=1e-14)
    rxy, rxz, ryz = 0.7, 0.4, -0.3
    r = (rxy - rxz * ryz) / np.sqrt((1 - rxz**2) * (1 - ryz**2))
    got = datasets.gaussian_cmi(rxy, rxz, ryz).truth
    assert got == pytest.approx(-0.5 * np.log(1 - r**2), rel=1e-12)


def test_block_gaussian_samples_have_the_covariance(rng):
    cov = random_covariance(rng, 3)
    x, y, z = datasets.block_gaussian(cov, [0], [1], [2]).sample(100_000, rng)
    got = np.cov(np.stack([x, y, z]))
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / x.size)
    assert np.all(np.abs(got - cov) < 5 * se)


def test_gaussian_mi_by_monte_carlo(rng):
    rho = 0.6
    x, y = datasets.gaussian(rho).sample(MC_POINTS, rng)
    # log p(x, y) - log p(x) - log p(y) for standard margins
    q = (x**2 - 2 * rho * x * y + y**2) / (1 - rho**2) - x**2 - y**2
    log_ratio = -0.5 * np.log(1 - rho**2) - 0.5 * q
    mc_check(log_ratio, datasets.gaussian(rho).truth)


@pytest.mark.parametrize(
    "bad", [dict(x_idx=[0], y_idx=[0]), dict(x_idx=[0], y_idx=[3]), dict(x_idx=[], y_idx=[1])]
)
def test_block_gaussian_rejects_bad_blocks(bad):
    with pytest.raises(ValueError, match="disjoint indices"):
        datasets.block_gaussian(np.eye(3), **bad)


def test_gaussian_rejects_bad_rho():
    with pytest.raises(ValueError, match="between -1 and 1"):
        datasets.gaussian(1.0)


# ------------------------------------------------------------ transformed Gaussian
@pytest.mark.parametrize("name", ["exp", "log", "cube", "square"])
def test_transforms_are_strictly_monotone_maps_of_the_gaussian(name):
    f = datasets.TRANSFORMS[name]
    grid = np.linspace(-8, 8, 10001)
    assert np.all(np.diff(f(grid)) > 0)
    ds = datasets.transformed_gaussian(0.6, transform=name, transform_x="cube")
    assert ds.truth == datasets.gaussian(0.6).truth
    x, y = ds.sample(1000, 5)
    gx, gy = datasets.gaussian(0.6).sample(1000, 5)
    np.testing.assert_allclose(y, f(gy))
    np.testing.assert_allclose(x, gx**3)


def test_unknown_transform():
    with pytest.raises(ValueError, match="valid values are identity"):
        datasets.transformed_gaussian(transform="sqrt")


# ------------------------------------------------------------ exponential laws
@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_gamma_exponential_truth_by_monte_carlo(alpha, rng):
    ds = datasets.gamma_exponential(alpha, log=False)
    x, y = ds.sample(MC_POINTS, rng)
    # p(y | x) = x exp(-x y);  p(y) = alpha / (1 + y)^(alpha + 1)
    log_ratio = np.log(x) - x * y - np.log(alpha) + (alpha + 1) * np.log1p(y)
    mc_check(log_ratio, ds.truth)
    assert ds.truth == pytest.approx(special.digamma(alpha + 1) - np.log(alpha), rel=1e-14)


def test_gamma_exponential_log_samples_are_logs(rng):
    lx, ly = datasets.gamma_exponential(2.0).sample(100, 3)
    x, y = datasets.gamma_exponential(2.0, log=False).sample(100, 3)
    np.testing.assert_allclose(np.exp(lx), x)
    np.testing.assert_allclose(np.exp(ly), y)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 2.0])
def test_weinman_truth_by_monte_carlo(alpha, rng):
    ds = datasets.weinman(alpha, log=False)
    x, y = ds.sample(MC_POINTS, rng)
    assert np.all(y > x) and np.all(x > 0)
    a = 2 * alpha  # rate of x; y - x has rate 1
    if alpha == 0.5:
        log_py = np.log(y) - y
    else:
        log_py = np.log(a / abs(1 - a)) + np.log(np.abs(np.exp(-a * y) - np.exp(-y)))
    log_ratio = -(y - x) - log_py  # log p(y | x) - log p(y)
    mc_check(log_ratio, ds.truth)


@pytest.mark.parametrize("maker", [datasets.gamma_exponential, datasets.weinman])
def test_exponential_laws_reject_bad_alpha(maker):
    with pytest.raises(ValueError, match="alpha must be positive"):
        maker(0.0)


# ------------------------------------------------------------------ categorical
def test_categorical_truth_by_monte_carlo(rng):
    ds = datasets.categorical_mixture()
    assert ds.discrete_y and ds.estimate_options == {"discrete_y": True}
    x, c = ds.sample(MC_POINTS, rng)
    w, m, s = np.array([0.6, 0.3, 0.1]), np.array([0.0, 1.5, -1.0]), np.array([1.0, 0.7, 0.5])
    assert np.allclose(np.bincount(c) / c.size, w, atol=1e-3)
    pc = np.exp(-0.5 * ((x[:, None] - m) / s) ** 2) / s  # p(x | c) up to sqrt(2 pi)
    log_ratio = np.log(pc[np.arange(c.size), c]) - np.log(pc @ w)
    mc_check(log_ratio, ds.truth)


def test_categorical_limits():
    """Identical classes carry no information; far-apart classes carry the label entropy."""
    assert datasets.categorical_mi([0.5, 0.5], [0, 0], [1, 1]) == pytest.approx(0, abs=1e-10)
    w = np.array([0.7, 0.2, 0.1])
    far = datasets.categorical_mi(w, [0, 100, 200], [1, 1, 1])
    assert far == pytest.approx(-np.sum(w * np.log(w)), abs=1e-8)


def test_categorical_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        datasets.categorical_mixture(weights=[0.5, 0.5], means=[0, 1, 2], sds=[1, 1])


# ------------------------------------------------------------------------ lookup
def test_get_every_name_samples_and_pickles():
    for name in datasets.names():
        ds = datasets.get(name)
        data = ds.sample(7, 0)
        assert len(data) == (3 if ds.quantity == "cmi" else 2)
        assert all(len(a) == 7 for a in data)
        again = pickle.loads(pickle.dumps(ds))
        for a, b in zip(again.sample(7, 0), data, strict=True):
            np.testing.assert_array_equal(a, b)
    assert datasets.get("gaussian", rho=0.9).truth == datasets.gaussian(0.9).truth


def test_get_rejects_unknown_names_and_paper_params():
    with pytest.raises(ValueError, match="valid names are D1"):
        datasets.get("nope")
    with pytest.raises(TypeError, match="takes no parameters"):
        datasets.get("D3", rho=0.1)
