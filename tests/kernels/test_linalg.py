"""The shared linear-algebra kernels against numpy/scipy."""

import math

import numpy as np
from scipy.stats import multivariate_normal

from gmmmi._kernels.linalg import (
    cholesky_batch,
    cholesky_lower,
    gaussian_logpdf_chol,
    logsumexp,
    mixture_logpdf,
    whiten_component,
)

from reference import mixture_logpdf as reference_mixture_logpdf
from reference import random_covariance


def test_cholesky_and_whitening_match_numpy(rng):
    for d in (1, 2, 4):
        cov = random_covariance(rng, d)
        L = np.zeros((d, d))
        assert cholesky_lower(cov, L)
        np.testing.assert_allclose(L, np.linalg.cholesky(cov), rtol=1e-12, atol=1e-14)
        P = np.full((d, d), np.nan)
        const = whiten_component(L, P, math.log(0.3))
        np.testing.assert_allclose(P, np.linalg.inv(L), rtol=1e-10, atol=1e-12)
        x, mean = rng.normal(size=d), rng.normal(size=d)
        z = P @ (x - mean)
        want = math.log(0.3) + multivariate_normal(mean, cov).logpdf(x)
        assert abs(const - 0.5 * z @ z - want) < 1e-10
        out = np.empty(1)
        gaussian_logpdf_chol(x[None], mean, L, out)
        assert abs(out[0] - multivariate_normal(mean, cov).logpdf(x)) < 1e-10


def test_not_positive_definite_is_reported():
    L = np.zeros((2, 2))
    assert not cholesky_lower(np.array([[1.0, 2.0], [2.0, 1.0]]), L)


def test_empty_component_and_all_minus_inf_logsumexp():
    # fastmath's nnan/ninf would turn these into NaN: the kernels use a safe flag set
    assert whiten_component(np.eye(2), np.zeros((2, 2)), -np.inf) == -np.inf
    assert logsumexp(np.full(3, -np.inf)) == -np.inf
    assert logsumexp(np.array([-np.inf, 0.0])) == 0.0


def test_cholesky_batch_factors_each_matrix_and_flags_the_indefinite_one(rng):
    covs = np.stack(
        [random_covariance(rng, 3), np.diag([1.0, -1.0, 1.0]), random_covariance(rng, 3)]
    )
    chols, ok = cholesky_batch(covs)
    assert ok.tolist() == [True, False, True]
    for i in (0, 2):
        np.testing.assert_allclose(chols[i], np.linalg.cholesky(covs[i]), rtol=1e-12, atol=1e-14)


def test_mixture_logpdf_matches_scipy_and_skips_empty_components(rng):
    d, K = 3, 4
    weights = np.array([0.5, 0.0, 0.3, 0.2])  # component 1 is padding: weight 0
    means = rng.normal(size=(K, d))
    covs = np.stack([random_covariance(rng, d) for _ in range(K)])
    covs[1] = np.nan  # a padding component's covariance must never be read
    chols = np.stack([np.eye(d) if k == 1 else np.linalg.cholesky(covs[k]) for k in range(K)])
    X = rng.normal(size=(50, d))
    with np.errstate(divide="ignore"):
        got = mixture_logpdf(X, np.log(weights), means, chols)
    want = reference_mixture_logpdf(X, weights, means, covs)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)
