"""Mixed data side by side: gmmmi's chain rule against scikit-learn's KSG/contingency MI.

Data sets with known truth (nats), R seeded data sets each at N rows:

* ``4-level x, continuous y``: y | c ~ N(mu_c, 1), p = (.5, .25, .15, .1) (truth by quadrature:
  `gmmmi.datasets.categorical_mi`);
* ``binary x, continuous y``: y | b ~ N(0.8 b, 1), p(b) = 1/2;
* ``3x3 table``: two 3-level variables (truth from the joint law);
* ``zero-inflated y``: y = 0 with probability sigmoid(2x), else exp(e), (x, e) ~ G(0.6)
  (data and truth: tests/helpers.py, shared with the tests);
* ``CMI, 3-level z``: I(x; y | z) with correlation 0, .5, .8 per level (scikit-learn has no CMI).

scikit-learn: ``mutual_info_classif`` (discrete target) or ``mutual_info_regression``
with ``discrete_features`` set to the truth, n_neighbors=3 (its default); it gives no
interval. Printed per method: mean error (bias) ± its standard error, sd of the errors,
coverage of gmmmi's 95% interval, median seconds per estimate, and the time ratio. Also the
cost of a 3-level discrete z against a continuous estimate on the same rows.

Usage: python benchmarks/bench_mixed.py [--repeats 20] [--n 1000]
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

import gmmmi
from gmmmi.datasets import categorical_mi

# the zero-inflated data and their truth are shared with tests/estimands/test_mixed.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import zero_inflated as zero_inflated_xy  # noqa: E402
from helpers import zero_inflated_truth  # noqa: E402

P4, MU4 = np.array([0.5, 0.25, 0.15, 0.1]), np.array([0.0, 1.0, 2.0, -1.5])
TABLE = np.array([[0.2, 0.05, 0.05], [0.05, 0.2, 0.05], [0.05, 0.05, 0.3]])
LEVELS, RHOS = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.5, 0.8])


def four_level(rng, n):
    c = rng.choice(4, size=n, p=P4)
    return {"x": c.astype(float), "y": rng.normal(MU4[c], 1.0)}, ("classif", "c", "y")


def binary(rng, n):
    b = rng.integers(0, 2, n)
    return {"x": b.astype(float), "y": rng.normal(0.8 * b, 1.0)}, ("classif", "c", "y")


def table(rng, n):
    cells = rng.choice(9, size=n, p=TABLE.ravel())
    return {"x": (cells // 3).astype(float), "y": (cells % 3).astype(float)}, ("table", "c", "c")


def zero_inflated(rng, n):
    x, y = zero_inflated_xy(rng, n)
    return {"x": x, "y": y}, ("regression", "x", "y")


def cmi_z(rng, n):
    z = rng.choice(3, size=n, p=LEVELS)
    x = rng.normal(size=n)
    y = RHOS[z] * x + np.sqrt(1 - RHOS[z] ** 2) * rng.normal(size=n)
    return {"x": x, "y": y, "z": z.astype(float)}, None


CASES = {
    "4-level x, continuous y": (four_level, lambda: categorical_mi(P4, MU4, np.ones(4))),
    "binary x, continuous y": (binary, lambda: categorical_mi([0.5, 0.5], [0.0, 0.8], [1, 1])),
    "3x3 table": (
        table,
        lambda: float(
            (
                TABLE * np.log(TABLE / (TABLE.sum(1, keepdims=True) * TABLE.sum(0, keepdims=True)))
            ).sum()
        ),
    ),
    "zero-inflated y": (zero_inflated, zero_inflated_truth),
    "CMI, 3-level z": (cmi_z, lambda: float(np.sum(LEVELS * -0.5 * np.log(1 - RHOS**2)))),
}


def sklearn_mi(data, how, seed):
    kind, _, _ = how
    if kind == "classif":  # discrete x is the target, y the continuous feature
        return mutual_info_classif(data["y"][:, None], data["x"].astype(int), random_state=seed)[0]
    if kind == "table":
        return mutual_info_classif(
            data["x"][:, None].astype(int),
            data["y"].astype(int),
            discrete_features=True,
            random_state=seed,
        )[0]
    return mutual_info_regression(data["x"][:, None], data["y"], random_state=seed)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"N={args.n}, {args.repeats} data sets per case, load average {os.getloadavg()[0]:.1f}")
    print(
        "| case | truth | method | bias ± se | sd of errors | coverage | s/estimate | time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (make, truth_of) in CASES.items():
        truth = truth_of()
        ours, peer, hits, t_ours, t_peer = [], [], 0, [], []
        for seed in range(args.repeats):
            data, how = make(np.random.default_rng(seed), args.n)
            start = time.perf_counter()
            res = gmmmi.estimate(data["x"], data["y"], z=data.get("z"), random_state=seed)
            t_ours.append(time.perf_counter() - start)
            ours.append(res.value - truth)
            low, high = res.interval()
            hits += low <= truth <= high
            if how is not None:
                start = time.perf_counter()
                peer.append(sklearn_mi(data, how, seed) - truth)
                t_peer.append(time.perf_counter() - start)
        r = args.repeats
        t_o = np.median(t_ours)
        se = np.std(ours, ddof=1) / np.sqrt(r)
        print(
            f"| {name} | {truth:.4f} | gmmmi | {np.mean(ours):+.4f} ± {se:.4f} "
            f"| {np.std(ours, ddof=1):.4f} | {hits / r:.2f} | {t_o:.3f} | 1 |"
        )
        if peer:
            t_p = np.median(t_peer)
            print(
                f"| {name} | {truth:.4f} | scikit-learn | {np.mean(peer):+.4f} ± "
                f"{np.std(peer, ddof=1) / np.sqrt(r):.4f} | {np.std(peer, ddof=1):.4f} | — | "
                f"{t_p:.3f} | {t_p / t_o:.2f} |"
            )
        else:
            print(f"| {name} | {truth:.4f} | scikit-learn | no CMI | — | — | — | — |")
    # cost of a discrete z: the same rows, z discrete (3 levels) against no z (one fit)
    times_z, times_c = [], []
    for seed in range(3):
        data, _ = cmi_z(np.random.default_rng(100 + seed), 3000)
        start = time.perf_counter()
        gmmmi.estimate(data["x"], data["y"], z=data["z"], random_state=seed)
        times_z.append(time.perf_counter() - start)
        start = time.perf_counter()
        gmmmi.estimate(data["x"], data["y"], random_state=seed)
        times_c.append(time.perf_counter() - start)
    tz, tc = np.median(times_z), np.median(times_c)
    print(
        f"\ncost of a 3-level z at N=3000 (median of 3): {tz:.3f} s against {tc:.3f} s for one "
        f"continuous estimate on the same rows: {tz / tc:.2f} continuous estimates; load average "
        f"{os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
