"""The component search's defaults: the cases it must fix, and what they cost.

Run from the repository root::

    python benchmarks/bench_search.py                       # N = 1e4 and 1e5, every setting
    python benchmarks/bench_search.py --n 1000000 --settings before estimate
    python benchmarks/bench_search.py --speed 5           # bench_core's cases, before/after
    python benchmarks/bench_search.py --calibrate 200     # coverage on D3, D5, gamma-exp
    python benchmarks/bench_search.py --repeats 3           # three data sets per case
    NUMBA_NUM_THREADS=1 python benchmarks/bench_search.py --stages 15   # CPU per stage, rho/D3/D5

For the paper's mixtures D3 and D5 (truth by quadrature) at each N, and X
uniform on [0, 1] with Y = X + N(0, 0.1^2) at N = 5000 (truth by 1-d
quadrature), one seeded sample per repeat is given to ``gmmmi.estimate``
with each setting of the search (``SETTINGS``), and the script prints the
estimate ± sd, its distance from the truth in sd (z), the chosen K, the
number of EM fits restarted because they stopped at their starting point
(``fit_status_counts["stalled"]``) and the wall time. ``before`` is GMM-MI's
search as gmmmi ran it before issue 9 (stalled fits kept), ``original`` the
same search now (what `gmmmi.EstimateMI` runs: stalled fits restarted from
k-means), ``estimate`` is ``gmmmi.estimate``'s own defaults. This is a
benchmark, not a test: it never fails on a number.

``--stages R`` times the three stages of the raw path (``transform="none"``) on
bench_core's rho=0.6 N=10 000, D3 and D5: the K search on the folds, the 50 bootstrap refits and
the integrals of the 50 replicas (median CPU ms of R warm calls each, and the
EM iterations they ran). Run it once per tree to compare two versions, e.g.
``PYTHONPATH=/path/to/other/checkout python benchmarks/bench_search.py --stages 15``
alternating with ``PYTHONPATH=.``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np

import gmmmi
from gmmmi import datasets

#: the searches compared (options of gmmmi.estimate; "estimate": its defaults)
SETTINGS = {
    "before": {"init_type": "random_sklearn", "n_inits": 3, "patience": 1},
    "original": {"init_type": "random_sklearn", "n_inits": 3, "patience": 1},
    "estimate": {},
    "kmeans_p1": {"init_type": "kmeans", "patience": 1},
    "kmeans_p2": {"init_type": "kmeans", "patience": 2},
    "kmeans_p3": {"init_type": "kmeans", "patience": 3},
    "kmeans_i1": {"init_type": "kmeans", "n_inits": 1},
}


def cases(sizes: list[int]) -> list[tuple]:
    """(dataset, N) of every case: D3 and D5 at each size, uniform + noise at 5000."""
    out = [(datasets.paper(name), n) for name in ("D3", "D5") for n in sizes]
    return out + [(datasets.uniform_noise(0.1), 5000)]


@contextmanager
def code_before(before: bool = True):
    """Within: stalled fits are kept, not restarted (the code before issue 9), if ``before``."""
    import gmmmi._em.select as selection

    stalled_at_start = selection.stalled_at_start
    if before:
        selection.stalled_at_start = lambda fits: np.zeros(fits.n_iter.shape, dtype=bool)
    try:
        yield
    finally:
        selection.stalled_at_start = stalled_at_start


def run(dataset, n: int, setting: str, seed: int) -> dict:
    """One estimate: MI, sd, z against the truth, K, stalled fits restarted, seconds."""
    x, y = dataset.sample(n, seed)
    start = time.perf_counter()
    with warnings.catch_warnings(), code_before(setting == "before"):
        warnings.simplefilter("ignore")
        res = gmmmi.estimate(x, y, random_state=seed, progress=False, **SETTINGS[setting])
    seconds = time.perf_counter() - start
    return {
        "mi": res.mi,
        "sd": res.sd,
        "z": (res.mi - dataset.truth) / res.sd if res.sd > 0 else np.inf,
        "K": res.n_components,
        "stalled": res.diagnostics.extra.get("fit_status_counts", {}).get("stalled", 0),
        "seconds": seconds,
    }


def speed(repeats: int) -> None:
    """Warm time of bench_core's cases: the code before this change against the defaults.

    "before" is GMM-MI's search without the restart of stalled fits (what
    ``gmmmi.estimate`` ran before), "after" its current defaults; the calls
    alternate in this process, so both see the same machine load. Prints the
    median CPU and wall seconds and the ratio after / before.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_core import make_cases

    print(
        "| case | before CPU s | after CPU s | CPU after/before | before wall s | after wall s "
        "| wall after/before |"
    )
    print("|---|---|---|---|---|---|---|")
    for case in make_cases():
        times = {"before": [], "after": []}
        for _ in range(repeats):
            for label in times:
                options = SETTINGS["before"] if label == "before" else {}
                cpu, wall = time.process_time(), time.perf_counter()
                with warnings.catch_warnings(), code_before(label == "before"):
                    warnings.simplefilter("ignore")
                    gmmmi.estimate(case.X, random_state=0, progress=False, **options)
                times[label].append((time.process_time() - cpu, time.perf_counter() - wall))
        (bc, bw), (ac, aw) = (np.median(times[k], axis=0) for k in ("before", "after"))
        print(
            f"| {case.name} | {bc:.3f} | {ac:.3f} | {ac / bc:.2f} | {bw:.3f} | {aw:.3f} "
            f"| {aw / bw:.2f} |",
            flush=True,
        )
    print(f"\nload average {os.getloadavg()[0]:.1f}")


def stages(repeats: int) -> None:
    """CPU ms of the K search, the bootstrap and the integrals on bench_core's rho, D3 and D5."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_core import make_cases

    from gmmmi._em.bootstrap import bootstrap_fits
    from gmmmi._em.fit import EMSettings
    from gmmmi._em.options import ESTIMATE_DEFAULTS, selection_options
    from gmmmi._em.select import select_components
    from gmmmi.integrate import mutual_information
    from gmmmi.mixture import MixtureDraws

    settings = EMSettings()
    search = partial(select_components, settings=settings, **selection_options(ESTIMATE_DEFAULTS))
    print("| case | K | K search ms | iterations | bootstrap ms | iterations | integrals ms |")
    print("|---|---|---|---|---|---|---|")
    for case in make_cases()[1:]:
        X = np.ascontiguousarray((case.X - case.X.mean(0)) / case.X.std(0))
        sel = search(X, rng=np.random.default_rng(0))
        fits = bootstrap_fits(X, sel.start, 50, rng=np.random.default_rng(1), settings=settings)
        mixture = MixtureDraws(fits.weights, fits.means, fits.covariances)
        calls = {
            "search": partial(search, X),
            "boot": partial(bootstrap_fits, X, sel.start, 50, settings=settings),
            "integrals": partial(mutual_information, mixture, [0], [1]),
        }
        ms = {}
        for name, func in calls.items():
            cpu = []
            for _ in range(repeats):
                # the same generator state every call: the same fits every time
                seed = {"search": 0, "boot": 1}.get(name)
                kw = {} if seed is None else {"rng": np.random.default_rng(seed)}
                start = time.process_time()
                func(**kw)
                cpu.append(time.process_time() - start)
            ms[name] = 1e3 * float(np.median(cpu))
        print(
            f"| {case.name} | {sel.n_components} | {ms['search']:.1f} | "
            f"{int(sel.cv.fits.n_iter.sum())} at K={sel.n_components} | {ms['boot']:.1f} | "
            f"{int(fits.n_iter.sum())} | {ms['integrals']:.1f} |",
            flush=True,
        )
    print(
        f"\nload average {os.getloadavg()[0]:.1f}, NUMBA_NUM_THREADS "
        f"{os.environ.get('NUMBA_NUM_THREADS', 'default')}"
    )


def calibrate(repeats: int, names: list[str]) -> None:
    """Bias and coverage over ``repeats`` data sets of N=1000: original search and defaults."""
    from gmmmi.studies import Method

    methods = (Method("original", SETTINGS["original"]), Method("estimate", {}))
    for name in names:
        ds = datasets.gamma_exponential(1.0) if name == "gamma" else datasets.paper(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = gmmmi.calibration(
                ds, n=1000, repeats=repeats, methods=methods, random_state=2024, progress=False
            )
        columns = ["method", "repeats", "truth", "bias", "bias_se", "mean_sd", "sd_estimates"]
        columns += ["cover95_normal"]
        print(f"\n{ds.name}, N=1000\n")
        print(cal.table[columns].to_string(index=False, float_format="%.4f"), flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--repeats", type=int, default=1, help="data sets per case (seeds 0, 1, ...)")
    ap.add_argument("--no-uniform", action="store_true", help="skip uniform + noise")
    ap.add_argument(
        "--speed",
        type=int,
        metavar="R",
        default=0,
        help="only time bench_core's cases before/after, R calls each",
    )
    ap.add_argument(
        "--calibrate",
        type=int,
        metavar="R",
        default=0,
        help="only the calibration (R data sets of N=1000) of --datasets",
    )
    ap.add_argument("--datasets", nargs="+", default=["D3", "D5", "gamma"])
    ap.add_argument(
        "--stages",
        type=int,
        metavar="R",
        default=0,
        help="only the CPU of the K search, bootstrap and integrals on rho/D3/D5, R calls each",
    )
    args = ap.parse_args(argv)
    if args.stages:
        stages(args.stages)
        return
    if args.calibrate:
        calibrate(args.calibrate, args.datasets)
        return
    if args.speed:
        speed(args.speed)
        return
    x, y = datasets.gaussian(0.6).sample(500, 0)
    gmmmi.estimate(x, y, random_state=0, progress=False)  # load the compiled kernels
    print("| data set | N | truth | setting | seed | MI ± sd | z | K | stalled | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    todo = cases(args.n)
    if args.no_uniform:
        todo = todo[:-1]
    for dataset, n in todo:
        for name in args.settings:
            for seed in range(args.repeats):
                r = run(dataset, n, name, seed)
                print(
                    f"| {dataset.name} | {n:.0e} | {dataset.truth:.4f} | {name} | {seed} | "
                    f"{r['mi']:.4f} ± {r['sd']:.4f} | {r['z']:+.1f} | {r['K']} | "
                    f"{r['stalled']} | {r['seconds']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
