"""Time-shifted surrogates: a null of no coupling that keeps each series' autocorrelation.

Shifting one series circularly by a random amount (far from 0) breaks its
alignment with the other series while keeping both series' own
autocorrelation, so an estimate on the shifted series is a draw from the
null "the two series are independent" for dependent rows, where permuting
rows is not (Quian Quiroga et al. 2002; Lancaster et al. 2018, "Surrogate
data for hypothesis testing of physical systems", *Physics Reports* 748).
"""

from __future__ import annotations

import numpy as np


def random_shifts(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` circular shifts, uniform over [n // 10, n - n // 10].

    Shifts closer to 0 (or to n) would keep most of the original alignment.
    """
    low = max(1, n // 10)
    return rng.integers(low, max(low + 1, n - low + 1), size=count)


def surrogate_p_value(value: float, null: np.ndarray) -> float:
    """(1 + #{null >= value}) / (1 + S): the test's p-value, never 0.

    Parameters
    ----------
    value : float
        The estimate on the data.
    null : numpy.ndarray, shape (S,)
        The same estimate on S surrogates (NaN entries, failed tasks, dropped).
    """
    null = np.asarray(null, dtype=np.float64)
    null = null[np.isfinite(null)]
    return float((1 + np.sum(null >= value)) / (1 + null.size))
