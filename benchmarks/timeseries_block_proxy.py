"""Why the block bootstrap under-covers at phi = 0.9, N = 1000 (docs/timeseries.md, Calibration).

With K = 1 (92-95% of these data sets) `gmmmi.estimate`'s MI is the Gaussian
plug-in -ln(1 - r^2) / 2 of the sample correlation r, less a Wishart term of
0.0005 nat; the plug-in needs no fit, so a thousand data sets and their
bootstrap replicas cost seconds. On stationary AR(1) pairs (as
``timeseries_calibration.py``) each part compares the bootstrap sd with the
real spread of the estimates over data sets:

* ``lengths``: stationary (geometric blocks), circular and moving block
  bootstraps at fixed lengths 10, 20, 40, 80 and at the Politis-White lengths,
  with the coverage of value +- 1.96 sd, of the percentile and of the basic
  interval (50 replicas);
* ``replicas``: 50 or 400 replicas, and the flat-top combination
  2 V(L) - V(L/2) of two circular-block variances;
* ``fixed-b``: the IID, stationary and circular bootstraps with 1.96, the
  Kiefer-Vogelsang (2005) fixed-b critical value of a Bartlett window at
  b = L / N, or gmmmi's critical value (``gmmmi._intervals``: fixed-b with
  the 50 replicas' noise).

    python benchmarks/timeseries_block_proxy.py lengths 0.9:1000:1000 0:1000:500
    python benchmarks/timeseries_block_proxy.py replicas 0.9:1000:600
    python benchmarks/timeseries_block_proxy.py fixed-b 0.9:1000:1000 0:1000:1000
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import signal

from gmmmi._intervals import critical_value, fixed_b
from gmmmi.block_length import optimal_block_length

RHO = 0.6
TRUTH = -0.5 * math.log(1 - RHO**2)
#: b_CB / b_SB of Politis & White: (D_SB / D_CB)^(1/3) = (2 / (4/3))^(1/3)
CB_OVER_SB = 1.5 ** (1 / 3)


def ar1(phi: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows of a stationary AR(1) pair whose rows are N(0, [[1, RHO], [RHO, 1]])."""
    e = rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], size=n)
    e[1:] *= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e, axis=0)


def plug_in_mi(X: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Gaussian plug-in MI of the rows ``idx`` (shape (B, n)) of X, one value per replica."""
    x, y = X[idx, 0], X[idx, 1]
    x = x - x.mean(1, keepdims=True)
    y = y - y.mean(1, keepdims=True)
    r = (x * y).mean(1) / np.sqrt((x * x).mean(1) * (y * y).mean(1))
    return -0.5 * np.log(1 - r**2)


def stationary(rng: np.random.Generator, B: int, n: int, L: float) -> np.ndarray:
    """Stationary-bootstrap rows (geometric blocks of mean L, wrapping)."""
    starts = rng.integers(0, n, size=(B, n))
    new = rng.random((B, n)) < 1.0 / L
    new[:, 0] = True
    pos = np.arange(n)
    last = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    return (np.take_along_axis(starts, last, 1) + pos - last) % n


def circular(rng: np.random.Generator, B: int, n: int, L: float, wrap: bool = True):
    """Circular (``wrap``) or moving block bootstrap rows, blocks of round(L) rows."""
    length = max(1, int(round(L)))
    n_blocks = -(-n // length)
    starts = rng.integers(0, n if wrap else n - length + 1, size=(B, n_blocks))
    return (starts[:, :, None] + np.arange(length)).reshape(B, n_blocks * length)[:, :n] % n


def moving(rng, B, n, L):
    return circular(rng, B, n, L, wrap=False)


def kiefer_vogelsang(b):
    """97.5% quantile of the fixed-b t statistic, Bartlett window (Kiefer & Vogelsang 2005)."""
    return 1.96 + 2.9694 * b + 0.4160 * b**2 - 0.5324 * b**3


def lengths_of(X):
    """Politis-White lengths: the stationary bootstrap's and the circular one's."""
    l_cb = optimal_block_length(X)
    return l_cb / CB_OVER_SB, l_cb


def part_lengths(phi, n, sets, seed=2026):
    ss = np.random.SeedSequence([seed, int(phi * 1000), n]).spawn(sets)
    est, rec = [], {}
    for s in ss:
        rng = np.random.default_rng(s)
        X = ar1(phi, n, rng)
        est.append(plug_in_mi(X, np.arange(n)[None])[0])
        l_sb, l_cb = lengths_of(X)
        cases = [("SB", "PW-SB", l_sb), ("CBB", "PW-CB", l_cb), ("MBB", "PW-CB", l_cb)]
        cases += [("SB", "PW-CB", l_cb)]
        cases += [(k, str(L), L) for L in (10, 20, 40, 80) for k in ("SB", "CBB")]
        cases += [("SB", "1.5PW", 1.5 * l_sb), ("SB", "2PW", 2 * l_sb)]
        for kind, name, L in cases:
            draw = {"SB": stationary, "CBB": circular, "MBB": moving}[kind]
            reps = plug_in_mi(X, draw(rng, 50, n, L))
            rec.setdefault((kind, name), []).append(
                (reps.std(ddof=1), *np.percentile(reps, [2.5, 97.5]), reps.mean())
            )
    est = np.array(est)
    real = est.std(ddof=1)
    print(
        f"phi={phi} n={n} sets={sets} B=50: bias of centre {est.mean() - TRUTH:+.4f} "
        f"(se {est.std() / math.sqrt(sets):.4f}), real sd {real:.4f}"
    )
    print(
        "| scheme | length | mean boot sd / real sd | rms sd/real | cover ±1.96sd "
        "| cover percentile | cover basic | mean(rep)-est |"
    )
    for (kind, name), v in rec.items():
        a = np.array(v)
        sd = a[:, 0]
        cover = np.mean(np.abs(est - TRUTH) <= 1.96 * sd)
        pct = np.mean((a[:, 1] <= TRUTH) & (TRUTH <= a[:, 2]))
        basic = np.mean((2 * est - a[:, 2] <= TRUTH) & (TRUTH <= 2 * est - a[:, 1]))
        print(
            f"| {kind} | {name} | {sd.mean() / real:.3f} | "
            f"{np.sqrt((sd**2).mean()) / real:.3f} | {cover:.3f} | {pct:.3f} | {basic:.3f} | "
            f"{np.mean(a[:, 3] - est):+.4f} |",
            flush=True,
        )


def part_replicas(phi, n, sets, seed=2027):
    ss = np.random.SeedSequence([seed, int(phi * 1000), n]).spawn(sets)
    est, out = [], {}
    for s in ss:
        rng = np.random.default_rng(s)
        X = ar1(phi, n, rng)
        est.append(plug_in_mi(X, np.arange(n)[None])[0])
        l_sb, l_cb = lengths_of(X)
        r = {
            "SB PW B=50": plug_in_mi(X, stationary(rng, 50, n, l_sb)).var(ddof=1),
            "SB PW B=400": plug_in_mi(X, stationary(rng, 400, n, l_sb)).var(ddof=1),
            "CBB PWcb B=50": plug_in_mi(X, circular(rng, 50, n, l_cb)).var(ddof=1),
            "CBB PWcb B=400": plug_in_mi(X, circular(rng, 400, n, l_cb)).var(ddof=1),
        }
        for mult in (1, 2):
            L = mult * l_cb
            for B in (25, 200):
                a = plug_in_mi(X, circular(rng, B, n, L)).var(ddof=1)
                b = plug_in_mi(X, circular(rng, B, n, L / 2)).var(ddof=1)
                r[f"flat-top CBB l={mult}PWcb 2x{B}"] = max(2 * a - b, 1e-12)
        for k, val in r.items():
            out.setdefault(k, []).append(val)
    est = np.array(est)
    real = est.std(ddof=1)
    print(f"phi={phi} n={n} sets={sets}: bias {est.mean() - TRUTH:+.4f}, real sd {real:.4f}")
    print("| variance estimate | rms sd / real sd | mean sd / real | cover ±1.96 sd |")
    for k, v in out.items():
        sd = np.sqrt(np.array(v))
        cover = np.mean(abs(est - TRUTH) <= 1.96 * sd)
        print(
            f"| {k} | {np.sqrt(np.mean(v)) / real:.3f} | {sd.mean() / real:.3f} | {cover:.3f} |",
            flush=True,
        )


def part_fixed_b(phi, n, sets, seed=2028):
    ss = np.random.SeedSequence([seed, int(phi * 1000), n]).spawn(sets)
    est, rec, lengths = [], {k: [] for k in ("iid", "SB", "CBB")}, []
    for s in ss:
        rng = np.random.default_rng(s)
        X = ar1(phi, n, rng)
        est.append(plug_in_mi(X, np.arange(n)[None])[0])
        l_sb, l_cb = lengths_of(X)
        l_cb = max(1.0, l_cb)
        lengths.append(l_cb)
        rec["iid"].append((plug_in_mi(X, rng.integers(0, n, (50, n))).std(ddof=1), 1.0))
        rec["SB"].append((plug_in_mi(X, stationary(rng, 50, n, l_sb)).std(ddof=1), l_sb))
        rec["CBB"].append((plug_in_mi(X, circular(rng, 50, n, l_cb)).std(ddof=1), round(l_cb)))
    est = np.array(est)
    real = est.std(ddof=1)
    print(
        f"phi={phi} n={n} sets={sets} real sd {real:.4f} bias {est.mean() - TRUTH:+.4f} "
        f"mean CBB l {np.mean(lengths):.1f}"
    )
    for k, v in rec.items():
        a = np.array(v)
        sd, L = a[:, 0], a[:, 1]
        c196 = np.mean(abs(est - TRUTH) <= 1.96 * sd)
        se = math.sqrt(c196 * (1 - c196) / sets)
        ckv = np.mean(abs(est - TRUTH) <= kiefer_vogelsang(L / n) * sd)
        # gmmmi's rule (gmmmi._intervals): fixed-b with the 50 replicas' noise
        c = np.array([critical_value(0.95, fixed_b(length, n, replicas=50)) for length in L])
        cg = np.mean(abs(est - TRUTH) <= c * sd)
        print(
            f"  {k}: rms sd/real {np.sqrt((sd**2).mean()) / real:.3f}  cover 1.96 {c196:.3f}"
            f"±{se:.3f}  cover fixed-b {ckv:.3f}  mean cv {np.mean(kiefer_vogelsang(L / n)):.3f}"
            f"  cover gmmmi's c {cg:.3f}  mean c {c.mean():.3f}",
            flush=True,
        )


PARTS = {"lengths": part_lengths, "replicas": part_replicas, "fixed-b": part_fixed_b}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("cells", nargs="+", help="phi:N:data sets, e.g. 0.9:1000:1000")
    args = parser.parse_args()
    for cell in args.cells:
        phi, n, sets = cell.split(":")
        PARTS[args.part](float(phi), int(n), int(sets))


if __name__ == "__main__":
    main()
