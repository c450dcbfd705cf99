"""Notice rows in time order: a test of serial dependence, raised as a warning.

The IID bootstrap (and a permutation test) treats every row as an
independent draw. On a time series, where neighbouring rows are alike, its
interval is too narrow. `warn_serial_dependence` runs, on each column, a
Ljung–Box test of the autocorrelations at lags 1..m (m = ln n, at most 10)
of its normal scores (rank-based, so any monotone margin gives the same
test), corrects the
p-values over columns by Holm's step-down, and raises a
`gmmmi.SerialDependenceWarning` naming the columns and the fix
(``bootstrap="block"``).

The level `ALPHA` = 0.01 is the family-wise false-alarm rate over the columns
on rows in random order (measured in ``tests/estimands/test_timeseries.py`` and
``docs/timeseries.md``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import special

from ._stacklevel import user_stacklevel
from .exceptions import SerialDependenceWarning

#: family-wise level of the test over the columns (false alarms on IID rows)
ALPHA = 0.01
#: the test needs at least this many rows (else it is skipped): with fewer, chance
#: autocorrelations are large (the sd of r1 is 0.14 at 50 rows) and a 1% false alarm
#: would be as likely as a real one of moderate size
MIN_ROWS = 100
#: longer data are tested on their middle MAX_ROWS consecutive rows (ranking is the cost;
#: at 20 000 rows an autocorrelation of 0.04 is already detected)
MAX_ROWS = 20_000


def n_lags(n: int) -> int:
    """Lags tested for n rows: ln n rounded, between 1 and 10 (Tsay 2010's rule of thumb).

    With m = n / 10 lags the χ² approximation was liberal at 100 rows (1.7-2.7%
    false alarms at the 1% level, against 1.4-1.6% with ln n).
    """
    return max(1, min(10, round(math.log(n))))


def normal_scores(
    x: np.ndarray, untied: np.ndarray | None = None, order: np.ndarray | None = None
) -> np.ndarray:
    """Φ⁻¹((rank − ½) / n) of a 1-D array, tied values sharing their mean rank.

    ``untied``: `untied_scores` of ``x.size``, when the caller has it (several columns);
    ``order``: an order of ``x`` (``gmmmi._rows.column_orders``), when the caller has it.
    """
    n = x.size
    if order is None:  # tied values get their mean rank whatever their order: not stable
        order = np.argsort(x)
    xs = x[order]
    starts = np.flatnonzero(np.concatenate(([True], xs[1:] != xs[:-1])))
    if starts.size == n:  # no ties: the i-th smallest has rank i + 1
        scores = np.empty(n)
        scores[order] = untied_scores(n) if untied is None else untied
        return scores
    counts = np.diff(np.append(starts, n))
    mean_rank = starts + (counts + 1) / 2.0  # 1-based mean rank of each tie group
    ranks = np.empty(n)
    ranks[order] = np.repeat(mean_rank, counts)
    return special.ndtri((ranks - 0.5) / n)


def untied_scores(n: int) -> np.ndarray:
    """`normal_scores` of n values without ties, in increasing order: Φ⁻¹((i + ½) / n)."""
    return special.ndtri((np.arange(n) + 0.5) / n)


def ljung_box(
    X: np.ndarray, m: int, orders: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ljung–Box p-values of the columns' normal scores, and their largest autocorrelations.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Rows in their given order.
    m : int
        Lags 1..m in the statistic Q = n (n + 2) Σₖ r̂ₖ² / (n − k), compared
        with χ²(m).
    orders : tuple of numpy.ndarray, optional
        An order of every column (``gmmmi._rows.column_orders``), when known.

    Returns
    -------
    p_values : numpy.ndarray, shape (d,)
    lag : numpy.ndarray of int, shape (d,)
        The lag k (1..m) of each column's largest |r̂ₖ|.
    r : numpy.ndarray, shape (d,)
        That autocorrelation r̂ₖ.
    """
    n, d = X.shape
    p_values, top_lag, top_r = np.ones(d), np.ones(d, dtype=np.int64), np.zeros(d)
    k = np.arange(1, m + 1)
    untied = untied_scores(n)
    for j in range(d):
        z = normal_scores(X[:, j], untied, None if orders is None else orders[j])
        z -= z.mean()
        denominator = float(np.sum(z * z))
        if denominator <= 0:
            continue
        # elementwise products, not BLAS dot: no thread start-up in a cheap check
        r = np.array([np.sum(z[:-lag] * z[lag:]) for lag in k]) / denominator
        q = n * (n + 2) * np.sum(r**2 / (n - k))
        p_values[j] = special.chdtrc(m, q)
        top = int(np.argmax(np.abs(r)))
        top_lag[j], top_r[j] = top + 1, r[top]
    return p_values, top_lag, top_r


def holm_reject(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Which hypotheses Holm's step-down rejects at family-wise level ``alpha``."""
    order = np.argsort(p_values)
    d = p_values.size
    reject = np.zeros(d, dtype=bool)
    for rank, j in enumerate(order):
        if p_values[j] > alpha / (d - rank):
            break
        reject[j] = True
    return reject


def serially_dependent(
    X: np.ndarray, alpha: float = ALPHA, orders: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns whose row order shows autocorrelation, by Ljung–Box and Holm.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    alpha : float
        Family-wise level over the columns.
    orders : tuple of numpy.ndarray, optional
        An order of every column (``gmmmi._rows.column_orders``), when known.

    Returns
    -------
    reject : numpy.ndarray of bool, shape (d,)
        All False when n < `MIN_ROWS`.
    lag, r : numpy.ndarray, shape (d,)
        Each column's largest autocorrelation of its normal scores (in
        absolute value) and its lag.

    Notes
    -----
    Above `MAX_ROWS` rows, the middle `MAX_ROWS` consecutive rows are tested.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if n < MIN_ROWS:
        return np.zeros(d, dtype=bool), np.ones(d, dtype=np.int64), np.zeros(d)
    if n > MAX_ROWS:
        start = (n - MAX_ROWS) // 2
        X, n, orders = X[start : start + MAX_ROWS], MAX_ROWS, None
    p_values, lag, r = ljung_box(X, n_lags(n), orders)
    return holm_reject(p_values, alpha), lag, r


#: what `warn_serial_dependence` says resampling one row at a time does (estimate's bootstrap)
RESAMPLING = (
    "Resampling rows one by one treats them as independent draws, so the uncertainty is too small"
)


def warn_serial_dependence(
    X: np.ndarray,
    labels: Sequence,
    *,
    fix: str,
    practice: str = RESAMPLING,
    orders: tuple | None = None,
) -> bool:
    """Raise `SerialDependenceWarning` at the user's line when the rows look time-ordered.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Continuous columns, rows in the user's order.
    labels : sequence of str, length d
        Column names for the message.
    fix : str
        What to do instead, e.g. ``'bootstrap="block"'``.
    practice : str
        What the caller does that assumes independent rows, and its
        consequence (default: the IID bootstrap's).
    orders : tuple of numpy.ndarray, optional
        An order of every column (``gmmmi._rows.column_orders``), when known.

    Returns
    -------
    bool
        Whether it warned.
    """
    reject, lag, r = serially_dependent(X, orders=orders)
    if not reject.any():
        return False
    named = ", ".join(f"{labels[j]!r} (r{lag[j]} = {r[j]:.2f})" for j in np.flatnonzero(reject))
    m = n_lags(min(X.shape[0], MAX_ROWS))
    warnings.warn(
        f"The rows look serially dependent (a time series?): column(s) {named} are "
        f"autocorrelated in row order (Ljung-Box test on normal scores, lags 1-{m}, "
        f"Holm-corrected at {ALPHA:g}). {practice}; use {fix}. If "
        "the row order carries no meaning (e.g. rows sorted by a variable), ignore this.",
        SerialDependenceWarning,
        stacklevel=user_stacklevel(),
    )
    return True
