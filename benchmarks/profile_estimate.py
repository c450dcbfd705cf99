"""Where the time of ``gmmmi.estimate`` goes, per benchmark case (a profiling aid, not a test).

Run from the repository root::

    python benchmarks/profile_estimate.py                 # breakdown of every case
    python benchmarks/profile_estimate.py --cprofile D3   # plus cProfile's top functions
    NUMBA_NUM_THREADS=1 python benchmarks/profile_estimate.py   # single-thread CPU

For each case of ``benchmarks/bench_core.py`` (README N=200, rho=0.6 N=10 000,
D3 and D5 at N=2 000) it runs ``gmmmi.estimate(X, random_state=0)`` warm (one
untimed call first) and prints, as the median over ``--repeats`` calls, the
wall and CPU (``time.process_time``: every thread of the process, Numba's
included, so threads that spin are counted) seconds of the whole call and of
each stage: validation, the point-mass and copy/function screens (the screen
with the one sort of each column that it, the point masses, the serial check
and the outlier check share), the serial-dependence check, the margins'
``"auto"`` maps (their 1-D searches included), the K search (with ``"auto"``'s
searches of the raw data, which the fit reuses, and of the mapped data), the
full-data fit, the fit check, the bootstrap, the sharp-relation check, the
integrals, the misfit check and the Result. The stages are measured by
wrapping the module-level functions that do them; a stage called inside
another is counted once, in the inner stage (the outer one keeps only its own
time), and ``rest`` is what no wrapped function covers. Run it with
``PYTHONPATH=.`` so that the working tree's gmmmi is the one measured.

``--checks R`` times the checks around the fit alone, each more precisely than a
stage of one call can be: every check function (`CHECKS`) is re-called R times
on the arguments it received in a warm estimate, and the median CPU
milliseconds are printed per check and case (a function that a checkout does
not have is left out, so an older checkout can be measured for a before/after).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (module, attribute, stage) of every wrapped function, in the order of the pipeline
_PARTS = (
    ("gmmmi.api", "validate_data", "validation"),
    # one sort of each column, shared by the point masses, the screen, the serial check and the
    # outlier check (gmmmi._rows.column_orders): counted in "screen"
    ("gmmmi.api", "column_orders", "screen"),
    ("gmmmi._prepare", "standardise", "validation"),
    ("gmmmi._prepare", "_check_fittable", "validation"),
    ("gmmmi.api", "plan_columns", "point masses"),
    ("gmmmi._prepare", "screen", "screen"),
    ("gmmmi._prepare", "warn_outliers", "screen"),
    ("gmmmi._prepare", "resolve_bootstrap", "serial check"),
    # the margins' own 1-D searches (gmmmi._em.select.select_components, not wrapped) count
    # in "margins"; auto's searches of the raw and mapped data (heldout_score) in "K search"
    ("gmmmi._prepare", "choose_margins", "margins"),
    ("gmmmi._em.procedure", "select_components", "K search"),
    ("gmmmi._em.select", "full_data_fit", "full fit"),
    ("gmmmi._em.scale_mixture", "consider", "scale mixture"),
    ("gmmmi._em.procedure", "_check", "fit check"),
    ("gmmmi._em.procedure", "widen_search", "wider search"),
    ("gmmmi._em.procedure", "_bootstrap", "bootstrap"),
    ("gmmmi.api", "warn_unresolved", "sharp check"),
    ("gmmmi.api", "_integrate_all", "integrals"),
    ("gmmmi.api", "check_estimate", "misfit check"),
    ("gmmmi.api", "_to_data_units", "result"),
    ("gmmmi.api", "Result", "result"),
    ("gmmmi.api", "warn_few_rows", "result"),
)
STAGES = tuple(dict.fromkeys(part for _, _, part in _PARTS))

#: (check, functions) of ``--checks``: the functions of each check, as `_PARTS` names them
CHECKS = (
    ("validation (standardise, dependent columns)", ("standardise", "_check_fittable")),
    ("point-mass plan", ("plan_columns",)),
    ("one sort per column", ("column_orders",)),
    ("screen (copies, atoms, functions, curves)", ("screen",)),
    ("serial-dependence check", ("resolve_bootstrap",)),
    ("outlier check", ("warn_outliers",)),
    ("scale-mixture gate", ("consider",)),
    ("fit check", ("_check",)),
    ("sharp-relation check", ("warn_unresolved",)),
    ("misfit check", ("check_estimate",)),
)


def time_checks(X: np.ndarray, repeats: int) -> dict:
    """Median CPU ms of each function of `CHECKS`, re-called on the arguments of one estimate."""
    import importlib

    import gmmmi

    wanted = {name for _, names in CHECKS for name in names}
    captured, saved = {}, []
    for module_name, attr, _ in _PARTS:
        module = importlib.import_module(module_name)
        original = getattr(module, attr, None)
        if attr not in wanted or original is None:
            continue
        saved.append((module, attr, original))

        def capture(*args, _f=original, _name=attr, **kwargs):
            captured.setdefault(_name, (_f, args, kwargs))
            return _f(*args, **kwargs)

        setattr(module, attr, capture)
    try:
        gmmmi.estimate(X, random_state=0, progress=False)
    finally:
        for module, attr, original in saved:
            setattr(module, attr, original)
    out = {}
    for name, (func, args, kwargs) in captured.items():
        times = []
        for _ in range(repeats):
            start = time.process_time()
            func(*args, **kwargs)
            times.append(time.process_time() - start)
        out[name] = float(np.median(times)) * 1e3
    return out


class _Clock:
    """Accumulates wall and CPU seconds per stage while installed (inner stages count once)."""

    def __init__(self):
        self.wall = defaultdict(float)
        self.cpu = defaultdict(float)
        self._saved = []
        self._stack = []  # [wall, cpu] seconds of the wrapped calls inside each open call

    def install(self):
        import importlib

        for module_name, attr, part in _PARTS:
            module = importlib.import_module(module_name)
            original = getattr(module, attr, None)
            if original is None:
                raise RuntimeError(f"{module_name}.{attr} is gone: update _PARTS to the pipeline")
            self._saved.append((module, attr, original))
            setattr(module, attr, self._wrap(original, part))

    def uninstall(self):
        for module, attr, original in reversed(self._saved):
            setattr(module, attr, original)
        self._saved.clear()

    def _wrap(self, func, part):
        def timed(*args, **kwargs):
            self._stack.append([0.0, 0.0])
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                inner_wall, inner_cpu = self._stack.pop()
                self.wall[part] += wall - inner_wall
                self.cpu[part] += cpu - inner_cpu
                if self._stack:
                    self._stack[-1][0] += wall
                    self._stack[-1][1] += cpu

        return timed


def breakdown(X: np.ndarray, repeats: int, **options) -> dict:
    """Median wall/CPU seconds of the whole estimate and of each part, and the result."""
    import gmmmi

    gmmmi.estimate(X, random_state=0, progress=False, **options)  # warm
    runs = []
    for _ in range(repeats):
        clock = _Clock()
        clock.install()
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            res = gmmmi.estimate(X, random_state=0, progress=False, **options)
        finally:
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            clock.uninstall()
        parts = {p: (clock.wall[p], clock.cpu[p]) for p in STAGES}
        parts["rest"] = (
            wall - sum(w for w, _ in parts.values()),
            cpu - sum(c for _, c in parts.values()),
        )
        runs.append({"total": (wall, cpu), **parts})
    med = {k: tuple(float(np.median([r[k][i] for r in runs])) for i in (0, 1)) for k in runs[0]}
    mi, sd = res
    return {"parts": med, "mi": mi, "sd": sd, "K": res.n_components}


def main() -> None:
    parser = argparse.ArgumentParser(description="Time breakdown of gmmmi.estimate.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cprofile", metavar="CASE", help="cProfile one case (name prefix)")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows shown")
    parser.add_argument("--only", metavar="CASE", help="only the cases whose name starts so")
    parser.add_argument(
        "--checks", type=int, metavar="R", help="time the checks alone, R calls each (see top)"
    )
    args = parser.parse_args()

    from bench_core import make_cases

    import gmmmi

    cases = [c for c in make_cases() if not args.only or c.name.startswith(args.only)]
    if args.checks:
        import warnings

        warnings.simplefilter("ignore")  # the checks' warnings, repeated R times
        timed = {case.name: time_checks(case.X, args.checks) for case in cases}
        print(
            f"CPU ms per check (median of {args.checks} calls; load {os.getloadavg()[0]:.1f}; "
            f"gmmmi from {Path(gmmmi.__file__).parent})"
        )
        print("| check | " + " | ".join(timed) + " |")
        print("|---|" + "---:|" * len(timed))
        for check, names in (*CHECKS, ("**all checks**", tuple(n for _, c in CHECKS for n in c))):
            cells = [sum(t.get(n, 0.0) for n in names) for t in timed.values()]
            print(f"| {check} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
        return
    names = [*STAGES, "rest", "total"]
    outs = {}
    for case in cases:
        outs[case.name] = out = breakdown(case.X, args.repeats)
        print(f"{case.name}: MI {out['mi']:.4f} ± {out['sd']:.4f} (K={out['K']})", flush=True)
    print(
        f"\nms as wall / CPU (median of {args.repeats} warm calls; load {os.getloadavg()[0]:.1f})"
    )
    print("| stage | " + " | ".join(outs) + " |")
    print("|---|" + "---:|" * len(outs))
    for n in names:
        cells = [
            f"{o['parts'][n][0] * 1e3:.1f} / {o['parts'][n][1] * 1e3:.1f}" for o in outs.values()
        ]
        print(f"| {n} | " + " | ".join(cells) + " |")
    if args.cprofile:
        case = next(c for c in make_cases() if c.name.startswith(args.cprofile))
        gmmmi.estimate(case.X, random_state=0, progress=False)
        prof = cProfile.Profile()
        prof.enable()
        gmmmi.estimate(case.X, random_state=0, progress=False)
        prof.disable()
        print(f"\ncProfile of {case.name} (cumulative):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
