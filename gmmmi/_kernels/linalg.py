"""Small dense linear algebra and Gaussian log-densities, compiled with Numba.

Every function here works on tiny matrices (d is the data dimension, rarely
above 10), so the loops are written out by hand: no BLAS call, no thread
pool, no Python object. Kernels never raise rich errors; they return status
codes that the Python side turns into warnings or exceptions.
"""

import math

import numpy as np
from numba import njit

# ``fastmath=True`` would include ``nnan``/``ninf``, which turns an all -inf
# logsumexp into NaN. Keep the safe subset.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
#: options of a helper called only from compiled code: no Python or C entry point is
#: compiled for it (docstring of `gmmmi._kernels`); calling it from Python would crash
NO_WRAPPERS = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}

LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True, fastmath=FASTMATH)
def cholesky_lower(A, L):
    """Write the lower Cholesky factor of ``A`` (d, d) into ``L`` (d, d).

    Returns
    -------
    ok : bool
        False when ``A`` is not numerically positive definite; ``L`` is then
        partially written and must not be used.
    """
    d = A.shape[0]
    for i in range(d):
        for j in range(i + 1):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if not s > 0.0:
                    return False
                L[i, i] = math.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
        for j in range(i + 1, d):
            L[i, j] = 0.0
    return True


def cholesky_batch(covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of a stack of covariances.

    Parameters
    ----------
    covariances : ndarray, shape (m, d, d)

    Returns
    -------
    chols : ndarray, shape (m, d, d)
    ok : ndarray of bool, shape (m,)
    """
    m, d, _ = covariances.shape
    chols, ok = np.zeros((m, d, d)), np.zeros(m, dtype=np.bool_)
    _cholesky_each(covariances, chols, ok)
    return chols, ok


@njit(cache=True, fastmath=FASTMATH)
def _cholesky_each(covariances, chols, ok):
    """`cholesky_batch` into ``chols`` and ``ok`` (allocated by the caller, in Python)."""
    for i in range(covariances.shape[0]):
        ok[i] = cholesky_lower(covariances[i], chols[i])


@njit(cache=True, fastmath=FASTMATH, inline="always")
def log_det_from_chol(L):
    """log |Sigma| from the lower Cholesky factor ``L`` of Sigma."""
    s = 0.0
    for i in range(L.shape[0]):
        s += math.log(L[i, i])
    return 2.0 * s


@njit(cache=True, fastmath=FASTMATH, inline="always")
def whiten_component(L, P, log_weight):
    """Write ``P = L^{-1}`` and return the component's log-density constant.

    Parameters
    ----------
    L : ndarray, shape (d, d)
        Lower Cholesky factor of the covariance Sigma.
    P : ndarray, shape (d, d)
        Written in place with the (lower triangular) inverse of ``L``.
    log_weight : float
        log of the component's weight; -inf for an empty component.

    Returns
    -------
    float
        ``log w - d/2 log(2 pi) - 1/2 log|Sigma|`` (-inf for an empty component),
        so that ``log w N(x | mu, Sigma) = const - |P (x - mu)|^2 / 2``.
    """
    d = L.shape[0]
    for i in range(d):
        P[i, i] = 1.0 / L[i, i]
        for j in range(i):
            s = 0.0
            for m in range(j, i):
                s -= L[i, m] * P[m, j]
            P[i, j] = s / L[i, i]
        for j in range(i + 1, d):
            P[i, j] = 0.0
    if log_weight == -np.inf:
        return -np.inf
    return log_weight - 0.5 * d * LOG_2PI - 0.5 * log_det_from_chol(L)


@njit(cache=True, fastmath=FASTMATH)
def gaussian_logpdf_chol(X, mean, L, out):
    """log N(x | mean, L L^T) for every row of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    mean : ndarray, shape (d,)
    L : ndarray, shape (d, d), lower triangular with positive diagonal
    out : ndarray, shape (n,), written in place
    """
    n, d = X.shape
    const = -0.5 * d * LOG_2PI - 0.5 * log_det_from_chol(L)
    z = np.empty(d)
    for t in range(n):
        # forward substitution L z = x - mean
        q = 0.0
        for i in range(d):
            s = X[t, i] - mean[i]
            for k in range(i):
                s -= L[i, k] * z[k]
            z[i] = s / L[i, i]
            q += z[i] * z[i]
        out[t] = const - 0.5 * q


@njit(cache=True, fastmath=FASTMATH)
def logsumexp(a):
    """log(sum(exp(a))) of a 1-D array; -inf when every entry is -inf."""
    m = -np.inf
    for v in a:
        if v > m:
            m = v
    if m == -np.inf:
        return -np.inf
    s = 0.0
    for v in a:
        s += math.exp(v - m)
    return m + math.log(s)


@njit(cache=True, fastmath=FASTMATH)
def weighted_component_logpdf(X, log_weights, means, chols, out):
    """log(w_k) + log N(x | mu_k, Sigma_k) for every row and component.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    log_weights : ndarray, shape (K,); -inf for an empty (padding) component
    means : ndarray, shape (K, d)
    chols : ndarray, shape (K, d, d), lower Cholesky factors of the covariances
    out : ndarray, shape (n, K), written in place
    """
    n = X.shape[0]
    K = means.shape[0]
    col = np.empty(n)
    for k in range(K):
        if log_weights[k] == -np.inf:
            for t in range(n):
                out[t, k] = -np.inf
            continue
        gaussian_logpdf_chol(X, means[k], chols[k], col)
        for t in range(n):
            out[t, k] = log_weights[k] + col[t]


@njit(cache=True, fastmath=FASTMATH)
def mixture_logpdf(X, log_weights, means, chols):
    """log p(x) of a Gaussian mixture at every row of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    log_weights : ndarray, shape (K,)
    means : ndarray, shape (K, d)
    chols : ndarray, shape (K, d, d)

    Returns
    -------
    ndarray, shape (n,), in nats
    """
    n = X.shape[0]
    K = means.shape[0]
    comp = np.empty((n, K))
    weighted_component_logpdf(X, log_weights, means, chols, comp)
    out = np.empty(n)
    for t in range(n):
        out[t] = logsumexp(comp[t])
    return out
