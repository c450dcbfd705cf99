"""EM and k-means kernels against the numpy/scipy oracles of tests/reference.py."""

import numpy as np
import pytest

from gmmmi._kernels import em, kmeans, logdensity, resample
from gmmmi._kernels.linalg import cholesky_lower, log_det_from_chol

import reference


def _mixture(rng, K, d):
    weights = rng.dirichlet(np.full(K, 3.0))
    means = rng.normal(scale=2.0, size=(K, d))
    covs = np.stack([reference.random_covariance(rng, d) for _ in range(K)])
    return weights, means, covs


def _sample(rng, weights, means, covs, n):
    labels = rng.choice(len(weights), size=n, p=weights)
    chols = np.linalg.cholesky(covs)
    z = rng.standard_normal((n, means.shape[1]))
    return means[labels] + np.einsum("nij,nj->ni", chols[labels], z)


def _fit(X, init, *, tol=1e-8, max_iter=500, reg=1e-12, curve=False, weights=None):
    n = X.shape[0]
    w0, m0, c0 = (np.ascontiguousarray(a[None]) for a in init)
    return em.em_fit_batch(
        X,
        np.arange(n),
        np.ones(n) if weights is None else weights,
        np.array([0, n]),
        np.zeros(1, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0),
        np.zeros(2, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        w0,
        m0,
        c0,
        reg,
        tol,
        max_iter,
        max_iter if curve else 0,
        True,
    )


def test_the_e_step_rows_are_aligned():
    for K, d in ((1, 1), (3, 2), (5, 4)):
        L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = em._scratch(K, d)
        assert ws.shape == (K + d + 4, logdensity.BLOCK) and ws.flags.c_contiguous
        assert ibits.dtype == np.int64 and fbits.dtype == np.float64
        assert np.shares_memory(ibits, fbits) and not np.shares_memory(ws, fbits)
        for rows in (ws, ibits, fbits):
            assert rows.ctypes.data % em.ALIGN == 0


@pytest.mark.parametrize("d,K", [(1, 1), (2, 3), (4, 2)])
def test_em_step_matches_oracle(rng, d, K):
    weights, means, covs = _mixture(rng, K, d)
    X = _sample(rng, weights, means, covs, 300)
    sample_weight = rng.integers(0, 4, size=300).astype(float)
    # start away from the truth so the step moves the parameters
    start = (np.full(K, 1.0 / K), means + 0.3, covs * 1.5)
    got = em.em_step(X, sample_weight, *start, 1e-6)
    want = reference.em_step(X, sample_weight, *start, 1e-6)
    assert got[4] == em.STATUS_OK
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    for g, w in zip(got[1:4], want[1:], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_log_det_matches_slogdet(rng):
    for d in (1, 2, 5):
        cov = reference.random_covariance(rng, d, condition=100.0)
        L = np.empty((d, d))
        assert cholesky_lower(cov, L)
        np.testing.assert_allclose(log_det_from_chol(L), reference.log_det(cov), rtol=1e-12)


def test_kmeans_step_matches_oracle(rng):
    X = rng.normal(size=(500, 3))
    centers = rng.normal(size=(4, 3))
    centers[3] = 50.0  # far away: an empty cluster keeps its centre
    labels = np.empty(500, dtype=np.int64)
    new = np.empty_like(centers)
    inertia = kmeans.kmeans_step(X, centers, labels, new, np.empty(4))
    want_labels, want_new, want_inertia = reference.kmeans_step(X, centers)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_allclose(new, want_new, rtol=1e-12)
    np.testing.assert_allclose(inertia, want_inertia, rtol=1e-12)


def test_kmeans_lloyd_separates_clusters(rng):
    truth = np.array([[-5.0, 0.0], [5.0, 0.0], [0.0, 6.0]])
    labels_true = np.repeat(np.arange(3), 200)
    X = truth[labels_true] + rng.normal(size=(600, 2))
    labels, centers, n_iter = kmeans.kmeans_lloyd(X, X[[0, 200, 400]] + 1.0, 100, 0.0)
    assert n_iter < 100
    np.testing.assert_array_equal(labels, labels_true)  # the clusters are 5 sd apart
    np.testing.assert_allclose(centers, truth, atol=4 * 1.0 / np.sqrt(200))


def test_moments_from_responsibilities_is_an_m_step(rng):
    X = rng.normal(size=(200, 2))
    resp = rng.random((200, 3))
    resp /= resp.sum(axis=1, keepdims=True)
    w, m, c = em.moments_from_responsibilities(X, resp)
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    np.testing.assert_allclose(w, nk / 200, rtol=1e-12)
    np.testing.assert_allclose(m, resp.T @ X / nk[:, None], rtol=1e-12)
    for k in range(3):
        diff = X - m[k]
        np.testing.assert_allclose(c[k], (resp[:, k, None] * diff).T @ diff / nk[k], rtol=1e-12)


def test_loglik_never_decreases(rng):
    weights, means, covs = _mixture(rng, 3, 2)
    X = _sample(rng, weights, means, covs, 1000)
    init = (np.full(3, 1 / 3), X[rng.choice(1000, 3)], np.repeat(np.eye(2)[None], 3, axis=0))
    out = _fit(X, init, tol=0.0, max_iter=200, curve=True)
    n_iter, curve = out[3][0], out[7][0]
    assert n_iter == 200 and out[4][0] == em.STATUS_MAX_ITER
    assert np.all(np.diff(curve[:n_iter]) >= -1e-12)
    assert curve[n_iter - 1] > curve[0] + 0.1  # and it did climb
    assert np.isnan(out[8][0, 0])  # no validation rows


def test_recovers_two_component_mixture(rng):
    weights = np.array([0.3, 0.7])
    means = np.array([[-2.0, 0.0], [2.0, 1.0]])
    covs = np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.5, -0.2], [-0.2, 0.8]]])
    n = 20_000
    X = _sample(rng, weights, means, covs, n)
    init = (np.array([0.5, 0.5]), np.array([[-1.0, 0.0], [1.0, 0.0]]), np.stack([np.eye(2)] * 2))
    w, m, c, n_iter, status = _fit(X, init)[:5]
    assert status[0] == em.STATUS_OK
    order = np.argsort(m[0, :, 0])
    w, m, c = w[0, order], m[0, order], c[0, order]
    se_w = np.sqrt(weights * (1 - weights) / n)
    np.testing.assert_array_less(np.abs(w - weights), 5 * se_w)
    for k in range(2):
        se_m = np.sqrt(np.diag(covs[k]) / (n * weights[k]))
        np.testing.assert_array_less(np.abs(m[k] - means[k]), 5 * se_m)
        # sd of a sample covariance entry: sqrt((s_ii s_jj + s_ij^2) / n_k)
        s = covs[k]
        se_c = np.sqrt((np.outer(np.diag(s), np.diag(s)) + s**2) / (n * weights[k]))
        np.testing.assert_array_less(np.abs(c[k] - s), 5 * se_c)


def test_count_weights_equal_repeated_rows(rng):
    """A bootstrap replica as counts gives the fit of the resampled data."""
    weights, means, covs = _mixture(rng, 2, 2)
    X = _sample(rng, weights, means, covs, 400)
    counts = np.bincount(rng.integers(0, 400, 400), minlength=400).astype(float)
    init = (weights, means, covs)
    by_counts = _fit(X, init, weights=counts)
    repeated = _fit(np.repeat(X, counts.astype(int), axis=0), init)
    assert by_counts[3][0] == repeated[3][0]
    for a, b in zip(by_counts[:3], repeated[:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_bad_initial_covariance_is_reported(rng):
    X = rng.normal(size=(50, 2))
    init = (np.array([0.5, 0.5]), np.zeros((2, 2)), np.stack([np.eye(2), -np.eye(2)]))
    out = _fit(X, init)
    assert out[4][0] == em.STATUS_BAD_INIT and out[3][0] == 0


def test_one_component_is_the_weighted_sample_moments(rng):
    """K = 1 is solved in closed form, whatever the (even invalid) start."""
    X = rng.normal(size=(80, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 2.0]])
    counts = rng.integers(0, 4, size=80).astype(float)
    init = (np.array([1.0]), np.full((1, 3), 5.0), -np.eye(3)[None])
    w, m, c, n_iter, status, train_ll, _, ct, _ = _fit(
        X, init, reg=1e-6, weights=counts, curve=True
    )
    mean = counts @ X / counts.sum()
    cov = (counts[:, None] * (X - mean)).T @ (X - mean) / counts.sum() + 1e-6 * np.eye(3)
    assert status[0] == em.STATUS_OK and n_iter[0] == 1
    np.testing.assert_allclose(w[0], [1.0])
    np.testing.assert_allclose(m[0, 0], mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c[0, 0], cov, rtol=1e-12, atol=1e-14)
    want_ll = counts @ reference.mixture_logpdf(X, w[0], m[0], c[0]) / counts.sum()
    np.testing.assert_allclose([train_ll[0], ct[0, 0]], want_ll, rtol=1e-12)


def test_collapsing_component_is_guarded(rng):
    """A component on two identical points would be singular; it keeps a valid covariance."""
    X = np.vstack([rng.normal(size=(100, 2)), np.full((2, 2), 7.0)])
    init = (np.array([0.5, 0.5]), np.array([[0.0, 0.0], [7.0, 7.0]]), np.stack([np.eye(2)] * 2))
    w, m, c, n_iter, status = _fit(X, init, reg=0.0, max_iter=50)[:5]
    assert status[0] & em.STATUS_SINGULAR
    assert np.all(np.linalg.eigvalsh(c[0]) > 0)


def test_resample_sets_are_counts_of_the_draws(rng):
    draws = rng.integers(0, 30, size=(3, 30))
    rows, counts, ptr = resample.resample_sets(draws, 30)
    assert ptr[0] == 0 and ptr[-1] == rows.size == counts.size
    for b in range(3):
        want = np.bincount(draws[b], minlength=30)
        np.testing.assert_array_equal(rows[ptr[b] : ptr[b + 1]], np.flatnonzero(want))
        np.testing.assert_array_equal(counts[ptr[b] : ptr[b + 1]], want[want > 0])


def test_exp_block_matches_numpy(rng):
    a = np.concatenate([-rng.exponential(5.0, 500), [0.0, -679.0, -681.0, -np.inf, 3.0]])
    shift = np.zeros_like(a)
    total = np.ones_like(a)
    ibits = np.empty(a.size, dtype=np.int64)
    got = a.copy()
    logdensity._exp_block(got, shift, total, a.size, ibits, ibits.view(np.float64))
    want = np.where(a > -680.0, np.exp(a), 0.0)
    np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)
    np.testing.assert_array_equal(total, 1.0 + got)
