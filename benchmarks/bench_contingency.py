"""Bias of the contingency-table MI: plug-in, Miller-Madow and jackknife (gmmmi.contingency).

Tables with known joint probabilities (3x3, 5x5); for each n, R seeded data
sets; prints mean bias and its standard error (nats) per correction. The
chosen `gmmmi.contingency.CORRECTION` comes from this table (docs/mixed.md).

Usage: python benchmarks/bench_contingency.py [--repeats 400]
"""

import argparse

import numpy as np

from gmmmi.contingency import CORRECTIONS, contingency_mi


def table(k: int, strength: float) -> np.ndarray:
    """A k x k joint law with extra mass on the diagonal, uneven margins."""
    margin = np.linspace(1.0, 2.0, k)
    p = np.outer(margin, margin[::-1]) + strength * np.diag(margin)
    return p / p.sum()


def true_mi(p: np.ndarray) -> float:
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (px * py)[nz])).sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=400)
    args = parser.parse_args()
    print("table  n     truth   " + "  ".join(f"{c:>20}" for c in CORRECTIONS))
    for k, strength in ((3, 1.0), (5, 1.0), (5, 0.0)):
        p = table(k, strength)
        truth = true_mi(p)
        for n in (100, 300, 1000, 2000):
            rng = np.random.default_rng(1000 * k + n)
            cells = rng.choice(k * k, size=(args.repeats, n), p=p.ravel())
            out = []
            for c in CORRECTIONS:
                est = np.array([contingency_mi(r // k, r % k, c) for r in cells]) - truth
                out.append(f"{est.mean():+.4f} ± {est.std(ddof=1) / np.sqrt(len(est)):.4f}")
            print(f"{k}x{k}    {n:<5} {truth:.4f}  " + "  ".join(f"{o:>20}" for o in out))


if __name__ == "__main__":
    main()
