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

``warm`` instead times the compiled EM kernel (`em_fit_batch`, one thread) on fixed
batches: the CPU milliseconds of one call, median of 7 rounds of 5 calls; run it with
``PYTHONPATH`` at two checkouts, alternately, to compare a kernel change's warm speed.
Run from the repository root: the checkout on ``sys.path`` (``PYTHONPATH``) is measured.
The helper process of `gmmmi._precompile` is turned off (``GMMMI_PRECOMPILE=0``) unless
set, so that this process compiles, and lists, every kernel.
"""

from __future__ import annotations

import argparse
import os
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


def _batch(rng: np.random.Generator, n: int, d: int, K: int, fits: int, boot: bool) -> tuple:
    """Arguments of `em_fit_batch`: ``fits`` fits of K components on n rows (d columns).

    Cross-validation-like sets (4/5 of the rows, weights 1, validated on the rest) or, with
    ``boot``, bootstrap replicas (distinct rows with counts, no validation rows).
    """
    X = rng.normal(size=(n, d))
    X[: n // 2] += 2.0  # two clusters, so that K > 1 fits iterate
    rows, weights, valid, ptr, vptr = [], [], [], [0], [0]
    for _ in range(fits):
        if boot:
            counts = np.bincount(rng.integers(0, n, n), minlength=n)
            r = np.flatnonzero(counts)
            rows.append(r)
            weights.append(counts[r].astype(np.float64))
        else:
            held = rng.random(n) < 0.2
            rows.append(np.flatnonzero(~held))
            weights.append(np.ones(int((~held).sum())))
            valid.append(np.flatnonzero(held))
            vptr.append(vptr[-1] + len(valid[-1]))
        ptr.append(ptr[-1] + len(rows[-1]))
    if boot:
        vptr = [0, 0]
    vrows = np.concatenate(valid) if valid else np.zeros(0, dtype=np.int64)
    starts = X[rng.integers(0, n, (fits, K))]
    return (
        X,
        np.concatenate(rows).astype(np.int64),
        np.concatenate(weights),
        np.array(ptr, dtype=np.int64),
        np.arange(fits, dtype=np.int64),
        vrows.astype(np.int64),
        np.ones(len(vrows)),
        np.array(vptr, dtype=np.int64),
        np.arange(fits, dtype=np.int64) if not boot else np.zeros(fits, dtype=np.int64),
        np.full((fits, K), 1.0 / K),
        np.ascontiguousarray(starts),
        np.tile(np.eye(d), (fits, K, 1, 1)),
        1e-6,
        1e-5,
        100,
        0,
        True,
    )


def warm() -> None:
    """CPU ms per `em_fit_batch` call on fixed batches (median of 7 rounds of 5 calls)."""
    from gmmmi._kernels.em import em_fit_batch

    cases = (
        ("N=200 d=2: 5 CV fits K=2", 200, 2, 2, 5, False),
        ("N=200 d=2: 50 bootstrap fits K=1", 200, 2, 1, 50, True),
        ("N=1e4 d=2: 5 CV fits K=2", 10_000, 2, 2, 5, False),
        ("N=1e4 d=2: 50 bootstrap fits K=1", 10_000, 2, 1, 50, True),
        ("N=2000 d=3: 5 CV fits K=3", 2000, 3, 3, 5, False),
        ("N=2000 d=4: 5 CV fits K=2", 2000, 4, 2, 5, False),
    )
    for name, n, d, K, fits, boot in cases:
        args = _batch(np.random.default_rng(n + d + K), n, d, K, fits, boot)
        out = em_fit_batch(*args)
        rounds = []
        for _ in range(7):
            start = time.process_time()
            for _ in range(5):
                em_fit_batch(*args)
            rounds.append((time.process_time() - start) / 5)
        iters = int(out[3].sum())
        print(f"  {name:34s} {1e3 * np.median(rounds):8.3f} ms CPU  ({iters} iterations)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("readme", "d3", "warm"))
    parser.add_argument("--top", type=int, default=15, help="functions listed")
    args = parser.parse_args()
    if args.case == "warm":
        warm()
        return
    # every compilation in this process: no helper process compiling the EM kernel
    os.environ.setdefault("GMMMI_PRECOMPILE", "0")

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
