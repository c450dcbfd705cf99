"""The moments of weighted rows about a point, summed in row order: a K = 1 fit's pass.

One Gaussian's maximum-likelihood fit (`gmmmi._kernels.em`'s K = 1 closed form, which
every K = 1 fit and bootstrap replica runs) is one pass over its rows adding w, w e and
w e e^T (e the row minus the start's mean). Summed into arrays, each addition waits for
the previous one to be stored and loaded again (about 6 ns a row in 2-D); summed in local
variables, as here for two columns, the additions of one row run side by side (about
1.5 ns a row, the M-step included). The additions are the same, in the same order: the
kernel is compiled without ``reassoc``, so that the compiler can neither reorder nor
vectorise the sums, and its numbers are those of the arrays' loop bit for bit
(tests/kernels/test_moments.py). Other widths keep the arrays' loop (each branch costs
compile time in a fresh environment).
"""

from numba import njit

from .linalg import FASTMATH, NO_WRAPPERS

#: `FASTMATH` without ``reassoc``: every sum is added in row order, as the arrays' loop does
SEQUENTIAL = FASTMATH - {"reassoc"}


@njit(cache=True, fastmath=SEQUENTIAL, **NO_WRAPPERS)
def sum_moments(X, rows, row_w, mean, Nk, S1, S2):
    """``Nk[0]``, ``S1[0]``, lower ``S2[0]`` = sums of w, w e, w e e^T over ``rows``, in order.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    rows : numpy.ndarray of int64, shape (m,)
        Rows of ``X`` summed, in this order (repeats allowed).
    row_w : numpy.ndarray, shape (m,)
        Weight of each row.
    mean : numpy.ndarray, shape (d,)
        The point the moments are taken about (e = x - mean).
    Nk, S1, S2 : numpy.ndarray, shapes (1,), (1, d), (1, d, d)
        Written: the sum of the weights, of w e, and the lower triangle of w e e^T
        (the upper triangle is left as it was).
    """
    d = X.shape[1]
    if d == 2:
        m0, m1 = mean[0], mean[1]
        n = s0 = s1 = s00 = s10 = s11 = 0.0
        for a in range(rows.shape[0]):
            r = rows[a]
            w = row_w[a]
            e0 = X[r, 0] - m0
            e1 = X[r, 1] - m1
            n += w
            s0 += w * e0
            s00 += w * e0 * e0
            s1 += w * e1
            s10 += w * e1 * e0
            s11 += w * e1 * e1
        Nk[0], S1[0, 0], S1[0, 1] = n, s0, s1
        S2[0, 0, 0], S2[0, 1, 0], S2[0, 1, 1] = s00, s10, s11
        return
    Nk[0] = 0.0
    for i in range(d):
        S1[0, i] = 0.0
        for j in range(i + 1):
            S2[0, i, j] = 0.0
    for a in range(rows.shape[0]):
        r = rows[a]
        w = row_w[a]
        Nk[0] += w
        for i in range(d):
            ei = X[r, i] - mean[i]
            S1[0, i] += w * ei
            for j in range(i + 1):
                S2[0, i, j] += w * ei * (X[r, j] - mean[j])
