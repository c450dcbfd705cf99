"""Lloyd's k-means, compiled with Numba (the seeding is `gmmmi._em.init.kmeans_plusplus`)."""

import numpy as np
from numba import njit

from .linalg import FASTMATH


@njit(cache=True, fastmath=FASTMATH, inline="always")
def kmeans_step(X, centers, labels, new_centers, counts):
    """One Lloyd iteration: assign to the nearest centre, then recompute centres.

    Ties go to the lowest index. A cluster left empty keeps its centre.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    centers : ndarray, shape (K, d)
    labels : ndarray of int64, shape (n,), written in place
    new_centers : ndarray, shape (K, d), written in place
    counts : ndarray, shape (K,)
        Scratch.

    Returns
    -------
    inertia : float
        Sum of squared distances to the nearest of ``centers`` (before the update).
    """
    n, d = X.shape
    K = centers.shape[0]
    counts[:] = 0.0
    new_centers[:] = 0.0
    inertia = 0.0
    for t in range(n):
        best = np.inf
        lab = 0
        for k in range(K):
            s = 0.0
            for i in range(d):
                e = X[t, i] - centers[k, i]
                s += e * e
            if s < best:
                best = s
                lab = k
        labels[t] = lab
        inertia += best
        counts[lab] += 1.0
        for i in range(d):
            new_centers[lab, i] += X[t, i]
    for k in range(K):
        for i in range(d):
            if counts[k] > 0.0:
                new_centers[k, i] /= counts[k]
            else:
                new_centers[k, i] = centers[k, i]
    return inertia


def kmeans_lloyd(X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float) -> tuple:
    """Lloyd's algorithm from ``centers`` until the squared centre shift is <= ``tol``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    centers : ndarray, shape (K, d)
        Starting centres (not modified).
    max_iter : int
    tol : float
        Absolute tolerance on the sum of squared centre moves.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Nearest final centre of each sample.
    centers : ndarray, shape (K, d)
    n_iter : int
    """
    K = centers.shape[0]
    cur = np.array(centers, dtype=np.float64, order="C")  # a copy, updated in place
    labels = np.empty(X.shape[0], dtype=np.int64)
    n_iter = _lloyd(X, cur, max_iter, tol, labels, np.empty_like(cur), np.empty(K))
    return labels, cur, n_iter


@njit(cache=True, fastmath=FASTMATH)
def _lloyd(X, cur, max_iter, tol, labels, new, counts):
    """`kmeans_lloyd` from the centres ``cur`` (updated in place; the rest is scratch).

    The arrays are allocated by the caller, in Python: an allocation compiled into a
    kernel costs compile time in a fresh environment (docstring of `gmmmi._kernels`).
    Returns the iterations run.
    """
    n_iter = 0
    done = max_iter <= 0
    while True:  # one call site of kmeans_step, inlined: the last call only labels
        kmeans_step(X, cur, labels, new, counts)
        if done:
            break
        shift = 0.0
        for k in range(cur.shape[0]):
            for i in range(cur.shape[1]):
                e = new[k, i] - cur[k, i]
                shift += e * e
                cur[k, i] = new[k, i]  # not cur[:] = new: see gmmmi._kernels
        n_iter += 1
        done = shift <= tol or n_iter >= max_iter
    return n_iter
