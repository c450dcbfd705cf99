"""Robustness benchmark: gmmmi and KSG on every distribution of the robustness suite.

Run from the repository root::

    python benchmarks/bench_robustness.py                     # N = 1000 and 5000, all columns
    python benchmarks/bench_robustness.py --n 1000 --no-ksg   # quicker
    python benchmarks/bench_robustness.py --only cauchy       # distributions whose name matches
    python benchmarks/bench_robustness.py --json out.json     # also keep every number
    python benchmarks/bench_robustness.py --coverage 100 --no-table  # coverage study only

For each distribution of `gmmmi.datasets.robustness_suite()` and each N, one
seeded sample (the seed is derived from the name and N, so a row does not
change when the suite grows) is given to

* ``gmmmi.estimate(x, y, random_state=0)`` with its current defaults
  (``transform="auto"``, K marked ᵀ where the Gaussianising map was chosen;
  ``init_type="kmeans"``, ``n_inits=1``, see benchmarks/bench_search.py);
* the original GMM-MI's settings: ``transform="none"``,
  ``init_type="random_sklearn"``, ``n_inits=3``, ``patience=1`` (what `gmmmi.EstimateMI` uses);
* the same with ``init_type="kmeans", patience=3``, a candidate setting;
* KSG with k=3: scikit-learn's ``mutual_info_regression`` for one column each,
  the same algorithm on whole blocks otherwise (``peer_ksg.py``), run in the
  peer's virtual environment (``/opt/gmmmi-peer``) on the same data, so
  scikit-learn never becomes a gmmmi dependency.

It prints one Markdown table (truth, each estimate, whether it lies within
max(10 %, 0.05 nat) of the truth, the chosen K and the wall time of each) and
the number of tasks within tolerance per column. gmmmi's times are of a warm
call (one untimed call first loads the compiled kernels). This is a benchmark,
not a test: it never fails on a number.

With ``--coverage R`` it also runs `gmmmi.calibration` (defaults, R data sets
of N=1000) on the Gaussian with rho=0.6 under exp and under cube of each
variable, and prints the bias and the coverage of the 95 % intervals.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "peer_ksg.py"
DEFAULT_PEER_PYTHON = "/opt/gmmmi-peer/bin/python"
REL_TOL, ABS_TOL = 0.10, 0.05  # within max(10 %, 0.05 nat) of the truth
SETTINGS = {
    "defaults": {},
    # the original GMM-MI: raw data, its component search
    "original": {"transform": "none", "init_type": "random_sklearn", "n_inits": 3, "patience": 1},
    "kmeans_p3": {"init_type": "kmeans", "patience": 3},
}


def within(value: float | None, truth: float) -> bool:
    """Whether ``value`` lies within max(10 % of the truth, 0.05 nat) of ``truth``."""
    return value is not None and abs(value - truth) <= max(REL_TOL * abs(truth), ABS_TOL)


def sample_seed(name: str, n: int, seed: int) -> list[int]:
    """Seed of one sample: stable under reordering or growth of the suite."""
    return [seed, zlib.crc32(name.encode()), n]


def run_gmmmi(x, y, options: dict) -> dict:
    """One ``gmmmi.estimate`` call: MI, sd, K, wall time and the warnings it raised."""
    import gmmmi

    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = gmmmi.estimate(x, y, random_state=0, progress=False, **options)
    except Exception as err:  # a refusal is a result of the benchmark, not a crash
        return {"error": f"{type(err).__name__}: {err}", "seconds": time.perf_counter() - start}
    return {
        "mi": float(result.mi),
        "sd": float(result.sd),
        "n_components": int(result.n_components),
        "transform": (result.transform or {}).get("chosen"),
        "seconds": time.perf_counter() - start,
        "warnings": sorted({type(w.message).__name__ for w in caught}),
    }


def run_ksg(samples: list[tuple], peer_python: str) -> list[dict]:
    """KSG (k=3) of every sample, in one call of ``peer_ksg.py`` in the peer environment."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.npz"
        arrays = {}
        for i, (x, y) in enumerate(samples):
            arrays[f"x_{i}"], arrays[f"y_{i}"] = x, y
        np.savez(path, **arrays)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        out = subprocess.run(
            [peer_python, str(PEER_SCRIPT), str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    return json.loads(out.stdout)


def _cell(res: dict | None, truth: float) -> tuple[str, str, str]:
    """(estimate ± sd with a tick or cross, K, time) of one result for the table."""
    if res is None:
        return "n/a", "", ""
    if "error" in res:
        return f"error: {res['error'][:60]}", "", f"{res['seconds']:.1f}"
    mark = "✓" if within(res["mi"], truth) else "✗"
    value = f"{res['mi']:.3f}" + (f" ± {res['sd']:.3f}" if "sd" in res else "")
    k = str(res.get("n_components", "")) + ("ᵀ" if res.get("transform") == "gaussianize" else "")
    return f"{value} {mark}", k, f"{res['seconds']:.2f}"


def print_table(rows: list[dict], columns: list[str]) -> None:
    """The Markdown table of every task, then the counts within tolerance per column and N."""
    head = ["distribution", "N", "truth"]
    for c in columns:
        head += [c, "K", "s"] if c != "ksg" else ["KSG (k=3)", "s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        cells = [row["name"], str(row["n"]), f"{row['truth']:.4f}"]
        for c in columns:
            value, k, sec = _cell(row.get(c), row["truth"])
            cells += [value, k, sec] if c != "ksg" else [value, sec]
        print("| " + " | ".join(cells) + " |")
    print()
    for n in sorted({row["n"] for row in rows}):
        subset = [row for row in rows if row["n"] == n]
        counts = ", ".join(
            f"{c}: {sum(within((row.get(c) or {}).get('mi'), row['truth']) for row in subset)}"
            f"/{len(subset)}"
            for c in columns
        )
        print(f"N={n}: within max(10 %, 0.05 nat) of the truth — {counts}")


def coverage_study(repeats: int, n: int = 1000) -> list[dict]:
    """Bias and 95 % coverage of ``gmmmi.estimate`` (defaults) on exp and cube margins.

    Parameters
    ----------
    repeats : int
        Independent data sets per distribution (seeded by `gmmmi.calibration`).
    n : int, default 1000
        Samples per data set.
    """
    import gmmmi
    from gmmmi.datasets import gaussian, with_margins

    rows = []
    for margin in ("identity", "exp", "cube"):
        ds = with_margins(gaussian(0.6), margin)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = gmmmi.calibration(ds, n=n, repeats=repeats, random_state=0, progress=False)
        row = table.table.iloc[0]
        rows.append(
            {"name": ds.name, "n": n, "truth": ds.truth}
            | {
                key: float(row[key])
                for key in (
                    "repeats",
                    "bias",
                    "bias_se",
                    "mean_sd",
                    "sd_estimates",
                    "cover95_normal",
                    "cover95_basic",
                    "seconds",
                )
            }
        )
    print(f"\nCoverage over {repeats} data sets of N={n}, gmmmi.estimate defaults:\n")
    print(
        "| distribution | truth | bias ± se | mean sd | sd of estimates | "
        "95 % coverage (normal) | 95 % coverage (basic) | s per estimate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['name']} | {r['truth']:.4f} | {r['bias']:+.3f} ± {r['bias_se']:.3f} | "
            f"{r['mean_sd']:.3f} | {r['sd_estimates']:.3f} | {r['cover95_normal']:.2f} | "
            f"{r['cover95_basic']:.2f} | {r['seconds']:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 5000], help="sample sizes")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the samples")
    parser.add_argument("--only", default=None, help="keep distributions whose name contains it")
    parser.add_argument("--no-candidate", action="store_true", help="skip kmeans/patience=3")
    parser.add_argument("--no-original", action="store_true", help="skip the original's settings")
    parser.add_argument("--no-ksg", action="store_true", help="skip the KSG column")
    parser.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--json", default=None, help="also write every number to this file")
    parser.add_argument(
        "--coverage",
        type=int,
        default=0,
        metavar="R",
        help="also run the coverage study with R data sets (e.g. 100)",
    )
    parser.add_argument("--no-table", action="store_true", help="skip the suite table")
    args = parser.parse_args()

    import gmmmi

    rows, coverage = [], []
    if not args.no_table:
        rows, _ = suite_table(args)
    if args.coverage:
        coverage = coverage_study(args.coverage)
    if args.json:
        meta = {
            "gmmmi": gmmmi.__version__,
            "cores": os.cpu_count(),
            "load": os.getloadavg(),
            "seed": args.seed,
            "tolerance": {"rel": REL_TOL, "abs": ABS_TOL},
        }
        payload = {"meta": meta, "rows": rows, "coverage": coverage}
        Path(args.json).write_text(json.dumps(payload, indent=1))


def suite_table(args) -> tuple[list[dict], list[str]]:
    """Estimate every suite task with each column's estimator and print the table."""
    import gmmmi
    from gmmmi.datasets import robustness_suite

    suite = [ds for ds in robustness_suite() if args.only is None or args.only in ds.name]
    columns = ["defaults"] + ([] if args.no_original else ["original"])
    columns += [] if args.no_candidate else ["kmeans_p3"]
    warm = gmmmi.datasets.gaussian(0.6).sample(500, 0)
    for options in map(SETTINGS.get, columns):  # loads (or compiles) the kernels, untimed
        gmmmi.estimate(*warm, random_state=0, progress=False, **options)

    rows, samples = [], []
    for ds in suite:
        for n in args.n:
            x, y = ds.sample(n, sample_seed(ds.name, n, args.seed))
            row = {"name": ds.name, "n": n, "truth": ds.truth}
            for c in columns:
                row[c] = run_gmmmi(x, y, SETTINGS[c])
            print(
                f"{ds.name} N={n}: " + ", ".join(_cell(row[c], ds.truth)[0] for c in columns),
                file=sys.stderr,
                flush=True,
            )
            rows.append(row)
            samples.append((x, y))
    if not args.no_ksg:
        for row, res in zip(rows, run_ksg(samples, args.peer_python), strict=True):
            row["ksg"] = res
        columns.append("ksg")

    load = os.getloadavg()
    print(
        f"gmmmi {gmmmi.__version__}, {os.cpu_count()} cores, load {load[0]:.1f} "
        f"(1 min) at the end, python {platform.python_version()}\n"
    )
    print_table(rows, columns)
    return rows, columns


if __name__ == "__main__":
    main()
