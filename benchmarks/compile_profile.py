"""Where the first call's compile time goes: CPU seconds per compiled function.

Run in a fresh process with an empty Numba cache, e.g.::

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py readme
    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py d3

It runs one default estimate (the README example, or the paper's D3 at N=2000, which
needs K > 1) and lists every compilation Numba made (gmmmi's kernels and the Numba
library functions they pulled in) with its CPU time exclusive of the compilations it
triggered, and the part of that spent in LLVM. Compiling a function compiles its callees
first, each on its own, and then again inside it: the exclusive time of a caller
includes that second pass over its callees. CPU time (this process, every thread) is
reported because the machine's load inflates wall time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba.core import event


class _CompileTimes(event.Listener):
    """CPU time of every ``numba:compile`` event, exclusive of nested ones, and its LLVM part."""

    def __init__(self):
        self.stack: list[list[float]] = []
        self.rows: list[tuple[float, float, str, str]] = []

    def on_start(self, ev):
        self.stack.append([time.process_time(), 0.0, 0.0])

    def on_end(self, ev):
        start, nested, llvm = self.stack.pop()
        total = time.process_time() - start
        if self.stack:
            self.stack[-1][1] += total
        func = getattr(ev.data.get("dispatcher"), "py_func", None)
        name = getattr(func, "__qualname__", str(ev.data.get("dispatcher")))
        self.rows.append((total - nested, llvm, name, str(ev.data.get("args"))))


class _LLVMTimes(event.Listener):
    """Adds the CPU time of each outermost ``numba:llvm_lock`` event to the current compile."""

    def __init__(self, compiles: _CompileTimes):
        self.compiles = compiles
        self.starts: list[float] = []

    def on_start(self, ev):
        self.starts.append(time.process_time())

    def on_end(self, ev):
        spent = time.process_time() - self.starts.pop()
        if self.compiles.stack and not self.starts:
            self.compiles.stack[-1][2] += spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("readme", "d3"))
    parser.add_argument("--top", type=int, default=15, help="functions listed")
    args = parser.parse_args()

    import gmmmi

    if args.case == "readme":
        rng = np.random.default_rng(0)
        X = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], 200)
    else:
        from gmmmi.datasets import paper_mixture

        X = paper_mixture("D3").sample(2000, np.random.default_rng(2))[0]
    compiles = _CompileTimes()
    event.register("numba:compile", compiles)
    event.register("numba:llvm_lock", _LLVMTimes(compiles))
    start = time.process_time()
    mi, sd = gmmmi.estimate(X[:, :1], X[:, 1:], random_state=0, progress=False)
    spent = time.process_time() - start
    compiled = sum(row[0] for row in compiles.rows)
    print(f"MI {mi:.4f} ± {sd:.4f}; estimate {spent:.2f} s CPU, of which compiling")
    print(f"{compiled:.2f} s ({len(compiles.rows)} compilations; LLVM part in brackets):")
    for own, llvm, name, types in sorted(compiles.rows, reverse=True)[: args.top]:
        print(f"  {own:6.2f} s ({llvm:5.2f}) {own / compiled:6.1%}  {name}  {types[:60]}")


if __name__ == "__main__":
    main()
