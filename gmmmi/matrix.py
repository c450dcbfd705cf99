"""`mi_matrix`: MI between all pairs of columns, and `MIMatrix`, the labelled result.

An entry point on `gmmmi.estimate_many` (``gmmmi.parallel``, which only runs
tasks) and, with ``pvalues=True``, on `gmmmi.independence_test`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gmmmi._checks import check_choice
from gmmmi._seeds import resolve_sequence
from gmmmi._stacklevel import user_stacklevel
from gmmmi.exceptions import PValueResolutionWarning
from gmmmi.parallel.run import _check_run_options, run_tasks
from gmmmi.parallel.tasks import TaskError, _message, _task_seeds

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from gmmmi.independence import IndependenceTest
    from gmmmi.result import Result


def _named_columns(data, labels, prefix: str) -> dict:
    """``{name: 1D array}`` for a DataFrame, dict or 2D array (named prefix0, prefix1, ...).

    Names are the columns' ``str()``; columns whose names coincide (``1`` and
    ``"1"``, or a repeated name) are refused unless ``labels`` renames them.
    """
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        keys = list(data.columns)
        arrays = [data.iloc[:, j].to_numpy() for j in range(len(keys))]
    elif isinstance(data, Mapping):
        keys, arrays = list(data), [np.asarray(v) for v in data.values()]
    else:
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(
                "data must be a DataFrame, a dict of 1D arrays or a 2D array of shape "
                f"(n_samples, n_columns); got an array of shape {arr.shape}."
            )
        keys = [f"{prefix}{j}" for j in range(arr.shape[1])]
        arrays = [arr[:, j] for j in range(arr.shape[1])]
    if labels is not None:
        labels = [str(v) for v in labels]
        if len(labels) != len(arrays):
            raise ValueError(
                f"labels must name every column; got {len(labels)} labels for "
                f"{len(arrays)} columns."
            )
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique.")
        names = labels
    else:
        names = [str(k) for k in keys]
        _check_distinct_names(keys, names)
    for name, col in zip(names, arrays, strict=True):
        if col.ndim != 1:
            raise ValueError(f"column {name!r} must be one-dimensional; got shape {col.shape}.")
    return dict(zip(names, arrays, strict=True))


def _check_distinct_names(keys: list, names: list) -> None:
    """ValueError if two columns get the same name (e.g. ``1`` and ``"1"``)."""
    first = {}
    for key, name in zip(keys, names, strict=True):
        if name in first:
            raise ValueError(
                f"columns {first[name]!r} and {key!r} would both be labelled {name!r}; "
                "rename one of them, or pass labels=[...] with one distinct name per column."
            )
        first[name] = key


def _unit(base) -> str:
    base = float(base)
    return {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}")


def mi_matrix(
    data: Any,
    *,
    against: Any = None,
    labels: Sequence[str] | None = None,
    against_labels: Sequence[str] | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    task_threads: int | None = None,
    pvalues: bool = False,
    n_permutations: int | None = None,
    correction: str = "holm",
    **options: Any,
) -> MIMatrix:
    """MI between all pairs of columns, or between two sets of columns.

    Parameters
    ----------
    data : DataFrame, dict of 1D arrays or 2D array, shape (n, p)
        Columns of a 2D array are named ``"x0"``, ``"x1"``, ...
    against : DataFrame, dict of 1D arrays or 2D array, shape (n, q), optional
        If given, every column of ``data`` against every column of
        ``against`` (a p × q matrix; 2D-array columns named ``"y0"``, ...),
        e.g. latent dimensions against ground-truth factors. Otherwise all
        p (p - 1) / 2 pairs of columns of ``data`` (a symmetric p × p matrix
        with a NaN diagonal).
    labels, against_labels : list of str, optional
        Names replacing the columns' own.
    executor, progress, random_state, task_threads
        As in `estimate_many`; pair ``k`` (in row-major order) gets the k-th
        child seed, so results do not depend on the executor.
    pvalues : bool, default False
        Also test every pair for independence with
        `gmmmi.independence_test` (``n_permutations`` permutations, run on
        ``executor``), and correct the p-values for testing many pairs.
    n_permutations : int or None
        Permutations per pair when ``pvalues``. A permutation p-value is at
        least 1 / (B + 1), so after a correction for m pairs the smallest
        reachable value is m / (B + 1); None (default) takes
        ``max(199, 40 m - 1)``, which lets a pair reach 0.025 after Holm's
        correction. A smaller B with Holm's correction, where no pair could
        reach 0.05, gives a `PValueResolutionWarning`.
    correction : {"holm", "bh", "none"}, default "holm"
        Multiple-testing correction of the p-values: Holm's step-down
        (controls the chance of any false positive among the pairs),
        Benjamini–Hochberg (controls the expected fraction of false
        positives among the pairs declared dependent) or none.
    **options
        Passed to every `gmmmi.estimate` call (``n_bootstrap``, ``base``,
        ``backend``, ``discrete_y`` for categorical ``against`` columns, ...).

    Returns
    -------
    MIMatrix
        ``.mean`` and ``.sd`` (labelled DataFrames, in the unit of ``base``),
        ``.errors`` of failed pairs, ``.to_frame()``, ``.plot()``; with
        ``pvalues``, ``.pvalues`` and ``.p_adjusted``.

    Raises
    ------
    TypeError, ValueError
        Before any pair runs, as in `estimate_many`, and for columns whose
        names collide once made labels (``1`` and ``"1"``; pass ``labels``).
    """
    import pandas as pd

    _check_run_options(executor, task_threads, options)
    if pvalues:
        from gmmmi.independence import CORRECTIONS, _check_backend, check_permutation_count

        _check_backend(options.get("backend", "numba"))
        correction = check_choice("correction", str(correction).lower(), CORRECTIONS)
        if n_permutations is not None:
            n_permutations = check_permutation_count(n_permutations)
    rows = _named_columns(data, labels, "x")
    symmetric = against is None
    cols = rows if symmetric else _named_columns(against, against_labels, "y")
    lengths = {len(c) for c in (*rows.values(), *cols.values())}
    if len(lengths) > 1:
        raise ValueError(
            f"all columns must have the same number of samples; got lengths {sorted(lengths)}."
        )
    rnames, cnames = list(rows), list(cols)
    if symmetric:
        pairs = [(i, j) for i in range(len(rnames)) for j in range(i + 1, len(rnames))]
        store = {f"r{i}": rows[n] for i, n in enumerate(rnames)}
        tasks = [(f"r{i}", f"r{j}") for i, j in pairs]
    else:
        pairs = [(i, j) for i in range(len(rnames)) for j in range(len(cnames))]
        store = {f"r{i}": rows[n] for i, n in enumerate(rnames)}
        store.update({f"c{j}": cols[n] for j, n in enumerate(cnames)})
        tasks = [(f"r{i}", f"c{j}") for i, j in pairs]
    if pvalues:  # before any estimate: a count that cannot run is refused at once
        n_permutations = _permutation_count(n_permutations, len(pairs), correction)
    shown = {f"r{i}": n for i, n in enumerate(rnames)} | {f"c{j}": n for j, n in enumerate(cnames)}
    results = run_tasks(
        tasks, store, executor, progress, random_state, task_threads, options, names=shown
    )
    mean = np.full((len(rnames), len(cnames)), np.nan)
    sd = np.full_like(mean, np.nan)
    errors, kept = {}, {}
    for (i, j), res in zip(pairs, results, strict=True):
        key = (rnames[i], cnames[j])
        if isinstance(res, TaskError):
            errors[key] = res
            continue
        kept[key] = res
        mean[i, j], sd[i, j] = float(res.value), float(res.sd)
        if symmetric:
            mean[j, i], sd[j, i] = mean[i, j], sd[i, j]
    tests = {}
    if pvalues:
        test_kw = {"executor": executor, "n_permutations": n_permutations, **options}
        test_kw["progress"] = progress
        raw, adjusted, tests = _pair_pvalues(
            pairs, (rows, cols), symmetric, errors, random_state, test_kw, correction
        )

    def frame(values):
        return pd.DataFrame(values, index=rnames, columns=cnames)

    return MIMatrix(
        mean=frame(mean),
        sd=frame(sd),
        errors=errors,
        results=kept,
        symmetric=symmetric,
        unit=_unit(options.get("base", math.e)),
        pvalues=frame(raw) if pvalues else None,
        p_adjusted=frame(adjusted) if pvalues else None,
        correction=correction if pvalues else None,
        tests=tests,
    )


def _pair_pvalues(pairs, columns, symmetric, errors, random_state, test_kw, correction):
    """Permutation p-values of every pair, raw and corrected, as (p, q) matrices.

    Each pair's test gets its own seed (a stream distinct from the estimates'
    seeds); a pair whose estimate or test failed has a NaN p-value and is left
    out of the correction.
    """
    from gmmmi.independence import adjust_pvalues, independence_test

    names = [list(columns[0]), list(columns[1])]
    shape = (len(names[0]), len(names[1]))
    raw = np.full(shape, np.nan)
    seeds = _task_seeds(_test_stream(random_state), len(pairs))
    test_kw = {k: v for k, v in test_kw.items() if k != "n_bootstrap"}
    tests = {}
    for k, (i, j) in enumerate(pairs):
        key = (names[0][i], names[1][j])
        if key in errors:
            continue
        x, y = columns[0][key[0]], columns[1][key[1]]
        try:
            tests[key] = independence_test(x, y, random_state=seeds[k], **test_kw)
        except (ValueError, TypeError) as exc:
            errors[key] = TaskError(k, type(exc).__name__, f"independence test: {_message(exc)}")
            continue
        raw[i, j] = tests[key].pvalue
    done = np.isfinite(raw)
    adjusted = np.full(shape, np.nan)
    adjusted[done] = adjust_pvalues(raw[done], correction)
    if symmetric:
        for matrix in (raw, adjusted):
            upper = np.isfinite(matrix)
            matrix.T[upper] = matrix[upper]
    return raw, adjusted, tests


def _permutation_count(n_permutations, n_pairs: int, correction: str) -> int:
    """B for each pair's test: the user's, or enough to resolve a corrected 0.025."""
    if n_permutations is None:
        from gmmmi.independence import check_permutation_count

        return check_permutation_count(max(199, 40 * n_pairs - 1))
    if correction == "holm" and n_pairs / (n_permutations + 1) > 0.05:
        warnings.warn(
            f"With n_permutations={n_permutations} and {n_pairs} pairs, the smallest "
            f"Holm-corrected p-value is {n_pairs} / {n_permutations + 1} = "
            f"{n_pairs / (n_permutations + 1):.3g} > 0.05: no pair can be declared dependent "
            f"at 0.05. Use n_permutations >= {20 * n_pairs - 1} (or None for "
            f"{max(199, 40 * n_pairs - 1)}), or correction='bh'.",
            PValueResolutionWarning,
            stacklevel=user_stacklevel(),
        )
    return n_permutations


def _test_stream(random_state):
    """A seed stream for the independence tests, distinct from the estimates' stream."""
    return resolve_sequence(random_state, words=4, branch=2**31)[1]


@dataclass
class MIMatrix:
    """A labelled matrix of MI estimates with their uncertainty.

    Attributes
    ----------
    mean, sd : pandas.DataFrame, shape (p, q)
        MI (the estimate's centre) and its standard deviation, rows and
        columns labelled by variable; NaN on the diagonal of a symmetric
        matrix and for failed pairs.
    errors : dict of (row, column) -> TaskError
        The pairs that failed.
    results : dict of (row, column) -> Result
        The full result of every pair that succeeded (each with its draws).
    symmetric : bool
        True for all pairs of one set of columns (only row < column estimated).
    unit : str
        ``"nat"``, ``"bit"``, ...
    pvalues, p_adjusted : pandas.DataFrame or None
        With ``mi_matrix(..., pvalues=True)``: each pair's permutation
        p-value, and the same corrected for the number of pairs by
        ``correction``; NaN on the diagonal and for failed pairs.
    correction : str or None
        ``"holm"``, ``"bh"`` or ``"none"``; None without p-values.
    tests : dict of (row, column) -> IndependenceTest
        Each pair's test (empty without p-values).
    """

    mean: pd.DataFrame
    sd: pd.DataFrame
    errors: dict[tuple[str, str], TaskError]
    results: dict[tuple[str, str], Result]
    symmetric: bool
    unit: str = "nat"
    pvalues: pd.DataFrame | None = None
    p_adjusted: pd.DataFrame | None = None
    correction: str | None = None
    tests: dict[tuple[str, str], IndependenceTest] = field(default_factory=dict)

    def __repr__(self) -> str:
        p, q = self.mean.shape
        return (
            f"MIMatrix({p}x{q}, {len(self.results)} estimates, {len(self.errors)} failed, "
            f"unit={self.unit!r})"
        )

    @property
    def fit_ok(self) -> pd.DataFrame:
        """Whether each pair's fit passed its goodness-of-fit check (``Result.fit_check``).

        Returns
        -------
        pandas.DataFrame of object, shape (p, q)
            True or False per estimated pair (mirrored when symmetric), None
            where there is no estimate (diagonal, failed pairs).
        """
        import pandas as pd

        empty = np.full(self.mean.shape, None, dtype=object)
        ok = pd.DataFrame(empty, index=self.mean.index, columns=self.mean.columns)
        for (r, c), res in self.results.items():
            check = res.fit_check
            ok.loc[r, c] = None if check is None else bool(check.ok)
            if self.symmetric:
                ok.loc[c, r] = ok.loc[r, c]
        return ok

    def _pairs(self):
        rows, cols = list(self.mean.index), list(self.mean.columns)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                if not self.symmetric or i < j:
                    yield r, c

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per estimated pair.

        Returns
        -------
        pandas.DataFrame
            Columns ``x``, ``y``, ``mean``, ``sd``, ``unit``, ``fit_ok``
            (the pair's fit passed its check; None for a failed pair),
            ``error`` (the failure message, or "" for a pair that
            succeeded), and with p-values ``pvalue`` and ``p_adjusted``
            before ``error``.
        """
        import pandas as pd

        names = ["x", "y", "mean", "sd", "unit", "fit_ok"]
        if self.pvalues is not None:
            names += ["pvalue", "p_adjusted"]
        rows = []
        fit_ok = self.fit_ok
        for r, c in self._pairs():
            err = self.errors.get((r, c))
            row = {"x": r, "y": c, "mean": self.mean.loc[r, c], "sd": self.sd.loc[r, c]}
            row["unit"] = self.unit
            row["fit_ok"] = fit_ok.loc[r, c]
            if self.pvalues is not None:
                row["pvalue"] = self.pvalues.loc[r, c]
                row["p_adjusted"] = self.p_adjusted.loc[r, c]
            row["error"] = "" if err is None else f"{err.type}: {err.message}"
            rows.append(row)
        return pd.DataFrame(rows, columns=[*names, "error"])

    def plot(
        self,
        ax: Axes | None = None,
        *,
        annotate: bool | None = None,
        cmap: str = "viridis",
        min_ratio: float = 2.0,
        alpha: float = 0.05,
    ) -> Axes:
        """Annotated heat-map of the MI, with its uncertainty visible.

        Each cell is coloured by the mean MI and, if ``annotate``, labelled
        ``"mean±sd"``, the sd to two significant digits and the mean to the
        same decimal. With p-values (``mi_matrix(..., pvalues=True)``), the
        cells whose corrected p-value exceeds ``alpha`` (independence not
        rejected) are hatched; without, the cells whose mean is less than
        ``min_ratio`` standard deviations from zero (a rough screen, with no
        known false-positive rate). Failed pairs are grey and marked "failed";
        pairs whose fit failed its goodness-of-fit check (`fit_ok`) get a red
        frame and a "!": their mean and sd are not to be trusted.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Created (with a size that fits the labels) if not given.
        annotate : bool, optional
            Write "mean±sd" in the cells; default: when the matrix has at most
            20 rows and columns.
        cmap : str, default "viridis"
        min_ratio : float, default 2.0
            The screen without p-values.
        alpha : float, default 0.05
            The level of the corrected p-values, with p-values.

        Returns
        -------
        matplotlib Axes
        """
        from gmmmi.plot import plot_mi_matrix

        return plot_mi_matrix(
            self, ax, annotate=annotate, cmap=cmap, min_ratio=min_ratio, alpha=alpha
        )
