"""Margins benchmark: invariance of ``gmmmi.estimate`` under monotone maps, and the fixed map.

Run from the repository root::

    python benchmarks/bench_transform.py                 # both parts
    python benchmarks/bench_transform.py --part invariance
    python benchmarks/bench_transform.py --part refit --repeats 40 --replicas 25
    python benchmarks/bench_transform.py --part pretest
    NUMBA_NUM_THREADS=1 python benchmarks/bench_transform.py --part cost --repeats 5

``invariance``: a Gaussian with rho=0.6 (truth 0.2231 nat), N=2000, one
seeded sample, under the maps identity, exp, cube and tanh(2·) of each
variable (`gmmmi.datasets.with_margins`); ``gmmmi.estimate(x, y,
random_state=0)`` with its defaults (``transform="auto"``) and with
``transform="none"``. Issue 9 asks every mapped estimate to lie within ½ of
the raw estimate's sd of it, and within 3 of its own sd of the truth.

``refit``: whether the Gaussianising maps must be refitted in every bootstrap
replica. The backend bootstraps inside compiled code with the map fitted
once; here, in Python, for each of R data sets (exp margins, N=1000) and
B replicas, the rows are resampled and the mixture refitted at the full
data's K (``n_bootstrap=0``, ``fixed_components_number=K``, one fit per
replica) on the resample mapped (a) by the maps of the full data, held fixed,
and (b) by maps refitted to the resample. It prints the mean bootstrap sd of
each, and the coverage of value ± 1.96 sd over the R data sets.

``alternatives``: the mixture-CDF map against rank normal scores and
Yeo–Johnson (each column mapped, then the raw-data estimator) on a few suite
tasks and the paper's D3, N=5000, single fits.

``cost``: what ``transform="auto"`` costs on top of the raw estimate. On
bench_core's four cases (the README's N=200 and rho=0.6 N=10 000 Gaussians,
the paper's D3 and D5 at N=2000) and two other samples of D3 and D5, the CPU
seconds (``time.process_time``) of warm ``gmmmi.estimate(X, random_state=0)``
with ``transform="auto"`` and with ``"none"``, alternated in one process,
median of ``--repeats``; on those and on the exp/cube/tanh(2·) margins of the
``invariance`` part, the CPU of the margins' maps alone
(`gmmmi.margins.fit_marginal_map` of every column).
Run it with ``NUMBA_NUM_THREADS=1`` for CPU that does not count spinning threads.

``pretest``: whether the pre-test of ``"auto"`` (`gmmmi.margins.raw_margins_suffice`,
which keeps the raw data without fitting the maps) agrees with the full
comparison of raw and mapped data. On 146 data sets (the robustness suite and
the paper's D1, D3 and D5 at N=1000 and 5000, two samples each, as the study of
docs/robustness.md, and D3 and D5 at N=2000, five samples), each
``gmmmi.estimate(x, y, n_bootstrap=0)`` runs with the pre-test recorded but
never skipping, so the comparison runs; it prints, per compared set, the
comparison's choice and margin (mapped minus raw, nat per row), the pre-test's
verdict and copula gap, and the choices the pre-test changes.

A benchmark, not a test: it never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

MAPS = ("identity", "exp", "cube", "tanh2")


def invariance(n: int = 2000, seed: int = 2) -> list[dict]:
    """The estimates on raw, exp, cube and tanh(2·) margins of one Gaussian sample."""
    import gmmmi
    from gmmmi.datasets import gaussian, with_margins

    rows = []
    base = gaussian(0.6)
    for margin in MAPS:
        ds = base if margin == "identity" else with_margins(base, margin)
        x, y = ds.sample(n, seed)
        for transform in ("auto", "none"):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = gmmmi.estimate(x, y, random_state=0, progress=False, transform=transform)
            rows.append(
                {
                    "margin": margin,
                    "transform": transform,
                    "chosen": res.transform["chosen"],
                    "mi": res.value,
                    "sd": res.sd,
                    "K": res.n_components,
                    "seconds": time.perf_counter() - start,
                }
            )
    truth = base.truth
    raw = next(r for r in rows if r["margin"] == "identity" and r["transform"] == "auto")
    print(f"\nGaussian rho=0.6, N={n}, truth {truth:.4f} nat; raw estimate sd {raw['sd']:.4f}\n")
    print("| margins | transform | chosen | MI ± sd | K | − raw, in raw sd | − truth, in sd | s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['margin']} | {r['transform']} | {r['chosen']} | {r['mi']:.4f} ± {r['sd']:.4f} "
            f"| {r['K']} | {(r['mi'] - raw['mi']) / raw['sd']:+.2f} | "
            f"{(r['mi'] - truth) / r['sd']:+.2f} | {r['seconds']:.2f} |"
        )
    return rows


def refit(repeats: int, replicas: int, n: int = 1000, margin: str = "exp") -> dict:
    """Bootstrap sd and coverage with the maps held fixed or refitted per replica."""
    import gmmmi
    from gmmmi.datasets import gaussian, with_margins
    from gmmmi.margins import fit_marginal_map

    ds = with_margins(gaussian(0.6), margin)
    out = {"fixed": {"sd": [], "cover": []}, "refit": {"sd": [], "cover": []}}
    points = []
    start = time.perf_counter()
    for r in range(repeats):
        rng = np.random.default_rng([7, r])
        x, y = ds.sample(n, rng)
        X = np.column_stack([x, y])
        maps = [fit_marginal_map(X[:, j], f"c{j}", np.random.default_rng([8, r])) for j in (0, 1)]
        Xt = np.column_stack([m(X[:, j]) for j, m in enumerate(maps)])
        full = gmmmi.estimate(Xt, random_state=r, n_bootstrap=0, transform="none", progress=False)
        points.append(full.value)
        for kind in ("fixed", "refit"):
            values = []
            for b in range(replicas):
                idx = np.random.default_rng([9, r, b]).integers(0, n, n)
                Xb = X[idx]
                if kind == "refit":
                    mb = [
                        fit_marginal_map(Xb[:, j], "c", np.random.default_rng([10, r, b, j]))
                        for j in (0, 1)
                    ]
                else:
                    mb = maps
                Xbt = np.column_stack([m(Xb[:, j]) for j, m in enumerate(mb)])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = gmmmi.estimate(
                        Xbt,
                        random_state=b,
                        n_bootstrap=0,
                        fixed_components_number=full.n_components,
                        transform="none",
                        progress=False,
                    )
                values.append(res.value)
            sd = float(np.std(values, ddof=1))
            out[kind]["sd"].append(sd)
            out[kind]["cover"].append(abs(full.value - ds.truth) <= 1.959964 * sd)
    summary = {
        kind: {
            "mean_sd": float(np.mean(v["sd"])),
            "coverage": float(np.mean(v["cover"])),
        }
        for kind, v in out.items()
    }
    summary["sd_of_estimates"] = float(np.std(points, ddof=1))
    summary["bias"] = float(np.mean(points) - ds.truth)
    summary["sd_ratio_refit_over_fixed"] = float(
        np.mean(np.array(out["refit"]["sd"]) / np.array(out["fixed"]["sd"]))
    )
    print(
        f"\n{margin} margins, N={n}, {repeats} data sets x {replicas} replicas "
        f"({time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}):\n"
    )
    print("| maps in the bootstrap | mean bootstrap sd | 95 % coverage |")
    print("|---|---|---|")
    for kind in ("fixed", "refit"):
        s = summary[kind]
        print(f"| {kind} | {s['mean_sd']:.4f} | {s['coverage']:.2f} |")
    print(
        f"\nsd of the {repeats} full-data estimates {summary['sd_of_estimates']:.4f}, bias "
        f"{summary['bias']:+.4f}; mean ratio of the sds (refit / fixed) "
        f"{summary['sd_ratio_refit_over_fixed']:.3f}"
    )
    return summary


ALTERNATIVE_TASKS = (
    "cube:gaussian(rho=0.3)",
    "tanh2:gaussian(rho=0.6)",
    "cauchy:gaussian(rho=0.6)",
    "exp:D3",
    "uniform_noise(sigma=0.1)",
)


def alternatives(n: int = 5000) -> list[dict]:
    """The mixture-CDF map against rank normal scores and Yeo–Johnson on a few suite tasks.

    Each alternative maps every column, then ``gmmmi.estimate(..., transform="none",
    n_bootstrap=0)``; the mixture-CDF map is ``transform="gaussianize"`` and the
    default ``"auto"``. Also the paper's D3 (raw), where per-column maps are not needed.
    """
    from scipy import special, stats

    import gmmmi
    from gmmmi.datasets import paper, robustness_suite

    def ranks(v):
        return special.ndtri(stats.rankdata(v) / (v.size + 1))

    def yeo_johnson(v):
        return stats.yeojohnson((v - np.median(v)) / stats.iqr(v))[0]

    suite = {ds.name: ds for ds in robustness_suite()}
    tasks = [suite[name] for name in ALTERNATIVE_TASKS] + [paper("D3")]
    rows = []
    for ds in tasks:
        x, y = ds.sample(n, np.random.default_rng([11, n]))
        row = {"name": ds.name, "truth": ds.truth}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for label, transform in (("auto", "auto"), ("mixture CDF", "gaussianize")):
                row[label] = gmmmi.estimate(
                    x, y, random_state=0, n_bootstrap=0, transform=transform, progress=False
                ).value
            for label, f in (("rank normal scores", ranks), ("Yeo-Johnson", yeo_johnson)):
                row[label] = gmmmi.estimate(
                    np.column_stack([f(c) for c in np.column_stack([x, y]).T]),
                    random_state=0,
                    n_bootstrap=0,
                    transform="none",
                    progress=False,
                ).value
            row["none"] = gmmmi.estimate(
                x, y, random_state=0, n_bootstrap=0, transform="none", progress=False
            ).value
        rows.append(row)
        print(row, flush=True)
    labels = ("auto", "mixture CDF", "rank normal scores", "Yeo-Johnson", "none")
    print(f"\nN={n}, single fits (n_bootstrap=0), MI in nat:\n")
    print("| distribution | truth | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for r in rows:
        print(
            f"| {r['name']} | {r['truth']:.4f} | "
            + " | ".join(f"{r[k]:.3f}" for k in labels)
            + " |"
        )
    return rows


def cost(repeats: int = 5) -> list[dict]:
    """CPU of warm ``transform="auto"`` and ``"none"`` estimates, and of the maps alone."""
    import gmmmi
    from gmmmi.datasets import gaussian, paper, with_margins
    from gmmmi.margins import fit_marginal_map

    cov = [[1.0, 0.6], [0.6, 1.0]]
    cases = {
        "README N=200": np.random.default_rng(0).multivariate_normal([0, 0], cov, 200),
        "rho=0.6 N=10000": np.random.default_rng(1).multivariate_normal([0, 0], cov, 10_000),
    }
    for name in ("D3", "D5"):
        cases[f"{name} N=2000"] = np.column_stack(paper(name).sample(2000, 3))
    for name in ("D3", "D5"):  # other samples than bench_core's
        for seed in (4, 5):
            cases[f"{name} N=2000 seed {seed}"] = np.column_stack(paper(name).sample(2000, seed))
    # margins that are mapped: the maps alone (their estimates add the fit check's other
    # margins and wider searches, which are not the maps' cost)
    for margin in MAPS[1:]:
        x, y = with_margins(gaussian(0.6), margin).sample(2000, 2)
        cases[f"{margin} N=2000"] = np.column_stack([x, y])

    def cpu(fn):
        start = time.process_time()
        out = fn()
        return time.process_time() - start, out

    rows = []
    for name, X in cases.items():
        runs = {
            "maps": lambda X=X: [fit_marginal_map(c, "x", np.random.default_rng(0)) for c in X.T]
        }
        if "N=2000" not in name or name[:2] in ("D3", "D5"):
            runs["auto"] = lambda X=X: gmmmi.estimate(X, random_state=0, progress=False)
            runs["none"] = lambda X=X: gmmmi.estimate(
                X, random_state=0, transform="none", progress=False
            )
        seconds = {key: [] for key in runs}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for run in runs.values():
                run()  # warm: compiled kernels loaded
            for _ in range(repeats):
                for key, run in runs.items():
                    t, out = cpu(run)
                    seconds[key].append(t)
                    if key == "auto":
                        res = out
        row = {"case": name, **{k: float(np.median(v)) for k, v in seconds.items()}}
        if "auto" in runs:
            row.update(
                chosen=res.margins.chosen,
                reason=res.margins.reason.name,
                K=res.n_components,
                mi=float(res.value),
            )
        rows.append(row)
        print(row, flush=True)
    print(f"\nCPU ms of warm calls, median of {repeats} (load {os.getloadavg()[0]:.1f}):\n")
    print("| case | auto | none | auto / none | maps alone | chosen (reason) | K |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "auto" in r:
            print(
                f"| {r['case']} | {r['auto'] * 1e3:.1f} | {r['none'] * 1e3:.1f} | "
                f"{r['auto'] / r['none']:.2f} | {r['maps'] * 1e3:.1f} | "
                f"{r['chosen']} ({r['reason']}) | {r['K']} |"
            )
        else:
            print(f"| {r['case']} | | | | {r['maps'] * 1e3:.1f} | | |")
    return rows


def pretest() -> list[dict]:
    """The pre-test's verdict against the full comparison's choice on 146 data sets."""
    import zlib

    import gmmmi
    import gmmmi.margins as margins
    from gmmmi.datasets import paper, robustness_suite

    real = margins.raw_margins_suffice
    verdicts = []

    def recorded(Xs, fit, heldout):
        suffice, copula = real(Xs, fit, heldout)
        verdicts.append((suffice, heldout - copula))
        return False, copula  # the comparison runs

    sets = []
    for n in (1000, 5000):
        for s in (0, 1):
            for name in ("D3", "D5", "D1"):
                sets.append((f"{name} N={n} s={s}", paper(name).sample(n, 100 + s), s))
            for ds in robustness_suite():
                seed = zlib.crc32(f"{ds.name}{n}{s}".encode()) % 2**31
                sets.append((f"{ds.name} N={n} s={s}", ds.sample(n, seed), s))
    for name in ("D3", "D5"):
        for seed in range(3, 8):
            sets.append((f"{name} N=2000 seed {seed}", paper(name).sample(2000, seed), 0))
    rows = []
    margins.raw_margins_suffice = recorded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, (x, y), s in sets:
                verdicts.clear()
                res = gmmmi.estimate(x, y, random_state=s, n_bootstrap=0, progress=False)
                crit = res.margins.criterion
                if not verdicts or crit.get("gaussianize") is None:
                    continue  # no comparison (affine maps) or no pre-test
                skip, gap = verdicts[0]
                rows.append(
                    {
                        "case": name,
                        "chosen": res.margins.chosen,
                        "margin": crit["gaussianize"] - crit["none"],
                        "skip": bool(skip),
                        "gap": float(gap),
                    }
                )
    finally:
        margins.raw_margins_suffice = real
    print("| case | comparison keeps | mapped - raw | pre-test skips | copula gap |")
    print("|---|---|---:|---|---:|")
    for r in rows:
        print(
            f"| {r['case']} | {r['chosen']} | {r['margin']:+.4f} | {r['skip']} | {r['gap']:+.4f} |"
        )
    for kept in ("none", "gaussianize"):
        part = [r for r in rows if r["chosen"] == kept]
        skipped = [r for r in part if r["skip"]]
        print(f"\n{kept}: {len(part)} compared, {len(skipped)} skipped by the pre-test")
    for r in rows:
        if r["skip"] and r["chosen"] == "gaussianize":
            print(f"changed: {r['case']} (the maps had won by {r['margin']:.4f} nat/row)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=("invariance", "refit", "alternatives", "cost", "pretest", "all"),
        default="all",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="data sets of refit (40), calls of cost (5)"
    )
    parser.add_argument("--replicas", type=int, default=25, help="bootstrap replicas per set")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    record = {"load_start": os.getloadavg()}
    if args.part in ("invariance", "all"):
        record["invariance"] = invariance()
    if args.part in ("refit", "all"):
        record["refit"] = refit(args.repeats or 40, args.replicas)
    if args.part in ("alternatives", "all"):
        record["alternatives"] = alternatives()
    if args.part in ("cost", "all"):
        record["cost"] = cost(args.repeats or 5)
    if args.part in ("pretest", "all"):
        record["pretest"] = pretest()
    record["load_end"] = os.getloadavg()
    print(
        f"\nload average {record['load_start'][0]:.1f} at the start, "
        f"{record['load_end'][0]:.1f} at the end"
    )
    if args.json:
        args.json.write_text(json.dumps(record, indent=1, default=float))


if __name__ == "__main__":
    main()
