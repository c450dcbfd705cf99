"""Time the PyMC backend (cold and warm) with both NUTS samplers; print, not test.

Cases: the README example (rho = 0.6, n = 200) and the paper's D3 mixture
(n = 2000). Samplers: PyMC's own NUTS (``sampler="pymc"``) and nutpie
(``sampler="nutpie"``). Each (case, sampler) runs in a fresh process whose
PyTensor compile directory is empty, so "cold" includes compiling the model;
"warm" is a second estimate on other data of the same shape in the same
process; "rerun" is the warm estimate again in a second fresh process sharing the
first one's compile directory (a script run again: PyTensor's on-disk cache
is warm, nothing is held in memory). All use the defaults (2 chains x 1000
draws after 1000 tuning steps) through ``gmmmi.estimate``. "cpu s" is the
process's CPU time, a fairer measure than wall time on a shared machine (the
load average is printed).
"ESS/s" is the bulk ESS of MI per second of the sampler call (compiling
included when cold), "ESS/cpu s" per CPU second of it, "ESS/s all" per
second of the whole ``estimate`` call.

Usage::

    python benchmarks/bench_pymc.py                  # both cases, both samplers
    python benchmarks/bench_pymc.py readme           # one case, both samplers
    python benchmarks/bench_pymc.py readme:nutpie    # one case, one sampler
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

CASES = ("readme", "D3")
SAMPLERS = ("pymc", "nutpie")


def _data(case: str, seed: int):
    import numpy as np

    from gmmmi.datasets import paper_mixture

    rng = np.random.default_rng(seed)
    if case == "readme":
        return rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200)
    return paper_mixture("D3").sample(2000, rng)[0]


def _ess_bulk(values) -> float:
    import xarray as xr

    from gmmmi import _arviz
    from gmmmi._intervals import HDI_PROB

    ds = xr.Dataset({"mi": (("chain", "draw"), values)})
    return float(_arviz.summary(ds, var_names=["mi"], hdi_prob=HDI_PROB).loc["mi", "ess_bulk"])


def worker(case: str, sampler: str, runs: str) -> dict:
    """Run one case with one sampler in this (fresh) process; return timings in seconds.

    ``runs`` is "cold,warm" (then the Numba bootstrap is timed too) or "rerun".
    """
    t0 = time.perf_counter()
    import pymc  # noqa: F401

    import gmmmi

    out = {"case": case, "import_pymc": time.perf_counter() - t0, "load": os.getloadavg()[0]}
    seeds = {"cold": 0, "warm": 1, "rerun": 1}  # rerun: the same data as warm, same K
    for label in runs.split(","):
        seed = seeds[label]
        X = _data(case, seed)
        t0, c0 = time.perf_counter(), time.process_time()
        res = gmmmi.estimate(X, backend="pymc", sampler=sampler, random_state=seed)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        timings = res.diagnostics.extra["timings"]
        sampling, sampling_cpu = timings["sample"], timings["sample_cpu"]
        out[label] = {
            "total": elapsed,
            "cpu": cpu,
            "sampling": sampling,
            "sampling_cpu": sampling_cpu,
            "K": res.n_components,
            "mi": res.value,
            "sd": res.sd,
            "ess_bulk": _ess_bulk(res.draws["mi"]),
            "r_hat": float(res.summary().loc["mi", "r_hat"]),
            "divergences": res.diagnostics.extra["divergences"],
        }
    if "cold" not in runs:
        return out
    X = _data(case, 1)
    gmmmi.estimate(X, random_state=0)  # Numba compilation, if any
    t0 = time.perf_counter()
    boot = gmmmi.estimate(X, random_state=1)
    out["numba"] = {"total": time.perf_counter() - t0, "mi": boot.value, "sd": boot.sd}
    return out


def _run_case(case: str, sampler: str) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as compiledir:
        env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={compiledir}", GMMMI_PROGRESS="0")
        for runs in ("cold,warm", "rerun"):
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", case, sampler, runs],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def main(runs) -> None:
    print(
        f"{'case':7} {'sampler':7} {'run':5} {'total s':>8} {'cpu s':>6} {'sample s':>9} "
        f"{'K':>2} {'MI':>7} {'sd':>7} {'ESS':>6} {'ESS/s':>7} {'ESS/cpu s':>9} "
        f"{'ESS/s all':>9} {'R-hat':>6} {'div':>4}"
    )
    numba = {}
    for case, sampler in runs:
        r = _run_case(case, sampler)
        for label in ("cold", "warm", "rerun"):
            x = r[label]
            print(
                f"{case:7} {sampler:7} {label:5} {x['total']:8.1f} {x['cpu']:6.1f} "
                f"{x['sampling']:9.2f} {x['K']:2d} {x['mi']:7.4f} {x['sd']:7.4f} "
                f"{x['ess_bulk']:6.0f} {x['ess_bulk'] / x['sampling']:7.0f} "
                f"{x['ess_bulk'] / x['sampling_cpu']:9.0f} {x['ess_bulk'] / x['total']:9.0f} "
                f"{x['r_hat']:6.3f} {x['divergences']:4d}",
                flush=True,
            )
        print(
            f"{case:7} {sampler:7} import pymc took {r['import_pymc']:.1f} s; "
            f"load average {r['load']:.1f} on {os.cpu_count()} CPUs",
            flush=True,
        )
        numba[case] = r["numba"]
    for case, nb in numba.items():
        print(
            f"{case:7} numba   warm  {nb['total']:8.2f} MI {nb['mi']:7.4f} sd {nb['sd']:7.4f}"
            "   (bootstrap, 50 replicas)"
        )


def _runs(args):
    """(case, sampler) pairs from ``case`` or ``case:sampler`` arguments."""
    runs = []
    for arg in args or CASES:
        case, _, sampler = arg.partition(":")
        runs += [(case, s) for s in ((sampler,) if sampler else SAMPLERS)]
    return runs


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--worker"]:
        print(json.dumps(worker(*args[1:4])))
    else:
        main(_runs(args))
