"""Kernels of gmmmi._kernels.integrands against closed forms and tests/reference.py."""

import numpy as np
import pytest
from scipy import stats

from gmmmi._kernels.integrands import (
    _standard_normal,
    mc_draw_block,
    mc_sum_logpdf,
    qmc_cross_entropy,
    quad_cross_entropy,
)
from gmmmi._kernels.logdensity import BLOCK
from gmmmi.integrate import QUAD_MAX_DIM, quad_rule

from reference import mixture_logpdf, random_covariance


@pytest.mark.parametrize("d", range(1, QUAD_MAX_DIM + 1))
def test_quad_rule_exact_for_quadratics(d):
    nodes, weights = quad_rule(d)
    for w in weights:
        assert np.all(w >= 0)
        np.testing.assert_allclose(w.sum(), 1.0, atol=1e-13)
        np.testing.assert_allclose(w @ nodes, np.zeros(d), atol=1e-13)
        np.testing.assert_allclose((nodes * w[:, None]).T @ nodes, np.eye(d), atol=1e-12)
    # the lower-order and the inner-ball rules use a subset of the nodes
    assert 0 < np.count_nonzero(weights[1]) < weights.shape[1]
    assert 0 < np.count_nonzero(weights[2]) < weights.shape[1]


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
    out = quad_cross_entropy(
        logw, mp, np.linalg.cholesky(cp), logw, mq, np.linalg.cholesky(cq), *quad_rule(d)
    )
    truth = [_gaussian_cross_entropy(mp[s, 0], cp[s, 0], mq[s, 0], cq[s, 0]) for s in range(S)]
    for rule in out:
        np.testing.assert_allclose(rule, truth, rtol=1e-11, atol=1e-11)


def test_quad_cross_entropy_skips_empty_components(rng):
    d = 2
    cov = random_covariance(rng, d)
    chol = np.linalg.cholesky(np.stack([cov, np.full((d, d), np.nan)]))[None]
    means = np.array([[[0.5, -1.0], [np.nan, np.nan]]])
    logw = np.array([[0.0, -np.inf]])
    hi = quad_cross_entropy(logw, means, chol, logw, means, chol, *quad_rule(d))[0]
    truth = _gaussian_cross_entropy(means[0, 0], cov, means[0, 0], cov)
    np.testing.assert_allclose(hi, [truth], rtol=1e-12)


def _draw(seed, n, weights, means, chols):
    """n points of one mixture by the kernel's generator, block by block as mc_sum_logpdf does."""
    state = np.array([seed], dtype=np.uint64)
    K, d = means.shape
    out = np.empty((n, d))
    cum = np.cumsum(weights)
    last = int(np.flatnonzero(weights > 0)[-1])
    for a0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - a0)
        mc_draw_block(state, nb, cum, last, means, chols, out[a0:], np.empty(d))
    return out


def test_standard_normals_are_normal():
    state = np.array([12345], dtype=np.uint64)
    z = np.array([_standard_normal(state) for _ in range(200_000)])
    n = z.size
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1) < 4 * np.sqrt(2 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # the tail beyond the ziggurat's base (R = 3.44) has the right mass
    tail = np.mean(np.abs(z) > 3.5)
    expected = 2 * stats.norm.sf(3.5)
    assert abs(tail - expected) < 5 * np.sqrt(expected / n)


def test_mc_draw_block_follows_the_mixture(rng):
    M, K, d = 100_000, 3, 2
    weights = np.array([0.2, 0.0, 0.8])
    means = rng.normal(scale=3, size=(K, d))
    means[1] = 1e6  # the empty component is never picked
    covs = np.stack([random_covariance(rng, d) for _ in range(K)])
    X = _draw(7, M, weights, means, np.linalg.cholesky(covs))
    assert np.abs(X).max() < 1e5
    mean = weights @ means
    second = np.einsum("k,kij->ij", weights, covs + means[:, :, None] * means[:, None])
    cov = second - np.outer(mean, mean)
    assert np.all(np.abs(X.mean(axis=0) - mean) < 4 * np.sqrt(np.diag(cov) / M))
    np.testing.assert_allclose(np.cov(X.T), cov, rtol=0.03, atol=0.03)
    # the same seed gives the same points; another seed other points
    np.testing.assert_array_equal(X[:50], _draw(7, 50, weights, means, np.linalg.cholesky(covs)))
    assert not np.any(X[:50] == _draw(8, 50, weights, means, np.linalg.cholesky(covs)))


def test_mc_sum_logpdf_matches_scipy(rng):
    S, d, K, n = 2, 3, 2, 1000  # n is not a multiple of the block size
    weights = rng.dirichlet(np.ones(K), size=S)
    means = rng.normal(size=(S, K, d))
    covs = np.stack([[random_covariance(rng, d) for _ in range(K)] for _ in range(S)])
    chols = np.linalg.cholesky(covs)
    # terms: +log p(x), -2 log q(x[[2, 0]]) with q a one-component mixture padded to K
    idx = np.array([[0, 1, 2], [2, 0, 0]], dtype=np.int64)
    dims = np.array([3, 2], dtype=np.int64)
    coefs = np.array([1.0, -2.0])
    q_cov = np.stack([random_covariance(rng, 2) for _ in range(S)])
    q_mean = rng.normal(size=(S, 2))
    q_logw = np.full((2, S, K), -np.inf)
    q_logw[0] = np.log(weights)
    q_logw[1, :, 0] = 0.0
    q_means = np.zeros((2, S, K, d))
    q_means[0] = means
    q_means[1, :, 0, :2] = q_mean
    q_chols = np.tile(np.eye(d), (2, S, K, 1, 1))
    q_chols[0] = chols
    q_chols[1, :, 0, :2, :2] = np.linalg.cholesky(q_cov)
    seeds = np.array([3, 2**62 + 5], dtype=np.int64)
    mean, sem = mc_sum_logpdf(
        seeds, n, weights, means, chols, coefs, idx, dims, q_logw, q_means, q_chols
    )
    for s in range(S):
        X = _draw(seeds[s], n, weights[s], means[s], chols[s])
        f = mixture_logpdf(X, weights[s], means[s], covs[s]) - 2.0 * mixture_logpdf(
            X[:, [2, 0]], [1.0], q_mean[s][None], q_cov[s][None]
        )
        np.testing.assert_allclose(mean[s], f.mean(), rtol=1e-11)
        np.testing.assert_allclose(sem[s], f.std(ddof=1) / np.sqrt(n), rtol=1e-9)


def test_qmc_cross_entropy_matches_scipy(rng):
    S, Kp, Kq, d, n, R = 2, 2, 3, 2, 64, 3
    p_w = rng.dirichlet(np.ones(Kp), size=S)
    q_w = rng.dirichlet(np.ones(Kq), size=S)
    p_m, q_m = rng.normal(size=(S, Kp, d)), rng.normal(size=(S, Kq, d))
    p_c = np.stack([[random_covariance(rng, d) for _ in range(Kp)] for _ in range(S)])
    q_c = np.stack([[random_covariance(rng, d) for _ in range(Kq)] for _ in range(S)])
    cv = rng.integers(0, Kq, size=(S, Kp))
    nodes = rng.normal(size=(R * n, d))
    out = qmc_cross_entropy(
        np.log(p_w),
        p_m,
        np.linalg.cholesky(p_c),
        np.log(q_w),
        q_m,
        np.linalg.cholesky(q_c),
        cv,
        nodes,
        R,
    )
    for s in range(S):
        for r in range(R):
            total = 0.0
            for k in range(Kp):
                X = p_m[s, k] + nodes[r * n : (r + 1) * n] @ np.linalg.cholesky(p_c[s, k]).T
                j = cv[s, k]
                g = np.log(q_w[s, j]) + stats.multivariate_normal(q_m[s, j], q_c[s, j]).logpdf(X)
                total += p_w[s, k] * np.mean(mixture_logpdf(X, q_w[s], q_m[s], q_c[s]) - g)
            np.testing.assert_allclose(out[s, r], total, rtol=1e-11, atol=1e-13)
