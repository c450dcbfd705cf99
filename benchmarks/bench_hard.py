"""Hard-suite benchmark: gmmmi, KSG and the Gaussian (CCA) baseline on "Beyond Normal" tasks.

Run from the repository root::

    python benchmarks/bench_hard.py                    # N = 5000, every task
    python benchmarks/bench_hard.py --only student     # tasks whose name matches (repeatable)
    python benchmarks/bench_hard.py --no-ksg --json out.json
    python benchmarks/bench_hard.py --set bias_correction=false   # an option of estimate

For each task of `gmmmi.datasets.hard_suite()` one seeded sample (seed from
the name and N, as in bench_robustness.py) is given to

* ``gmmmi.estimate(x, y, random_state=0)``, the default call;
* KSG with k=3 (scikit-learn's, or the same algorithm on whole blocks:
  ``peer_ksg.py``), run in the peer's virtual environment;
* the Gaussian baseline: the MI of one Gaussian fitted to the sample,
  -1/2 sum ln(1 - r_i^2) over the canonical correlations r_i (CCA), from the
  log-determinants of the sample correlation matrix.

Per task it prints whether each estimate lies within max(10 %, 0.05 nat) of
the truth, whether gmmmi's 95 % interval (value ± 1.96 sd) covers it, and
whether a warning of class ``MisfitWarning`` fired (caught by class name, so
the column works whether or not the fit check is part of this checkout),
then the counts and the number of silent misses (outside tolerance, interval
missing the truth, no MisfitWarning). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_robustness import (  # noqa: E402
    DEFAULT_PEER_PYTHON,
    run_gmmmi,
    run_ksg,
    sample_seed,
    within,
)

Z95 = 1.959963984540054


def gaussian_baseline(x: np.ndarray, y: np.ndarray) -> float:
    """MI (nat) of one Gaussian fitted to (x, y): the canonical-correlation (CCA) formula."""
    x, y = np.atleast_2d(x.T).T, np.atleast_2d(y.T).T
    corr = np.corrcoef(np.hstack([x, y]), rowvar=False)
    dx = x.shape[1]
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return 0.5 * float(logdet(corr[:dx, :dx]) + logdet(corr[dx:, dx:]) - logdet(corr))


def covers(res: dict, truth: float) -> bool:
    """Whether gmmmi's 95 % interval (value ± 1.96 sd) contains the truth."""
    return "mi" in res and abs(res["mi"] - truth) <= Z95 * res["sd"]


def warned(res: dict) -> bool:
    """Whether a warning of class ``MisfitWarning`` fired."""
    return "MisfitWarning" in res.get("warnings", [])


def _mark(flag: bool) -> str:
    return "✓" if flag else "✗"


def print_table(rows: list[dict], with_ksg: bool) -> None:
    """The Markdown table of every task and the summary counts."""
    head = ["task", "truth", "gmmmi", "K", "within", "covers", "warned", "s"]
    head += (["KSG (k=3)", "within"] if with_ksg else []) + ["CCA", "within"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        g, t = row["gmmmi"], row["truth"]
        if "error" in g:
            cells = [f"error: {g['error'][:50]}", "", "✗", "✗", "", f"{g['seconds']:.1f}"]
        else:
            cells = [
                f"{g['mi']:.3f} ± {g['sd']:.3f}",
                str(g["n_components"]) + ("ᵀ" if g.get("transform") == "gaussianize" else ""),
                _mark(within(g["mi"], t)),
                _mark(covers(g, t)),
                "yes" if warned(g) else "no",
                f"{g['seconds']:.1f}",
            ]
        if with_ksg:
            cells += [f"{row['ksg']['mi']:.3f}", _mark(within(row["ksg"]["mi"], t))]
        cells += [f"{row['cca']:.3f}", _mark(within(row["cca"], t))]
        print(f"| {row['name']} | {t:.4f} | " + " | ".join(cells) + " |")
    n = len(rows)
    count = lambda f: sum(bool(f(r)) for r in rows)  # noqa: E731
    g_within = count(lambda r: within(r["gmmmi"].get("mi"), r["truth"]))
    g_cover = count(lambda r: covers(r["gmmmi"], r["truth"]))
    g_warn = count(lambda r: warned(r["gmmmi"]))
    silent = [
        r["name"]
        for r in rows
        if not (
            within(r["gmmmi"].get("mi"), r["truth"])
            or covers(r["gmmmi"], r["truth"])
            or warned(r["gmmmi"])
        )
    ]
    print()
    print(
        f"gmmmi: within {g_within}/{n}, interval covers {g_cover}/{n}, MisfitWarning {g_warn}/{n}; "
        f"silent misses {len(silent)}" + (f" ({', '.join(silent)})" if silent else "")
    )
    if with_ksg:
        print(f"KSG: within {count(lambda r: within(r['ksg']['mi'], r['truth']))}/{n}")
    print(f"CCA: within {count(lambda r: within(r['cca'], r['truth']))}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="sample size")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the samples")
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        help="keep tasks whose name contains it (repeat for several)",
    )
    parser.add_argument("--no-ksg", action="store_true", help="skip the KSG column")
    parser.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--json", default=None, help="also write every number to this file")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=JSON",
        help="an option of gmmmi.estimate, e.g. --set bias_correction=false (before/after runs)",
    )
    args = parser.parse_args()
    options = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}

    import gmmmi
    from gmmmi.datasets import gaussian, hard_suite

    suite = [ds for ds in hard_suite() if args.only is None or any(o in ds.name for o in args.only)]
    gmmmi.estimate(*gaussian(0.6).sample(500, 0), random_state=0, progress=False)  # warm-up

    rows, samples = [], []
    for ds in suite:
        x, y = ds.sample(args.n, sample_seed(ds.name, args.n, args.seed))
        row = {"name": ds.name, "n": args.n, "truth": ds.truth, "truth_error": ds.truth_error}
        row["gmmmi"] = run_gmmmi(x, y, options)
        row["cca"] = gaussian_baseline(x, y)
        g = row["gmmmi"]
        print(
            f"{ds.name}: truth {ds.truth:.4f}, gmmmi {g.get('mi', float('nan')):.4f} ± "
            f"{g.get('sd', float('nan')):.4f} K={g.get('n_components')} "
            f"({g['seconds']:.1f} s) {g.get('warnings', g.get('error'))}, CCA {row['cca']:.4f}",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
        samples.append((x, y))
    if not args.no_ksg:
        for row, res in zip(rows, run_ksg(samples, args.peer_python), strict=True):
            row["ksg"] = res

    load = os.getloadavg()
    print(
        f"gmmmi {gmmmi.__version__}, N={args.n}, {os.cpu_count()} cores, load {load[0]:.1f} "
        f"(1 min) at the end, python {platform.python_version()}\n"
    )
    print_table(rows, not args.no_ksg)
    if args.json:
        meta = {"gmmmi": gmmmi.__version__, "load": load, "seed": args.seed, "n": args.n}
        meta["options"] = options
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
