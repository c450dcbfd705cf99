"""Time-series costs and the side-by-side with ennemi (docs/timeseries.md).

    python benchmarks/bench_timeseries.py [--n 10000] [--lags 20] [--json out.json]

On two coupled signals with known lagged MI (x an AR(1) with phi = 0.5,
y(t) = x(t - 3) + 0.8 e(t), both Gaussian, so MI(x(t - lag); y(t)) =
-ln(1 - rho_lag^2) / 2 with rho_lag = phi^|lag - 3| sqrt(v / (v + 0.64)),
v = 1 / (1 - phi^2)), in one run:

* the serial-dependence check (`gmmmi.serial.serially_dependent`) and the
  automatic block length at N = 1e5, d = 2 (median of 5), against one
  `gmmmi.estimate` of the same IID data (the check's share of it);
* `gmmmi.lagged_mi` over ``--lags`` lags against the same number of single
  `gmmmi.estimate` calls, one after the other, on the same rows (the ratio);
* ennemi's ``estimate_mi(y, x, lag=lags)`` (KSG, k = 3, its defaults) on the
  same series: values against the truth, and time.

Timings are noisy on a shared machine: read the ratios, and the load average
printed with them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings

import numpy as np
from scipy import signal

import gmmmi
from gmmmi.block_length import optimal_block_length
from gmmmi.serial import serially_dependent

PHI, NOISE, DELAY = 0.5, 0.8, 3


def coupled(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x: AR(1) with PHI; y(t) = x(t - DELAY) + NOISE e(t)."""
    rng = np.random.default_rng(seed)
    x = signal.lfilter([1.0], [1.0, -PHI], rng.standard_normal(n + 200))[200:]
    y = np.concatenate((rng.standard_normal(DELAY), x[:-DELAY])) + NOISE * rng.standard_normal(n)
    return x, y


def truth(lag: int) -> float:
    v = 1 / (1 - PHI**2)
    rho = PHI ** abs(lag - DELAY) * math.sqrt(v / (v + NOISE**2))
    return -0.5 * math.log(1 - rho**2)


def _median_time(fn, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def bench_checks() -> dict:
    X = np.random.default_rng(1).standard_normal((100_000, 2))
    check = _median_time(lambda: serially_dependent(X))
    length = _median_time(lambda: optimal_block_length(X))
    start = time.perf_counter()
    gmmmi.estimate(X, random_state=0)
    one = time.perf_counter() - start
    return {"serial_check_s": check, "block_length_s": length, "estimate_s": one}


def bench_lagged(n: int, n_lags: int) -> dict:
    x, y = coupled(n)
    lags = list(range(n_lags))
    gmmmi.estimate(x[:500], y[:500], random_state=0, bootstrap="block")  # compile / load
    start = time.perf_counter()
    lm = gmmmi.lagged_mi(x, y, lags=lags, random_state=0, progress=False)
    t_lagged = time.perf_counter() - start
    first, stop = max(lags), n
    start = time.perf_counter()
    for i, lag in enumerate(lags):
        gmmmi.estimate(
            x[first - lag : stop - lag], y[first:stop], random_state=i, bootstrap="block"
        )
    t_single = time.perf_counter() - start
    import ennemi

    start = time.perf_counter()
    en = ennemi.estimate_mi(y, x, lag=lags)
    t_ennemi = time.perf_counter() - start
    ennemi_values = np.asarray(en).ravel()
    return {
        "n": n,
        "lags": lags,
        "truth": [truth(lag) for lag in lags],
        "gmmmi_mi": lm.table["mi"].tolist(),
        "gmmmi_sd": lm.table["sd"].tolist(),
        "ennemi_mi": ennemi_values.tolist(),
        "lagged_mi_s": t_lagged,
        "single_estimates_s": t_single,
        "ennemi_s": t_ennemi,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--lags", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore", gmmmi.SerialDependenceWarning)
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cpus")
    checks = bench_checks()
    print(
        f"N=1e5, d=2: serial check {1e3 * checks['serial_check_s']:.1f} ms, block length "
        f"{1e3 * checks['block_length_s']:.1f} ms, one estimate {checks['estimate_s']:.2f} s "
        f"(check = {100 * checks['serial_check_s'] / checks['estimate_s']:.2f}% of it)"
    )
    lagged = bench_lagged(args.n, args.lags)
    ratio = lagged["lagged_mi_s"] / lagged["single_estimates_s"]
    print(
        f"N={args.n}, {args.lags} lags: lagged_mi {lagged['lagged_mi_s']:.1f} s, "
        f"{args.lags} single estimates {lagged['single_estimates_s']:.1f} s (ratio {ratio:.2f}), "
        f"ennemi {lagged['ennemi_s']:.1f} s"
    )
    print("| lag | truth | gmmmi (± sd) | ennemi |\n|---|---|---|---|")
    for i, lag in enumerate(lagged["lags"]):
        print(
            f"| {lag} | {lagged['truth'][i]:.4f} | {lagged['gmmmi_mi'][i]:.4f} ± "
            f"{lagged['gmmmi_sd'][i]:.4f} | {lagged['ennemi_mi'][i]:.4f} |"
        )
    g = np.array(lagged["gmmmi_mi"]) - np.array(lagged["truth"])
    e = np.array(lagged["ennemi_mi"]) - np.array(lagged["truth"])
    z = g / np.array(lagged["gmmmi_sd"])
    print(
        f"RMS error: gmmmi {np.sqrt(np.mean(g**2)):.4f}, ennemi {np.sqrt(np.mean(e**2)):.4f}; "
        f"gmmmi lags with |error| < 1.96 sd: {np.mean(np.abs(z) < 1.96):.2f}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checks": checks, "lagged": lagged, "load": os.getloadavg()}, f)


if __name__ == "__main__":
    main()
