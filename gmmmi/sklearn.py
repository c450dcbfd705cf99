"""gmmmi in scikit-learn's conventions: an MI score function and a feature selector.

Needs scikit-learn (``pip install ".[sklearn]"``); ``import gmmmi`` never
imports this module or scikit-learn.

* `mutual_info_scores` scores every feature against the target, with a
  permutation p-value each: a ``score_func`` for ``SelectKBest`` and
  ``SelectFpr``.
* `MISelector` chooses features greedily by conditional MI (mRMR, JMI, CMIM)
  or by their MI alone, and with ``k=None`` stops at the first feature whose
  conditional MI given those chosen is not significant. Its ``path_`` keeps
  every step (`gmmmi.feature_selection.SelectionPath`, with ``.plot()``).
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from gmmmi._checks import check_int
from gmmmi._seeds import resolve_sequence
from gmmmi._stacklevel import user_stacklevel
from gmmmi._weights import weight_vector
from gmmmi.feature_selection import METHODS, SelectionPath, select_features

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MISelector", "mutual_info_scores"]

#: a numeric target with at most this many distinct values is read as categories by "auto"
#: (gmmmi refuses a continuous column of so few values)
MAX_AUTO_CLASSES = 10
#: fewest rows a selection accepts
MIN_SAMPLES = 10


def mutual_info_scores(
    X: Any,
    y: Any,
    *,
    discrete_target: bool | str = "auto",
    n_permutations: int = 99,
    random_state: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    **estimate_options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """MI of every feature with the target, and its permutation p-value.

    Usable as ``SelectKBest(score_func=...)`` and ``SelectFpr(score_func=...)``
    (give the extra arguments with ``functools.partial``). The scores are single
    fits (``n_bootstrap=0`` unless given), one task of `gmmmi.estimate_many`
    per feature; each p-value is a `gmmmi.independence_test` of that feature
    alone against the target.

    Parameters
    ----------
    X : array_like or DataFrame, shape (n, p)
        Features.
    y : array_like, shape (n,)
        Target.
    discrete_target : bool or "auto", default "auto"
        True: ``y`` holds categories (MI with a category). "auto": categories
        when ``y`` is not floating point or has at most 10 distinct values.
    n_permutations : int, default 99
        Permutations of each feature's test; 0 skips the tests (p-values NaN),
        which is all ``SelectKBest`` needs.
    random_state : int or None
        Seed of every estimate and permutation.
    executor : concurrent.futures.Executor or None
        Where the estimates run (see `gmmmi.estimate_many`).
    progress : bool or None
        A progress bar over features.
    **estimate_options
        Options of `gmmmi.estimate` (e.g. ``n_inits``, ``transform``).

    Returns
    -------
    scores : numpy.ndarray, shape (p,)
        MI in nat; NaN (with a warning naming the feature) where gmmmi refused
        the feature, e.g. a binary one.
    pvalues : numpy.ndarray, shape (p,)
        Permutation p-values, multiples of 1 / (n_permutations + 1).
    """
    from gmmmi.parallel import TaskError, estimate_many

    X, y = _check_X_y(X, y)
    n_permutations = check_int("n_permutations", n_permutations, minimum=0)
    discrete, y = _target(y, discrete_target, "mutual_info_scores")
    root = resolve_sequence(random_state, words=4)[1]
    fit_seq, test_seq = root.spawn(2)
    options = {"n_bootstrap": 0, **estimate_options, "discrete_y": discrete}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=_task_failed())
        results = estimate_many(
            [(X[:, j], y) for j in range(X.shape[1])],
            executor=executor,
            progress=progress,
            random_state=fit_seq,
            **options,
        )
    scores = np.array([math.nan if isinstance(r, TaskError) else float(r.value) for r in results])
    failed = [r for r in results if isinstance(r, TaskError)]
    if failed:
        warnings.warn(
            f"mutual_info_scores: {len(failed)} of {len(results)} features could not be "
            f"estimated and score NaN (first, feature {failed[0].index}: {failed[0].message})",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    pvalues = np.full(X.shape[1], math.nan)
    if n_permutations:
        from gmmmi.independence import independence_test

        test_options = {k: v for k, v in options.items() if k != "n_bootstrap"}
        seeds = test_seq.spawn(X.shape[1])
        for j in np.flatnonzero(np.isfinite(scores)):
            pvalues[j] = independence_test(
                X[:, j],
                y,
                n_permutations=n_permutations,
                random_state=int(seeds[j].generate_state(1, np.uint64)[0] % 2**63),
                executor=executor,
                **test_options,
            ).pvalue
    return scores, pvalues


class MISelector(SelectorMixin, BaseEstimator):
    """Choose features by (conditional) mutual information with the target.

    A scikit-learn selector: ``fit``, ``transform``, ``get_support``,
    ``get_feature_names_out``; works in a ``Pipeline`` and in
    ``cross_val_score``, and keeps pandas column names (fitted, it has
    scikit-learn's ``n_features_in_`` and, for a DataFrame,
    ``feature_names_in_``). The greedy criteria and the stopping rule are
    described in `gmmmi.feature_selection`.

    Parameters
    ----------
    k : int or None, default None
        Features to keep. None: keep choosing while the next feature's
        conditional MI given those chosen is significant (a permutation test
        at level ``alpha`` divided by the number of candidates); the reason
        for stopping is in ``stop_reason_``.
    method : {"mrmr", "jmi", "cmim", "marginal"}, default "mrmr"
        ``"mrmr"``: relevance minus mean redundancy with the chosen;
        ``"jmi"``: sum of I(f, s; y) over the chosen s; ``"cmim"``: the
        smallest I(f; y | s); ``"marginal"``: I(f; y) alone.
    discrete_target : bool or "auto", default "auto"
        True: ``y`` holds class labels (any hashable values). False: a number.
        "auto": class labels when ``y`` is not floating point or has at most
        10 distinct values (gmmmi cannot fit such a column as continuous).
    alpha : float, default 0.05
        Level of the stopping test (``k=None``).
    n_permutations : int or None, default None
        Permutations of each stopping test; None: ``ceil(m / alpha) - 1``
        (at least 99), the fewest that can reach the level ``alpha / m``.
    random_state : int or None, default None
        Seed of every estimate and permutation.
    executor : concurrent.futures.Executor or None, default None
        Where each step's estimates run (`gmmmi.estimate_many`).
    progress : bool or None, default None
        A progress bar over steps.
    **estimate_options
        Options of `gmmmi.estimate` for every estimate (``n_inits``,
        ``max_components``, ...); ``n_bootstrap`` (default 20) sets the
        replicas of each step's interval. They are parameters like the
        others (``get_params``, ``set_params``, ``clone``).

    Attributes
    ----------
    path_ : gmmmi.feature_selection.SelectionPath
        Every step: feature, score, I(chosen; y) with its interval, gain,
        p-value. ``print(selector.path_)``, ``selector.plot()``.
    stop_reason_ : str
        Why the selection stopped.
    support_ : numpy.ndarray of bool, shape (p,)
        The kept features.
    classes_ : numpy.ndarray
        The class labels (categorical target only).

    Examples
    --------
    >>> import numpy as np
    >>> from gmmmi.sklearn import MISelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 4))
    >>> y = X[:, 0] + np.sin(2 * X[:, 1]) + 0.3 * rng.normal(size=400)
    >>> sel = MISelector(k=2, random_state=0).fit(X, y)   # doctest: +SKIP
    >>> sel.get_support(indices=True)                     # doctest: +SKIP
    array([0, 1])
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        method: str = "mrmr",
        discrete_target: bool | str = "auto",
        alpha: float = 0.05,
        n_permutations: int | None = None,
        random_state: int | None = None,
        executor: Executor | None = None,
        progress: bool | None = None,
        **estimate_options: Any,
    ) -> None:
        self.k = k
        self.method = method
        self.discrete_target = discrete_target
        self.alpha = alpha
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.executor = executor
        self.progress = progress
        self._estimate_options = dict(estimate_options)

    def get_params(self, deep: bool = True) -> dict:
        """The parameters, the options of `gmmmi.estimate` included."""
        return {**super().get_params(deep=deep), **self._estimate_options}

    def set_params(self, **params: Any) -> MISelector:
        """Set parameters; a name that is not one of the signature's is an estimate option."""
        own = set(self._get_param_names())
        self._estimate_options.update({k: v for k, v in params.items() if k not in own})
        return super().set_params(**{k: v for k, v in params.items() if k in own})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MISelector:
        """Choose the features.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n, p)
            Features (finite numbers).
        y : array_like, shape (n,)
            Target.
        sample_weight : array_like, shape (n,), optional
            Non-negative row weights. Whole numbers are frequency weights:
            each row counts that many times (0 removes it), exactly as if it
            were repeated, with any ``k``, method and target. Other weights
            are passed to every estimate (`gmmmi.estimate`'s weighted EM):
            only with a given ``k`` (the stopping test permutes rows) and a
            continuous target (the MI with a category counts rows); otherwise
            a ValueError says so.

        Returns
        -------
        MISelector
            self.

        Notes
        -----
        Rows are exchangeable here: they are put in one canonical order (by a
        hash of each row's values: an order set by the values alone, with no
        trend along the rows) before the selection, so the result does not
        depend on their order, and a fit with whole-number weights is the fit
        to the repeated rows. With ``bootstrap="block"`` among the estimate
        options the order is kept.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {self.method!r}.")
        repeated = False
        if sample_weight is not None:
            sample_weight = weight_vector(sample_weight, X.shape[0])
            if np.array_equal(sample_weight, np.round(sample_weight)):
                counts = sample_weight.astype(np.int64)
                X, y, sample_weight, repeated = X.repeat(counts, 0), y.repeat(counts), None, True
        _check_rows(X.shape[0], type(self).__name__)
        discrete, codes = _target(y, self.discrete_target, type(self).__name__)
        if self._estimate_options.get("bootstrap") != "block":
            order = _canonical_order(np.column_stack([X, codes]))
            X, y, codes = X[order], y[order], codes[order]
            sample_weight = None if sample_weight is None else sample_weight[order]
        if discrete:
            self.classes_ = np.unique(y)
        elif hasattr(self, "classes_"):  # from an earlier fit to class labels
            del self.classes_
        names = getattr(self, "feature_names_in_", None)
        with warnings.catch_warnings():
            if repeated:  # the copies are the frequency weights, not a data problem
                warnings.filterwarnings("ignore", message=r"select_features .*exact copies")
            self.path_: SelectionPath = select_features(
                X,
                codes,
                self.k,
                method=self.method,
                discrete_target=discrete,
                alpha=self.alpha,
                n_permutations=self.n_permutations,
                names=None if names is None else list(names),
                random_state=self.random_state,
                executor=self.executor,
                progress=self.progress,
                sample_weight=sample_weight,
                **self._estimate_options,
            )
        self.stop_reason_ = self.path_.stop_reason
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[self.path_.selected] = True
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_

    def plot(self, ax: Axes | None = None) -> Axes:
        """The selection path (`gmmmi.plot.plot_selection_path`).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Created if not given.

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self, "path_")
        return self.path_.plot(ax=ax)


def _canonical_order(table: np.ndarray) -> np.ndarray:
    """Row order set by the rows' values only: sorted by a 64-bit hash of each row.

    Parameters
    ----------
    table : numpy.ndarray, shape (n, c)
        float64 values of each row (features and target).

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Equal rows are adjacent; ties of the hash are broken by the values.
    """
    bits = np.ascontiguousarray(table, dtype=np.float64).view(np.uint64)
    h = np.zeros(table.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in bits.T:  # splitmix64 of the running hash and each value
            z = (h ^ column) + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = z ^ (z >> np.uint64(31))
    return np.lexsort((*table.T[::-1], h))


def _check_X_y(X, y):
    """X as float64 (n, p) and y as a 1-D array, with scikit-learn's checks."""
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, dtype=np.float64, y_numeric=False)
    _check_rows(X.shape[0], "mutual_info_scores")
    return X, y


def _check_rows(n: int, who: str) -> None:
    if n < MIN_SAMPLES:
        raise ValueError(
            f"{who} needs at least {MIN_SAMPLES} samples; got {n} sample{'s' * (n != 1)}."
        )


def _target(y: np.ndarray, discrete_target, who: str) -> tuple[bool, np.ndarray]:
    """Whether the target is categorical, and the target to fit (class codes if so)."""
    if discrete_target not in (True, False, "auto"):
        raise ValueError(f"discrete_target must be True, False or 'auto'; got {discrete_target!r}.")
    values, codes = np.unique(y, return_inverse=True)
    if discrete_target == "auto":
        floating = np.issubdtype(np.asarray(y).dtype, np.floating)
        discrete_target = not floating or values.size <= MAX_AUTO_CLASSES
    if values.size < 2:
        what = "one class" if discrete_target else "one value"
        raise ValueError(
            f"{who} needs a target with at least two classes; got {what} ({values[0].item()!r})."
            if discrete_target
            else f"{who} needs a target that varies; got {what} ({values[0].item()!r})."
        )
    if discrete_target:
        return True, codes.ravel()
    return False, np.asarray(y, dtype=np.float64)


def _task_failed():
    from gmmmi.exceptions import TaskFailedWarning

    return TaskFailedWarning
