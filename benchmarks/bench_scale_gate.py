"""Cost of the scale-mixture comparison (gmmmi._em.scale_mixture) on Gaussian and paper data.

    python benchmarks/bench_scale_gate.py

For bench_core's cases (the README example, a Gaussian at N = 10 000, the
paper's D3 and D5 at N = 2000) and a few Student-t tasks it prints Mardia's
kurtosis statistic (the gate opens above 5), and the wall time of
``gmmmi.estimate`` with ``scale_mixtures`` on and off in one run (median of 3
warm calls each), with the load average.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

import gmmmi
from gmmmi._em.scale_mixture import KURTOSIS_Z, mardia_kurtosis_z
from gmmmi._hard_datasets import student_identity
from gmmmi._rows import standardise


def _cases():
    rng = np.random.default_rng(0)
    readme = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200)
    yield "README example (N=200)", readme
    yield "gaussian rho=0.6 (N=10000)", gmmmi.datasets.gaussian(0.6).sample(10_000, 1)
    for name in ("D3", "D5"):
        mix = gmmmi.datasets.paper_mixture(name)
        yield f"{name} (N=2000)", mix.sample(2000, np.random.default_rng(2))[0]
    x, y = student_identity(2, 2, 2).sample(2000, 3)
    yield "student_identity(2x2, dof=2) (N=2000)", np.hstack([x, y])


def _time(X, on: bool) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(X, tuple):
                gmmmi.estimate(*X, random_state=0, scale_mixtures=on)
            else:
                gmmmi.estimate(X, random_state=0, scale_mixtures=on)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    gmmmi.estimate(*gmmmi.datasets.gaussian(0.6).sample(300, 0), random_state=0)  # warm-up
    print("| case | Mardia z | gate open | s (on) | s (off) | ratio |")
    print("|---|---|---|---|---|---|")
    for name, data in _cases():
        X = np.column_stack(data) if isinstance(data, tuple) else data
        z = mardia_kurtosis_z(standardise(X)[0])
        on, off = _time(data, True), _time(data, False)
        print(
            f"| {name} | {z:.1f} | {'yes' if z > KURTOSIS_Z else 'no'} | {on:.2f} | {off:.2f} | "
            f"{on / off:.2f} |",
            flush=True,
        )
    print(f"\nload {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
