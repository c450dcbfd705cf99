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
  same series: values against the truth, and time;
* ``--part te``: transfer entropy on ``--te-sets`` Gaussian VAR(1) data sets
  (N = 2000; truth in closed form) in both directions, and on 5 pairs of
  coupled logistic maps (x drives y) in both directions;
* ``--part alarms``: the serial-dependence check's false-alarm rate on IID
  rows (``--alarm-repeats`` data sets per N and d) and its detection rate on
  AR(1) columns with small phi.

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


def bench_alarms(repeats: int) -> list[dict]:
    """False alarms on IID rows, and detections on AR(1) columns, of the serial check."""
    rows = []
    rng = np.random.default_rng(2026)
    for n in (100, 1000, 10_000, 100_000):
        for d in (1, 2, 5):
            count = repeats if n < 100_000 else max(1, repeats // 10)
            alarms = sum(
                serially_dependent(rng.standard_normal((n, d)))[0].any() for _ in range(count)
            )
            rows.append({"n": n, "d": d, "phi": 0.0, "repeats": count, "alarms": int(alarms)})
    for n, phi in ((1000, 0.05), (1000, 0.1), (1000, 0.2), (10_000, 0.05)):
        count = repeats // 2
        hits = sum(
            serially_dependent(
                signal.lfilter([1.0], [1.0, -phi], rng.standard_normal((n, 2)), axis=0)
            )[0].any()
            for _ in range(count)
        )
        rows.append({"n": n, "d": 2, "phi": phi, "repeats": count, "alarms": int(hits)})
    return rows


def var1(n: int, seed: int, a=0.5, b=0.6, c=0.4):
    """x_t = c x_{t-1} + e, y_t = a y_{t-1} + b x_{t-1} + e'; and TE(x → y) in closed form."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n + 100, 2))
    x, y = np.zeros(n + 100), np.zeros(n + 100)
    for t in range(1, n + 100):
        x[t] = c * x[t - 1] + e[t, 0]
        y[t] = a * y[t - 1] + b * x[t - 1] + e[t, 1]
    A = np.array([[c, 0.0], [b, a]])
    S = np.eye(2)
    for _ in range(500):
        S = A @ S @ A.T + np.eye(2)
    lag1 = A @ S
    return x[100:], y[100:], 0.5 * math.log(S[1, 1] - lag1[1, 1] ** 2 / S[1, 1])


def logistic_pair(n: int, seed: int, coupling: float = 0.3):
    """Coupled logistic maps: x drives y, y does not drive x (observation noise 1e-3)."""
    rng = np.random.default_rng(seed)
    x, y = np.empty(n), np.empty(n)
    x[0], y[0] = rng.uniform(0.1, 0.9, 2)
    for t in range(1, n):
        x[t] = 3.9 * x[t - 1] * (1 - x[t - 1])
        y[t] = (1 - coupling) * 3.6 * y[t - 1] * (1 - y[t - 1]) + coupling * x[t]
    return x + 1e-3 * rng.standard_normal(n), y + 1e-3 * rng.standard_normal(n)


def bench_te(sets: int) -> dict:
    var_rows = []
    for seed in range(sets):
        x, y, truth_xy = var1(2000, seed)
        xy = gmmmi.transfer_entropy(x, y, random_state=seed)
        yx = gmmmi.transfer_entropy(y, x, random_state=seed)
        var_rows.append([truth_xy, xy.value, xy.sd, yx.value, yx.sd])
    logistic_rows = []
    for seed in range(5):
        x, y = logistic_pair(1000, seed)
        xy = gmmmi.transfer_entropy(x, y, random_state=seed)
        yx = gmmmi.transfer_entropy(y, x, random_state=seed)
        logistic_rows.append([xy.value, xy.sd, yx.value, yx.sd])
    return {"var": var_rows, "logistic": logistic_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--lags", type=int, default=20)
    parser.add_argument("--json", default=None)
    parser.add_argument("--part", choices=("all", "alarms", "te"), default="all")
    parser.add_argument("--te-sets", type=int, default=20)
    parser.add_argument("--alarm-repeats", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore", gmmmi.SerialDependenceWarning)
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cpus")
    if args.part == "te":
        te = bench_te(args.te_sets)
        v = np.array(te["var"])
        z = (v[:, 1] - v[:, 0]) / v[:, 2]
        print(
            f"VAR(1), N=2000, {len(v)} data sets, truth {v[0, 0]:.4f} nat: TE(x → y) mean "
            f"{v[:, 1].mean():.4f}, within 3 sd {np.mean(np.abs(z) < 3):.2f}, within 1.96 sd "
            f"{np.mean(np.abs(z) < 1.96):.2f}, mean z {z.mean():.2f}; TE(y → x) mean "
            f"{v[:, 3].mean():.5f}, 0 inside value ± 1.96 sd "
            f"{np.mean(v[:, 3] <= 1.96 * v[:, 4]):.2f}"
        )
        g = np.array(te["logistic"])
        detected = (g[:, 0] - 1.96 * g[:, 1]) > (g[:, 2] + 1.96 * g[:, 3])
        for row in g:
            print(
                f"logistic: TE(x → y) {row[0]:.3f} ± {row[1]:.3f}, "
                f"TE(y → x) {row[2]:.4f} ± {row[3]:.4f}"
            )
        print(
            f"logistic maps: direction detected (intervals apart) in {detected.sum()} of {len(g)}"
        )
        if args.json:
            with open(args.json, "w") as f:
                json.dump(te, f)
        return
    if args.part == "alarms":
        rows = bench_alarms(args.alarm_repeats)
        print("| N | d | φ | data sets | warned | rate ± se |\n|---|---|---|---|---|---|")
        for r in rows:
            p = r["alarms"] / r["repeats"]
            se = math.sqrt(p * (1 - p) / r["repeats"])
            print(
                f"| {r['n']} | {r['d']} | {r['phi']:g} | {r['repeats']} | {r['alarms']} "
                f"| {p:.3f} ± {se:.3f} |"
            )
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f)
        return
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
