"""Where the time of ``gmmmi.estimate`` goes, per benchmark case (a profiling aid, not a test).

Run from the repository root::

    python benchmarks/profile_estimate.py                 # breakdown of every case
    python benchmarks/profile_estimate.py --cprofile D3   # plus cProfile's top functions
    NUMBA_NUM_THREADS=1 python benchmarks/profile_estimate.py   # single-thread CPU

For each case of ``benchmarks/bench_core.py`` (README N=200, rho=0.6 N=10 000,
D3 and D5 at N=2 000) it runs ``gmmmi.estimate(X, random_state=0)`` warm (one
untimed call first) and prints, as the median over ``--repeats`` calls, the
wall and CPU (``time.process_time``, all threads) seconds of the whole call
and of its parts: cross-validation fits, full-data fits (the reference fit
and, with ``metric_method`` 'aic'/'bic', one per K), bootstrap fits,
integrals, and the rest (validation, standardising, Result). The parts are
measured by wrapping the module-level functions that do them, so the numbers
include their own Python overhead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: (module, attribute, part) of every wrapped function
_PARTS = (
    ("gmmmi._em.select", "cross_validate", "cv fits"),
    ("gmmmi._em.select", "full_data_fit", "full fits"),
    ("gmmmi._em.procedure", "bootstrap_fits", "bootstrap"),
    ("gmmmi.api", "_integrate_all", "integrals"),
)


class _Clock:
    """Accumulates wall and CPU seconds per part while installed."""

    def __init__(self):
        self.wall = defaultdict(float)
        self.cpu = defaultdict(float)
        self._saved = []

    def install(self):
        import importlib

        for module_name, attr, part in _PARTS:
            module = importlib.import_module(module_name)
            original = getattr(module, attr)
            self._saved.append((module, attr, original))
            setattr(module, attr, self._wrap(original, part))

    def uninstall(self):
        for module, attr, original in self._saved:
            setattr(module, attr, original)
        self._saved.clear()

    def _wrap(self, func, part):
        def timed(*args, **kwargs):
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.wall[part] += time.perf_counter() - w0
                self.cpu[part] += time.process_time() - c0

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
        parts = {p: (clock.wall[p], clock.cpu[p]) for _, _, p in _PARTS}
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
    args = parser.parse_args()

    from bench_core import make_cases

    import gmmmi

    cases = [c for c in make_cases() if not args.only or c.name.startswith(args.only)]
    names = [p for _, _, p in _PARTS] + ["rest", "total"]
    print(f"seconds as wall / cpu (median of {args.repeats} warm calls)")
    print(f"{'case':18s} " + " ".join(f"{n:>16s}" for n in names) + "   MI ± sd (K)")
    for case in cases:
        out = breakdown(case.X, args.repeats)
        cells = " ".join(f"{out['parts'][n][0]:7.3f}/{out['parts'][n][1]:7.3f}" for n in names)
        print(
            f"{case.name:18s} {cells}   {out['mi']:.4f} ± {out['sd']:.4f} ({out['K']})", flush=True
        )
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
