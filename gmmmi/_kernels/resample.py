"""Bootstrap replicas as weighted training sets, and K = 1 replicas in closed form (Numba)."""

import numpy as np
from numba import njit

from .em import STATUS_BAD_INIT, STATUS_SINGULAR, _m_step
from .linalg import FASTMATH
from .logdensity import prepare_mixture


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


#: drawn rows gathered at a time by `single_gaussian_replicas`
_GATHER = 256


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def single_gaussian_replicas(X, draws, means, covs, reg_covar):
    """The K = 1 maximum-likelihood fit of every bootstrap replica, in closed form.

    What `gmmmi._kernels.em.em_fit_batch` returns for one component fitted to
    the drawn rows with weight 1 (its K = 1 closed form: the moments about the
    initial mean, then the M-step), bit for bit, without a weight array: the
    drawn rows are gathered ``_GATHER`` at a time into a small buffer before
    they are summed, so the random reads of ``X`` overlap (about twice as fast
    at 10^7 rows, where every read misses the cache).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    draws : ndarray of int64, shape (B, m)
        Row indices of each replica.
    means : ndarray, shape (B, 1, d)
        Initial means (the moments are taken about them); updated in place.
    covs : ndarray, shape (B, 1, d, d)
        Initial covariances, kept where the new one is not positive
        definite; updated in place.
    reg_covar : float
        Added to the covariance diagonal.

    Returns
    -------
    weights : ndarray, shape (B, 1)
    status : ndarray of int64, shape (B,)
        ``STATUS_SINGULAR`` and ``STATUS_BAD_INIT`` of `gmmmi._kernels.em`.
    """
    B, m = draws.shape
    d = X.shape[1]
    weights = np.ones((B, 1))
    status = np.zeros(B, dtype=np.int64)
    Nk, S1, S2 = np.empty(1), np.empty((1, d)), np.empty((1, d, d))
    C, L, P, consts = np.empty((d, d)), np.empty((d, d)), np.empty((1, d, d)), np.empty(1)
    block = np.empty((_GATHER, d))
    for b in range(B):
        Nk[0] = 0.0
        S1[:] = 0.0
        S2[:] = 0.0
        for start in range(0, m, _GATHER):
            stop = min(m, start + _GATHER)
            for a in range(start, stop):
                r = draws[b, a]
                for i in range(d):
                    block[a - start, i] = X[r, i] - means[b, 0, i]
            for a in range(stop - start):
                Nk[0] += 1.0
                for i in range(d):
                    ei = block[a, i]
                    S1[0, i] += ei
                    for j in range(i + 1):
                        S2[0, i, j] += ei * block[a, j]
        if _m_step(Nk, S1, S2, reg_covar, weights[b], means[b], covs[b], C, L):
            status[b] |= STATUS_SINGULAR
        if not prepare_mixture(weights[b], means[b], covs[b], L, P, consts):
            status[b] |= STATUS_BAD_INIT
    return weights, status
