"""Coverage of the 95% interval (value ± 1.96 sd) on mixed data with known truth.

Cases: a CMI given a 3-level z with a different correlation per level
(truth sum_c p_c (-1/2) ln(1 - rho_c^2)), and a 3x3 contingency table
(truth from its joint law). One estimate per seeded data set, default options.

Usage: python benchmarks/coverage_mixed.py [--datasets 100] [--n 1000] [--case z|table|both]
"""

import argparse
import time

import numpy as np

import gmmmi

LEVELS = np.array([0.5, 0.3, 0.2])
RHOS = np.array([0.0, 0.5, 0.8])
TABLE = np.array([[0.2, 0.05, 0.05], [0.05, 0.2, 0.05], [0.05, 0.05, 0.3]])


def discrete_z(rng, n):
    z = rng.choice(3, size=n, p=LEVELS)
    rho = RHOS[z]
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return (x, y), {"z": z.astype(float)}


def discrete_z_truth():
    return float(np.sum(LEVELS * -0.5 * np.log(1 - RHOS**2)))


def table(rng, n):
    cells = rng.choice(9, size=n, p=TABLE.ravel())
    return ((cells // 3).astype(float), (cells % 3).astype(float)), {}


def table_truth():
    px, py = TABLE.sum(1, keepdims=True), TABLE.sum(0, keepdims=True)
    return float((TABLE * np.log(TABLE / (px * py))).sum())


CASES = {"z": (discrete_z, discrete_z_truth), "table": (table, table_truth)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--case", default="both", choices=["z", "table", "both"])
    args = parser.parse_args()
    names = ["z", "table"] if args.case == "both" else [args.case]
    for name in names:
        make, truth_of = CASES[name]
        truth = truth_of()
        hits, errs, sds, start = 0, [], [], time.perf_counter()
        for seed in range(args.datasets):
            (x, y), kw = make(np.random.default_rng(seed), args.n)
            res = gmmmi.estimate(x, y, random_state=seed, **kw)
            low, high = res.interval()
            hits += low <= truth <= high
            errs.append(res.value - truth)
            sds.append(res.sd)
        cov = hits / args.datasets
        se = np.sqrt(cov * (1 - cov) / args.datasets)
        print(
            f"{name}: n={args.n}, {args.datasets} data sets, truth {truth:.4f}: coverage "
            f"{cov:.3f} ± {se:.3f}, mean error {np.mean(errs):+.4f} "
            f"(sd of errors {np.std(errs, ddof=1):.4f}, mean reported sd {np.mean(sds):.4f}), "
            f"{(time.perf_counter() - start) / args.datasets:.2f} s per estimate",
            flush=True,
        )


if __name__ == "__main__":
    main()
