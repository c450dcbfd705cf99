"""Cost of ``transform="auto"`` against ``transform="none"`` (issue 21, item 3; issue 23).

Run from the repository root::

    python benchmarks/bench_prepare.py --repeats 3
    python benchmarks/bench_prepare.py --checkout /work/main --repeats 3   # another tree

For each case (a Gaussian with rho = 0.6 at N = 2000 and 10^4, the paper's
D3 and D5 at N = 2000) it times ``gmmmi.estimate(x, y, random_state=seed)``
with ``transform="auto"`` and ``"none"``, alternating the two, for seeds
1 .. ``--repeats`` after one warm-up call (compilation) with seed 0, and prints the median CPU
time (user + sys of this process, less sensitive to the machine's load than
wall time), the ratio auto / none and which margins "auto" kept. Issue 23
asks for a ratio of at most 1.3 where "auto" keeps the raw data.

With ``--checkout DIR`` the gmmmi of that tree is imported instead (to
compare two versions, run the script once per tree in one session and
compare ratios, each measured against its own ``"none"``).

Each repeat has its own seed: gmmmi before issue 21 kept the searches of
"auto" in a process-wide memo, and a repeat of the same call with the same
seed took the last call's mapped search from it (a saving no user call sees).

A benchmark, not a test: it never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings


def cases() -> dict:
    """Name -> (x, y) of the measured data sets."""
    import numpy as np

    from gmmmi.datasets import paper

    rng = np.random.default_rng(0)
    out = {}
    for n in (2000, 10_000):
        X = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], n)
        out[f"gaussian N={n}"] = (X[:, 0], X[:, 1])
    for name in ("D3", "D5"):
        out[f"{name} N=2000"] = paper(name).sample(2000, 3)
    return out


def cpu_seconds(fn) -> tuple[float, object]:
    """CPU time (user + sys of this process, all threads) of one call, and its value."""
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkout", default=None, help="import gmmmi from this tree")
    parser.add_argument("--cases", nargs="*", default=None, help="names' prefixes, e.g. D3 D5")
    args = parser.parse_args(argv)
    if args.checkout:
        sys.path.insert(0, os.path.abspath(args.checkout))
    import gmmmi

    print(f"gmmmi from {os.path.dirname(gmmmi.__file__)}; load {os.getloadavg()[0]:.2f}")
    print(f"{'case':<18} {'auto s':>8} {'none s':>8} {'ratio':>6}  kept")
    for name, (x, y) in cases().items():
        if args.cases and not any(name.startswith(c) for c in args.cases):
            continue
        times = {"auto": [], "none": []}
        kept = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for transform in ("auto", "none"):  # warm-up: compilation, caches
                gmmmi.estimate(x, y, random_state=0, progress=False, transform=transform)
            for seed in range(1, args.repeats + 1):
                for transform in ("auto", "none"):
                    seconds, res = cpu_seconds(
                        lambda t=transform, x=x, y=y, seed=seed: gmmmi.estimate(
                            x, y, random_state=seed, progress=False, transform=t
                        )
                    )
                    times[transform].append(seconds)
                    if transform == "auto":
                        record = res.meta["transform"]
                        kept = record["chosen"] if isinstance(record, dict) else record.chosen
        auto, none = statistics.median(times["auto"]), statistics.median(times["none"])
        print(f"{name:<18} {auto:8.3f} {none:8.3f} {auto / none:6.2f}  {kept}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
