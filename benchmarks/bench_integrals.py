"""The default integral from 2 to 16 total dimensions: time, error against the truth, bound.

Run from the repository root::

    python benchmarks/bench_integrals.py                 # dimensions 2 4 6 8 10 12 16
    python benchmarks/bench_integrals.py --dims 2 8      # a subset

For every total dimension D (x = the first D/2 columns, y = the rest) and
two data sets of N = 5000 rows:

* ``K=1``: an equicorrelated Gaussian (rho = 0.5), whose fits have one
  component, so every integral has a closed form;
* ``K=3``: a mixture of three Gaussians (weights 0.3, 0.3, 0.4, means 2.5
  apart along random directions, equicorrelated covariances with rho = 0.6,
  0 and 0.3 rotated at random), whose fits need several components.

it times a warm ``gmmmi.estimate(x, y, random_state=0)`` (defaults: 50
bootstrap fits and the full-data fit, integral "quad", which is the
trapezoidal rule up to 6 dimensions and randomised QMC above; "closed form"
when every fit is one Gaussian), and prints:

* the estimate MI ± sd against the true MI of the data's distribution
  (closed form for K=1; for K=3 the QMC integral of the generating mixture
  with 2**16 points per scramble, whose own bound is given);
* the **numerical error** of the integrals: for the full-data fit and the
  first `--check` bootstrap fits, the default integral against a much finer
  one (the trapezoidal rule with 0.6 times the step on a larger ball up to 6
  dimensions, QMC with 2**16 points per scramble above), the largest
  absolute difference, and the largest reported error (``integration_error``)
  of those draws;
* whether every numerical error is within its reported bound and below a
  tenth of the sd.

This is a benchmark, not a test: it prints ratios and never fails on them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings

import numpy as np

import gmmmi
from gmmmi import integrate
from gmmmi.mixture import MixtureDraws

N = 5000
RHO = 0.5


def equicorrelated(d: int, rho: float) -> np.ndarray:
    """(d, d) covariance with unit variances and correlation rho everywhere."""
    return (1 - rho) * np.eye(d) + rho * np.ones((d, d))


def gaussian_truth(d: int) -> float:
    """I(x; y) of the equicorrelated Gaussian with x the first d/2 columns, in nats."""
    cov = equicorrelated(d, RHO)
    h = d // 2
    logdet = lambda c: np.linalg.slogdet(c)[1]  # noqa: E731
    return 0.5 * (logdet(cov[:h, :h]) + logdet(cov[h:, h:]) - logdet(cov))


def three_component_mixture(d: int, seed: int = 0) -> MixtureDraws:
    """The K=3 mixture of the module docstring, as one draw."""
    rng = np.random.default_rng(seed)
    means = np.zeros((3, d))
    covs = []
    for k, rho in enumerate((0.6, 0.0, 0.3)):
        direction = rng.normal(size=d)
        means[k] = 2.5 * k * direction / np.linalg.norm(direction)
        rot = np.linalg.qr(rng.normal(size=(d, d)))[0]
        covs.append(rot @ equicorrelated(d, rho) @ rot.T)
    return MixtureDraws(np.array([[0.3, 0.3, 0.4]]), means[None], np.array(covs)[None])


@contextlib.contextmanager
def finer_integrals():
    """The reference integrator: a finer trapezoidal rule, and QMC with 2**16 points."""
    saved, levels = dict(integrate.rules._QUAD_RULES), integrate.rules._QMC_LEVELS
    integrate.rules._QUAD_RULES.update({d: (0.6 * h, t + 4) for d, (h, t) in saved.items()})
    integrate.rules._QMC_LEVELS = (16,)
    integrate.quad_rule.cache_clear()
    try:
        yield
    finally:
        integrate.rules._QUAD_RULES.update(saved)
        integrate.rules._QMC_LEVELS = levels
        integrate.quad_rule.cache_clear()


def mi_of(mixture: MixtureDraws, d: int):
    """Default integral of I(x; y) for every draw of `mixture` (x: first d/2 columns)."""
    h = d // 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gmmmi.IntegrationWarning)
        return integrate.mutual_information(mixture, list(range(h)), list(range(h, d)))


def run_case(d: int, kind: str, n_check: int) -> dict:
    """Sample the data, time a warm estimate, and check its integrals against finer ones."""
    rng = np.random.default_rng(d)
    if kind == "K=1":
        X = rng.multivariate_normal(np.zeros(d), equicorrelated(d, RHO), N)
        truth, truth_err = gaussian_truth(d), 0.0
    else:
        mixture = three_component_mixture(d)
        X = mixture.sample(N, rng)[0]
        with finer_integrals():
            ref = mi_of(mixture, d)
        truth, truth_err = float(ref.values[0]), float(ref.errors[0])
    h = d // 2
    x, y = X[:, :h], X[:, h:]
    gmmmi.estimate(x, y, random_state=1, n_bootstrap=2, progress=False)  # compile / load
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gmmmi.estimate(x, y, random_state=0, progress=False)
    seconds = time.perf_counter() - start
    mi, sd = res
    # the full-data fit and the first n_check bootstrap fits, integrated again more finely
    fits = MixtureDraws.concatenate(
        [res.diagnostics.reference_fit, res.mixture.select(slice(0, n_check))]
    )
    default = mi_of(fits, d)
    with finer_integrals():
        fine = mi_of(fits, d)
    num_err = np.abs(default.values - fine.values)
    return {
        "d": d,
        "kind": kind,
        "K": res.n_components,
        "method": (
            "closed form"
            if all(np.all(e == 0) for e in res.integration_error.values())
            else res.meta["integral_method"]
        ),
        "seconds": seconds,
        "mi": mi,
        "sd": sd,
        "truth": truth,
        "truth_err": truth_err,
        "num_err": float(num_err.max()),
        "fine_err": float(fine.errors.max()),
        "bound": float(default.errors.max()),
        "within": bool(np.all(num_err <= default.errors + fine.errors)),
        "warnings": sorted({type(w.message).__name__ for w in caught}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 4, 6, 8, 10, 12, 16])
    parser.add_argument("--check", type=int, default=5, help="bootstrap fits checked finely")
    parser.add_argument("--kinds", nargs="+", default=["K=1", "K=3"], choices=["K=1", "K=3"])
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"gmmmi {gmmmi.__version__}, {os.cpu_count()} cpus, load {load[0]:.2f}", flush=True)
    header = (
        "| D | data | K | integral | time (s) | MI ± sd | truth | numerical error "
        "| reported bound | error / sd | within bound |"
    )
    rows = [header, "|" + "---|" * 11]
    results = []
    for kind in args.kinds:
        for d in args.dims:
            r = run_case(d, kind, args.check)
            results.append(r)
            truth = f"{r['truth']:.4f}" + (f" ± {r['truth_err']:.0e}" if r["truth_err"] else "")
            rows.append(
                f"| {d} | {kind} | {r['K']} | {r['method']} | {r['seconds']:.2f} "
                f"| {r['mi']:.4f} ± {r['sd']:.4f} | {truth} | {r['num_err']:.1e} "
                f"| {r['bound']:.1e} | {r['num_err'] / r['sd']:.3f} "
                f"| {'yes' if r['within'] else 'NO'} |"
            )
            print(rows[-1], r["warnings"] or "", flush=True)
    print("\n".join(["", *rows]))
    for kind in args.kinds:
        t = {r["d"]: r["seconds"] for r in results if r["kind"] == kind}
        if 6 in t:
            ratios = ", ".join(f"{d}: {t[d] / t[6]:.1f}x" for d in sorted(t) if d > 6)
            print(f"{kind}: time relative to 6 dimensions: {ratios}")
    bad = [r for r in results if not r["within"] or r["num_err"] >= 0.1 * r["sd"]]
    print(
        f"numerical error within its bound and below sd/10: {len(results) - len(bad)} of "
        f"{len(results)}; load now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
