"""Feature selection by (conditional) MI: gmmmi's MISelector against SelectKBest(mutual_info_*).

Parts (``--parts``, default recovery,noise,speed,real):

* ``recovery``: synthetic regression and classification tasks with three
  informative features (one linear, one through sin, one through a square),
  a near copy of each of the first two (copy = feature + 0.1 sd noise) and
  noise features. Each selector keeps k = 3 features; a repeat "recovers the
  informative set" when every informative feature is represented by itself
  or its copy, and "picks a pair" when both members of a copy pair are kept.
  Repeats are fresh data sets (seeds 0..R-1). gmmmi's selectors run with
  ``n_bootstrap=0`` here (no interval on the path): the choices do not depend
  on it, only the reported intervals do.
* ``noise``: ``k=None`` on pure-noise features (regression target
  independent of them): the fraction of repeats that keep nothing
  (``n_bootstrap=0`` as above).
* ``speed``: one fit among 50 features at N = 2000 (k = 5 and k = None),
  timed (wall and CPU seconds) against SelectKBest(mutual_info_regression) in
  the same run, with the load average, after a small fit that loads the
  compiled kernels.
* ``copies``: near copies of other kinds than ``recovery``'s, one at a time,
  with x0, x1, x2 and 7 noise features as there (k = 3, N = 1000): ``noisy``
  (x0 + 0.2 sd of noise), ``monotone`` (exp(x0 + 0.1 sd of noise)) and
  ``square`` (x2 + 0.1 sd of noise: a copy of the feature that acts through a
  square). Same counts as ``recovery``.
* ``jmi_terms``: single-fit estimates at N = 20 000 of every term JMI's
  third step uses on the regression task (why JMI can keep a copy).
* ``real``: two data sets bundled with scikit-learn (no download):
  load_diabetes (regression) and load_breast_cancer (classification): the
  features chosen, time per fit, and the 5-fold cross-validated score of a
  linear model on k = 5 features chosen inside the pipeline.

Usage::

    python benchmarks/bench_select.py [--parts recovery,noise,speed,real] [--repeats 10]
        [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from functools import partial

import numpy as np

os.environ.setdefault("GMMMI_PROGRESS", "0")

INFORMATIVE = (0, 1, 2)
COPIES = {3: 0, 4: 1}  # copy column -> original
METHODS = ("mrmr", "jmi", "cmim", "marginal")
KINDS = ("regression", "classification")


def synthetic(kind: str, n: int, n_noise: int, seed: int):
    """X (n, 5 + n_noise): x0, x1, x2 informative, x3 ~ x0, x4 ~ x1, then noise; and y."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 3))
    copies = base[:, :2] + 0.1 * rng.normal(size=(n, 2))
    X = np.column_stack([base, copies, rng.normal(size=(n, n_noise))])
    signal = base[:, 0] + np.sin(2 * base[:, 1]) + 0.7 * base[:, 2] ** 2
    if kind == "regression":
        y = signal + 0.3 * rng.normal(size=n)
    else:  # three classes by terciles of a noisy signal
        noisy = signal + 0.3 * rng.normal(size=n)
        y = np.digitize(noisy, np.quantile(noisy, [1 / 3, 2 / 3]))
    return X, y


#: the copy of each ``copies`` variant: (original column, map of the original and noise)
VARIANTS = {
    "noisy": (0, lambda x, e: x + 0.2 * e),
    "monotone": (0, lambda x, e: np.exp(x + 0.1 * e)),
    "square": (2, lambda x, e: x + 0.1 * e),
}


def with_copy(variant: str, kind: str, n: int, seed: int):
    """X (n, 11): x0, x1, x2 informative, x3 the variant's copy, then 7 noise; and y."""
    X, y = synthetic(kind, n, 7, seed)
    original, copy = VARIANTS[variant]
    e = np.random.default_rng([seed, 1]).normal(size=n)
    return np.column_stack([X[:, :3], copy(X[:, original], e), X[:, 5:]]), y


def part_copies(repeats: int, n: int, methods=("mrmr", "jmi"), kinds=KINDS) -> dict:
    table = {}
    for variant, (original, _) in VARIANTS.items():
        for kind in kinds:
            rows = {}
            for r in range(repeats):
                X, y = with_copy(variant, kind, n, seed=r)
                for name, sel in selectors(kind, 3, r, methods, peer=False).items():
                    c = _cpu()
                    chosen = set(sel.fit(X, y).get_support(indices=True).tolist())
                    pair = {original, 3} <= chosen
                    rec = len(chosen) == 3 and all(len(chosen & g) == 1 for g in _groups(original))
                    row = rows.setdefault(name, {"recovered": 0, "pairs": 0, "cpu_seconds": []})
                    row["recovered"] += rec
                    row["pairs"] += pair
                    row["cpu_seconds"].append(_cpu() - c)
                    print(f"  {variant} {kind} {r} {name}: recovered={rec} pair={pair}", flush=True)
            table[f"{variant} {kind}"] = {
                name: {**v, "cpu_seconds": float(np.median(v["cpu_seconds"]))}
                for name, v in rows.items()
            }
    return {"repeats": repeats, "n": n, "table": table}


def _groups(original: int) -> list[set]:
    """The informative features, each with the copy of ``copies`` where it has one."""
    return [{i, 3} if i == original else {i} for i in INFORMATIVE]


def outcome(selected) -> tuple[bool, bool]:
    """(recovered the informative set, picked both members of a copy pair)."""
    chosen = set(int(j) for j in selected)
    groups = [{i} | {c for c, o in COPIES.items() if o == i} for i in INFORMATIVE]
    recovered = all(len(chosen & g) == 1 for g in groups) and len(chosen) == len(INFORMATIVE)
    pair = any(c in chosen and o in chosen for c, o in COPIES.items())
    return recovered, pair


def selectors(kind: str, k: int, seed: int, methods=METHODS, peer: bool = True) -> dict:
    from sklearn.feature_selection import SelectKBest, mutual_info_classif, mutual_info_regression

    from gmmmi.sklearn import MISelector

    score = mutual_info_regression if kind == "regression" else mutual_info_classif
    out = {
        f"gmmmi {m}": MISelector(
            k, method=m, random_state=seed, discrete_target=kind != "regression", n_bootstrap=0
        )
        for m in methods
    }
    if peer:
        out["SelectKBest(mutual_info_*)"] = SelectKBest(
            lambda X, y: score(X, y, random_state=seed), k=k
        )
    return out


def part_recovery(
    repeats: int, n: int, n_noise: int, methods=METHODS, peer=True, kinds=KINDS
) -> dict:
    table = {}
    for kind in kinds:
        rows = {}
        for r in range(repeats):
            X, y = synthetic(kind, n, n_noise, seed=r)
            for name, sel in selectors(kind, len(INFORMATIVE), r, methods, peer).items():
                t, c = time.perf_counter(), _cpu()
                sel.fit(X, y)
                dt, dc = time.perf_counter() - t, _cpu() - c
                rec, pair = outcome(np.flatnonzero(sel.get_support()))
                row = rows.setdefault(
                    name, {"recovered": 0, "pairs": 0, "seconds": [], "cpu_seconds": []}
                )
                row["recovered"] += rec
                row["pairs"] += pair
                row["seconds"].append(dt)
                row["cpu_seconds"].append(dc)
                print(f"  {kind} {r} {name}: recovered={rec} pair={pair} cpu={dc:.1f}s", flush=True)
            print(f"  {kind} repeat {r + 1}/{repeats} done", flush=True)
        table[kind] = {
            name: {
                **v,
                "seconds": float(np.median(v["seconds"])),
                "cpu_seconds": float(np.median(v["cpu_seconds"])),
            }
            for name, v in rows.items()
        }
    return {"repeats": repeats, "n": n, "n_features": 5 + n_noise, "table": table}


def part_noise(repeats: int, n: int, p: int, start: int = 0) -> dict:
    from gmmmi.sklearn import MISelector

    empty = 0
    seconds = []
    kept = []
    for r in range(start, start + repeats):
        rng = np.random.default_rng(1000 + r)
        X, y = rng.normal(size=(n, p)), rng.normal(size=n)
        t = time.perf_counter()
        sel = MISelector(method="mrmr", random_state=r, n_bootstrap=0).fit(X, y)
        seconds.append(time.perf_counter() - t)
        empty += not sel.get_support().any()
        kept.append(int(sel.get_support().sum()))
        print(f"  noise {r}: kept {kept[-1]}", flush=True)
    return {
        "repeats": repeats,
        "first_seed": start,
        "n": n,
        "n_features": p,
        "kept_nothing": empty,
        "kept_nothing_se": float(np.sqrt(empty * (repeats - empty) / repeats) / repeats),
        "kept_per_repeat": kept,
        "seconds_median": float(np.median(seconds)),
    }


def part_speed(n: int, p: int) -> dict:
    from sklearn.feature_selection import SelectKBest, mutual_info_regression

    from gmmmi.sklearn import MISelector

    rng = np.random.default_rng(7)
    base = rng.normal(size=(n, p))
    y = base[:, 0] + np.sin(2 * base[:, 1]) + 0.7 * base[:, 2] ** 2 + 0.3 * rng.normal(size=n)
    # load the compiled kernels first (a fresh process's one-off cost, docs/scaling.md)
    t, c = time.perf_counter(), _cpu()
    MISelector(1, random_state=1, n_bootstrap=0).fit(base[:300, :3], y[:300])
    out = {"n": n, "n_features": p, "warm_up_seconds": time.perf_counter() - t}
    out["warm_up_cpu_seconds"] = _cpu() - c
    out["load_before"] = os.getloadavg()
    t, c = time.perf_counter(), _cpu()
    SelectKBest(lambda X, y: mutual_info_regression(X, y, random_state=0), k=5).fit(base, y)
    out["SelectKBest_seconds"] = time.perf_counter() - t
    out["SelectKBest_cpu_seconds"] = _cpu() - c
    for k in (5, None):
        t, c = time.perf_counter(), _cpu()
        sel = MISelector(k, method="mrmr", random_state=0).fit(base, y)
        out[f"gmmmi_mrmr_k={k}_seconds"] = time.perf_counter() - t
        out[f"gmmmi_mrmr_k={k}_cpu_seconds"] = _cpu() - c
        out[f"gmmmi_mrmr_k={k}_selected"] = [int(j) for j in sel.get_support(indices=True)]
    out["load_after"] = os.getloadavg()
    return out


def part_jmi_terms(n: int) -> dict:
    """Single-fit estimates at large N of every term JMI uses on the regression task.

    I(xj; y) and I(xi, xj; y) for the three informative features and the two
    copies (one data set, seed 123): JMI's third step after x0 and x2 scores a
    candidate f by I(f, x0; y) + I(f, x2; y).
    """
    from itertools import combinations

    import gmmmi

    X, y = synthetic("regression", n, 0, seed=123)
    terms = {}
    for cols in [(j,) for j in range(5)] + list(combinations(range(5), 2)):
        result = gmmmi.estimate(X[:, list(cols)], y, n_bootstrap=0, random_state=0)
        terms[str(cols)] = float(result.value)
    step3 = {f: terms[str((0, f))] + terms[str((2, f))] for f in (1, 3, 4)}
    return {"n": n, "terms": terms, "jmi_step3_after_x0_x2": step3}


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its finished children."""
    import resource

    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def part_real() -> dict:
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.feature_selection import SelectKBest, mutual_info_classif, mutual_info_regression
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from gmmmi.sklearn import MISelector

    out = {}
    for name, loader, score, model, discrete in (
        ("diabetes", load_diabetes, mutual_info_regression, RidgeCV(), False),
        ("breast_cancer", load_breast_cancer, mutual_info_classif, LogisticRegression(), True),
    ):
        X, y = loader(return_X_y=True, as_frame=True)
        res = {"n": int(X.shape[0]), "n_features": int(X.shape[1])}
        for label, sel in (
            (
                "gmmmi mrmr k=5",
                MISelector(5, method="mrmr", random_state=0, discrete_target=discrete),
            ),
            (
                "gmmmi mrmr k=None",
                MISelector(method="mrmr", random_state=0, discrete_target=discrete),
            ),
            ("SelectKBest k=5", SelectKBest(partial(score, random_state=0), k=5)),
        ):
            t = time.perf_counter()
            sel.fit(X, y)
            res[label] = {
                "seconds": time.perf_counter() - t,
                "selected": [str(c) for c in sel.get_feature_names_out()],
            }
            if hasattr(sel, "path_"):
                res[label]["path"] = str(sel.path_)
        for label, sel in (
            (
                "gmmmi mrmr k=5",
                MISelector(5, method="mrmr", random_state=0, discrete_target=discrete),
            ),
            ("SelectKBest k=5", SelectKBest(partial(score, random_state=0), k=5)),
        ):
            pipe = make_pipeline(StandardScaler(), sel, model)
            t = time.perf_counter()
            cv = cross_val_score(pipe, X, y, cv=5)
            res[label]["cv_score"] = [float(cv.mean()), float(cv.std())]
            res[label]["cv_seconds"] = time.perf_counter() - t
        out[name] = res
        print(f"  {name} done", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="recovery,noise,speed,real")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--noise-repeats", type=int, default=40)
    parser.add_argument("--noise-start", type=int, default=0, help="first repeat (its seed)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--methods", default=",".join(METHODS), help="gmmmi criteria (recovery)")
    parser.add_argument("--no-peer", action="store_true", help="recovery without SelectKBest")
    parser.add_argument("--kinds", default=",".join(KINDS), help="recovery tasks")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    results = {"uptime_load": os.getloadavg(), "cpus": os.cpu_count()}
    for part in args.parts.split(","):
        print(f"{part} ...", flush=True)
        t = time.perf_counter()
        if part == "recovery":
            methods = tuple(args.methods.split(","))
            kinds = tuple(args.kinds.split(","))
            results[part] = part_recovery(args.repeats, args.n, 7, methods, not args.no_peer, kinds)
        elif part == "noise":
            results[part] = part_noise(args.noise_repeats, 500, 10, args.noise_start)
        elif part == "speed":
            results[part] = part_speed(2000, 50)
        elif part == "copies":
            methods = tuple(args.methods.split(","))
            kinds = tuple(args.kinds.split(","))
            results[part] = part_copies(args.repeats, args.n, methods, kinds)
        elif part == "jmi_terms":
            results[part] = part_jmi_terms(20_000)
        elif part == "real":
            results[part] = part_real()
        results[part]["wall_seconds"] = time.perf_counter() - t
        print(json.dumps(results[part], indent=1), flush=True)
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
