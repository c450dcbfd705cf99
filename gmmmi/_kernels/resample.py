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
def stationary_indices(starts, new_block, n):
    """Row indices of stationary-bootstrap replicas (Politis & Romano 1994).

    Each replica is a run of consecutive rows (wrapping from the last row to
    the first) that jumps to a fresh random row where ``new_block`` is True,
    so blocks have geometric lengths. The random numbers come from the caller.

    Parameters
    ----------
    starts : ndarray of int64, shape (B, m)
        A uniform random row for every position (used where a block starts).
    new_block : ndarray of bool, shape (B, m)
        Whether a new block starts at each position (the first always does).
    n : int
        Number of rows of the data.

    Returns
    -------
    ndarray of int64, shape (B, m)
        Row indices of every replica.
    """
    B, m = starts.shape
    out = np.empty((B, m), dtype=np.int64)
    for b in range(B):
        row = starts[b, 0]
        out[b, 0] = row
        for a in range(1, m):
            if new_block[b, a]:
                row = starts[b, a]
            else:
                row += 1
                if row == n:
                    row = 0
            out[b, a] = row
    return out
