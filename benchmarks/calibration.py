"""Calibration of gmmmi's uncertainty methods on data sets with known MI.

Runs `gmmmi.calibration` on the cases of docs/uncertainty.md and writes the
markdown table (with the date, machine and versions) between the markers
``<!-- calibration:start -->`` and ``<!-- calibration:end -->`` of that page.

    nice python benchmarks/calibration.py                 # bootstrap, 100 repeats per case
    nice python benchmarks/calibration.py --pymc-repeats 20 --b200-repeats 100
    nice python benchmarks/calibration.py --reselect-repeats 200   # K re-selected per replica
    python benchmarks/calibration.py --repeats 5 --dry-run    # print only
    python benchmarks/calibration.py --only gamma --repeats 800 --seed 2025 --dry-run

Each repeat draws a fresh data set (seeds from one SeedSequence), so the
numbers do not depend on ``--workers``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numba
import numpy as np
import pandas as pd

import gmmmi
from gmmmi import datasets
from gmmmi.studies import Method

DOC = Path(__file__).resolve().parents[1] / "docs" / "uncertainty.md"
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"

#: (dataset, n) of the study
CASES = [
    (datasets.gaussian(0.6), 200),
    (datasets.gaussian(0.6), 2000),
    (datasets.paper("D3"), 1000),
    (datasets.gamma_exponential(1.0), 1000),
]
#: the default bootstrap with 200 instead of 50 replicas: do the HDI's tails improve?
BOOTSTRAP_200 = Method("bootstrap B=200", {"backend": "numba", "n_bootstrap": 200})
#: the bootstrap with K chosen again inside every replica (``reselect_components=True``)
RESELECT = Method("bootstrap, K per replica", {"backend": "numba", "reselect_components": True})


def run_case(dataset, n, method, repeats, executor, seed):
    """The calibration table of one case and method, as a one-row DataFrame."""
    start = time.perf_counter()
    cal = gmmmi.calibration(
        dataset,
        n=n,
        repeats=repeats,
        methods=(method,),
        executor=executor,
        random_state=seed,
        progress=True,
    )
    table = cal.table.assign(dataset=dataset.name, n=n, total_s=time.perf_counter() - start)
    return table, cal.estimates.assign(dataset=dataset.name, n=n)


def markdown(table: pd.DataFrame) -> str:
    """The rows of the docs table: one per (case, method)."""
    lines = [
        "| data set | N | method | repeats | truth | bias | bias / sd | RMSE | mean sd "
        "| sd of estimates | sd ratio | cover 68% | cover 95% | cover 95% HDI "
        "| cover 95% basic | s / estimate |",
        "|" + "---|" * 16,
    ]
    # a coverage p over R repeats has the binomial standard error sqrt(p (1 - p) / R)
    for r in table.itertuples():
        failed = f" ({r.failed} failed)" if r.failed else ""
        used = r.repeats - r.failed
        se95 = np.sqrt(r.cover95_normal * (1 - r.cover95_normal) / max(used, 1))
        lines.append(
            f"| {r.dataset} | {r.n} | {r.method} | {r.repeats}{failed} | {r.truth:.4f} "
            f"| {r.bias:+.4f} | {r.bias / r.mean_sd:+.2f} | {r.rmse:.4f} | {r.mean_sd:.4f} "
            f"| {r.sd_estimates:.4f} "
            f"| {r.sd_ratio:.2f} | {r.cover68_normal:.2f} | {r.cover95_normal:.3f} ± {se95:.3f} "
            f"| {r.cover95_hdi:.2f} | {r.cover95_basic:.2f} | {r.seconds:.2f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} logical CPUs "
        f"(shared), Python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, gmmmi {gmmmi.__version__}"
    )


def write_doc(text: str) -> None:
    page = DOC.read_text()
    if START not in page or END not in page:
        sys.exit(f"{DOC} lacks the markers {START} / {END}; add them where the table goes.")
    block = f"{START}\n{text}\n{END}"
    DOC.write_text(
        re.sub(f"{re.escape(START)}.*?{re.escape(END)}", lambda _: block, page, flags=re.S)
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=100, help="repeats per case (bootstrap)")
    ap.add_argument("--pymc-repeats", type=int, default=0, help="repeats for PyMC NUTS (0: skip)")
    ap.add_argument(
        "--pymc-max-n", type=int, default=200, help="run PyMC only on cases with N <= this"
    )
    ap.add_argument(
        "--b200-repeats",
        type=int,
        default=0,
        help="repeats of the 200-replica bootstrap on the first case (0: skip)",
    )
    ap.add_argument(
        "--reselect-repeats",
        type=int,
        default=0,
        help="repeats per case of the bootstrap with K re-selected per replica (0: skip)",
    )
    ap.add_argument("--only", help="only the cases whose data set name starts so")
    ap.add_argument("--workers", type=int, default=1, help="processes (1: serial)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--csv", type=Path, help="also save every per-repeat estimate here")
    ap.add_argument("--dry-run", action="store_true", help="print the table, do not edit the doc")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # ConvergenceWarnings of single repeats are part of the study

    cases = [(ds, n) for ds, n in CASES if not args.only or ds.name.startswith(args.only)]
    jobs = [(ds, n, "bootstrap", args.repeats) for ds, n in cases]
    if args.reselect_repeats:
        jobs += [(ds, n, RESELECT, args.reselect_repeats) for ds, n in cases]
    if args.b200_repeats:
        jobs.append((*cases[0], BOOTSTRAP_200, args.b200_repeats))
    if args.pymc_repeats:
        jobs += [(ds, n, "bayes", args.pymc_repeats) for ds, n in cases if n <= args.pymc_max_n]
    executor = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    tables, estimates = [], []
    start = time.perf_counter()
    try:
        for ds, n, method, repeats in jobs:
            table, est = run_case(ds, n, method, repeats, executor, args.seed)
            tables.append(table)
            estimates.append(est)
            name = getattr(method, "name", method)
            print(f"{ds.name} N={n} {name}: {table['total_s'].iloc[0]:.0f} s", flush=True)
    finally:
        if executor is not None:
            executor.shutdown()
    table = pd.concat(tables, ignore_index=True)
    if args.csv:
        pd.concat(estimates, ignore_index=True).to_csv(args.csv, index=False)
    elapsed = time.perf_counter() - start
    stamp = datetime.date.today().isoformat()
    text = (
        f"{markdown(table)}\n\n"
        f"*Produced by `benchmarks/calibration.py` on {stamp}: {machine()}; "
        f"seed {args.seed}, {elapsed / 60:.0f} min wall time.*"
    )
    print(text)
    if not args.dry_run:
        write_doc(text)


if __name__ == "__main__":
    main()
