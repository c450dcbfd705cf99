"""Scale mixtures of Gaussians (gmmmi._em.scale_mixture): the EM, the gate and the choice."""

import re
import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi._em import scale_mixture as sm
from gmmmi._em.select import select_components
from gmmmi._hard_datasets import student_identity
from gmmmi._rows import standardise


def _sample_scale_mixture(n, rng, weights, scales, mean, shape):
    k = rng.choice(len(weights), size=n, p=weights)
    chol = np.linalg.cholesky(shape)
    return mean + np.sqrt(scales[k])[:, None] * (rng.standard_normal((n, len(mean))) @ chol.T)


def test_em_recovers_a_known_scale_mixture():
    rng = np.random.default_rng(3)
    shape = np.array([[1.3, 0.4], [0.4, 0.7]])  # trace 2 = d, as the fit normalises it
    weights, scales, mean = np.array([0.6, 0.4]), np.array([0.5, 4.0]), np.array([1.0, -1.0])
    X = _sample_scale_mixture(20_000, rng, weights, scales, mean, shape)
    fit = sm.fit_scale_mixtures(X, np.ones((1, len(X))), 2)
    order = np.argsort(fit.scales[0])
    np.testing.assert_allclose(fit.scales[0][order], scales, rtol=0.08)
    np.testing.assert_allclose(fit.weights[0][order], weights, atol=0.03)
    np.testing.assert_allclose(fit.mean[0], mean, atol=0.05)
    np.testing.assert_allclose(fit.shape[0], shape, atol=0.06)
    assert fit.converged[0]
    batch = fit.as_batch()
    np.testing.assert_allclose(batch.means[0, 0], batch.means[0, 1])
    np.testing.assert_allclose(batch.covariances[0, 1] / fit.scales[0, 1], fit.shape[0])


def test_row_counts_weigh_like_copies_of_rows():
    rng = np.random.default_rng(1)
    X = rng.standard_t(3, size=(300, 3))
    counts = rng.integers(0, 3, size=300)
    weighted = sm.fit_scale_mixtures(X, counts[None].astype(float), 3)
    copied = sm.fit_scale_mixtures(np.repeat(X, counts, axis=0), np.ones((1, counts.sum())), 3)
    # the starts differ (quantiles of distinct rows), so equal up to EM's tolerance
    np.testing.assert_allclose(weighted.scales, copied.scales, rtol=2e-3)
    np.testing.assert_allclose(weighted.mean, copied.mean, atol=1e-3)
    np.testing.assert_allclose(weighted.train_ll, copied.train_ll, rtol=1e-5)


def test_mardia_gate_stays_shut_on_gaussians_and_opens_on_student_t():
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert abs(sm.mardia_kurtosis_z(rng.standard_normal((2000, 4)))) < 4
    x, y = student_identity(2, 2, 3).sample(2000, 0)
    assert sm.heavy_joint_tails(np.hstack([x, y]))


def test_mardia_statistic_is_its_definition():
    """b2 = mean over rows of ((x - m)' S^-1 (x - m))^2, S the covariance with divisor n."""
    rng = np.random.default_rng(3)
    X = rng.standard_t(4, size=(300, 3)) @ rng.normal(size=(3, 3))
    centred = X - X.mean(axis=0)
    distance = np.einsum("ni,ij,nj->n", centred, np.linalg.inv(np.cov(X.T, bias=True)), centred)
    b2, d = np.mean(distance**2), 3
    expected = (b2 - d * (d + 2)) / np.sqrt(8 * d * (d + 2) / 300)
    assert sm.mardia_kurtosis_z(X) == pytest.approx(expected, rel=1e-12)


def test_gaussian_data_keep_the_searched_mixture_bit_for_bit():
    x, y = gmmmi.datasets.paper("D3").sample(500, 0)
    on = gmmmi.estimate(x, y, random_state=0, n_bootstrap=5)
    off = gmmmi.estimate(x, y, random_state=0, n_bootstrap=5, scale_mixtures=False)
    assert on.diagnostics.extra["scale_mixture"] is None
    np.testing.assert_array_equal(on.draws["mi"], off.draws["mi"])
    assert on.value == off.value


def test_candidate_scores_on_given_folds_for_other_searches():
    x, y = student_identity(3, 3, 2).sample(2000, 4)
    Xs, _, _ = standardise(np.hstack([x, y]))
    sel = select_components(Xs, rng=np.random.default_rng(0), init_type="kmeans", n_inits=1)
    cand = sm.scale_mixture_candidate(Xs, sel.folds)
    assert cand.n_scales in sm.N_SCALES
    assert cand.heldout == max(cand.per_scales.values())
    searched = sel.metric_per_k["valid"][sel.metric_per_k["n_components"].index(sel.n_components)]
    assert cand.heldout > searched  # a Student-t: the shared scale fits better


@pytest.mark.slow
@pytest.mark.parametrize("dx, dof", [(2, 1), (3, 2)])
def test_student_t_estimate_within_tolerance_with_the_scale_mixture(dx, dof):
    ds = student_identity(dx, dx, dof)
    x, y = ds.sample(3000, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=10, transform="none")
    record = res.diagnostics.extra["scale_mixture"]
    assert record is not None and record["n_scales"] == res.n_components
    assert record["heldout"] > record["searched_heldout"]
    assert abs(res.value - ds.truth) <= max(0.1 * ds.truth, 0.05)
    weights, means = res.mixture.weights, res.mixture.means
    assert weights.shape == (10, res.n_components)
    np.testing.assert_allclose(means, np.broadcast_to(means[:, :1], means.shape))


def test_scale_mixtures_must_be_a_bool():
    message = "scale_mixtures must be True or False; got 'yes' (str)."
    with pytest.raises(TypeError, match=re.escape(message)):
        gmmmi.estimate(*gmmmi.datasets.gaussian(0.6).sample(100, 0), scale_mixtures="yes")
