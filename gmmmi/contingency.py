"""Entropies and MI of discrete variables from counts, with a bias correction.

The plug-in entropy of counts ``n_c`` (``H = -sum p_c log p_c`` with
``p_c = n_c / n``) is biased low by about ``(m - 1) / (2 n)`` nats, m the
number of occupied cells (Miller 1955, Madow): a contingency-table MI, a sum
of such entropies, is biased high by about ``(m_x - 1)(m_y - 1) / (2 n)``.
`entropy_from_counts` offers the plug-in, the Miller–Madow correction and
the jackknife; `CORRECTION` is the one `gmmmi.estimate` uses, chosen by
``benchmarks/bench_contingency.py`` (its table is in ``docs/mixed.md``).
"""

from __future__ import annotations

import numpy as np

#: the bias corrections `entropy_from_counts` knows
CORRECTIONS = ("none", "miller-madow", "jackknife")

#: the correction of every discrete entropy in `gmmmi.estimate`: on 3x3 and 5x5 tables
#: at n = 100 to 2000 the jackknife and Miller-Madow leave biases within a few 1e-3 nat
#: of each other (bench_contingency.py), and Miller-Madow has no variance of its own
CORRECTION = "miller-madow"


def entropy_from_counts(counts: np.ndarray, correction: str = CORRECTION) -> np.ndarray:
    """Entropy (nats) of the cell counts of each row of ``counts``.

    Parameters
    ----------
    counts : numpy.ndarray, shape (S, m) or (m,)
        Non-negative counts (integers, or frequencies times the number of
        rows) of m cells, one row per draw; every row has the same total n.
    correction : {"none", "miller-madow", "jackknife"}
        ``"none"``: the plug-in. ``"miller-madow"``: plus (occupied cells - 1)
        / (2 n). ``"jackknife"``: n H - (n - 1) / n sum over rows of the
        plug-in without that row (exact from the counts).

    Returns
    -------
    numpy.ndarray, shape (S,) or ()
        In nats.

    Raises
    ------
    ValueError
        For an unknown correction, or counts that are negative or all zero.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"Unknown correction {correction!r}; valid values are {CORRECTIONS}.")
    c = np.asarray(counts, dtype=np.float64)
    one = c.ndim == 1
    c = np.atleast_2d(c)
    n = c.sum(axis=1)
    if np.any(c < 0) or np.any(n <= 0):
        raise ValueError("counts must be non-negative with a positive total in every row.")
    h = _plugin(c, n)
    if correction == "miller-madow":
        h = h + ((c > 0).sum(axis=1) - 1) / (2.0 * n)
    elif correction == "jackknife":
        h = _jackknife(c, n, h)
    return h[0] if one else h


def _plugin(c: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``-sum p log p`` per row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = c / n[:, None]
        return -np.where(c > 0, p * np.log(p), 0.0).sum(axis=1)


def _jackknife(c: np.ndarray, n: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The jackknife of the plug-in: the rows of a cell leave the same table behind."""
    out = np.empty_like(h)
    for s in range(c.shape[0]):
        occupied = np.flatnonzero(c[s] > 0)
        leave = np.repeat(c[s][None], occupied.size, axis=0)
        leave[np.arange(occupied.size), occupied] -= 1
        h_minus = _plugin(leave, np.full(occupied.size, n[s] - 1))
        out[s] = n[s] * h[s] - (n[s] - 1) * (c[s, occupied] * h_minus).sum() / n[s]
    return out


def contingency_mi(x_codes: np.ndarray, y_codes: np.ndarray, correction: str = CORRECTION) -> float:
    """I(x; y) of two discrete variables from their contingency table, in nats.

    ``H(x) + H(y) - H(x, y)``, each entropy with ``correction`` (see
    `entropy_from_counts`).

    Parameters
    ----------
    x_codes, y_codes : numpy.ndarray of int, shape (n,)
        Level codes 0..L-1 of each row.
    correction : str, default `CORRECTION`

    Returns
    -------
    float
    """
    x_codes, y_codes = np.asarray(x_codes), np.asarray(y_codes)
    _, joint = np.unique(np.stack([x_codes, y_codes], axis=1), axis=0, return_inverse=True)
    h = [entropy_from_counts(np.bincount(v.ravel()), correction) for v in (x_codes, y_codes, joint)]
    return float(h[0] + h[1] - h[2])
