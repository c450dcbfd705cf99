"""The checks' corpus: every check's statistics and decisions on 78 data sets, for before/after.

Run from a checkout's root (``PYTHONPATH`` chooses the gmmmi measured)::

    PYTHONPATH=/path/to/old python benchmarks/checks_corpus.py record before.json
    PYTHONPATH=. python benchmarks/checks_corpus.py record after.json
    python benchmarks/checks_corpus.py compare before.json after.json

``record`` draws each data set at N = 1000, 5000 and 10 000 (``--n``) with seeds 0, 1 and 2
(702 data sets): the robustness suite (31 distributions), the paper's D1, D3, D3p,
D3_rhoneq0, D5 and D5p, Gaussians with rho from 0 to 0.9999, exp, cube and tanh of a
Gaussian with rho = 0.999, exact functions (sin 3x, x^2, e^x) with noise from 0 to 0.1,
y = x + 0.01 noise, circles with noise from 0 to 0.01, functions of two columns, two
conditional cases, a time series, a far outlier, copied rows and rounded values (the cases
the constants of ``gmmmi/_screening.py`` and ``gmmmi/_resolution.py`` quote). On each it
runs the checks around the fit on the standardised data and records their answers: the
screen (refusal text, warnings, the statistics of every determination and curve check),
the serial check (Ljung-Box p-values), the outlier check (rows flagged), Mardia's
scale-mixture gate, and, under one Gaussian and a 3-component mixture fitted by
scikit-learn (the same for both checkouts), the sharp-relation ratios and the fit check's
table. With ``gmmmi._rows.column_orders`` it also runs the checks that take the shared
column sorts, both ways, and records whether they agree.

``compare`` prints every difference in a refusal, a warning, a flagged row, a verdict or
the shared-sort agreement, and the largest relative change of each statistic. It is the
evidence that a faster check decides as the old one did; it never fails on a number.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
import warnings
from collections import Counter

import numpy as np

#: the functions whose return values are logged, by module
LOGGED = (
    ("gmmmi._screening", "determination"),
    ("gmmmi._screening", "curve_determination"),
    ("gmmmi.serial", "ljung_box"),
)


def _gauss(rho, n, rng):
    return rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], n).T


def _function(fn, noise=0.0):
    def sample(n, rng):
        x = rng.uniform(-1, 1, n)
        return x, fn(x) + noise * rng.normal(size=n)

    return sample


def _circle(noise):
    def sample(n, rng):
        a = rng.uniform(0, 2 * np.pi, n)
        return np.cos(a) + noise * rng.normal(size=n), np.sin(a) + noise * rng.normal(size=n)

    return sample


def _of_two(fn, noise=0.0, conditional=False):
    def sample(n, rng):
        y, z = rng.normal(size=n), rng.normal(size=n)
        x = fn(y, z) + noise * rng.normal(size=n)
        return (x, y, z) if conditional else (x, np.column_stack([y, z]))

    return sample


def _ar(n, rng):
    e = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], n)
    a = np.zeros((n, 2))
    for t in range(1, n):
        a[t] = 0.5 * a[t - 1] + e[t]
    return a[:, 0], a[:, 1]


def _outlier(n, rng):
    x, y = _gauss(0.6, n, rng)
    x[0] = 20.0
    return x, y


def _copies(n, rng):
    x, y = _gauss(0.6, n, rng)
    x[: n // 10], y[: n // 10] = x[n // 10 : n // 5], y[n // 10 : n // 5]
    return x, y


def _rounded(n, rng):
    x, y = _gauss(0.6, n, rng)
    return np.round(x / 0.25) * 0.25, np.round(y / 0.25) * 0.25


def cases() -> list:
    """(name, sampler(n, rng)) of every data set."""
    from gmmmi import datasets

    out = [(ds.name, ds.sample) for ds in datasets.robustness_suite()]
    out += [(name, datasets.paper(name).sample) for name in datasets.PAPER_MIXTURES]
    out += [(f"gauss{r}", lambda n, g, r=r: _gauss(r, n, g)) for r in (0, 0.6, 0.9, 0.99, 0.999)]
    out.append(("gauss0.9999", lambda n, g: _gauss(0.9999, n, g)))
    for name, f in (("exp", np.exp), ("cube", lambda v: v**3), ("tanh", lambda v: np.tanh(2 * v))):
        out.append((f"{name}_gauss0.999", lambda n, g, f=f: tuple(map(f, _gauss(0.999, n, g)))))
    for name, fn in (("sin3x", lambda x: np.sin(3 * x)), ("x2", np.square), ("expx", np.exp)):
        out += [(f"{name}+{s:g}", _function(fn, s)) for s in (0.0, 3e-4, 1e-3, 1e-2, 0.03, 0.1)]
    out.append(("x+0.01", _function(lambda x: x, 0.01)))
    out += [(f"circle{s:g}", _circle(s)) for s in (0.0, 1e-4, 1e-3, 0.01)]
    out.append(("sin y + z2", _of_two(lambda y, z: np.sin(y) + z**2)))
    out.append(("y z", _of_two(lambda y, z: y * z)))
    out.append(("y z + 0.01", _of_two(lambda y, z: y * z, 0.01)))
    out.append(("cmi sin z + z2/10", _of_two(lambda y, z: np.sin(z) + z**2 / 10, 0, True)))
    out.append(("cmi gauss", _of_two(lambda y, z: 0.5 * y + 0.5 * z, 0.7, True)))
    out += [("ar0.5", _ar), ("outlier20", _outlier), ("copies10%", _copies)]
    out.append(("rounded0.25", _rounded))
    return out


def _plain(v):
    """JSON-ready copy of a check's output."""
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer | int):
        return int(v)
    if isinstance(v, np.floating | float):
        return float(v)
    return repr(v)


def _install_log(log: list) -> None:
    """Log every return value of the `LOGGED` functions, wherever they are called from."""
    for module_name, attr in LOGGED:
        original = getattr(importlib.import_module(module_name), attr)

        def logged(*args, _f=original, _name=attr, **kwargs):
            out = _f(*args, **kwargs)
            log.append([_name, _plain(out)])
            return out

        for other in ("gmmmi._screening", "gmmmi._resolution", "gmmmi.serial"):
            module = importlib.import_module(other)
            if getattr(module, attr, None) is original:
                setattr(module, attr, logged)


def _checks(data, steps: list) -> None:
    """Run the checks on one data set, appending (name, answer) to ``steps``."""
    from sklearn.mixture import GaussianMixture

    from gmmmi._data import validate_data
    from gmmmi._em.scale_mixture import KURTOSIS_Z, mardia_kurtosis_z
    from gmmmi._resampling import resolve_bootstrap
    from gmmmi._resolution import distinct_rows, resolution_ratios, warn_unresolved
    from gmmmi._rows import standardise
    from gmmmi._screening import isolated_outliers, screen, warn_outliers
    from gmmmi.backends import get_backend
    from gmmmi.fit_check import automatic_check
    from gmmmi.mixture import MixtureDraws

    backend = get_backend("numba")
    v = validate_data(data[0], data[1], data[2] if len(data) == 3 else None)
    names = [name for key in v.blocks for name in v.labels[key]]
    Xs, shift, scale = standardise(v.X, labels=names)
    screened = (Xs, shift, scale, v.blocks, v.labels)
    first = screen(*screened, categorical=False, n_folds=2, outliers=False)
    steps.append(["copies", int(first.size)])
    kurtosis = mardia_kurtosis_z(Xs)
    steps.append(["mardia", [float(kurtosis), bool(kurtosis > KURTOSIS_Z)]])
    bootstrap = ("iid", None, backend, Xs, names)
    steps.append(["serial", repr(resolve_bootstrap(*bootstrap, categorical=False, resampled=True))])
    steps.append(["outliers", [isolated_outliers(c).tolist() for c in Xs.T]])
    steps.append(["warn_outliers", bool(warn_outliers(Xs, shift, scale, names))])
    try:
        from gmmmi._rows import column_orders
    except ImportError:  # a checkout from before the shared sorts
        column_orders = None
    if column_orders is not None:
        from gmmmi.mixed import plan_columns

        orders = column_orders(v.X)
        shared = screen(*screened, categorical=False, n_folds=2, outliers=False, orders=orders)
        steps.append(["copies_shared", int(shared.size)])
        serial = resolve_bootstrap(*bootstrap, categorical=False, resampled=True, orders=orders)
        steps.append(["serial_shared", repr(serial)])
        flagged = [isolated_outliers(c, o).tolist() for c, o in zip(Xs.T, orders, strict=True)]
        steps.append(["outliers_shared", flagged])
        warned = warn_outliers(Xs, shift, scale, names, orders=orders)
        steps.append(["warn_outliers_shared", bool(warned)])
        same = repr(plan_columns(v.X, names, "auto")) == repr(
            plan_columns(v.X, names, "auto", orders)
        )
        steps.append(["plan_shared_agrees", same])
    for k in (1, 3):
        gm = GaussianMixture(k, random_state=0).fit(Xs)
        mixture = (gm.weights_, gm.means_, gm.covariances_)
        with np.errstate(all="ignore"):
            ratios = resolution_ratios(Xs, *mixture, v.blocks, distinct_rows(Xs))
        steps.append([f"ratios{k}", [[key, j, float(r)] for key, j, r in ratios]])
        draws = MixtureDraws(*(a[None] for a in mixture))
        warn_unresolved(Xs, draws, v.blocks, v.labels)
        check = automatic_check(draws, Xs, names=names)
        steps.append([f"fit_check{k}", [check.ok, *check.worst(), check.table.values.tolist()]])


def record(path: str, sizes: list, seeds: tuple) -> None:
    """Run the checks on every data set; write the answers to ``path`` (JSON)."""
    import gmmmi

    log: list = []
    _install_log(log)
    records, start = [], time.time()
    for name, sampler in cases():
        for n in sizes:
            for seed in seeds:
                data = sampler(n, np.random.default_rng(seed))
                log.clear()
                entry = {"name": name, "n": n, "seed": seed, "steps": []}
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        _checks(data, entry["steps"])
                    except ValueError as error:
                        entry["error"] = str(error)
                entry["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
                entry["log"] = list(log)
                records.append(entry)
        print(f"{name} ({time.time() - start:.0f} s)", flush=True)
    with open(path, "w") as f:
        json.dump({"gmmmi": gmmmi.__file__, "records": records}, f)
    print(f"{len(records)} data sets -> {path}")


def compare(before_path: str, after_path: str) -> None:
    """Print every changed decision and the largest relative change of each statistic."""
    before, after = (json.load(open(p))["records"] for p in (before_path, after_path))
    after_by = {(r["name"], r["n"], r["seed"]): r for r in after}
    largest, changed = Counter(), []

    def walk(a, b, where, statistic):
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for x, y in zip(a, b, strict=True):
                walk(x, y, where, statistic)
        elif isinstance(a, float) and isinstance(b, float):
            if a != b and not (math.isnan(a) and math.isnan(b)):
                relative = abs(a - b) / max(abs(a), abs(b))
                largest[statistic] = max(largest[statistic], relative)
        elif a != b:
            changed.append((where, a, b))

    for a in before:
        key = (a["name"], a["n"], a["seed"])
        b = after_by[key]
        for field in ("error", "warnings"):
            if a.get(field) != b.get(field):
                changed.append((key, field, a.get(field), b.get(field)))
        answers = dict(b["steps"])
        for step, value in a["steps"]:
            walk(value, answers.get(step), (key, step), step.rstrip("13"))
            if step + "_shared" in answers:  # the shared sorts against the old checks' own
                walk(value, answers[step + "_shared"], (key, step + "_shared"), step + "_shared")
        if answers.get("plan_shared_agrees") is False:
            changed.append((key, "plan_columns with the shared sorts"))
        logged_before = a["log"]
        logged_after = b["log"][: len(logged_before)]
        for (name, x), (_, y) in zip(logged_before, logged_after, strict=True):
            walk(x, y, (key, name), name)
        for (name, x), (_, y) in zip(logged_before, b["log"][len(logged_before) :], strict=False):
            walk(x, y, (key, name + " (shared sorts)"), name + "_shared")
    print(f"{len(before)} data sets; changed decisions, warnings or refusals: {len(changed)}")
    for item in changed[:40]:
        print("  ", item)
    print("largest relative change of each statistic:")
    for statistic, value in sorted(largest.items()):
        print(f"  {statistic}: {value:.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run the checks on every data set")
    rec.add_argument("out")
    rec.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 10_000])
    rec.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    cmp = sub.add_parser("compare", help="compare two recorded corpora")
    cmp.add_argument("before")
    cmp.add_argument("after")
    args = parser.parse_args()
    if args.command == "record":
        record(args.out, args.n, tuple(args.seeds))
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
