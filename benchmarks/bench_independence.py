"""False-positive rate, power and cost of `gmmmi.independence_test` (docs/independence.md).

Cells (each repeat draws fresh data from its own seed):

* ``fpr``: x ~ N(0, 1) and an independent y with a Gaussian, skewed
  (exponential) or heavy-tailed (Student t, 3 dof) margin, N = 200 / 1000 /
  5000, B = 19 permutations. p <= 0.05 exactly when the statistic beats all
  19 null draws, which an exact test does with probability 1/20 whatever B,
  so a small B measures the same false-positive rate (it costs power, not
  validity).
* ``power``: N = 600, B = 99, a bivariate Gaussian (rho = 0.15) and five
  relations without correlation (heteroscedastic, noisy ring, y = x^2 +
  noise, y = cos 3x + noise, checkerboard), beside a KSG permutation test (scikit-learn's
  ``mutual_info_regression``, k = 3, the same B) and distance correlation
  (``dcor.independence.distance_covariance_test``, the same B). The cost of
  one default ``gmmmi.estimate`` (50 bootstrap replicas) on the same data is
  timed too, as the unit of a test's cost.
* ``copies`` (not run by default): 200 independent pairs, each repeated
  1-3 times, B = 19 (the grouped permutation's false-positive rate).
* ``ts``: two AR(1) series (phi = 0.9, N = 600), independent (B = 19) or with
  innovations correlated 0.3 (B = 99), tested with ``permutation="iid"``,
  ``"block"`` and ``"circular"``.

Repeats run in rounds over all cells (`per_round` repeats of each cell per
round, more for the cheap ones) on a process pool, and every test is appended to ``--out`` (JSON
lines) as it finishes, so a run cut short keeps a balanced table;
``--table`` prints the markdown tables from that file.

    python benchmarks/bench_independence.py --workers 2 --rounds 40 --out indep.jsonl
    python benchmarks/bench_independence.py --rounds 20 --first-round 40  # 20 more rounds
    python benchmarks/bench_independence.py --table --out indep.jsonl
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

ALPHA = 0.05
N_POWER = 600
RELATIONS = ("gaussian 0.15", "heteroscedastic", "ring", "quadratic", "cosine", "checkerboard")
FPR_CELLS = [("fpr", m, n) for n in (200, 1000, 5000) for m in ("gaussian", "exp", "t3")]
POWER_CELLS = [("power", r, N_POWER) for r in RELATIONS]
TS_CELLS = [("ts", f"{kind} {scheme}", 600) for kind in ("null", "dependent")
            for scheme in ("iid", "block", "circular")]  # fmt: skip
COPY_CELLS = [("copies", "1-3 copies", 200)]
ALL_CELLS = FPR_CELLS + POWER_CELLS + TS_CELLS + COPY_CELLS


def sample(group: str, kind: str, n: int, rng) -> tuple:
    """x and y of one repeat."""
    if group == "fpr":
        x = rng.normal(size=n)
        if kind == "gaussian":
            return x, rng.normal(size=n)
        if kind == "exp":
            return x, rng.exponential(size=n)
        return x, rng.standard_t(3, size=n)
    if group == "copies":  # n independent records, each repeated 1-3 times
        x, y = rng.normal(size=(2, n))
        counts = rng.integers(1, 4, size=n)
        return np.repeat(x, counts), np.repeat(y, counts)
    if group == "ts":
        e = rng.normal(size=(2, n + 200))
        rho = 0.3 if kind.startswith("dependent") else 0.0
        e[1] = rho * e[0] + np.sqrt(1 - rho**2) * e[1]
        s = np.zeros_like(e)
        for t in range(1, n + 200):  # AR(1), phi = 0.9, 200 rows of burn-in
            s[:, t] = 0.9 * s[:, t - 1] + e[:, t]
        return s[0, 200:], s[1, 200:]
    x = rng.normal(size=n)
    e = rng.normal(size=n)
    if kind == "gaussian 0.15":
        return x, 0.15 * x + np.sqrt(1 - 0.15**2) * e
    if kind == "heteroscedastic":
        return x, (0.3 + np.abs(x)) * e
    if kind == "ring":
        t = rng.uniform(0, 2 * np.pi, n)
        return np.cos(t) + 0.1 * x, np.sin(t) + 0.1 * e
    if kind == "quadratic":
        return x, x**2 + e
    if kind == "cosine":
        return x, np.cos(3 * x) + e
    if kind == "checkerboard":  # 4 x 4 cells: y in cells {0, 3} when x's is even, else {1, 2}
        i = rng.integers(0, 4, n)
        j = np.where(i % 2 == 0, 3 * rng.integers(0, 2, n), 1 + rng.integers(0, 2, n))
        return i + rng.uniform(size=n), j + rng.uniform(size=n)
    raise ValueError(kind)


def ksg_pvalue(x, y, b: int, rng) -> float:
    """KSG permutation test: scikit-learn's mutual_info_regression (k = 3) on B permutations."""
    from sklearn.feature_selection import mutual_info_regression

    def mi(v):
        return mutual_info_regression(x[:, None], v, n_neighbors=3, random_state=0)[0]

    stat = mi(y)
    null = np.array([mi(y[rng.permutation(y.size)]) for _ in range(b)])
    return float((1 + np.count_nonzero(null >= stat)) / (1 + b))


def one_test(args) -> dict:
    """One repeat of one cell: fresh data, gmmmi's test (and the peers' for power)."""
    group, kind, n, rep = args
    import gmmmi

    cell_id = ALL_CELLS.index((group, kind, n))
    rng = np.random.default_rng([cell_id, rep, 2024])
    x, y = sample(group, kind, n, rng)
    permutation = kind.split()[-1] if group == "ts" else "iid"
    b = 99 if group == "power" or kind.startswith("dependent") else 19
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = gmmmi.independence_test(
            x, y, n_permutations=b, permutation=permutation, random_state=rep
        )
    out = {
        "group": group,
        "kind": kind,
        "n": n,
        "rep": rep,
        "B": b,
        "p": test.pvalue,
        "seconds": time.perf_counter() - start,
        "K": test.n_components,
        "null_K_max": int(test.null_components.max()),
        "L": test.block_length,
        "margins": test.margins,
        "load": os.getloadavg()[0],
    }
    if group == "power":
        import dcor

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gmmmi.estimate(x, y, random_state=rep)
        out["seconds_estimate"] = time.perf_counter() - start
        start = time.perf_counter()
        out["p_ksg"] = ksg_pvalue(x, y, b, rng)
        out["seconds_ksg"] = time.perf_counter() - start
        start = time.perf_counter()
        res = dcor.independence.distance_covariance_test(x, y, num_resamples=b, random_state=rep)
        out["p_dcor"] = float(res.pvalue)
        out["seconds_dcor"] = time.perf_counter() - start
    return out


def _init_worker():
    os.environ["NUMBA_NUM_THREADS"] = "1"


#: repeats of a cell per round, by cost: cheap cells get more, so rounds stay balanced in time
def per_round(cell: tuple) -> int:
    group, kind, n = cell
    if group == "fpr":
        return {200: 10, 1000: 5, 5000: 2}[n]
    if group == "copies" or (group == "ts" and kind.startswith("null")):
        return 5
    return 1


def run(args) -> None:
    cells = {"fpr": FPR_CELLS, "power": POWER_CELLS, "ts": TS_CELLS, "copies": COPY_CELLS}
    plan = [c for g in args.groups for c in cells[g]]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=spawn, initializer=_init_worker) as pool:
        for r in range(args.rounds):
            batch = []
            for c in plan:
                k = per_round(c)
                first = (args.first_round + r) * k
                batch += [(*c, first + i) for i in range(k)]
            for row in pool.map(one_test, batch):
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(f"round {args.first_round + r} done, load {os.getloadavg()[0]:.1f}", flush=True)


def _rate(ps) -> tuple[float, int]:
    ps = np.asarray(ps)
    return float(np.mean(ps <= ALPHA)), ps.size


def table(path: str) -> None:
    """The markdown tables of docs/independence.md from the JSON lines of a run."""
    rows = [json.loads(line) for line in open(path)]
    names = {"gaussian": "Gaussian", "exp": "exponential (skewed)", "t3": "Student t3 (heavy)"}
    print("| y margin | N | R | FPR at 0.05 | se | K (median) | s per test (B = 19) |")
    print("|---|---|---|---|---|---|---|")
    for _, kind, n in FPR_CELLS:
        cell = [r for r in rows if r["group"] == "fpr" and r["kind"] == kind and r["n"] == n]
        if cell:
            rate, r = _rate([c["p"] for c in cell])
            sec = np.median([c["seconds"] for c in cell])
            k = np.median([c["K"] for c in cell])
            print(
                f"| {names[kind]} | {n} | {r} | {rate:.3f} | {np.sqrt(0.0475 / r):.3f} | "
                f"{k:g} | {sec:.2f} |"
            )
    fpr = [r for r in rows if r["group"] == "fpr"]
    pools = [(f"all three, N = {n}", lambda r, n=n: r["n"] == n) for n in (200, 1000, 5000)]
    pools += [(f"{names[k]}, all N", lambda r, k=k: r["kind"] == k) for k in names]
    pools.append(("all nine cells", lambda r: True))
    for label, keep in pools if fpr else []:
        rate, r = _rate([c["p"] for c in fpr if keep(c)])
        print(f"| {label} (pooled) | | {r} | {rate:.3f} | {np.sqrt(0.0475 / r):.3f} | | |")
    if fpr:  # the whole p-value distribution: uniform on k / 20 for an exact test
        ps = np.array([c["p"] for c in fpr])
        shares = ", ".join(
            f"P(p <= {q}) = {np.mean(ps <= q + 1e-9):.3f} ± {np.sqrt(q * (1 - q) / ps.size):.3f}"
            for q in (0.1, 0.25, 0.5)
        )
        print(f"\nall {ps.size} null tests: {shares}")
    print()
    print(
        "| relation (N = 600) | R | gmmmi | KSG k = 3 | dcor | K observed (median) | "
        "s per test gmmmi / KSG / dcor | gmmmi test / one estimate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for _, kind, _n in POWER_CELLS:
        cell = [r for r in rows if r["group"] == "power" and r["kind"] == kind]
        if not cell:
            continue
        out = []
        for key in ("p", "p_ksg", "p_dcor"):
            rate, r = _rate([c[key] for c in cell])
            out.append(f"{rate:.2f} ± {np.sqrt(max(rate * (1 - rate), 0.25 / r) / r):.2f}")
        secs = [np.median([c[k] for c in cell]) for k in ("seconds", "seconds_ksg", "seconds_dcor")]
        ratio = np.median([c["seconds"] / c["seconds_estimate"] for c in cell])
        k = np.median([c["K"] for c in cell])
        print(
            f"| {kind} | {len(cell)} | {' | '.join(out)} | {k:g} | "
            f"{' / '.join(f'{s:.2f}' for s in secs)} | {ratio:.0f} |"
        )
    print("\n| AR(1) pair, phi = 0.9, N = 600 | scheme | B | R | rejection rate at 0.05 | se | L |")
    print("|---|---|---|---|---|---|---|")
    for _, kind, _n in TS_CELLS:
        cell = [r for r in rows if r["group"] == "ts" and r["kind"] == kind]
        if not cell:
            continue
        rate, r = _rate([c["p"] for c in cell])
        se = np.sqrt(0.0475 / r) if kind.startswith("null") else np.sqrt(rate * (1 - rate) / r)
        what, scheme = kind.split()
        length = np.median([c["L"] or 1 for c in cell])
        print(
            f"| {'independent' if what == 'null' else 'innovations correlated 0.3'} | {scheme} "
            f"| {cell[0]['B']} | {r} | {rate:.3f} | {se:.3f} | {length:g} |"
        )
    cell = [r for r in rows if r["group"] == "copies"]
    if cell:
        rate, r = _rate([c["p"] for c in cell])
        print(
            f"\nrepeated records (200 independent pairs, each 1-3 times), B = 19: FPR {rate:.3f} "
            f"± {np.sqrt(0.0475 / r):.3f} over {r} tests"
        )
    loads = [r["load"] for r in rows]
    print(f"\n1-minute load during the run: {min(loads):.1f}-{max(loads):.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="bench_independence.jsonl")
    ap.add_argument("--groups", nargs="+", default=["power", "fpr", "ts"])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--first-round", type=int, default=0, help="continue a run from this round")
    ap.add_argument("--table", action="store_true", help="print --out as markdown tables, exit")
    args = ap.parse_args()
    if args.table:
        table(args.out)
    else:
        run(args)


if __name__ == "__main__":
    main()
