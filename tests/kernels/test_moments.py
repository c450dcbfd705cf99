"""`sum_moments` against the loop it replaced: the same sums, bit for bit."""

import numpy as np
import pytest
from numba import njit

from gmmmi._kernels.linalg import FASTMATH
from gmmmi._kernels.moments import sum_moments


@njit(fastmath=FASTMATH)
def _loop_in_arrays(X, rows, row_w, mean):
    """The K = 1 fit's moments as `_fit_single` summed them before: into arrays, in row order."""
    d = X.shape[1]
    Nk, S1, S2 = np.zeros(1), np.zeros((1, d)), np.zeros((1, d, d))
    for a in range(rows.shape[0]):
        r = rows[a]
        w = row_w[a]
        Nk[0] += w
        for i in range(d):
            ei = X[r, i] - mean[i]
            S1[0, i] += w * ei
            for j in range(i + 1):
                S2[0, i, j] += w * ei * (X[r, j] - mean[j])
    return Nk, S1, S2


@njit(fastmath=FASTMATH)
def _through_kernel(X, rows, row_w, mean):
    d = X.shape[1]
    Nk, S1, S2 = np.zeros(1), np.zeros((1, d)), np.zeros((1, d, d))
    sum_moments(X, rows, row_w, mean, Nk, S1, S2)
    return Nk, S1, S2


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("weights", ["ones", "counts"])
def test_sum_moments_equals_the_loop_in_arrays_bit_for_bit(d, weights):
    rng = np.random.default_rng(10 * d + len(weights))
    n = 3000
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0
    rows = rng.integers(0, n, size=2 * n)
    mean = X.mean(axis=0) + 0.1
    w = np.ones(rows.size) if weights == "ones" else rng.integers(1, 5, rows.size) / 2.0
    got = _through_kernel(X, rows, w, mean)
    want = _loop_in_arrays(X, rows, w, mean)
    tril = np.tril_indices(d)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2][0][tril], want[2][0][tril])
    # and they are the moments: within rounding of numpy's (pairwise) sums
    we = w[:, None] * (X[rows] - mean)
    scale = np.abs(we).sum(axis=0)
    np.testing.assert_allclose(got[1][0], we.sum(axis=0), rtol=0, atol=1e-13 * scale.max())
