"""How often the automatic fit check flags a correctly specified fit (MisfitWarning's false alarms).

Run from the repository root (background; minutes to an hour)::

    PYTHONPATH=. python benchmarks/misfit_calibration.py --out /tmp/calib.jsonl
    PYTHONPATH=. python benchmarks/misfit_calibration.py --report /tmp/calib.jsonl

Well-specified data: Gaussians with a random dense correlation in d = 2, 4, 6 and 10
(x the first half of the columns, y the rest) and the paper's mixtures D1, D3 and D5
(`gmmmi.datasets`), at N = 200 to 10^5 over several seeds. Each run is one
``gmmmi.estimate(x, y, random_state=seed, n_bootstrap=0)`` (the check looks at the fit to
all the data, which the bootstrap does not change), and records the check's smallest
p-value times the number of tests (the Bonferroni-adjusted p) and its largest z, so the
report gives the false-alarm rate at any family-wise level, and whether MisfitWarning
fired. The report prints the rate per case and overall with a 95% upper bound.

``--weighted`` runs weighted fits instead (``sample_weight=``): a rho = 0.6 Gaussian with
exponential weights independent of the rows, and rows from a Gaussian 1.5 times wider
with the importance weights that bring it back, N = 500 and 2000, 60 seeds each. It also
records whether the check would have fired without dividing by the weights' design
effect (``p_adjusted_no_deff``); ``--report`` prints both.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from scipy import stats

import gmmmi
from gmmmi import datasets
from gmmmi.fit_check import FAMILY_ALPHA

#: (N, seeds) of the runs; fewer seeds at large N, where each fit costs more
PLAN = [(200, 12), (1000, 12), (5000, 8), (20000, 4), (100000, 2)]


def random_gaussian(d: int, seed: int) -> datasets.Dataset:
    """A Gaussian with a random dense correlation matrix (eigenvalues spread 0.2 to 3)."""
    rng = np.random.default_rng(1000 + d + seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    cov = (q * rng.uniform(0.2, 3.0, d)) @ q.T
    sd = np.sqrt(np.diag(cov))
    cov = cov / np.outer(sd, sd)
    half = d // 2
    return datasets.block_gaussian(cov, list(range(half)), list(range(half, d)), name=f"gauss{d}d")


def cases():
    """(name, dataset, largest N) of every well-specified case."""
    out = [
        (f"gauss{d}d", random_gaussian(d, 0), 100000 if d < 10 else 20000) for d in (2, 4, 6, 10)
    ]
    out += [(name, datasets.paper(name), 100000) for name in ("D1", "D3", "D5")]
    return out


def run(out_path: str, first_seed: int = 0) -> None:
    with open(out_path, "a") as out:
        for name, data, n_max in cases():
            for n, seeds in PLAN:
                if n > n_max:
                    continue
                for seed in range(first_seed, first_seed + seeds):
                    x, y = data.sample(n, 10_000 + seed)
                    t0 = time.perf_counter()
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        res = gmmmi.estimate(x, y, random_state=seed, n_bootstrap=0)
                    seconds = time.perf_counter() - t0
                    check = res.fit_check
                    m = len(check.table)
                    row = {
                        "case": name,
                        "n": n,
                        "seed": seed,
                        "d": check.marginal.shape[1],
                        "K": res.n_components,
                        "tests": m,
                        "p_adjusted": float(min(1.0, check.table["pvalue"].min() * m)),
                        "max_z": float(check.table["z"].max()),
                        "fit_ok": bool(check.ok),
                        "warned": any(type(w.message).__name__ == "MisfitWarning" for w in caught),
                        "widened": res.diagnostics.search is not None,
                        "seconds": seconds,
                    }
                    out.write(json.dumps(row) + "\n")
                    out.flush()


def weighted_case(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and weights whose weighted law is a rho = 0.6 Gaussian (see the module's text)."""
    rng = np.random.default_rng(20_000 + seed)
    cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    if kind == "exp":
        return rng.multivariate_normal([0, 0], cov, n), rng.exponential(1.0, n)
    X = rng.multivariate_normal([0, 0], 2.25 * cov, n)
    m = np.einsum("ij,jk,ik->i", X, np.linalg.inv(cov), X)
    return X, np.exp(-0.5 * m * (1 - 1 / 2.25))


def run_weighted(out_path: str, seeds: int = 60) -> None:
    from scipy.special import chdtrc

    with open(out_path, "a") as out:
        for kind in ("exp", "importance"):
            for n in (500, 2000):
                for seed in range(seeds):
                    X, w = weighted_case(kind, n, seed)
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        res = gmmmi.estimate(X, sample_weight=w, random_state=seed, n_bootstrap=0)
                    table, m = res.fit_check.table, len(res.fit_check.table)
                    deff = n * np.sum(w**2) / np.sum(w) ** 2
                    p_raw = chdtrc(table["dof"], table["chi2"] * deff).min()
                    row = {
                        "case": f"weighted-{kind}",
                        "n": n,
                        "seed": seed,
                        "p_adjusted": float(min(1.0, table["pvalue"].min() * m)),
                        "p_adjusted_no_deff": float(min(1.0, p_raw * m)),
                        "warned": any(type(w.message).__name__ == "MisfitWarning" for w in caught),
                    }
                    out.write(json.dumps(row) + "\n")
                    out.flush()


def report(paths: list[str]) -> None:
    rows = [json.loads(line) for path in paths for line in open(path)]
    levels = (1e-3, 1e-2)
    print(f"{len(rows)} runs; false alarms at family level (runs flagged / runs)")
    by_case: dict = {}
    for r in rows:
        by_case.setdefault((r["case"], r["n"]), []).append(r)
    print(
        f"{'case':10s} {'N':>7s} {'runs':>5s} " + " ".join(f"{a:>8g}" for a in levels) + "  warned"
    )
    for (name, n), rs in sorted(by_case.items()):
        flags = [sum(r["p_adjusted"] < a for r in rs) for a in levels]
        warned = sum(r["warned"] for r in rs)
        print(
            f"{name:10s} {n:7d} {len(rs):5d} " + " ".join(f"{f:8d}" for f in flags) + f"  {warned}"
        )
    total = len(rows)
    for a in levels:
        k = sum(r["p_adjusted"] < a for r in rows)
        upper = stats.beta.ppf(0.95, k + 1, total - k)
        print(f"level {a:g}: {k}/{total} = {k / total:.4f} (one-sided 95% upper bound {upper:.4f})")
    k = sum(r["warned"] for r in rows)
    print(f"MisfitWarning (level {FAMILY_ALPHA:g}, after the wider search): {k}/{total}")
    weighted = [r for r in rows if "p_adjusted_no_deff" in r]
    if weighted:
        k = sum(r["p_adjusted_no_deff"] < FAMILY_ALPHA for r in weighted)
        print(f"weighted fits without the design effect: {k}/{len(weighted)} would have fired")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="append one JSON line per run to this file")
    parser.add_argument("--report", nargs="+", help="summarise files written by --out")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here (default 0)")
    parser.add_argument("--weighted", action="store_true", help="weighted fits (see above)")
    args = parser.parse_args()
    if args.out and args.weighted:
        run_weighted(args.out)
    elif args.out:
        run(args.out, args.first_seed)
    if args.report:
        report(args.report)
