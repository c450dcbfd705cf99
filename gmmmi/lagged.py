"""`lagged_mi`: MI between one series and another shifted in time, over a range of lags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._checks import check_int
from ._seeds import resolve_int_seed
from ._series import check_same_length, series_values
from .parallel import estimate_many
from .result import Result
from .surrogates import random_shifts, surrogate_p_value


@dataclass
class LaggedMI:
    """MI against lag, from `lagged_mi`.

    Attributes
    ----------
    lags : numpy.ndarray of int, shape (L,)
    results : list of Result or TaskError, length L
        One estimate per lag (a `gmmmi.TaskError` where it failed).
    table : pandas.DataFrame
        One row per lag: ``lag``, ``mi``, ``sd``, ``low`` and ``high`` (the
        95% interval of `gmmmi.Result.interval`: value ± 1.96 sd, or with
        the block bootstrap its fixed-b critical value), and ``p_value``
        with surrogates.
    unit : str
        ``"nat"`` or ``"bit"``.
    rows_used : int
        Rows of every lag's estimate (the same times of y for all lags).
    surrogate_values : numpy.ndarray, shape (S,)
        MI of the time-shifted surrogates (empty without).
    names : tuple of str
        Labels of x and y.
    """

    lags: np.ndarray
    results: list
    table: pd.DataFrame
    unit: str
    rows_used: int
    surrogate_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    names: tuple = ("x", "y")

    def plot(self, ax=None, *, truth=None):
        """MI against lag with its 95% band (`gmmmi.plot.plot_lagged_mi`)."""
        from .plot.timeseries import plot_lagged_mi

        return plot_lagged_mi(self, ax, truth=truth)

    def __repr__(self) -> str:
        x, y = self.names
        head = f"Lagged MI({x}(t - lag); {y}(t)) in {self.unit}, {self.rows_used} rows per lag"
        return head + "\n" + self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def lagged_mi(
    x: Any,
    y: Any,
    lags: Iterable[int] = range(0, 11),
    *,
    surrogates: int = 0,
    bootstrap: str = "block",
    executor: Any = None,
    progress: bool | None = None,
    random_state: int | None = None,
    **estimate_options: Any,
) -> LaggedMI:
    """MI between x at time t − lag and y at time t, for every lag, with uncertainty.

    Every lag's estimate uses the same times t of y (those for which every
    x(t − lag) exists), so the values are comparable across lags, as in
    ennemi. A positive lag means x leads y. The estimates run through
    `gmmmi.estimate_many`, so they can use every core (``executor=`` a
    process pool) or a Dask cluster.

    Parameters
    ----------
    x, y : array_like or pandas Series, shape (n,) or (n, d)
        Series in time order, equally spaced, same times; no missing values.
    lags : iterable of int, default range(0, 11)
        Lags in time steps (negative: y leads x).
    surrogates : int, default 0
        Time-shifted surrogates for p-values: x is shifted circularly by a
        random amount (at least n / 10 steps), which keeps both series'
        autocorrelation and breaks their relation; the MI of each (single
        fits, at lag 0) forms one null for every lag, and each lag's
        ``p_value`` is (1 + #{null ≥ MI}) / (1 + surrogates) (not corrected
        for the number of lags). 0: no p-values.
    bootstrap : {"block", "iid"}, default "block"
        Passed to `gmmmi.estimate`; rows of a time series need ``"block"``.
    executor : concurrent.futures.Executor, dask Client or None
        Where the estimates run (`gmmmi.estimate_many`).
    progress : bool or None
        Progress bar over the estimates.
    random_state : int or None
        Root of every estimate's seed and of the surrogates' shifts.
    **estimate_options
        Passed to every `gmmmi.estimate` (``base``, ``n_bootstrap``,
        ``block_length``, ...).

    Returns
    -------
    LaggedMI
        ``.table`` and ``.plot()``.

    Raises
    ------
    ValueError
        Series of different lengths, with missing values, or lags that leave
        fewer than 2 common rows.
    TypeError
        A lag that is not an integer.
    """
    xs, x_labels = series_values("x", x, one_column=False)
    ys, y_labels = series_values("y", y, one_column=False)
    n = check_same_length(x=xs, y=ys)
    lags = _check_lags(lags, n)
    count = check_int("surrogates", surrogates, minimum=0)
    seed = resolve_int_seed(random_state)
    first, stop = max(0, int(lags.max())), n + min(0, int(lags.min()))
    y_rows = ys[first:stop]
    tasks = [(xs[first - lag : stop - lag], y_rows) for lag in lags]
    shifts = random_shifts(n, count, np.random.default_rng([seed, 1]))
    null_tasks = [(np.roll(xs, s, axis=0)[first:stop], y_rows) for s in shifts]
    options = {"bootstrap": bootstrap, **estimate_options}
    results = estimate_many(
        tasks, executor=executor, progress=progress, random_state=seed, **options
    )
    null = np.zeros(0)
    if count:
        null_options = {**estimate_options, "n_bootstrap": 0}
        null_options.pop("block_length", None)
        null_results = estimate_many(
            null_tasks,
            executor=executor,
            progress=progress,
            random_state=np.random.SeedSequence([seed, 2]),
            **null_options,
        )
        null = np.array([r.value if isinstance(r, Result) else np.nan for r in null_results])
    table = _table(lags, results, null if count else None)
    unit = next((r.unit for r in results if isinstance(r, Result)), "nat")
    return LaggedMI(
        lags, results, table, unit, stop - first, null, (_name(x_labels, "x"), _name(y_labels, "y"))
    )


def _name(labels: list[str], default: str) -> str:
    return labels[0] if len(labels) == 1 else default


def _check_lags(lags: Iterable[int], n: int) -> np.ndarray:
    """The lags as int64; ValueError when they leave fewer than 2 common rows."""
    values = list(lags)
    if not values:
        raise ValueError("lags is empty; give at least one lag, e.g. lags=range(0, 11).")
    for lag in values:
        if isinstance(lag, (bool, np.bool_)) or not isinstance(lag, (int, np.integer)):
            raise TypeError(f"lags must be integers (time steps); got {lag!r}.")
    arr = np.array(values, dtype=np.int64)
    span = int(max(0, arr.max()) - min(0, arr.min()))
    if n - span < 2:
        raise ValueError(
            f"lags from {arr.min()} to {arr.max()} span {span} time steps, but the series have "
            f"{n} values: fewer than 2 rows would be shared by every lag. Use shorter lags or "
            "a longer series."
        )
    return arr


def _table(lags, results, null) -> pd.DataFrame:
    """One row per lag: lag, mi, sd, low, high (and p_value)."""
    rows = []
    for lag, r in zip(lags, results, strict=True):
        if isinstance(r, Result):
            low, high = r.interval() if r.sd > 0 else (np.nan, np.nan)
            row = {"lag": int(lag), "mi": r.value, "sd": r.sd, "low": low, "high": high}
        else:
            row = {"lag": int(lag), "mi": np.nan, "sd": np.nan, "low": np.nan, "high": np.nan}
        if null is not None:
            row["p_value"] = (
                surrogate_p_value(row["mi"], null) if np.isfinite(row["mi"]) else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)
