"""Core benchmark: gmmmi against the original GMM-MI (gmm-mi 0.8.2) on the same data, same run.

Run from the repository root::

    python benchmarks/bench_core.py                      # everything (the peer takes minutes)
    python benchmarks/bench_core.py --no-peer --no-large  # gmmmi only, quick
    python benchmarks/bench_core.py --memory-plot docs/images/memory_scaling.png

For each case (the README example, N=200; a Gaussian with rho=0.6 at N=10 000;
the paper's mixtures D3 and D5 at N=2 000) it prints the truth, the original's
MI ± sd and time (measured inside the peer process around
``EstimateMI().fit_estimate(X)``, defaults, ``OPENBLAS_NUM_THREADS=1``), and
gmmmi's MI ± sd and warm time with ``gmmmi.estimate(X, random_state=0)``
(defaults: ``integral_method="quad"``) and with ``integral_method="mc"`` (the
original's default integral). Warm means Numba's compiled kernels are cached
(one untimed call first); the cold first call in a fresh process with an empty
Numba cache is reported separately (wall and CPU time, and the same with the
cache filled: a fresh Dask worker with a shared ``NUMBA_CACHE_DIR``), as is the
whole estimate at N=10^6 and N=10^7 (wall and CPU time and peak resident memory
of a fresh process).

This is a benchmark, not a test: it prints ratios against the targets (>= 100x
faster, |dMI| <= 0.01, sd within 25 %) and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "peer_gmm_mi.py"
DEFAULT_PEER_PYTHON = "/opt/gmmmi-peer/bin/python"
RHO = 0.6
GAUSSIAN_TRUTH = -0.5 * np.log(1 - RHO**2)  # nat
TARGET_SPEEDUP, TARGET_DMI, TARGET_SD_RATIO = 100.0, 0.01, 0.25


@dataclass
class Case:
    """One benchmark data set: a name, an (n, 2) array and its true MI (nat)."""

    name: str
    X: np.ndarray
    truth: float


def gaussian_sample(n: int, seed: int) -> np.ndarray:
    """(n, 2) samples of a unit-variance Gaussian with correlation RHO, as in the README."""
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], n)


def lognormal_pairs(n: int, seed: int) -> np.ndarray:
    """(n, 4) log-normal columns x1, x2, y1, y2: exp of Gaussians, x_i ~ y_i correlated RHO.

    The pairs are independent, so the MI between (x1, x2) and (y1, y2) is 2 x GAUSSIAN_TRUTH.
    """
    rng = np.random.default_rng(seed)
    pairs = [rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], n) for _ in range(2)]
    return np.exp(np.column_stack([pairs[0][:, 0], pairs[1][:, 0], pairs[0][:, 1], pairs[1][:, 1]]))


def _gaussian_logpdf_1d(x, mean, var):
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def mixture_mi_on_grid(name: str, n_grid: int = 1601) -> float:
    """True MI (nat) of a 2-D paper mixture by a fine uniform-grid integral (error << 1e-5).

    Parameters
    ----------
    name : str
        A key of `gmmmi.datasets.PAPER_MIXTURES`.
    n_grid : int, default 1601
        Grid points per axis, spanning every component's mean ± 9 sd.
    """
    from gmmmi.datasets import PAPER_MIXTURES

    w, m, c = (np.asarray(a, dtype=float) for a in PAPER_MIXTURES[name])
    sd = np.sqrt(np.diagonal(c, axis1=1, axis2=2))
    lo, hi = (m - 9 * sd).min(axis=0), (m + 9 * sd).max(axis=0)
    gx, gy = (np.linspace(lo[j], hi[j], n_grid) for j in range(2))
    dx, dy = gx[1] - gx[0], gy[1] - gy[0]
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    joint = np.zeros_like(X)
    for wk, mk, ck in zip(w, m, c, strict=True):
        prec = np.linalg.inv(ck)
        u, v = X - mk[0], Y - mk[1]
        quad = prec[0, 0] * u * u + 2 * prec[0, 1] * u * v + prec[1, 1] * v * v
        joint += wk * np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(ck)))
    px = np.exp(_gaussian_logpdf_1d(gx[:, None], m[:, 0], c[:, 0, 0])) @ w
    py = np.exp(_gaussian_logpdf_1d(gy[:, None], m[:, 1], c[:, 1, 1])) @ w
    ratio = np.where(joint > 0, joint / np.maximum(px[:, None] * py[None, :], 1e-300), 1.0)
    return float(np.sum(joint * np.log(ratio)) * dx * dy)


def make_cases() -> list[Case]:
    """The four comparison cases of the benchmark, each with a fixed seed."""
    from gmmmi.datasets import paper_mixture

    cases = [
        Case("README N=200", gaussian_sample(200, seed=0), float(GAUSSIAN_TRUTH)),
        Case("rho=0.6 N=10000", gaussian_sample(10_000, seed=1), float(GAUSSIAN_TRUTH)),
    ]
    for seed, name in enumerate(("D3", "D5"), start=2):
        X = paper_mixture(name).sample(2000, np.random.default_rng(seed))[0]
        cases.append(Case(f"{name} N=2000", np.ascontiguousarray(X), mixture_mi_on_grid(name)))
    return cases


def run_peer(X: np.ndarray, peer_python: str) -> dict:
    """Run the original gmm-mi on `X` in its own venv (timed inside that process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npy"
        np.save(path, X)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        out = subprocess.run(
            [peer_python, str(PEER_SCRIPT), str(path)],
            env=env,
            capture_output=True,
            text=True,
        )
    if out.returncode != 0:
        raise RuntimeError(f"gmm-mi failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_gmmmi(X: np.ndarray, repeats: int, **options) -> dict:
    """Warm timing of ``gmmmi.estimate(X, random_state=0, **options)``: median of `repeats` calls.

    One untimed call first compiles (or loads from cache) every kernel it needs.
    """
    import gmmmi

    gmmmi.estimate(X, random_state=0, progress=False, **options)
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        res = gmmmi.estimate(X, random_state=0, progress=False, **options)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    mi, sd = res
    out = {
        "mi": mi,
        "sd": sd,
        "seconds": float(np.median(times)),
        "cpu_seconds": float(np.median(cpu_times)),
        "n_components": res.n_components,
    }
    if options.get("integral_method") == "mc":
        out |= time_mc_integrals(res)
    out |= time_fit_check(res, X)
    return out


def time_fit_check(res, X: np.ndarray) -> dict:
    """The goodness-of-fit check every estimate makes, timed alone on the estimate's fit.

    ``res.fit_check`` is made inside ``gmmmi.estimate`` (and timed with it); this
    repeats it on the same fit and data to give its share of the estimate's time.
    """
    from gmmmi.fit_check import automatic_check
    from gmmmi.margins import apply_maps

    data = apply_maps(res.transform, X)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        automatic_check(res.diagnostics.reference_fit, data)
        times.append(time.perf_counter() - start)
    return {"fit_check_seconds": float(np.median(times)), "fit_ok": bool(res.fit_check.ok)}


def time_mc_integrals(res) -> dict:
    """The floor of an MC estimate: drawing and evaluating its points alone, on its own fits.

    Times the Monte Carlo integral of the full-data fit and every bootstrap fit of `res`
    (``MC_samples`` points each), and counts the fits integrated in closed form instead
    (one Gaussian: no points drawn).
    """
    from gmmmi.integrate import mutual_information
    from gmmmi.mixture import MixtureDraws

    fits = MixtureDraws.concatenate([res.diagnostics.reference_fit, res.mixture])
    n_points = int(res.meta["options"]["MC_samples"])
    x, y = res.meta["blocks"]["x"], res.meta["blocks"]["y"]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    result = mutual_information(fits, x, y, method="mc", mc_samples=n_points, rng=rng)
    seconds = time.perf_counter() - start
    sampled = int(np.count_nonzero(result.errors > 0))
    return {
        "mc_integral_seconds": seconds,
        "mc_points": sampled * n_points,
        "mc_closed_form_fits": fits.n_draws - sampled,
    }


_FRESH_PROCESS = """
import resource, sys, time, json
sys.path.insert(0, sys.argv[3])
def cpu():  # this process and its ended children (gmmmi._precompile's helper process)
    r, c = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime
t0, c0 = time.perf_counter(), cpu()
import numpy as np
import gmmmi
X = np.load(sys.argv[1])
dx = int(sys.argv[2])
t1, c1 = time.perf_counter(), cpu()
mi, sd = gmmmi.estimate(X[:, :dx], X[:, dx:], random_state=0, progress=False)
t2 = time.perf_counter()
from gmmmi import _precompile
_precompile.wait()  # a cold start's helper may still compile kernels for later: its CPU counts
c2 = cpu()
print(json.dumps({"mi": mi, "sd": sd, "import_s": t1 - t0, "estimate_s": t2 - t1,
                  "import_cpu_s": c1 - c0, "estimate_cpu_s": c2 - c1,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_fresh_process(X: np.ndarray, *, empty_numba_cache: bool, dx: int = 1) -> dict:
    """``gmmmi.estimate`` with defaults in a new interpreter: times, and peak RSS of that process.

    x is the first `dx` columns of `X`, y the rest. With `empty_numba_cache`, Numba compiles
    every kernel from scratch (a cold first call); otherwise the process reuses the cache the
    warm runs filled (a fresh Dask worker with a shared ``NUMBA_CACHE_DIR``). Returns the
    wall and CPU (user + sys of the child, every thread, with all of the helper process that
    compiles kernels during a cold start, which may go on after the estimate) seconds of the
    import and of the estimate, the peak RSS in MB (``resource.getrusage``) and the
    process's whole wall time.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npy"
        np.save(path, X)
        env = dict(os.environ, GMMMI_PROGRESS="0")
        import gmmmi  # the child imports the copy this process measures, not its cwd's

        root = str(Path(gmmmi.__file__).resolve().parent.parent)
        if empty_numba_cache:
            env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba_cache")
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS, str(path), str(dx), root],
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"gmmmi failed in a fresh process:\n{out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "process_s": wall}


#: rows of the memory sweep (``--memory-plot``): 2 columns, rho=0.6, fresh process each
MEMORY_SWEEP = (10_000, 100_000, 1_000_000, 3_000_000, 10_000_000)


def memory_sweep(path: Path) -> list[dict]:
    """Peak RSS, wall and CPU time of one default estimate per N of `MEMORY_SWEEP`; a plot.

    Each N runs in a fresh process with the Numba cache filled (`run_fresh_process`), so
    the peak includes the imported libraries; the data alone take 16 bytes per row. The
    plot (peak RSS and the data's size against N, log-log) is written to `path`.
    """
    import matplotlib.pyplot as plt

    runs = []
    for n in MEMORY_SWEEP:
        run = run_fresh_process(gaussian_sample(n, seed=4), empty_numba_cache=False)
        runs.append({"n": n, **run, "load": os.getloadavg()[0]})
        print(
            f"N={n:.0e}: peak RSS {run['maxrss_mb']:.0f} MB, estimate {run['estimate_s']:.1f} s "
            f"wall / {run['estimate_cpu_s']:.1f} s CPU; MI {_pm(run['mi'], run['sd'])}; "
            f"load {runs[-1]['load']:.1f}",
            flush=True,
        )
    n = np.array([r["n"] for r in runs], dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.loglog(n, [r["maxrss_mb"] for r in runs], "o-", label="peak RSS of the process")
    ax.loglog(n, 16 * n / 2**20, "--", color="grey", label="the data (16 bytes per row)")
    ax.axhline(1536, color="tab:red", lw=0.8, ls=":", label="1.5 GB target at N = 10⁷")
    ax.set_xlabel("rows N (2 columns)")
    ax.set_ylabel("MB")
    ax.set_title("gmmmi.estimate, defaults, fresh process", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"memory plot written to {path}")
    return runs


def _pm(mi: float, sd: float | None) -> str:
    return f"{mi:.4f} ± {sd:.4f}" if sd is not None else f"{mi:.4f}"


def table_rows(case: Case, peer: dict | None, ours: dict, label: str) -> list[str]:
    """One markdown table row comparing gmmmi (`ours`, integral `label`) with the peer."""
    cells = [f"{case.name} ({label})", f"{case.truth:.4f}"]
    if peer is None:
        cells += ["—", _pm(ours["mi"], ours["sd"]), "—", "—", "—", f"{ours['seconds']:.3f}"]
        cells += ["—", "—"]
    else:
        cells += [
            _pm(peer["mi"], peer["sd"]),
            _pm(ours["mi"], ours["sd"]),
            f"{abs(ours['mi'] - peer['mi']):.4f}",
            f"{ours['sd'] / peer['sd']:.2f}",
            f"{peer['seconds']:.2f}",
            f"{ours['seconds']:.3f}",
            f"{peer['seconds'] / ours['seconds']:.0f}×",
            f"{peer['cpu_seconds'] / ours['cpu_seconds']:.0f}×",
        ]
    return ["| " + " | ".join(cells) + " |"]


HEADER = [
    "| case | truth | gmm-mi MI ± sd | gmmmi MI ± sd | abs ΔMI | sd ratio | gmm-mi s "
    "| gmmmi s | speed-up (wall) | speed-up (CPU) |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def verdicts(results: list[tuple[Case, dict, dict]]) -> list[str]:
    """Each comparison against the targets, as readable lines."""
    lines = []
    for case, peer, ours in results:
        speed = peer["seconds"] / ours["seconds"]
        cpu_speed = peer["cpu_seconds"] / ours["cpu_seconds"]
        dmi = abs(ours["mi"] - peer["mi"])
        sd_off = abs(ours["sd"] / peer["sd"] - 1)
        flags = [
            f"speed-up {speed:.0f}× wall ({'ok' if speed >= TARGET_SPEEDUP else 'BELOW'} ≥100×)",
            f"{cpu_speed:.0f}× CPU ({'ok' if cpu_speed >= TARGET_SPEEDUP else 'BELOW'})",
            f"|ΔMI| {dmi:.4f} ({'ok' if dmi <= TARGET_DMI else 'ABOVE'} ≤0.01)",
            f"sd off by {sd_off:.0%} ({'ok' if sd_off <= TARGET_SD_RATIO else 'ABOVE'} ≤25%)",
        ]
        lines.append(f"{case.name} [{ours['label']}]: " + "; ".join(flags))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="gmmmi vs the original gmm-mi.")
    parser.add_argument("--peer-python", default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--no-peer", action="store_true", help="skip the original gmm-mi")
    parser.add_argument("--no-large", action="store_true", help="skip the N=10^6 and 10^7 runs")
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the first calls in fresh processes"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed warm calls (median)")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument(
        "--memory-plot",
        type=Path,
        metavar="PNG",
        help="only the memory sweep (N = 1e4 .. 1e7, fresh processes), plotted to PNG",
    )
    args = parser.parse_args()
    if args.memory_plot:
        runs = memory_sweep(args.memory_plot)
        if args.json:
            args.json.write_text(json.dumps(runs, indent=2, default=float))
        return

    import gmmmi

    print(
        f"gmmmi {gmmmi.__version__}, numba threads {os.environ.get('NUMBA_NUM_THREADS', 'all')}, "
        f"{os.cpu_count()} cpus",
        flush=True,
    )
    rows, compared, record = list(HEADER), [], {"cases": []}
    for case in make_cases():
        peer = None if args.no_peer else run_peer(case.X, args.peer_python)
        entry = {"case": case.name, "truth": case.truth, "gmm_mi": peer}
        for label in ("quad", "mc"):
            ours = run_gmmmi(case.X, args.repeats, integral_method=label) | {"label": label}
            entry[f"gmmmi_{label}"] = ours
            rows += table_rows(case, peer, ours, label)
            if peer is not None:
                compared.append((case, peer, ours))
        record["cases"].append(entry)
        print(rows[-2], rows[-1], sep="\n", flush=True)

    print("\n".join(["", *rows, "", *verdicts(compared)]))
    print("\nMC rows against their floor (the MC integrals alone, on the same fits):")
    for entry in record["cases"]:
        mc = entry["gmmmi_mc"]
        if mc["mc_points"] == 0:
            print(f"{entry['case']}: every fit in closed form, no points drawn")
            continue
        per_point = mc["mc_integral_seconds"] / mc["mc_points"] * 1e9 * (os.cpu_count() or 1)
        print(
            f"{entry['case']}: estimate {mc['seconds']:.3f} s, of which drawing and evaluating "
            f"{mc['mc_points']:.2g} points {mc['mc_integral_seconds']:.3f} s "
            f"({per_point:.0f} core-ns per point); {mc['mc_closed_form_fits']} fits in closed form"
        )
    print("\nThe fit check inside each estimate (timed alone on the same fit, median of 3):")
    for entry in record["cases"]:
        quad = entry["gmmmi_quad"]
        share = quad["fit_check_seconds"] / quad["seconds"]
        print(
            f"{entry['case']}: {quad['fit_check_seconds'] * 1e3:.1f} ms of {quad['seconds']:.3f} s "
            f"({share:.1%} of the estimate); fit ok: {quad['fit_ok']}"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")

    if not args.no_cold:
        cases = make_cases()
        readme, d3 = cases[0], cases[2]
        for key, case, label, empty in (
            ("cold", readme, "empty Numba cache", True),
            ("cold_d3", d3, "empty Numba cache", True),  # K > 1: integrands, resampling
            ("fresh_warm_cache", readme, "warm Numba cache", False),
        ):
            cold = run_fresh_process(case.X, empty_numba_cache=empty)
            record[key] = cold
            print(
                f"\nFirst call in a fresh process ({case.name}, {label}): estimate "
                f"{cold['estimate_s']:.1f} s wall / {cold['estimate_cpu_s']:.1f} s CPU "
                f"(+ import {cold['import_s']:.1f} s / {cold['import_cpu_s']:.1f} s CPU; "
                f"process {cold['process_s']:.1f} s); MI {_pm(cold['mi'], cold['sd'])}; "
                f"load {os.getloadavg()[0]:.1f}"
            )
    if not args.no_large:
        for n, target_mb in ((1_000_000, 2048), (10_000_000, 1536)):
            large = run_fresh_process(gaussian_sample(n, seed=4), empty_numba_cache=False)
            record["large" if n == 1_000_000 else "huge"] = large
            print(
                f"N={n:.0e}, rho=0.6 (fresh process, warm cache, quad): "
                f"estimate {large['estimate_s']:.1f} s wall / {large['estimate_cpu_s']:.1f} s "
                f"CPU (target < 60 s wall), peak RSS {large['maxrss_mb']:.0f} MB (target < "
                f"{target_mb} MB); MI {_pm(large['mi'], large['sd'])} vs truth "
                f"{GAUSSIAN_TRUTH:.4f}; load {os.getloadavg()[0]:.1f}"
            )
    if not args.no_large:
        # the same 2 + 2 columns before and after exp: the maps' cost is the difference
        lognormal = lognormal_pairs(1_000_000, seed=4)
        for name, X in (("log-normal", lognormal), ("Gaussian", np.log(lognormal))):
            run = run_fresh_process(X, empty_numba_cache=False, dx=2)
            record[f"large_4_{name}"] = run
            print(
                f"N=10^6, 2 + 2 {name} columns, x_i ~ y_i with rho=0.6 (fresh process, warm "
                f"cache): estimate {run['estimate_s']:.1f} s, peak RSS {run['maxrss_mb']:.0f} "
                f"MB; MI {_pm(run['mi'], run['sd'])} vs truth {2 * GAUSSIAN_TRUTH:.4f}"
            )
    if args.json:
        args.json.write_text(json.dumps(record, indent=2, default=float))


if __name__ == "__main__":
    main()
