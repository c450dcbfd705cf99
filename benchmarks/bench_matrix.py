"""Time a 20-variable MI matrix: serial, a 2-worker Dask LocalCluster, and the original gmm-mi.

::

    python benchmarks/bench_matrix.py [--variables 20] [--samples 2000] [--peer-pairs 4]

Data: ``--variables`` columns, ``--samples`` rows, built from 4 latent
Gaussian factors with mixed linear and non-linear (tanh, square, product)
dependencies, so the fitted mixtures need a few components as in real use.

1. ``gmmmi.mi_matrix`` serially in this process (Numba uses every core for
   each estimate's bootstrap replicas),
2. the same on a ``LocalCluster(n_workers=2, threads_per_worker=1)`` (one
   Numba thread per task), checked to give identical numbers,
3. the original gmm-mi 0.8.2 (``benchmarks/peer_gmm_mi.py`` in its own venv,
   ``OPENBLAS_NUM_THREADS=1``), one process per pair over ``--peer-pairs``
   pairs spread across the matrix, extrapolated to all pairs from its mean
   time per pair (its in-process ``fit_estimate`` time, without start-up).

All three use the original's default hyperparameters (50 bootstrap refits).
Both gmmmi runs are warm before timing: every process (this one, each Dask
worker) first runs a full estimate on a pair that needs K > 1 components, so
no Numba compilation or cache loading is timed. Prints a
table of wall times and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import gmmmi

PEER_PYTHON = "/opt/gmmmi-peer/bin/python"
PEER_SCRIPT = Path(__file__).with_name("peer_gmm_mi.py")


def make_data(n_vars: int, n: int, seed: int = 0) -> np.ndarray:
    """(n, n_vars) data with a mix of linear, non-linear and no dependence."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    W = rng.normal(size=(4, n_vars)) * (rng.random((4, n_vars)) < 0.5)
    X = latent @ W + rng.normal(size=(n, n_vars))
    for j in range(n_vars):
        kind = j % 4
        if kind == 1:
            X[:, j] = np.tanh(X[:, j])
        elif kind == 2:
            X[:, j] = X[:, j] ** 2 + 0.5 * rng.normal(size=n)
        elif kind == 3:
            X[:, j] = latent[:, j % 4] * rng.normal(size=n) + 0.3 * X[:, j]
    return X


def _warm_up(pair) -> None:
    """Compile (or load from Numba's cache) every kernel a full estimate uses, K > 1 included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gmmmi.estimate(pair, random_state=0, n_bootstrap=2)
        gmmmi.estimate(pair[:, :1], pair[:, 1], random_state=0, n_bootstrap=2)


def time_serial(X, seed):
    _warm_up(X[:, 2:4])
    start = time.perf_counter()
    mat = gmmmi.mi_matrix(X, random_state=seed, progress=False)
    return time.perf_counter() - start, mat


def time_cluster(X, seed, workers):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up, X[:, 2:4])  # on every worker
        start = time.perf_counter()
        mat = gmmmi.mi_matrix(X, executor=client, random_state=seed, progress=False)
        return time.perf_counter() - start, mat


def time_peer(X, pairs):
    """Seconds per pair of the original gmm-mi (fit_estimate only), one process per pair."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, j in pairs:
            path = os.path.join(tmp, f"pair_{i}_{j}.npy")
            np.save(path, np.ascontiguousarray(X[:, [i, j]]))
            out = subprocess.run(
                [PEER_PYTHON, str(PEER_SCRIPT), path],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            seconds.append(rec["seconds"])
            mi = f"MI={rec['mi']:.3f}±{rec['sd']:.3f}"
            print(f"  gmm-mi pair ({i},{j}): {rec['seconds']:.1f} s, {mi}", flush=True)
    return np.array(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variables", type=int, default=20)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peer-pairs", type=int, default=4, help="pairs timed with gmm-mi")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X = make_data(args.variables, args.samples, args.seed)
    p = X.shape[1]
    all_pairs = [(i, j) for i in range(p) for j in range(i + 1, p)]
    print(f"{p} variables, {len(all_pairs)} pairs, N={args.samples}, {os.cpu_count()} CPUs")
    warnings.simplefilter("ignore")

    t_serial, serial = time_serial(X, args.seed)
    print(f"gmmmi serial: {t_serial:.1f} s", flush=True)
    t_cluster, cluster = time_cluster(X, args.seed, args.workers)
    print(f"gmmmi {args.workers}-worker LocalCluster: {t_cluster:.1f} s", flush=True)
    differ = ~np.isclose(serial.mean.to_numpy(), cluster.mean.to_numpy(), rtol=0, atol=0,
                         equal_nan=True)  # fmt: skip
    same = f"{'yes' if not differ.any() else 'NO'} ({differ.sum() // 2} of {len(all_pairs)} differ)"

    picks = np.linspace(0, len(all_pairs) - 1, args.peer_pairs).round().astype(int)
    peer = time_peer(X, [all_pairs[k] for k in picks]) if args.peer_pairs > 0 else np.array([])
    t_peer = peer.mean() * len(all_pairs) if peer.size else float("nan")

    ks = [r.n_components for r in serial.results.values()]
    print()
    print(f"K chosen per pair: min {min(ks)}, median {int(np.median(ks))}, max {max(ks)}")
    print(f"failed pairs: serial {len(serial.errors)}, cluster {len(cluster.errors)}")
    print(f"cluster results identical to serial: {same}")
    print(f"{'run':<42}{'seconds':>10}{'s/pair':>9}{'ratio':>8}")
    rows = [
        ("gmm-mi 0.8.2, 1 process (extrapolated)", t_peer),
        ("gmmmi serial (Numba on all cores)", t_serial),
        (f"gmmmi LocalCluster {args.workers}x1 thread", t_cluster),
    ]
    for name, t in rows:
        print(f"{name:<42}{t:>10.1f}{t / len(all_pairs):>9.2f}{t_peer / t:>7.1f}x")
    if peer.size:
        each = f"{peer.mean():.1f}±{peer.std():.1f} s each"
        print(f"(ratio = gmm-mi time / this run's time; gmm-mi from {peer.size} pairs, {each})")
    print(f"serial / cluster: {t_serial / t_cluster:.2f}")


if __name__ == "__main__":
    sys.exit(main())
