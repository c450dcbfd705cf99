"""What the wider component search changes: curved and ringed data, before and after.

Run from the repository root (minutes; background it)::

    PYTHONPATH=. python benchmarks/bench_widen.py [--n 5000] [--seeds 2]

Cases whose fit by the first search fails its goodness-of-fit check: a noisy sine
y = sin(3x) + 0.3 e (x uniform on [-pi, pi]), three noisy concentric rings, a noisy
spiral, bmi's 2x1 "waves" task (Czyz et al. 2023, from its published definition) and
saturating margins tanh(3 g1), tanh(4 g2) of a rho=0.6 Gaussian (N=2000). Truths: the
2-D ones by a fine grid integral of their densities (``grid_mi``), waves as the MI of its
base mixture (the waves map is invertible given the other coordinate), tanh as the
Gaussian's. "before" is the first search alone (the wider search switched off in this
process), "after" the default ``gmmmi.estimate(x, y, random_state=seed)``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy import stats

import gmmmi
import gmmmi._em.procedure as procedure
from gmmmi.diagnostics import WidenedSearch
from gmmmi.integrate import mutual_information
from gmmmi.mixture import MixtureDraws


def sine(n, rng):
    x = rng.uniform(-np.pi, np.pi, n)
    return x, np.sin(3 * x) + 0.3 * rng.standard_normal(n)


def sine_density(gx, gy):
    x = gx[:, None]
    return stats.norm.pdf(gy[None, :], np.sin(3 * x), 0.3) * (np.abs(x) <= np.pi) / (2 * np.pi)


def rings(n, rng):
    r = rng.integers(1, 4, n) + 0.1 * rng.standard_normal(n)
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def rings_density(gx, gy):
    rho = np.hypot(gx[:, None], gy[None, :])
    f = sum(stats.norm.pdf(rho, r, 0.1) for r in (1, 2, 3)) / 3
    return f / (2 * np.pi * np.maximum(rho, 1e-12))


SPIRAL_T = 3 * np.pi


def spiral(n, rng):
    t = rng.uniform(0, SPIRAL_T, n)
    return t * np.cos(t) + 0.3 * rng.standard_normal(n), t * np.sin(t) + 0.3 * rng.standard_normal(
        n
    )


def spiral_density(gx, gy):
    out = np.zeros((gx.size, gy.size))
    for t in np.linspace(0, SPIRAL_T, 4000):
        out += np.outer(
            stats.norm.pdf(gx, t * np.cos(t), 0.3), stats.norm.pdf(gy, t * np.sin(t), 0.3)
        )
    return out / 4000


def grid_mi(density, lim, m=1200):
    """MI of a 2-D density by a midpoint rule on [-lim, lim]^2 (m x m cells)."""
    g = np.linspace(-lim, lim, m)
    h = g[1] - g[0]
    p = density(g, g)
    p = p / (p.sum() * h * h)
    px, py = p.sum(1) * h, p.sum(0) * h
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / np.outer(px, py)), 0.0)
    return float(terms.sum() * h * h)


def waves(n, rng):
    k = rng.integers(0, 12, n)
    x0 = 1.5 * k + np.sqrt(0.1) * rng.standard_normal(n)
    x1 = rng.standard_normal(n)
    y = 1.5 * (k % 4) + np.sqrt(0.1) * rng.standard_normal(n)
    x0 = x0 + 5.0 * np.sin(3.0 * x1)
    return np.column_stack([0.1 * x0 - 0.8, 0.5 * x1]), y


def waves_truth():
    w = np.full((1, 12), 1 / 12)
    mu = np.array([[[1.5 * k, 0, 1.5 * (k % 4)] for k in range(12)]])
    cov = np.broadcast_to(np.diag([0.1, 1.0, 0.1]), (1, 12, 3, 3)).copy()
    return float(mutual_information(MixtureDraws(w, mu, cov), [0, 1], [2]).values[0])


def tanh_margins(n, rng):
    g = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], n)
    return np.tanh(3 * g[:, 0]), np.tanh(4 * g[:, 1])


def cases():
    return [
        ("sine", sine, grid_mi(sine_density, 4.5), None),
        ("rings", rings, grid_mi(rings_density, 3.6), None),
        ("spiral", spiral, grid_mi(spiral_density, 10.5, 700), None),
        ("waves (bmi)", waves, waves_truth(), None),
        ("tanh margins", tanh_margins, -0.5 * np.log(1 - 0.36), 2000),
    ]


def _no_widening(X, sel, *, reason, **_):
    return sel, WidenedSearch(reason, sel.n_components, 0.0, stopped="switched off")


def one(sampler, n, seed, widen):
    x, y = sampler(n, np.random.default_rng(seed))
    original = procedure.widen_search
    if not widen:
        procedure.widen_search = _no_widening
    try:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = gmmmi.estimate(x, y, random_state=seed)
        seconds = time.perf_counter() - t0
    finally:
        procedure.widen_search = original
    warned = any(isinstance(w.message, gmmmi.MisfitWarning) for w in caught)
    worst = res.fit_check.worst()
    return res, seconds, warned, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    print(
        f"{'case':13s} {'truth':>6s} seed | {'before':>15s} K  worst z  warn  s  | "
        f"{'after':>15s} K  worst z  warn  s  | search"
    )
    for name, sampler, truth, n in cases():
        for seed in range(args.seeds):
            row = []
            for widen in (False, True):
                res, seconds, warned, worst = one(sampler, n or args.n, seed, widen)
                row.append(
                    f"{res.value:.3f} ± {res.sd:.3f} {res.n_components:2d} {worst[2]:+7.1f} "
                    f"{'yes' if warned else 'no':>4s} {seconds:4.0f}"
                )
            search = res.diagnostics.search
            what = "-" if search is None else search.describe().strip()
            print(f"{name:13s} {truth:6.3f} {seed:4d} | {row[0]} | {row[1]} | {what}", flush=True)


if __name__ == "__main__":
    main()
