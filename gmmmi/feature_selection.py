"""Greedy feature selection by (conditional) mutual information, with a stopping test.

`select_features` ranks the columns of ``X`` by what they tell about a target
``y``, one at a time, and keeps the path: at each step the feature chosen,
the MI of the chosen set with the target (with its bootstrap interval) and,
when the number of features is left to the data (``k=None``), the p-value of
the permutation test of the chosen feature's conditional MI given those
chosen before. scikit-learn's conventions (`gmmmi.sklearn.MISelector`) sit on
top of it; this module does not import scikit-learn.

The criteria, for a candidate f given the chosen set S (Brown et al. 2012,
"Conditional likelihood maximisation", JMLR 13, 27-66):

* ``"marginal"``: I(f; y), every feature alone (what ``SelectKBest`` with an
  MI score does);
* ``"mrmr"``: I(f; y) - mean over s in S of I(f; s) (Peng et al. 2005);
* ``"jmi"``: the sum over s in S of I(f, s; y) (Yang & Moody 1999);
* ``"cmim"``: the minimum over s in S of I(f; y | s) = I(f, s; y) - I(s; y)
  (Fleuret 2004).

Each needs only estimates of two or three variables, so a step costs one
batch of cheap estimates (`gmmmi.estimate_many`) over the remaining
candidates, for the feature chosen last. The candidates' scores are single
fits (``n_bootstrap=0``); the interval of the path comes from one bootstrapped
estimate per step. Every column (and a continuous target) is first mapped once
by its own Gaussianising monotone map (`gmmmi.margins.fit_marginal_map`), which
leaves every MI and CMI unchanged and lets one or two components serve skewed
margins; the estimates then run with ``transform="none"``.

Each step tests the candidates in the criterion's order: a candidate is
taken when the permutation test of I(f; y | S) = 0 (``gmmmi._stopping``: a
plug-in conditional MI of a fixed-K mixture refitted to each copy, and a
sequential p-value) rejects at level ``alpha / m``, m the number of
candidates; one that does not is passed over (``SelectionPath.skipped``) and
the next is tested. With ``k=None`` the selection stops when no candidate
passes; with ``k`` given and none passing, the criterion's best is taken, and
the later steps take the criterion's best untested (with nothing significant
given S, a candidate could pass given S and a feature the data did not support
only through a synergy with that feature; the tests of every remaining
candidate at every remaining step were most of the time of a fixed ``k``).
The division by m (Bonferroni) is what makes the rule honest: it bounds the
chance that any of the m candidates passes by ``alpha`` when none adds
anything, so testing them one after the other costs no level, while the best
of m noise features alone, uncorrected, would pass most of the time.

Why the test guards every step. A criterion built from pairs of variables
only approximates the gain I(f; y | S) (Brown et al. 2012, section 4), and
JMI's approximation is blind to a near copy of a chosen feature: its score
is, up to terms shared by every candidate, ``|S|`` times I(f; y) - mean over
s of [I(f; s) - I(f; s | y)], and for a copy of s the bracket is
I(f; y) - I(f; y | s) = I(f; y), the copy's whole relevance, which the mean
divides by ``|S|``. From the third step on a copy keeps half or more of its
relevance and can tie with a feature that adds something: on the
regression task of ``benchmarks/bench_select.py`` (part ``jmi_terms``, N =
20 000) the third step scores x1 1.108 nat and the copy of x0 1.077, so the
noise of estimates from 1000 rows decides between them. The test measures
the gain itself, so a copy (gain 0) is passed over.

Why a larger gain overrules the first that passes. A near copy is not an
exact one: with x3 = x0 + 0.1 sd of noise chosen and y following x0, x0 still
adds I(x0; y | x3) ~ 0.01 nat (the 1 % of x0's variance the copy misses;
0.0145 [0.0125, 0.0166] given x3 and x2 at N = 20 000), a real gain that the
test finds at N = 1000 (p = 1 / 200, the smallest it can give, on that repeat). JMI's order
then puts it ahead of a feature that adds 0.2 nat (the one repeat in ten with
a kept pair, seed 5 of the benchmark's regression task). Significance says a
gain is not zero, not that it is the largest, so from the second step on,
once a candidate passes, the candidates ranked after it with a larger plug-in
gain (``gmmmi._stopping.plugin_gain``: the test's statistic on the data from a
quick two-component fit, a few milliseconds each) are tested in decreasing
order of that gain, and the first that passes is taken instead
(``SelectionPath.skipped`` lists the one it displaced). The criterion still
proposes and the test still decides; the plug-in gain only reorders the
candidates that stand after one that passed.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_choice, check_int
from ._progress import progress_bar, progress_enabled
from ._seeds import resolve_sequence
from ._stacklevel import user_stacklevel
from ._weights import REFUSED
from .exceptions import TaskFailedWarning
from .margins import fit_marginal_map

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["METHODS", "SelectionPath", "SelectionStep", "select_features"]

#: the greedy criteria of `select_features`
METHODS = ("mrmr", "jmi", "cmim", "marginal")
#: bootstrap replicas of each step's estimate of I(chosen; y), unless ``n_bootstrap`` is given
PATH_BOOTSTRAP = 20
#: fewest permutations of a stopping test
MIN_PERMUTATIONS = 99
#: integration of each step's estimate of I(chosen; y), unless ``integral_method`` is given:
#: Monte Carlo with 20 000 points, whose error per draw (~0.007 nat) widens the bootstrap's
#: spread a little, where the deterministic rules (quasi-Monte Carlo above 6 dimensions)
#: cost 6x more at 6 dimensions
PATH_INTEGRAL = {"integral_method": "mc", "MC_samples": 20_000}


@dataclass(frozen=True)
class SelectionStep:
    """One step of a greedy selection.

    Attributes
    ----------
    feature : int
        Column index of the feature chosen at this step.
    name : str
        Its name.
    score : float
        The criterion's value for it (nat), the largest among the candidates.
    mi : float
        I(chosen so far, this one included; y), in nat.
    interval : tuple of float
        95% interval of ``mi`` (value ± 1.96 sd over the bootstrap), in nat.
    gain : float
        The rise of ``mi`` over the previous step (nat): the conditional MI
        of this feature given those chosen before, from the two point values.
    pvalue : float
        Permutation p-value of I(feature; y | chosen before) = 0 (NaN when the
        number of features was given and no test ran).
    threshold : float
        The level the p-value was compared with, ``alpha / n_candidates``
        (NaN without a test).
    n_candidates : int
        Candidates the feature was chosen among.
    selected : bool
        Whether the feature was kept (False only for the step that stopped
        the selection).
    """

    feature: int
    name: str
    score: float
    mi: float
    interval: tuple[float, float]
    gain: float
    pvalue: float
    threshold: float
    n_candidates: int
    selected: bool


@dataclass(frozen=True)
class SelectionPath:
    """The path of a greedy selection: its steps and why it stopped.

    Attributes
    ----------
    steps : tuple of SelectionStep
        In order; the last one has ``selected=False`` when the stopping test
        rejected it.
    method : str
        The criterion (see `METHODS`).
    stop_reason : str
        Why the selection stopped, in words.
    n_features : int
        Columns of the data.
    failed : dict
        Features whose relevance could not be estimated, by name, with the
        reason (they were never candidates).
    skipped : tuple of (int, str, float)
        Candidates passed over at a step, (step, name, p-value): their test
        did not reject while a later one in the criterion's order did, or it
        rejected and a later candidate with a larger plug-in gain passed too.
    """

    steps: tuple[SelectionStep, ...]
    method: str
    stop_reason: str
    n_features: int
    failed: dict = field(default_factory=dict)
    skipped: tuple = ()

    @property
    def selected(self) -> list[int]:
        """Column indices of the kept features, in the order chosen."""
        return [s.feature for s in self.steps if s.selected]

    def __str__(self) -> str:
        lines = [
            f"Greedy selection ({self.method}): {len(self.selected)} of {self.n_features} "
            f"features kept; {self.stop_reason}",
            f"{'step':>4}  {'feature':<16} {'score':>8}  {'I(chosen; y) [95% int.]':<27} "
            f"{'gain':>7}  {'p':>7}  {'level':>7}",
        ]
        for i, s in enumerate(self.steps, 1):
            mark = "" if s.selected else "  (stopped)"
            interval = f"{s.mi:.3f} [{s.interval[0]:.3f}, {s.interval[1]:.3f}]"
            lines.append(
                f"{i:>4}  {s.name[:16]:<16} {s.score:>8.4f}  {interval:<27} {s.gain:>7.4f}  "
                f"{s.pvalue:>7.4f}  {s.threshold:>7.4f}{mark}"
            )
        for step, name, pvalue in self.skipped:
            why = (
                "significant, but a smaller plug-in gain than the feature taken"
                if _passes(pvalue, self.steps[step - 1].threshold)
                else "not significant"
            )
            lines.append(f"skipped at step {step}: {name} (p = {pvalue:.4f}, {why})")
        return "\n".join(lines)

    def plot(self, ax: Axes | None = None) -> Axes:
        """The MI of the chosen set with the target, step by step.

        Drawn by `gmmmi.plot.plot_selection_path`.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Created if not given.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plot.selection import plot_selection_path

        return plot_selection_path(self, ax=ax)


def select_features(
    X: np.ndarray,
    y: np.ndarray,
    k: int | None = None,
    *,
    method: str = "mrmr",
    discrete_target: bool = False,
    alpha: float = 0.05,
    n_permutations: int | None = None,
    names: Sequence[str] | None = None,
    random_state: int | np.random.SeedSequence | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    sample_weight: np.ndarray | None = None,
    **estimate_options: Any,
) -> SelectionPath:
    """Choose features greedily by (conditional) MI with the target.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
        Finite features, one column each.
    y : numpy.ndarray, shape (n,)
        The target: numbers, or category codes with ``discrete_target``.
    k : int or None, default None
        Features to choose. None: as many as the stopping test keeps (see the
        module docstring).
    method : {"mrmr", "jmi", "cmim", "marginal"}, default "mrmr"
        The criterion (see the module docstring).
    discrete_target : bool, default False
        ``y`` holds categories (MI with a category: one mixture per class).
    alpha : float, default 0.05
        Level of the stopping test, divided by the number of candidates.
    n_permutations : int or None, default None
        Most permutations of each test (sequential: a candidate that adds
        nothing stops it after a few). None: the fewest for which the
        corrected level can be reached, ``ceil(m / alpha) - 1`` with m the
        number of candidates, and at least 99.
    names : sequence of str, optional
        Feature names (default ``x0``, ``x1``, ...).
    random_state : int, SeedSequence or None
        Seed of every estimate and permutation.
    executor : concurrent.futures.Executor or None
        Where each step's batch of estimates runs (`gmmmi.estimate_many`).
    progress : bool or None
        A progress bar over steps.
    sample_weight : numpy.ndarray, shape (n,), optional
        Row weights, passed to every estimate (see `gmmmi.estimate`); only
        with a given ``k`` and a continuous target. No test runs then (a
        test reorders f against the rows, which would separate values from
        their weights): each step takes the criterion's best.
    **estimate_options
        Options of `gmmmi.estimate` for every estimate (e.g. ``n_inits``,
        ``max_components``); ``n_bootstrap`` sets the replicas of each step's
        interval only (default ``PATH_BOOTSTRAP`` = 20), whose integrals are
        Monte Carlo (``PATH_INTEGRAL``) unless ``integral_method`` is given.

    Returns
    -------
    SelectionPath
    """
    method = check_choice("method", method, METHODS)
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    if k is not None:
        k = check_int("k", k, minimum=1)
        if k > p:
            raise ValueError(
                f"k={k} is larger than the number of features ({p}); choose k <= {p}, or "
                "k=None to let the stopping test decide."
            )
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    if n_permutations is not None:
        n_permutations = check_int("n_permutations", n_permutations, minimum=1)
        need = math.ceil(p / float(alpha)) - 1
        if k is None and n_permutations < need:
            raise ValueError(
                f"n_permutations={n_permutations} cannot reach the stopping test's first level, "
                f"alpha / {p} = {float(alpha) / p:.3g} (the smallest p-value is 1 / "
                f"{n_permutations + 1}); give at least {need}, or None."
            )
    if sample_weight is not None:
        if k is None:
            raise ValueError(
                "sample_weight with k=None: the stopping test permutes rows, which breaks the "
                "link between a row and its weight; give k."
            )
        if discrete_target:
            raise ValueError(f"sample_weight cannot be used with {REFUSED['discrete_y']}.")
        estimate_options = {**estimate_options, "sample_weight": sample_weight}
    names = [f"x{j}" for j in range(p)] if names is None else [str(s) for s in names]
    root = resolve_sequence(random_state, words=4)[1]
    work = _Work(X, y, discrete_target, estimate_options, root, executor)

    relevance, failed = work.many([(j,) for j in range(p)], names)
    candidates = [j for j in range(p) if np.isfinite(relevance[j])]
    terms: dict[int, np.ndarray] = {}  # chosen feature s -> term of every feature with s
    chosen: list[int] = []
    steps: list[SelectionStep] = []
    previous_mi = 0.0
    stop_reason = ""
    total = k if k is not None else len(candidates)
    # a test reorders rows, which would separate them from their weights; with k given,
    # "marginal" never looks at a test
    testing = sample_weight is None and (k is None or method != "marginal")
    skipped: list[tuple[int, str, float]] = []
    exhausted = 0  # with k given: the step at which no candidate passed (0: none yet)
    with progress_bar(total, "gmmmi selection", progress_enabled(progress), unit="step") as bar:
        while True:
            if k is not None and len(chosen) == k:
                stop_reason = f"k={k} features chosen."
                if exhausted and exhausted < k:
                    stop_reason += (
                        f" No candidate was significant at step {exhausted}; the steps after "
                        "it took the criterion's best untested."
                    )
                break
            if not candidates:
                stop_reason = "no candidates left."
                break
            scores = _scores(method, candidates, chosen, relevance, terms)
            order = np.argsort(-scores, kind="stable")
            ranked = [candidates[i] for i in order if np.isfinite(scores[i])]
            if not ranked:
                stop_reason = "no candidate could be scored."
                break
            m = len(candidates)
            score_of = dict(zip(candidates, scores, strict=True))
            threshold = float(alpha) / m if testing else math.nan
            b = n_permutations or max(MIN_PERMUTATIONS, math.ceil(m / float(alpha)) - 1)
            # "marginal" scores features alone: its test never passes over the best
            order = ranked[:1] if method == "marginal" else ranked
            best, pvalue, tried, why = _first_significant(
                work, order, chosen, threshold, b, testing
            )
            if why is not None and k is None:
                stop_reason = (
                    f"stopped: the test of the next feature, {names[best]!r}, could not run "
                    f"({why})."
                )
                break
            if why is not None:  # k given: the step stands, without its test
                work.caught[(UserWarning, f"a stopping test could not run: {why}")] += 1
            passed = best is not None
            keep = passed or k is not None
            if passed:
                skipped += [(len(steps) + 1, names[j], p) for j, p in tried if j != best]
            else:  # no candidate passed: the criterion's best, kept only if k says so
                best = ranked[0]
                pvalue = dict(tried)[best]
                if k is not None:  # the later steps' tests would be spent on the same noise
                    exhausted, testing = len(steps) + 1, False
            mi, interval, mi_why = work.joint_mi(chosen + [best])
            if mi_why is not None:  # the step stands, without its MI
                work.caught[(UserWarning, f"the MI of the chosen set is NaN: {mi_why}")] += 1
            steps.append(
                SelectionStep(
                    best,
                    names[best],
                    float(score_of[best]),
                    mi,
                    interval,
                    mi - previous_mi,
                    pvalue,
                    threshold,
                    m,
                    keep,
                )
            )
            if not keep:
                stop_reason = (
                    f"stopped: none of the {m} candidates adds significant information given "
                    f"those chosen (the best by the criterion, {names[best]!r}, has p = "
                    f"{pvalue:.3g} > alpha / {m} = {threshold:.3g})."
                )
                break
            chosen.append(best)
            candidates.remove(best)
            previous_mi = mi
            bar.update(1)
            if candidates and method != "marginal" and (k is None or len(chosen) < k):
                terms[best] = work.terms(method, best, candidates, names)
    work.report()
    return SelectionPath(tuple(steps), method, stop_reason, p, failed, tuple(skipped))


def _first_significant(work, ranked, chosen, threshold, n_permutations, testing):
    """The first candidate, in the criterion's order, whose gain is significant.

    From the second step on, a candidate ranked after it with a larger plug-in
    gain (``gmmmi._stopping.plugin_gain``) whose gain is significant too is taken
    instead (see the module docstring). Returns ``(feature or None, its
    p-value, [(feature, p) of those tried], why)``; ``why`` is the reason a
    test could not run (else None). Without tests (``testing`` False) the
    criterion's best, p NaN.
    """
    if not testing:
        return ranked[0], math.nan, [], None
    tried = []
    for j in ranked:
        pvalue, why = work.test(j, chosen, threshold, n_permutations)
        if why is not None:
            return j, math.nan, tried, why
        tried.append((j, pvalue))
        if _passes(pvalue, threshold):
            break
    else:
        return None, math.nan, tried, None
    if chosen:
        after = ranked[ranked.index(j) + 1 :]
        gain = {f: work.gain(f, chosen) for f in [j, *after]}
        larger = sorted((f for f in after if gain[f] > gain[j]), key=lambda f: -gain[f])
        for f in larger:
            p, why = work.test(f, chosen, threshold, n_permutations)
            if why is None:
                tried.append((f, p))
                if _passes(p, threshold):
                    return f, p, tried, None
    return j, pvalue, tried, None


def _passes(pvalue: float, threshold: float) -> bool:
    """Whether p is at or below the level.

    p is a multiple of 1 / (B + 1) or h / L; the tolerance keeps p = level from float noise.
    """
    return pvalue <= threshold * (1 + 1e-9)


def _scores(method, candidates, chosen, relevance, terms) -> np.ndarray:
    """The criterion of every candidate (NaN where a needed estimate failed)."""
    rel = relevance[candidates]
    if method == "marginal" or not chosen:
        return rel
    stacked = np.array([terms[s][candidates] for s in chosen])  # (|S|, m)
    if method == "mrmr":
        return rel - stacked.mean(axis=0)
    if method == "jmi":
        return stacked.sum(axis=0)
    # cmim: I(f; y | s) = I(f, s; y) - I(s; y)
    return (stacked - relevance[chosen][:, None]).min(axis=0)


class _Work:
    """The estimates of one selection: mapped columns, seeds, options, warnings."""

    def __init__(self, X, y, discrete, options, root, executor):
        self.discrete = bool(discrete)
        self.root = root
        map_rng = np.random.default_rng(self._seed(0))
        self.F = np.column_stack(
            [fit_marginal_map(X[:, j], f"x{j}", map_rng)(X[:, j]) for j in range(X.shape[1])]
        )
        self.y = y if self.discrete else fit_marginal_map(y, "y", map_rng)(y)
        options = dict(options)
        self.path_bootstrap = options.pop("n_bootstrap", PATH_BOOTSTRAP)
        self.options = {"transform": "none", **options, "discrete_y": self.discrete}
        given = "integral_method" in options
        self.path_options = {} if given else PATH_INTEGRAL
        self.executor = executor
        self.caught: Counter = Counter()

    def _seed(self, *key: int) -> np.random.SeedSequence:
        """The seed of one piece of work, named by ``key`` (not by the order of the work).

        So the choices up to step j are the same whatever ``k``: the stopping
        test's draws do not shift the seeds of the estimates that follow.
        """
        return np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, *key))

    def _int_seed(self, *key: int) -> int:
        return int(self._seed(*key).generate_state(1, np.uint64)[0] % 2**63)

    def _run(self, tasks, key, **overrides) -> tuple[list, list]:
        """Single-fit estimates of ``tasks``: results (None where failed) and the TaskErrors."""
        from .parallel import TaskError, estimate_many

        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            results = estimate_many(
                tasks,
                executor=self.executor,
                progress=False,
                random_state=self._seed(*key),
                **{**self.options, **overrides, "n_bootstrap": 0},
            )
        self._keep(rec, skip=TaskFailedWarning)
        errors = [r for r in results if isinstance(r, TaskError)]
        return [None if isinstance(r, TaskError) else r for r in results], errors

    def _keep(self, rec, skip=()):
        for w in rec:
            if skip and issubclass(w.category, skip):
                continue
            message = str(w.message)
            if message.startswith("task "):
                message = message.split(": ", 1)[-1]
            self.caught[(w.category, message)] += 1

    def many(self, columns, names, key=(1,)) -> tuple[np.ndarray, dict]:
        """I(F[:, cols]; y) for each tuple of columns; NaN and a reason where it failed."""
        tasks = [(self.F[:, list(c)], self.y) for c in columns]
        results, errors = self._run(tasks, key)
        values = np.array([math.nan if r is None else float(r.value) for r in results])
        by_index = {e.index: f"{e.type}: {e.message}" for e in errors}
        failed = {names[c[0]]: by_index[i] for i, c in enumerate(columns) if i in by_index}
        return values, failed

    def terms(self, method, s, candidates, names) -> np.ndarray:
        """The criterion's term of every feature with the newly chosen ``s`` (NaN elsewhere)."""
        out = np.full(self.F.shape[1], math.nan)
        if method == "mrmr":  # I(f; s)
            tasks = [(self.F[:, j], self.F[:, s]) for j in candidates]
            results, _ = self._run(tasks, (2, s), discrete_y=False)
            values = [math.nan if r is None else float(r.value) for r in results]
        else:  # I(f, s; y)
            values, _ = self.many([(j, s) for j in candidates], names, key=(2, s))
        out[candidates] = values
        return out

    def joint_mi(self, columns) -> tuple[float, tuple[float, float], str | None]:
        """I(F[:, columns]; y) with its 95% interval (bootstrap), in nat.

        NaN and the reason (else None) when the estimate is refused, e.g. too
        few rows per class for that many columns.
        """
        from .api import estimate

        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                result = estimate(
                    self.F[:, columns],
                    self.y,
                    random_state=self._int_seed(3, len(columns)),
                    progress=False,
                    **{**self.options, **self.path_options, "n_bootstrap": self.path_bootstrap},
                )
            except ValueError as err:
                return math.nan, (math.nan, math.nan), str(err)
        self._keep(rec)
        low, high = result.interval() if self.path_bootstrap > 0 else (math.nan, math.nan)
        return float(result.value), (float(low), float(high)), None

    def test(self, f, chosen, level, n_permutations) -> tuple[float, str | None]:
        """Permutation p-value of I(F[:, f]; y | F[:, chosen]) = 0, or NaN and why it failed.

        The sequential test of ``gmmmi._stopping``, compared with ``level``.
        """
        from ._stopping import conditional_pvalue

        try:
            p, _ = conditional_pvalue(
                self.F[:, f],
                self.F[:, chosen],
                self.y,
                discrete=self.discrete,
                level=level,
                n_permutations=n_permutations,
                rng=np.random.default_rng(self._seed(4, len(chosen))),
            )
        except ValueError as err:
            return math.nan, str(err)
        return float(p), None

    def gain(self, f, chosen) -> float:
        """The plug-in gain of F[:, f] given F[:, chosen], from a quick fit (-inf if singular)."""
        from ._stopping import plugin_gain

        value = plugin_gain(
            self.F[:, f],
            self.F[:, chosen],
            self.y,
            discrete=self.discrete,
            rng=np.random.default_rng(self._seed(5, len(chosen), f)),
        )
        return value if np.isfinite(value) else -math.inf

    def report(self) -> None:
        """Each distinct warning of the estimates once, with its count."""
        for (category, message), count in self.caught.items():
            warnings.warn(
                f"select_features ({count} estimate(s)): {message}",
                category,
                stacklevel=user_stacklevel(),
            )
