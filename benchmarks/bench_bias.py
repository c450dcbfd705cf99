"""Before/after of the plug-in bias correction (``bias_correction=True``) on calibration cases.

Run from the repository root::

    python benchmarks/bench_bias.py --repeats 30
    python benchmarks/bench_bias.py --boot    # K > 1: the bootstrap's bias correction
    python benchmarks/bench_bias.py --chain   # CMI given a discrete z (the chain rule)

For each case, ``repeats`` fresh data sets (seeds from one SeedSequence) are
estimated once with gmmmi's defaults. The correction of a K = 1 fit is a
constant shift of the estimate and of every draw (``gmmmi._bias``), so the
estimate without it is ``value + meta["bias_correction"]["subtracted"]``,
with the same sd: one run gives both columns. Per case it prints the bias
(mean error ± its standard error), the RMSE, and the coverage of the 95 %
interval (value ± 1.96 sd) before and after, the share of K = 1 fits, and
how often a scale mixture (``gmmmi._em.scale_mixture``) was chosen.

With ``--boot`` it measures instead, on the paper's mixtures (K > 1), the
bootstrap bias correction 2 x value - mean(draws) against the value itself
(30 data sets per case, seeds [99, N]); it is not used by gmmmi, because it
did not help there.

With ``--chain`` it measures the chain rule's correction (``gmmmi.mixed``): the
CMI of a 5 x 5 Gaussian (corr(x_i, y_i) = 0.5) given an independent discrete z
of 2 levels, N = 1000, whose cells are each fitted by one Gaussian; the
correction is sum_s p_s independence_floor(n_s, 5, 5).
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

import gmmmi
from gmmmi import datasets
from gmmmi._hard_datasets import dense_gaussian

Z95 = 1.959963984540054


def cases() -> list[tuple]:
    """(dataset, n): docs/uncertainty.md's calibration cases, the paper's D5, wide blocks."""
    return [
        (datasets.gaussian(0.6), 200),
        (datasets.gaussian(0.6), 2000),
        (datasets.paper("D3"), 1000),
        (datasets.paper("D5"), 1000),
        (datasets.gamma_exponential(1.0), 1000),
        (datasets.gaussian_blocks(5, 5, cross=0.4), 1000),
        (dense_gaussian(10, 10), 2000),
        (
            datasets.block_gaussian(np.eye(20), range(10), range(10, 20), name="independent 10+10"),
            2000,
        ),
    ]


def _summary(values, truth, sd) -> tuple[str, str, str]:
    """(mean error ± its se, RMSE, coverage of value ± 1.96 sd) as table cells."""
    err = values - truth
    se = err.std(ddof=1) / np.sqrt(err.size)
    cover = np.mean(np.abs(err) <= Z95 * sd)
    return f"{err.mean():+.4f} ± {se:.4f}", f"{np.sqrt(np.mean(err**2)):.4f}", f"{cover:.2f}"


def boot_study(repeats: int = 30) -> None:
    """K > 1: bias, RMSE and coverage of the value and of the bootstrap-corrected value."""
    for ds, n in [
        (datasets.paper("D3"), 1000),
        (datasets.paper("D5"), 1000),
        (datasets.paper("D3"), 200),
    ]:
        seeds = np.random.SeedSequence([99, n]).spawn(repeats)
        rows = []
        for s in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = gmmmi.estimate(
                    *ds.sample(n, np.random.default_rng(s)),
                    random_state=int(s.generate_state(1)[0]),
                )
            rows.append((r.value, r.draws_mean, r.sd, r.n_components))
        v, m, sd, k = map(np.array, zip(*rows, strict=True))
        for name, est in (("plain", v), ("boot-corrected", 2 * v - m)):
            err = est - ds.truth
            print(
                f"{ds.name} N={n} K={np.median(k):.0f} {name}: bias {err.mean():+.4f} ± "
                f"{err.std(ddof=1) / np.sqrt(repeats):.4f}, RMSE {np.sqrt(np.mean(err**2)):.4f}, "
                f"cover {np.mean(np.abs(err) <= Z95 * sd):.2f}",
                flush=True,
            )


def chain_study(repeats: int, seed: int, n: int = 1000, d: int = 5, rho: float = 0.5) -> None:
    """Bias, RMSE and coverage of a CMI given discrete z, before and after the correction."""
    truth = -d / 2 * np.log(1 - rho**2)
    cov = np.eye(2 * d)
    cov[np.arange(d), d + np.arange(d)] = cov[d + np.arange(d), np.arange(d)] = rho
    rows = []
    for seq in np.random.SeedSequence([seed, n, 2]).spawn(repeats):
        rng = np.random.default_rng(seq)
        g = rng.multivariate_normal(np.zeros(2 * d), cov, n)
        z = rng.integers(0, 2, n).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = gmmmi.estimate(
                g[:, :d],
                g[:, d:],
                z=z,
                n_bootstrap=20,
                random_state=int(seq.generate_state(1)[0]),
                progress=False,
            )
        sub = r.meta["bias_correction"]["subtracted"]
        rows.append((r.value + sub, r.value, r.sd))
    before, after, sd = (np.array(c) for c in zip(*rows, strict=True))
    for name, values in (("before", before), ("after", after)):
        bias, rmse, cover = _summary(values, truth, sd)
        print(f"CMI {d}x{d} | discrete z, N={n}, {name}: bias {bias}, RMSE {rmse}, cover {cover}")
    print(f"load at the end: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--only", default=None, help="cases whose name contains it")
    ap.add_argument("--boot", action="store_true", help="the K > 1 bootstrap-correction study")
    ap.add_argument("--chain", action="store_true", help="a CMI given a discrete z")
    args = ap.parse_args()
    if args.chain:
        chain_study(args.repeats, args.seed)
        return
    if args.boot:
        boot_study(args.repeats)
        return
    print(f"gmmmi {gmmmi.__version__}, {args.repeats} data sets per case, seed {args.seed}\n")
    print(
        "| case | N | truth | K=1 share | bias before | bias after | RMSE before | RMSE after | "
        "coverage before | coverage after | scale mixture chosen |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for ds, n in cases():
        if args.only and args.only not in ds.name:
            continue
        seeds = np.random.SeedSequence([args.seed, n]).spawn(args.repeats)
        rows = []
        for seq in seeds:
            data = ds.sample(n, np.random.default_rng(seq))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = gmmmi.estimate(
                    *data, random_state=int(seq.generate_state(1)[0]), progress=False
                )
            sub = r.meta["bias_correction"]["subtracted"]
            chosen = r.diagnostics.extra.get("scale_mixture") is not None
            rows.append((r.value + sub, r.value, r.sd, r.n_components == 1, chosen))
        before, after, sd, k1, sm = (np.array(c, dtype=float) for c in zip(*rows, strict=True))

        b, a = _summary(before, ds.truth, sd), _summary(after, ds.truth, sd)
        print(
            f"| {ds.name} | {n} | {ds.truth:.4f} | {k1.mean():.2f} | {b[0]} | {a[0]} | {b[1]} | "
            f"{a[1]} | {b[2]} | {a[2]} | {int(sm.sum())}/{sm.size} |",
            flush=True,
        )
    print(f"\nload at the end: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
