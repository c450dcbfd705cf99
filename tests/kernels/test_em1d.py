"""The 1-D EM kernel against the general kernel (the slow reference) on the same fits."""

import numpy as np
import pytest

from gmmmi._kernels import em, em1d


def _batch(x, starts, *, tol, max_iter, reg=1e-6):
    """Both kernels on two folds (even / odd rows), each fit validated on the other fold."""
    n = x.size
    rows = np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)]).astype(np.int64)
    ptr = np.array([0, (n + 1) // 2, n], dtype=np.int64)
    F = starts[0].shape[0]
    fit_set = np.arange(F, dtype=np.int64) % 2
    vset = 1 - fit_set
    w0, m0, v0 = (np.ascontiguousarray(a, dtype=np.float64) for a in starts)
    general = em.em_fit_batch(
        np.ascontiguousarray(x[:, None]),
        rows,
        np.ones(n),
        ptr,
        fit_set,
        rows,
        np.ones(n),
        ptr,
        vset,
        w0,
        m0[:, :, None],
        v0[:, :, None, None],
        reg,
        tol,
        max_iter,
        0,
        True,
    )
    one_d = em1d.em1d_fit_batch(
        x, rows, ptr, fit_set, rows, ptr, vset, w0, m0, v0, reg, tol, max_iter
    )
    return general, one_d


def _column(rng, n):
    """Three overlapping Gaussians and a heavy tail: slow EM, many iterations."""
    parts = [rng.normal(-2.0, 0.6, n // 3), rng.normal(0.5, 1.0, n // 3), rng.standard_t(3, n)]
    x = np.concatenate(parts)[:n]
    return (x - x.mean()) / x.std()


@pytest.mark.parametrize("K", [1, 2, 5])
def test_the_1d_kernel_makes_the_general_kernels_fits(rng, K):
    x = _column(rng, 701)  # an odd n: folds of unequal size, a last block shorter than BLOCK
    F = 4
    starts = (
        rng.dirichlet(np.full(K, 2.0), size=F),
        rng.normal(size=(F, K)),
        rng.uniform(0.3, 2.0, size=(F, K)),
    )
    # a fixed number of iterations (tol 0): the same arithmetic up to the order of sums
    general, one_d = _batch(x, starts, tol=0.0, max_iter=60)
    for g, o in zip(general[:3], one_d[:3], strict=True):
        np.testing.assert_allclose(o, g.reshape(o.shape), rtol=1e-9, atol=1e-12)
    for g, o in zip(general[3:7], one_d[3:7], strict=True):
        np.testing.assert_allclose(o, g, rtol=1e-11)
    # with the stopping rule: the same iterations, statuses and scores
    general, one_d = _batch(x, starts, tol=1e-5, max_iter=10_000)
    np.testing.assert_array_equal(one_d[3], general[3])
    np.testing.assert_array_equal(one_d[4], general[4])
    np.testing.assert_allclose(one_d[5:7], general[5:7], rtol=1e-11)


def test_bad_starts_and_empty_components_are_flagged_as_the_general_kernel_does(rng):
    x = _column(rng, 400)
    starts = (
        np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]),  # an empty component
        np.array([[-1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]]),
        np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]]),  # a zero variance: a bad start
    )
    general, one_d = _batch(x, starts, tol=1e-5, max_iter=500)
    np.testing.assert_array_equal(one_d[4], general[4])
    assert one_d[4][1] == em.STATUS_BAD_INIT
    np.testing.assert_array_equal(one_d[3], general[3])
    np.testing.assert_allclose(one_d[5][0], general[5][0], rtol=1e-11)
    # the empty component keeps only the count floor (NK_EPS) of the M-step
    np.testing.assert_allclose(one_d[0][0], general[0][0], rtol=1e-9)
    assert one_d[0][0, 2] < 1e-14
