"""Checks of time series given to `gmmmi.lagged_mi` and `gmmmi.transfer_entropy`."""

from __future__ import annotations

from typing import Any

import numpy as np


def series_values(name: str, values: Any, *, one_column: bool) -> tuple[np.ndarray, list[str]]:
    """A series as float64 rows (n, d) in time order, and its column names.

    Parameters
    ----------
    name : str
        The argument's name, for messages and default labels.
    values : array_like, pandas Series or DataFrame
        Rows in time order.
    one_column : bool
        Refuse more than one column (transfer entropy of one series).

    Raises
    ------
    ValueError
        More than 2 dimensions, several columns with ``one_column``, fewer
        than 2 values, or missing values (NaN, inf), named by rows.
    """
    labels = _labels(name, values)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or (one_column and arr.shape[1] != 1):
        raise ValueError(
            f"{name} must be one series: a 1-D array of values in time order; got shape "
            f"{np.shape(values)}. For several series, call once per series (or condition on "
            "the others with z=)."
            if one_column
            else f"{name} must be a series in time order, shape (n,) or (n, d); got shape "
            f"{np.shape(values)}."
        )
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 values in time order; got {arr.shape[0]}.")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
        raise ValueError(
            f"{name} has {rows.size} missing value(s) (NaN or inf) at row(s) {shown}. A series "
            "with gaps cannot be shifted in time without pairing the wrong times: fill the gaps "
            "(e.g. interpolate) or analyse the complete segments separately."
        )
    if len(labels) != arr.shape[1]:
        labels = [f"{name}{j}" for j in range(arr.shape[1])] if arr.shape[1] > 1 else [name]
    return np.ascontiguousarray(arr), labels


def _labels(name: str, values: Any) -> list[str]:
    columns = getattr(values, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    label = getattr(values, "name", None)
    return [str(label)] if label is not None else [name]


def check_same_length(**series: np.ndarray) -> int:
    """The common number of rows; ValueError naming the lengths when they differ."""
    lengths = {k: v.shape[0] for k, v in series.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"The series must cover the same times (one value each); {shown}.")
    return next(iter(lengths.values()))


def check_positive(name: str, value: Any) -> int:
    """An int of at least 1 (history, delay)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer of at least 1; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1 (time steps); got {value}.")
    return int(value)
