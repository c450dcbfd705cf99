"""Coverage of the IID and block bootstraps on autocorrelated rows (docs/timeseries.md).

Stationary bivariate AR(1) pairs: every row has the same Gaussian law
(correlation 0.6, MI = -ln(1 - 0.36) / 2 = 0.2231 nat) and each column is
x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t. For each (phi, N) and each data set
(seeds from one SeedSequence) both ``bootstrap="iid"`` and
``bootstrap="block"`` are run on the same data (``--kinds`` to run one). The
coverage is that of the reported 95% interval (``Result.interval()``: value
+- 1.96 sd for the IID bootstrap, value +- c sd with the block bootstrap's
fixed-b critical value c, ``gmmmi._intervals``), and, for comparison, of
value +- 1.96 sd; the JSON also keeps each result's 95% HDI and percentile
interval of the bootstrap draws. Prints a markdown table and writes every
number to JSON.

    nice python benchmarks/timeseries_calibration.py --phis 0 0.5 0.9 --n 1000 --sets 100
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings

import numpy as np
from scipy import signal

import gmmmi

RHO = 0.6
TRUTH = -0.5 * math.log(1 - RHO**2)


def ar1_pair(phi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows of a stationary bivariate AR(1) whose rows are N(0, [[1, RHO], [RHO, 1]])."""
    e = rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], size=n)
    e[1:] *= math.sqrt(1 - phi**2)
    # x_0 = e_0 is already stationary; x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t
    return signal.lfilter([1.0], [1.0, -phi], e, axis=0)


def run(phis, n, sets, seed, n_bootstrap, kinds=("iid", "block")):
    rows = []
    for phi in phis:
        seeds = np.random.SeedSequence([seed, int(phi * 1000), n]).spawn(sets)
        record = {"phi": phi, "n": n, "iid": [], "block": [], "warned": 0, "block_length": []}
        record["other"] = {kind: [] for kind in kinds}
        start = time.perf_counter()
        for s in seeds:
            X = ar1_pair(phi, n, np.random.default_rng(s))
            for kind in kinds:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    r = gmmmi.estimate(
                        X,
                        random_state=int(s.generate_state(1)[0]),
                        bootstrap=kind,
                        n_bootstrap=n_bootstrap,
                    )
                if kind == "iid":
                    record["warned"] += any(
                        issubclass(w.category, gmmmi.SerialDependenceWarning) for w in caught
                    )
                else:
                    record["block_length"].append(r.diagnostics.extra["block_length"])
                record[kind].append([r.value, r.sd, r.n_components, *r.interval()])
                draws = np.ravel(r.draws[r.quantity])
                record["other"][kind].append(
                    [*r.interval(0.95, method="hdi"), *np.percentile(draws, [2.5, 97.5])]
                )
        record["seconds"] = time.perf_counter() - start
        rows.append(record)
        print(summary_row(record), flush=True)
    return rows


def summary_row(rec) -> str:
    cells = [f"{rec['phi']:g}", str(rec["n"]), str(max(len(rec["iid"]), len(rec["block"])))]
    for kind in ("iid", "block"):
        a = np.array(rec[kind])
        if not len(a):
            cells += ["-"] * 4
            continue
        for cover in (
            (a[:, 3] <= TRUTH) & (TRUTH <= a[:, 4]),
            np.abs(a[:, 0] - TRUTH) <= 1.96 * a[:, 1],
        ):
            p = cover.mean()
            se = math.sqrt(p * (1 - p) / len(cover))
            cells.append(f"{p:.3f} ± {se:.3f}")
        z = (a[:, 0] - TRUTH) / a[:, 1]
        cells += [f"{np.mean((a[:, 4] - a[:, 3]) / (2 * a[:, 1])):.3f}", f"{np.std(z):.2f}"]
    warned = f"{rec['warned']}/{len(rec['iid'])}" if rec["iid"] else "-"
    cells += [f"{np.mean(rec['block_length']):.1f}" if rec["block"] else "-", warned]
    share = [np.mean(np.array(rec[k])[:, 2] > 1) if rec[k] else math.nan for k in ("iid", "block")]
    cells += [f"{share[0]:.2f} / {share[1]:.2f}", f"{rec['seconds']:.0f}"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| φ | N | data sets | IID coverage | IID ± 1.96 sd | IID c | IID sd of z "
    "| block coverage | block ± 1.96 sd | block c | block sd of z "
    "| block length | default call warned | share K > 1 (IID / block) | seconds |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phis", type=float, nargs="+", default=[0.0, 0.5, 0.9])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--sets", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--n-bootstrap", type=int, default=50)
    parser.add_argument("--kinds", nargs="+", choices=("iid", "block"), default=["iid", "block"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(HEADER, flush=True)
    rows = run(args.phis, args.n, args.sets, args.seed, args.n_bootstrap, args.kinds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"truth": TRUTH, "rows": rows, "args": vars(args)}, f)


if __name__ == "__main__":
    main()
