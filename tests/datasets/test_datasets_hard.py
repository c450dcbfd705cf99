"""The hard suite ("Beyond Normal" tasks): every truth against an independent computation.

Closed forms are checked by Monte Carlo with scipy's own densities (the
Student-t) or by canonical correlations (the Gaussians); the cached Monte
Carlo truths of the mixtures are recomputed with another seed, with
`reference.mixture_logpdf`, and with gmmmi's own integrator. The samplers are
checked by undoing their maps: the spiral keeps norms and is inverted by the
opposite turn, and the base law's moments come back.
"""

import numpy as np
import pytest
from scipy import special, stats

from gmmmi import _hard_datasets as hard
from gmmmi import datasets
from gmmmi.integrate import mutual_information
from gmmmi.mixture import MixtureDraws

from reference import gaussian_mi, mixture_logpdf

SUITE = {ds.name: ds for ds in datasets.hard_suite()}
MIXTURES = {
    "waves(2x1)": (hard.waves_mixture(), 2),
    "galaxy(2x1)": (hard.galaxy_mixture(), 2),
    "concentric(3x1, 5 rings)": (hard.concentric_mixture(3, 5), 3),
    "concentric(5x1, 5 rings)": (hard.concentric_mixture(5, 5), 5),
    "concentric(3x1, 10 rings)": (hard.concentric_mixture(3, 10), 3),
    "concentric(5x1, 10 rings)": (hard.concentric_mixture(5, 10), 5),
}


def test_suite_has_19_distinct_tasks_that_sample_with_their_shapes():
    assert len(SUITE) == 19
    for ds in SUITE.values():
        x, y = ds.sample(7, 0)
        assert x.shape[0] == y.shape[0] == 7
        assert np.isfinite(x).all() and np.isfinite(y).all()
        assert ds.truth > 0


def test_spiral_keeps_norms_and_the_opposite_turn_undoes_it():
    rng = np.random.default_rng(1)
    points = rng.standard_normal((500, 4))
    turned = hard.spiral(points, 1 / 3, 1, 2)
    np.testing.assert_allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(points, axis=1))
    np.testing.assert_allclose(hard.spiral(turned, -1 / 3, 1, 2), points, atol=1e-12)
    assert not np.allclose(turned, points)


@pytest.mark.parametrize("name", ["spiral(2-pair 3x3)", "spiral(2-pair 5x5)"])
def test_spiral_task_is_a_two_pair_gaussian_under_the_spiral(name):
    ds = SUITE[name]
    x, y = ds.sample(20_000, 3)
    base = np.hstack([hard.spiral(x, -1 / 3, 0, 1), hard.spiral(y, -1 / 3, 1, 2)])
    corr = np.corrcoef(base, rowvar=False)
    dx = x.shape[1]
    expected = np.eye(2 * dx)
    for i in range(2):
        expected[i, dx + i] = expected[dx + i, i] = 0.8
    np.testing.assert_allclose(corr, expected, atol=0.03)
    # the truth: two canonical correlations of 0.8
    assert ds.truth == pytest.approx(-np.log(1 - 0.8**2), rel=1e-12)


@pytest.mark.parametrize("d", [5, 25, 50])
def test_dense_gaussian_truth_is_the_canonical_correlation_formula(d):
    ds = SUITE[f"dense_gaussian({d}x{d})"]
    cov = np.eye(2 * d) * 0.5 + 0.5
    # canonical correlations: singular values of Sxx^-1/2 Sxy Syy^-1/2
    w, v = np.linalg.eigh(cov[:d, :d])
    inv_half = v @ np.diag(w**-0.5) @ v.T
    r = np.linalg.svd(inv_half @ cov[:d, d:] @ inv_half, compute_uv=False)
    assert ds.truth == pytest.approx(-0.5 * np.sum(np.log1p(-(r**2))), rel=1e-10)
    assert ds.truth == pytest.approx(gaussian_mi(cov, range(d), range(d, 2 * d)), rel=1e-10)


@pytest.mark.parametrize(
    "name", [n for n in SUITE if n.startswith("student_identity")], ids=lambda n: n
)
def test_student_truth_against_monte_carlo_of_scipys_densities(name):
    ds = SUITE[name]
    x, y = ds.sample(50_000, 11)
    dof = float(name.split("dof=")[1].rstrip(")"))
    dx, dy = x.shape[1], y.shape[1]
    t = lambda d: stats.multivariate_t(np.zeros(d), np.eye(d), df=dof)  # noqa: E731
    ratio = t(dx + dy).logpdf(np.hstack([x, y])) - t(dx).logpdf(x) - t(dy).logpdf(y)
    se = ratio.std(ddof=1) / np.sqrt(ratio.size)
    assert abs(ratio.mean() - ds.truth) < 4 * se, (ratio.mean(), ds.truth, se)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MIXTURES))
def test_mixture_truth_against_an_independent_monte_carlo_and_the_integrator(name):
    (weights, means, covs), dx = MIXTURES[name]
    rng = np.random.default_rng(7)
    n = 100_000
    labels = rng.choice(len(weights), size=n, p=weights)
    points = means[labels] + np.einsum(
        "nij,nj->ni", np.linalg.cholesky(covs)[labels], rng.standard_normal((n, means.shape[1]))
    )
    bx, by = slice(0, dx), slice(dx, None)
    ratio = mixture_logpdf(points, weights, means, covs)
    ratio -= mixture_logpdf(points[:, bx], weights, means[:, bx], covs[:, bx, bx])
    ratio -= mixture_logpdf(points[:, by], weights, means[:, by], covs[:, by, by])
    truth, truth_se = hard.MIXTURE_MI[name]
    se = np.hypot(ratio.std(ddof=1) / np.sqrt(n), truth_se)
    assert abs(ratio.mean() - truth) < 4 * se
    assert SUITE[name].truth == truth and SUITE[name].truth_error == truth_se
    mix = MixtureDraws(weights[None], means[None], covs[None])
    integral = mutual_information(mix, list(range(dx)), [dx], method="quad")
    assert abs(integral.values[0] - truth) < 4 * truth_se + integral.errors[0] + 2e-3


def test_waves_and_galaxy_samplers_undo_to_their_base_mixtures():
    x, y = SUITE["waves(2x1)"].sample(50_000, 5)
    x1 = x[:, 1] / 0.5
    x0 = (x[:, 0] + 0.8) / 0.1 - 5 * np.sin(3 * x1)
    weights, means, covs = hard.waves_mixture()
    base = np.column_stack([x0, x1, y])
    np.testing.assert_allclose(base.mean(axis=0), weights @ means, atol=0.05)
    x, y = SUITE["galaxy(2x1)"].sample(50_000, 5)
    base = np.column_stack([hard.spiral(x, 0.5, 0, 1), y])  # the opposite turn
    weights, means, covs = hard.galaxy_mixture()
    second = np.einsum("k,kij->ij", weights, covs + np.einsum("ki,kj->kij", means, means))
    np.testing.assert_allclose(base.T @ base / len(base), second, atol=0.08)


def test_concentric_sampler_puts_each_ring_at_its_scale():
    x, y = SUITE["concentric(3x1, 5 rings)"].sample(50_000, 2)
    ring = np.rint(y).astype(int)
    assert set(ring) == {1, 2, 3, 4, 5}
    for i in range(1, 6):
        assert np.std(x[ring == i]) == pytest.approx(i, rel=0.05)
    assert np.abs(y - ring).max() < 0.06  # sd 0.01


def test_student_identity_truth_is_the_shape_term_only():
    ds = hard.student_identity(2, 2, 1)
    h = 0.5
    lg, psi = special.gammaln, special.digamma
    expected = lg(h) + lg(h + 2) - 2 * lg(h + 1) + 2 * (h + 1) * psi(h + 1)
    expected -= (h + 2) * psi(h + 2) + h * psi(h)
    assert ds.truth == pytest.approx(expected, rel=1e-12)
