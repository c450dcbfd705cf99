"""`transfer_entropy`: the information the past of one series adds about another's next value.

TE(x → y) = I(y_t ; x_{t-delay}, ..., x_{t-delay-source_history+1} |
y_{t-1}, ..., y_{t-history}, z_{t-1}) (Schreiber 2000, "Measuring information
transfer", *Phys. Rev. Lett.* 85, 461), estimated on gmmmi's conditional MI
path (`gmmmi.estimate` with ``z=``) from the embedded rows, with the block
bootstrap by default (consecutive embedded rows overlap in time). For linear
Gaussian processes it equals Granger causality / 2: ½ ln of the ratio of the
residual variances of the target's regressions without and with the source's
past (Barnett, Barrett & Seth 2009, *Phys. Rev. Lett.* 103, 238701).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_int
from ._progress import progress_bar, progress_enabled
from ._seeds import resolve_int_seed
from ._series import check_positive, check_same_length, series_values
from .api import estimate
from .result import Result
from .surrogates import random_shifts, surrogate_p_value


def transfer_entropy(
    source: Any,
    target: Any,
    *,
    history: int = 1,
    source_history: int = 1,
    delay: int = 1,
    z: Any = None,
    surrogates: int = 0,
    bootstrap: str = "block",
    random_state: int | None = None,
    progress: bool | None = None,
    **estimate_options: Any,
) -> Result:
    """Transfer entropy from ``source`` to ``target``, with its uncertainty.

    TE(x → y) = I(y_t ; x_{t−delay}, ..., x_{t−delay−source_history+1} |
    y_{t−1}, ..., y_{t−history}, z_{t−1}): how much the source's past tells
    about the target's next value beyond what the target's own past (and
    ``z``'s) tells. It is 0 when the source does not drive the target (in
    this embedding), and not symmetric: compare both directions.

    Parameters
    ----------
    source, target : array_like or pandas Series, shape (n,)
        One series each, equally spaced in time, same times (a Series name
        labels the output; default "x" and "y"). No missing values.
    history : int, default 1
        Past values of the target conditioned on (its embedding dimension).
    source_history : int, default 1
        Past values of the source used.
    delay : int, default 1
        Time steps from the source's most recent value used to the target's
        value (the interaction delay; 1: the previous step).
    z : array_like, shape (n,) or (n, dz), optional
        Other series conditioned on at t − 1 (conditional TE, to rule out a
        common driver).
    surrogates : int, default 0
        Time-shifted surrogates for a significance test: the source is
        shifted circularly by a random amount (at least n / 10 steps), which
        keeps both series' autocorrelation and breaks the coupling, and its
        TE (a single fit each) forms the null;
        ``result.meta["p_value"] = (1 + #{null ≥ TE}) / (1 + surrogates)``.
        0: no test.
    bootstrap : {"block", "iid"}, default "block"
        Resampling of the embedded rows (`gmmmi.estimate`); embedded rows
        share values, so ``"block"`` (the circular block bootstrap) is the default.
    random_state : int or None
        Seed of the estimate (as `gmmmi.estimate`) and of the surrogates.
    progress : bool or None
        Progress bar over the surrogates.
    **estimate_options
        Passed to `gmmmi.estimate` (``base``, ``block_length``,
        ``n_bootstrap``, ``transform``, ...).

    Returns
    -------
    Result
        A conditional MI whose text names it ``TE(x → y)``;
        ``result.meta["transfer_entropy"]`` records the embedding and the
        rows used, ``result.meta["p_value"]`` and ``["surrogate_values"]``
        the test when asked.

    Raises
    ------
    ValueError
        A source or target that is not one series, series of different
        lengths, missing values, or an embedding that reaches further back
        than the series is long.
    TypeError
        A history or delay that is not an integer.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(2000)
    >>> y = np.zeros(2000)
    >>> for t in range(1, 2000):
    ...     y[t] = 0.5 * y[t - 1] + 0.6 * x[t - 1] + rng.standard_normal()
    >>> te = gmmmi.transfer_entropy(x, y, random_state=0)   # doctest: +SKIP
    """
    history = check_positive("history", history)
    source_history = check_positive("source_history", source_history)
    delay = check_positive("delay", delay)
    count = check_int("surrogates", surrogates, minimum=0)
    x, x_label = series_values("source", source, one_column=True)
    y, y_label = series_values("target", target, one_column=True)
    x_name = x_label[0] if x_label != ["source"] else "x"
    y_name = y_label[0] if y_label != ["target"] else "y"
    series = {"source": x, "target": y}
    if z is not None:
        zs, z_labels = series_values("z", z, one_column=False)
        series["z"] = zs
    n = check_same_length(**series)
    reach = max(history, delay + source_history - 1)
    if reach >= n - 1:
        raise ValueError(
            f"history={history}, source_history={source_history} and delay={delay} reach "
            f"{reach} steps into the past, but the series have {n} values: fewer than 2 rows "
            "would remain. Use shorter histories or a longer series."
        )
    seed = resolve_int_seed(random_state)
    rows = _Embedding(history, source_history, delay, reach, n)
    cond = rows.target_past(y)
    cond_labels = [f"{y_name}(t-{k})" for k in range(1, history + 1)]
    if z is not None:
        cond = np.hstack([cond, zs[reach - 1 : n - 1]])
        cond_labels += [f"{label}(t-1)" for label in z_labels]
    present = _frame(y[reach:, 0], [f"{y_name}(t)"])
    source_labels = [f"{x_name}(t-{delay + k})" for k in range(source_history)]
    result = estimate(
        present,
        _frame(rows.source_past(x), source_labels),
        z=_frame(cond, cond_labels),
        bootstrap=bootstrap,
        random_state=seed,
        progress=progress,
        **estimate_options,
    )
    result.meta["title"] = f"TE({x_name} → {y_name})"
    result.meta["transfer_entropy"] = {
        "source": x_name,
        "target": y_name,
        "history": history,
        "source_history": source_history,
        "delay": delay,
        "rows_used": n - reach,
    }
    if count:
        null = _surrogate_null(x, rows, present, cond, count, seed, progress, estimate_options)
        result.meta["p_value"] = surrogate_p_value(result.value, null)
        result.meta["surrogate_values"] = null.tolist()
    return result


class _Embedding:
    """Which times of each series form the rows of the conditional MI."""

    def __init__(self, history, source_history, delay, reach, n):
        self.history, self.source_history, self.delay = history, source_history, delay
        self.reach, self.n = reach, n

    def target_past(self, y: np.ndarray) -> np.ndarray:
        """Columns y(t-1), ..., y(t-history) for t = reach, ..., n - 1."""
        return np.hstack([y[self.reach - k : self.n - k] for k in range(1, self.history + 1)])

    def source_past(self, x: np.ndarray) -> np.ndarray:
        """Columns x(t-delay), ..., x(t-delay-source_history+1)."""
        lags = range(self.delay, self.delay + self.source_history)
        return np.hstack([x[self.reach - k : self.n - k] for k in lags])


def _frame(values: np.ndarray, labels: list[str]):
    """A DataFrame, so that the result's text names the embedded columns."""
    import pandas as pd

    return pd.DataFrame(np.asarray(values).reshape(len(values), -1), columns=labels)


def _surrogate_null(x, rows, present, cond, count, seed, progress, options):
    """TE of ``count`` circularly shifted copies of the source (single fits)."""
    rng = np.random.default_rng([seed, 1])
    shifts = random_shifts(rows.n, count, rng)
    options = {**options, "n_bootstrap": 0}
    options.pop("block_length", None)
    null = np.empty(count)
    with progress_bar(count, "surrogates", progress_enabled(progress), unit="fit") as bar:
        for i, shift in enumerate(shifts):
            r = estimate(
                present,
                rows.source_past(np.roll(x, shift, axis=0)),
                z=cond,
                random_state=int(rng.integers(2**31)),
                progress=False,
                **options,
            )
            null[i] = r.value
            bar.update(1)
    return null
