"""Bootstrap replicas as weighted training sets, compiled with Numba."""

import numpy as np
from numba import njit


@njit(cache=True)
def resample_sets(draws, n):
    """Bootstrap replicas as training sets: distinct rows and their counts.

    Parameters
    ----------
    draws : ndarray of int64, shape (B, m)
        Row indices drawn with replacement, one row of ``draws`` per replica.
    n : int
        Number of rows of the data.

    Returns
    -------
    rows : ndarray of int64
        Distinct drawn rows of every replica, ascending within a replica.
    counts : ndarray of float64
        How often each of those rows was drawn.
    ptr : ndarray of int64, shape (B + 1,)
        Replica b is ``rows[ptr[b]:ptr[b + 1]]``.
    """
    B, m = draws.shape
    tally = np.zeros(n, dtype=np.int64)
    rows = np.empty(B * min(m, n), dtype=np.int64)
    counts = np.empty(B * min(m, n))
    ptr = np.zeros(B + 1, dtype=np.int64)
    pos = 0
    for b in range(B):
        for a in range(m):
            tally[draws[b, a]] += 1
        for t in range(n):
            if tally[t] > 0:
                rows[pos] = t
                counts[pos] = tally[t]
                tally[t] = 0
                pos += 1
        ptr[b + 1] = pos
    return rows[:pos].copy(), counts[:pos].copy(), ptr


@njit(cache=True)
def circular_indices(starts, length, n):
    """Row indices of circular-block-bootstrap replicas (Politis & Romano 1992).

    Each replica is ``starts.shape[1]`` blocks of ``length`` consecutive rows
    (wrapping from the last row to the first), cut to n rows. The random
    block starts come from the caller.

    Parameters
    ----------
    starts : ndarray of int64, shape (B, ceil(n / length))
        The first row of every block of every replica, uniform on 0..n-1.
    length : int
        Rows per block, >= 1.
    n : int
        Number of rows of the data (and of every replica).

    Returns
    -------
    ndarray of int64, shape (B, n)
        Row indices of every replica.
    """
    B = starts.shape[0]
    out = np.empty((B, n), dtype=np.int64)
    for b in range(B):
        for a in range(n):
            out[b, a] = (starts[b, a // length] + a % length) % n
    return out
