"""Kernels of gmmmi._kernels.integrands against closed forms and tests/reference.py."""

import numpy as np
import pytest

from gmmmi._kernels.integrands import mc_add_logpdf, mc_points, quad_cross_entropy
from gmmmi.integrate import QUAD_MAX_DIM, quad_rule

from reference import mixture_logpdf, random_covariance


@pytest.mark.parametrize("d", range(1, QUAD_MAX_DIM + 1))
def test_quad_rule_exact_for_quadratics(d):
    nodes, w_hi, w_lo = quad_rule(d)
    for w in (w_hi, w_lo):
        assert np.all(w >= 0)
        np.testing.assert_allclose(w.sum(), 1.0, atol=1e-13)
        np.testing.assert_allclose(w @ nodes, np.zeros(d), atol=1e-13)
        np.testing.assert_allclose((nodes * w[:, None]).T @ nodes, np.eye(d), atol=1e-12)
    # the lower-order rule uses a subset of the nodes
    assert 0 < np.count_nonzero(w_lo) < w_hi.size


def _gaussian_cross_entropy(mp, cp, mq, cq):
    """E_{N(mp, cp)}[log N(x | mq, cq)] in closed form."""
    inv = np.linalg.inv(cq)
    diff = mp - mq
    d = mp.size
    return -0.5 * (
        d * np.log(2 * np.pi) + np.linalg.slogdet(cq)[1] + np.trace(inv @ cp) + diff @ inv @ diff
    )


@pytest.mark.parametrize("d", [1, 2, 4, 6])
def test_quad_cross_entropy_gaussians(rng, d):
    S = 3
    mp, mq = rng.normal(size=(2, S, 1, d))
    cp = np.stack([random_covariance(rng, d)[None] for _ in range(S)])
    cq = np.stack([random_covariance(rng, d)[None] for _ in range(S)])
    logw = np.zeros((S, 1))
    hi, lo = quad_cross_entropy(
        logw, mp, np.linalg.cholesky(cp), logw, mq, np.linalg.cholesky(cq), *quad_rule(d)
    )
    truth = [_gaussian_cross_entropy(mp[s, 0], cp[s, 0], mq[s, 0], cq[s, 0]) for s in range(S)]
    np.testing.assert_allclose(hi, truth, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(lo, truth, rtol=1e-11, atol=1e-11)


def test_quad_cross_entropy_skips_empty_components(rng):
    d = 2
    cov = random_covariance(rng, d)
    chol = np.linalg.cholesky(np.stack([cov, np.full((d, d), np.nan)]))[None]
    means = np.array([[[0.5, -1.0], [np.nan, np.nan]]])
    logw = np.array([[0.0, -np.inf]])
    hi, _ = quad_cross_entropy(logw, means, chol, logw, means, chol, *quad_rule(d))
    truth = _gaussian_cross_entropy(means[0, 0], cov, means[0, 0], cov)
    np.testing.assert_allclose(hi, [truth], rtol=1e-12)


def test_mc_points_follow_the_mixture(rng):
    S, M, K, d = 2, 200_000, 3, 2
    weights = np.array([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]])
    means = rng.normal(scale=3, size=(S, K, d))
    covs = np.stack([[random_covariance(rng, d) for _ in range(K)] for _ in range(S)])
    X = mc_points(
        rng.random((S, M)), rng.standard_normal((S, M, d)), weights, means, np.linalg.cholesky(covs)
    )
    for s in range(S):
        mean = weights[s] @ means[s]
        second = np.einsum(
            "k,kij->ij", weights[s], covs[s] + means[s][:, :, None] * means[s][:, None]
        )
        cov = second - np.outer(mean, mean)
        sem = np.sqrt(np.diag(cov) / M)
        assert np.all(np.abs(X[s].mean(axis=0) - mean) < 4 * sem)
        np.testing.assert_allclose(np.cov(X[s].T), cov, rtol=0.02, atol=0.02)
    # the empty component (weight 0, mean far away) is never picked
    means_far = means.copy()
    means_far[0, 1] = 1e6
    X = mc_points(
        rng.random((S, 1000)),
        rng.standard_normal((S, 1000, d)),
        weights,
        means_far,
        np.linalg.cholesky(covs),
    )
    assert np.abs(X[0]).max() < 1e5


def test_mc_add_logpdf_matches_scipy(rng):
    S, M, d, K = 2, 50, 4, 3
    idx = np.array([3, 1], dtype=np.int64)
    X = rng.normal(size=(S, M, d))
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(size=(S, K, 2))
    covs = np.stack([[random_covariance(rng, 2) for _ in range(K)] for _ in range(S)])
    f = np.ones((S, M))
    mc_add_logpdf(X, idx, -2.0, np.log(weights), means, np.linalg.cholesky(covs), f)
    for s in range(S):
        truth = 1.0 - 2.0 * mixture_logpdf(X[s][:, idx], weights[s], means[s], covs[s])
        np.testing.assert_allclose(f[s], truth, rtol=1e-12, atol=1e-12)
