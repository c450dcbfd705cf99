"""The shared linear-algebra kernels against numpy/scipy."""

import math

import numpy as np
from scipy.stats import multivariate_normal

from gmmmi._kernels.linalg import (
    cholesky_lower,
    gaussian_logpdf_chol,
    logsumexp,
    whiten_component,
)

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
