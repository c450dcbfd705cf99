"""False-positive rate, power and time of `gmmmi.independence_test` (docs/independence.md).

* FPR at alpha = 0.05 on independent pairs: x ~ N(0, 1) and y with a
  Gaussian, skewed (exponential) or heavy-tailed (Student t, 3 dof) margin,
  N = 200 / 1000 / 5000. B = 19 permutations: the p-value is then a multiple
  of 1/20 and p <= 0.05 exactly when the statistic beats all 19 null draws,
  which an exact permutation test does with probability 1/20 whatever B;
  a small B costs power, not validity, so it is the cheap way to measure
  the FPR. Its binomial standard error with R repeats is sqrt(p (1 - p) / R).
* Power against weak dependence (bivariate Gaussian, rho = 0.1 and 0.2),
  beside a KSG permutation test (k = 3, Kraskov et al. 2004 estimator 1,
  implemented below with scipy's cKDTree) on the same data and the same
  permutation count.
* Time per test (wall clock, shared machine: read it with the load).

Each cell repeats tests until ``--max-reps`` or its time budget runs out,
over a process pool, and the table so far is written to ``--out`` after
every cell, so a run cut short keeps what it measured.

    python benchmarks/bench_independence.py --workers 2 --out bench_independence.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

ALPHA = 0.05


def sample(kind: str, n: int, rho: float, rng) -> tuple:
    """x ~ N(0, 1) and y with margin ``kind``; rho > 0: bivariate Gaussian with correlation rho."""
    x = rng.normal(size=n)
    if rho:
        return x, rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    if kind == "gaussian":
        return x, rng.normal(size=n)
    if kind == "exp":
        return x, rng.exponential(size=n)
    if kind == "t3":
        return x, rng.standard_t(3, size=n)
    raise ValueError(kind)


def ksg_mi(x, y, k: int = 3) -> float:
    """KSG estimator 1 (max-norm, k-th neighbour) of I(x; y) in nats, 1D x and y."""
    n = x.size
    xy = np.column_stack([x, y])
    eps = cKDTree(xy).query(xy, k=k + 1, p=np.inf)[0][:, -1]
    # strictly closer than eps in each marginal (minus the point itself)
    nx = cKDTree(x[:, None]).query_ball_point(x[:, None], eps - 1e-12, p=np.inf, return_length=True)
    ny = cKDTree(y[:, None]).query_ball_point(y[:, None], eps - 1e-12, p=np.inf, return_length=True)
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx) + digamma(ny)))


def ksg_pvalue(x, y, b: int, rng, k: int = 3) -> float:
    stat = ksg_mi(x, y, k)
    null = np.array([ksg_mi(x, rng.permutation(y), k) for _ in range(b)])
    return (1 + np.count_nonzero(null >= stat)) / (1 + b)


def one_test(args) -> dict:
    """One repeat: fresh data, gmmmi's test (and KSG's for power cells)."""
    kind, n, rho, b, rep, with_ksg = args
    import gmmmi

    rng = np.random.default_rng([n, rep, int(rho * 100), ("gaussian", "exp", "t3").index(kind)])
    x, y = sample(kind, n, rho, rng)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = gmmmi.independence_test(x, y, n_permutations=b, random_state=rep)
    out = {"p": test.pvalue, "seconds": time.perf_counter() - start, "K": test.n_components}
    if with_ksg:
        start = time.perf_counter()
        out["p_ksg"] = ksg_pvalue(x, y, b, rng)
        out["seconds_ksg"] = time.perf_counter() - start
    return out


def _se(rate: float, r: int, rho: float) -> float:
    """Binomial se: at the nominal 0.05 for a false-positive rate, at the rate for power."""
    p = rate if rho else ALPHA
    return float(np.sqrt(p * (1 - p) / r))


def run_cell(pool, kind, n, rho, b, max_reps, budget, with_ksg, first_rep=0) -> dict:
    """Repeats of one cell until max_reps or budget seconds; rejection rates with their se.

    Repeat ``i`` uses the data and seed of index ``first_rep + i``, so a cell
    cut short can be extended with the repeats it did not reach.
    """
    start, rows, rep = time.time(), [], 0
    workers = pool._max_workers
    while rep < max_reps and time.time() - start < budget:
        size = min(workers, max_reps - rep)
        batch = [(kind, n, rho, b, first_rep + rep + i, with_ksg) for i in range(size)]
        rows.extend(pool.map(one_test, batch))
        rep += len(batch)
    r = len(rows)
    cell = {"kind": kind, "n": n, "rho": rho, "B": b, "R": r, "first_rep": first_rep}
    for key, name in (("p", "gmmmi"), ("p_ksg", "ksg")):
        if rows and key in rows[0]:
            rate = float(np.mean([row[key] <= ALPHA for row in rows]))
            cell[f"reject_{name}"] = rate
            cell[f"se_{name}"] = _se(rate, r, rho)
    cell["seconds_per_test"] = float(np.median([row["seconds"] for row in rows]))
    if with_ksg:
        cell["seconds_per_test_ksg"] = float(np.median([row["seconds_ksg"] for row in rows]))
    cell["median_K"] = float(np.median([row["K"] for row in rows]))
    cell["load"] = os.getloadavg()[0]
    print(json.dumps(cell), flush=True)
    return cell


def conditional_fpr(kind: str, n: int, reps: int) -> dict:
    """FPR at 0.05 of the stratified test of I(x; y | z) = 0, x and y linked only through z."""
    import gmmmi

    rejected, start = 0, time.perf_counter()
    for rep in range(reps):
        rng = np.random.default_rng([rep, n, 77])
        z = rng.normal(size=n)
        if kind == "linear":
            x, y = z + rng.normal(size=n), z + rng.normal(size=n)
        else:
            x = np.tanh(2 * z) + 0.5 * rng.normal(size=n)
            y = np.exp(z / 2) + 0.5 * rng.normal(size=n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = gmmmi.independence_test(x, y, z=z, n_permutations=19, random_state=rep)
        rejected += test.pvalue <= ALPHA
    rate = rejected / reps
    seconds = (time.perf_counter() - start) / reps
    return {"kind": kind, "n": n, "R": reps, "fpr": rate, "se": _se(0, reps, 0), "s": seconds}


def ksg_power(n: int, rho: float, k: int, b: int, reps: int) -> dict:
    """KSG's rejection rate with k neighbours, on the data of the power cells (same seeds)."""
    rejected = 0
    for rep in range(reps):
        rng = np.random.default_rng([n, rep, int(rho * 100), 0])
        x, y = sample("gaussian", n, rho, rng)
        rejected += ksg_pvalue(x, y, b, rng, k) <= ALPHA
    rate = rejected / reps
    return {"n": n, "rho": rho, "k": k, "R": reps, "power": rate, "se": _se(rate, reps, rho)}


def print_tables(cells: list) -> None:
    """The FPR and power tables of docs/independence.md, from the saved cells."""
    names = {"gaussian": "Gaussian", "exp": "exponential (skewed)", "t3": "Student t3 (heavy)"}
    print("| y margin | N | R | FPR at 0.05 | se | K (median) | s per test (B) |")
    print("|---|---|---|---|---|---|---|")
    for c in cells:
        if not c["rho"]:
            print(
                f"| {names[c['kind']]} | {c['n']} | {c['R']} | {c['reject_gmmmi']:.3f} | "
                f"{_se(0, c['R'], 0):.3f} | {c['median_K']:g} | {c['seconds_per_test']:.2f} "
                f"({c['B']}) |"
            )
    print()
    print("| rho | N | R | power gmmmi | se | power KSG | se | s per test gmmmi / KSG (B) |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cells:
        if c["rho"]:
            print(
                f"| {c['rho']} | {c['n']} | {c['R']} | {c['reject_gmmmi']:.2f} | "
                f"{_se(c['reject_gmmmi'], c['R'], 1):.2f} | {c['reject_ksg']:.2f} | "
                f"{_se(c['reject_ksg'], c['R'], 1):.2f} | "
                f"{c['seconds_per_test']:.2f} / {c['seconds_per_test_ksg']:.2f} ({c['B']}) |"
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="bench_independence.json")
    ap.add_argument("--b-fpr", type=int, default=19)
    ap.add_argument("--b-power", type=int, default=99)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every time budget")
    ap.add_argument("--table", action="store_true", help="print --out as markdown tables, exit")
    ap.add_argument(
        "--conditional", action="store_true", help="only the conditional FPR check (N=500)"
    )
    ap.add_argument(
        "--ksg-k", type=int, default=0, help="only KSG's power with this k (same data and seeds)"
    )
    ap.add_argument("--extend", nargs=3, metavar=("KIND", "N", "FIRST_REP"), default=None)
    args = ap.parse_args()
    if args.extend:  # more repeats of one FPR cell, from FIRST_REP on, for --budget-s seconds
        kind, n, first = args.extend[0], int(args.extend[1]), int(args.extend[2])
        with ProcessPoolExecutor(
            args.workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            run_cell(pool, kind, n, 0.0, args.b_fpr, 400, 600 * args.scale, False, first)
        return
    if args.ksg_k:
        for n, rho in ((1000, 0.1), (200, 0.2), (1000, 0.2)):
            print(json.dumps(ksg_power(n, rho, args.ksg_k, args.b_power, 100)), flush=True)
        return
    if args.conditional:
        for kind, reps in (("linear", 200), ("nonlinear", 100)):
            print(json.dumps(conditional_fpr(kind, 500, reps)), flush=True)
        return
    if args.table:
        with open(args.out) as fh:
            print_tables(json.load(fh))
        return
    plan = [  # (kind, n, rho, max_reps, budget seconds, with KSG)
        *[(k, 200, 0.0, 400, 240, False) for k in ("gaussian", "exp", "t3")],
        *[(k, 1000, 0.0, 400, 330, False) for k in ("gaussian", "exp", "t3")],
        ("gaussian", 1000, 0.1, 100, 150, True),
        ("gaussian", 200, 0.2, 100, 100, True),
        ("gaussian", 1000, 0.2, 100, 100, True),
        *[(k, 5000, 0.0, 400, 200, False) for k in ("gaussian", "exp", "t3")],
    ]
    cells = []
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=spawn) as pool:
        for kind, n, rho, reps, budget, ksg in plan:
            b = args.b_power if rho else args.b_fpr
            cells.append(run_cell(pool, kind, n, rho, b, reps, budget * args.scale, ksg))
            with open(args.out, "w") as fh:
                json.dump(cells, fh, indent=1)


if __name__ == "__main__":
    main()
