"""Initial mixtures for EM: random, bounding-box, k-means and scikit-learn-style schemes.

All randomness comes from the caller's `numpy.random.Generator`; the k-means
iterations run in `gmmmi._kernels.kmeans`.
"""

from __future__ import annotations

import math

import numpy as np

from gmmmi._kernels.em import moments_from_responsibilities
from gmmmi._kernels.kmeans import kmeans_lloyd

from .options import INIT_TYPES


def default_scale(X: np.ndarray, n_components: int) -> float:
    """Radius of a d-ball whose volume is the data's bounding box divided by K.

    The default ``scale`` of the ``'random'`` and ``'minmax'`` schemes: K
    such balls fill the space covered by the data.
    """
    n_features = X.shape[1]
    volume = float(np.prod(X.max(axis=0) - X.min(axis=0)))
    ball = volume / n_components * math.gamma(0.5 * n_features + 1.0)
    return ball ** (1.0 / n_features) / math.sqrt(math.pi)


#: columns below which ``np.sum(a, axis=1)`` adds a row's entries from left to right
#: (from 8 on it sums them in another order)
_SEQUENTIAL_SUM = 8


def squared_distances(X: np.ndarray, center: np.ndarray) -> np.ndarray:
    """``np.sum((X - center) ** 2, axis=1)``, bit for bit, in about a third of the time.

    With fewer than `_SEQUENTIAL_SUM` columns numpy (2.4) adds a row's
    squares from left to right, and adding whole columns in that order gives
    the same numbers without its slow reduction over a short axis; that
    order is fixed here, so it does not depend on numpy's reduction loops
    (tests/em/test_init.py). Wider data take ``np.sum``. k-means++ runs it
    K times per start.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    center : numpy.ndarray, shape (d,)

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    diff = X - center
    diff *= diff
    if X.shape[1] >= _SEQUENTIAL_SUM:
        return np.sum(diff, axis=1)
    out = diff[:, 0].copy()
    for j in range(1, X.shape[1]):
        out += diff[:, j]
    return out


def column_variances(X: np.ndarray) -> np.ndarray:
    """``np.var(X, axis=0)`` with each column's sums added from the first row to the last.

    Both sums (of the column, then of its squared deviations from the mean) are
    running sums (``np.cumsum``), so the order is fixed, and it is the order in
    which numpy (2.4) reduces the first axis of a C-contiguous array of two or more
    columns: the same numbers, in a third of the time at 10^4 rows (numpy's reduction
    over the long, strided axis is slow; tests/em/test_init.py). A single column, or an
    array that is not C-contiguous, is reduced pairwise by numpy: it keeps ``np.var``.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)

    Returns
    -------
    numpy.ndarray, shape (d,)
    """
    n, d = X.shape
    if d < 2 or not X.flags.c_contiguous:  # where numpy's own order is another
        return np.var(X, axis=0)
    out = np.empty(d)
    for j in range(d):
        column = X[:, j]
        deviation = column - np.cumsum(column)[-1] / n
        deviation *= deviation
        out[j] = np.cumsum(deviation)[-1] / n
    return out


def kmeans_plusplus(X: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): centres, shape (K, d)."""
    n = X.shape[0]
    centers = np.empty((n_clusters, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    d2 = squared_distances(X, centers[0])
    for k in range(1, n_clusters):
        cum = np.cumsum(d2)
        if cum[-1] > 0:
            idx = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
            idx = min(idx, n - 1)
        else:  # every sample already sits on a centre
            idx = int(rng.integers(n))
        centers[k] = X[idx]
        np.minimum(d2, squared_distances(X, centers[k]), out=d2)
    return centers


def kmeans(
    X: np.ndarray, n_clusters: int, rng: np.random.Generator, *, max_iter: int = 300
) -> np.ndarray:
    """k-means labels: k-means++ seeding, then compiled Lloyd iterations.

    Lloyd stops when the squared centre shift falls below ``1e-4`` times the
    mean per-feature variance (scikit-learn's default tolerance). One cluster
    holds every row: its labels are returned without seeding or iterating
    (the seed's one draw from ``rng`` is still made, so the draws that follow
    are the same).

    Returns
    -------
    labels : ndarray of int64, shape (n,)
    """
    if n_clusters == 1:
        rng.integers(X.shape[0])  # k-means++'s first centre, which cannot change a label
        return np.zeros(X.shape[0], dtype=np.int64)
    tol = 1e-4 * float(np.mean(column_variances(X)))
    labels, _, _ = kmeans_lloyd(X, kmeans_plusplus(X, n_clusters, rng), max_iter, tol)
    return labels


def _one_hot(labels: np.ndarray, n_components: int) -> np.ndarray:
    resp = np.zeros((labels.shape[0], n_components))
    resp[np.arange(labels.shape[0]), labels] = 1.0
    return resp


def _kmeans_moments(X, n_components, rng):
    """k-means cluster fractions, means, and scatter matrices divided by n.

    As in GMM-MI's 'kmeans' scheme, the scatter of each cluster is divided by
    the total number of samples, not by the cluster size.
    """
    weights, means, covs = moments_from_responsibilities(
        X, _one_hot(kmeans(X, n_components, rng), n_components)
    )
    return weights, means, covs * weights[:, None, None]


def initialise(
    X: np.ndarray,
    n_components: int,
    *,
    init_type: str,
    scale: float | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial mixture parameters for EM, computed on ``X``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    n_components : int
    init_type : {'random', 'minmax', 'kmeans', 'randomized_kmeans', 'random_sklearn', \
'kmeans_sklearn'}
        ``'random'``: equal weights, covariances ``scale**2 * I``, each mean a
        random sample plus N(0, ``scale**2`` I) noise. ``'minmax'``: as
        ``'random'`` with means uniform over the data's bounding box.
        ``'kmeans'``: k-means cluster fractions and means, cluster scatter
        divided by n. ``'randomized_kmeans'``: as ``'kmeans'``, then each mean
        pushed by ``scale`` times a draw from N(0, its covariance).
        ``'random_sklearn'``: uniform random responsibilities, then one M-step.
        ``'kmeans_sklearn'``: k-means labels as responsibilities, then one M-step.
    scale : float or None
        Used by ``'random'``, ``'minmax'`` (default: `default_scale`) and
        ``'randomized_kmeans'`` (default 1.0); ignored otherwise.
    rng : numpy.random.Generator

    Returns
    -------
    weights, means, covariances : ndarray, shapes (K,), (K, d), (K, d, d)
        No regularisation is added to the covariances.
    """
    n, d = X.shape
    K = n_components
    if init_type in ("random", "minmax"):
        s = default_scale(X, K) if scale is None else scale
        weights = np.full(K, 1.0 / K)
        covs = np.repeat((s**2 * np.eye(d))[None], K, axis=0)
        if init_type == "random":
            means = X[rng.integers(n, size=K)] + s * rng.standard_normal((K, d))
        else:
            lo, hi = X.min(axis=0), X.max(axis=0)
            means = lo + (hi - lo) * rng.random((K, d))
        return weights, means, covs
    if init_type == "kmeans":
        return _kmeans_moments(X, K, rng)
    if init_type == "randomized_kmeans":
        s = 1.0 if scale is None else scale
        weights, means, covs = _kmeans_moments(X, K, rng)
        for k in range(K):
            means[k] += s * _mvn_draw(covs[k], rng)
        return weights, means, covs
    if init_type == "random_sklearn":
        resp = rng.random((n, K))
        resp /= resp.sum(axis=1, keepdims=True)
        return moments_from_responsibilities(X, resp)
    if init_type == "kmeans_sklearn":
        return moments_from_responsibilities(X, _one_hot(kmeans(X, K, rng), K))
    raise ValueError(
        f"Unknown init_type {init_type!r}; valid values are {', '.join(map(repr, INIT_TYPES))}."
    )


def _mvn_draw(cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from N(0, cov) for a positive semi-definite ``cov``.

    The square root is the Cholesky factor (`psd_cholesky`), which is unique: an
    eigenvector basis would be chosen by the BLAS kernel's last bits when
    eigenvalues are (nearly) repeated, and the same seed would give another
    start on another CPU (docs/reproducibility.md).
    """
    return psd_cholesky(cov) @ rng.standard_normal(cov.shape[0])


def psd_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L L^T = ``cov`` for a positive semi-definite ``cov`` (d, d).

    Cholesky's recursion, with a pivot of at most 1e-12 of the mean variance
    (a direction of zero variance, such as a cluster of one point gives)
    leaving its column zero. For a positive definite ``cov`` it is the
    Cholesky factor.

    Returns
    -------
    numpy.ndarray, shape (d, d)
    """
    d = cov.shape[0]
    L = np.zeros((d, d))
    floor = 1e-12 * max(float(np.trace(cov)) / d, 0.0)
    for j in range(d):
        pivot = cov[j, j] - np.sum(L[j, :j] ** 2)
        if pivot <= floor:
            continue
        L[j, j] = np.sqrt(pivot)
        L[j + 1 :, j] = (cov[j + 1 :, j] - (L[j + 1 :, :j] * L[j, :j]).sum(axis=1)) / L[j, j]
    return L
