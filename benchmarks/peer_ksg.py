"""KSG mutual information (Kraskov et al. 2004, algorithm 1, k=3) of many data sets, as JSON.

This file runs in the peer's own virtual environment (scikit-learn 1.6.1),
never in gmmmi's, and never imports gmmmi::

    /opt/gmmmi-peer/bin/python benchmarks/peer_ksg.py tasks.npz

The ``.npz`` file holds arrays ``x_<i>`` and ``y_<i>`` (shape (n,) or (n, d))
for i = 0, 1, ... When x and y are both one column the estimate is
scikit-learn's own ``mutual_info_regression(x, y, n_neighbors=3,
random_state=0)``; for blocks (which scikit-learn does not estimate jointly)
it is `ksg_blocks`, the same algorithm with the same column scaling, jitter
and clipping at 0, but with the max-norm taken over all columns of a block.
It prints one JSON list on stdout: ``[{"mi": ..., "seconds": ..., "method": ...}, ...]``
(MI in nat; time measured around each estimate).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.special import digamma
from sklearn.feature_selection import mutual_info_regression
from sklearn.neighbors import KDTree, NearestNeighbors

K = 3


def _scaled_with_jitter(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Columns divided by their sd plus a 1e-10 jitter, as scikit-learn prepares its inputs."""
    a = a / np.std(a, axis=0)
    return a + 1e-10 * np.maximum(1, np.mean(np.abs(a), axis=0)) * rng.standard_normal(a.shape)


def ksg_blocks(x: np.ndarray, y: np.ndarray, k: int = K, seed: int = 0) -> float:
    """KSG estimate (nat) of I(x; y) for blocks x (n, dx) and y (n, dy).

    scikit-learn's ``_compute_mi_cc`` with multi-column blocks: the distance
    to the k-th neighbour in the joint max-norm sets a radius, and
    I = psi(n) + psi(k) - <psi(n_x + 1)> - <psi(n_y + 1)>, where n_x (n_y)
    counts the other points strictly within that radius in x (y); clipped at 0.
    """
    rng = np.random.default_rng(seed)
    x, y = _scaled_with_jitter(x, rng), _scaled_with_jitter(y, rng)
    n = len(x)
    xy = np.hstack([x, y])
    radius = NearestNeighbors(metric="chebyshev", n_neighbors=k).fit(xy).kneighbors()[0][:, -1]
    radius = np.nextafter(radius, 0)
    nx = KDTree(x, metric="chebyshev").query_radius(x, radius, count_only=True) - 1.0
    ny = KDTree(y, metric="chebyshev").query_radius(y, radius, count_only=True) - 1.0
    mi = digamma(n) + digamma(k) - np.mean(digamma(nx + 1)) - np.mean(digamma(ny + 1))
    return max(0.0, float(mi))


def estimate(x: np.ndarray, y: np.ndarray) -> dict:
    """KSG of one task: scikit-learn's estimator for one column each, `ksg_blocks` otherwise."""
    start = time.perf_counter()
    if x.ndim == 1 and y.ndim == 1:
        mi = float(mutual_info_regression(x[:, None], y, n_neighbors=K, random_state=0)[0])
        method = "sklearn.mutual_info_regression"
    else:
        mi = ksg_blocks(x.reshape(len(x), -1), y.reshape(len(y), -1))
        method = "ksg_blocks"
    return {"mi": mi, "seconds": time.perf_counter() - start, "method": method}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", help="a .npz file with arrays x_0, y_0, x_1, y_1, ...")
    args = parser.parse_args()
    with np.load(args.tasks) as data:
        n_tasks = sum(key.startswith("x_") for key in data.files)
        print(json.dumps([estimate(data[f"x_{i}"], data[f"y_{i}"]) for i in range(n_tasks)]))


if __name__ == "__main__":
    main()
