"""Run the original GMM-MI (``gmm_mi`` 0.8.2) on one data set and print its result as JSON.

This file runs in the peer's own virtual environment, never in gmmmi's, and
never imports gmmmi::

    OPENBLAS_NUM_THREADS=1 /opt/gmmmi-peer/bin/python benchmarks/peer_gmm_mi.py data.npy

It loads an (n, 2) float array from the ``.npy`` file, times
``EstimateMI().fit_estimate(X)`` with the original's default settings inside
this process (so interpreter start-up and imports are not counted), and prints
one JSON line on stdout: ``{"mi": ..., "sd": ..., "seconds": ..., "n_components": ...,
"version": ...}`` (MI in nat). The original's tqdm bars go to stderr.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np


def run(path: str) -> dict:
    """Fit the original estimator with its defaults on the array stored at `path`.

    Parameters
    ----------
    path : str
        A ``.npy`` file holding a float array of shape (n, 2).

    Returns
    -------
    dict
        ``mi`` and ``sd`` (nat), ``seconds`` / ``cpu_seconds`` (wall / CPU time of
        ``fit_estimate``),
        ``n_components`` (K chosen by the original) and ``version``.
    """
    from importlib.metadata import version

    from gmm_mi.mi import EstimateMI

    X = np.load(path)
    estimator = EstimateMI()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start, cpu_start = time.perf_counter(), time.process_time()
        mi, sd = estimator.fit_estimate(X)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "mi": float(mi),
        "sd": float(sd),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "n_components": int(estimator.best_components),
        "version": version("gmm_mi"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="path of a .npy file with an (n, 2) float array")
    args = parser.parse_args()
    print(json.dumps(run(args.data)))


if __name__ == "__main__":
    main()
