"""Row orders of y for the permutation tests: who may be exchanged with whom.

`independence_test` compares a statistic on the data with the same statistic
on copies whose rows of y are reordered. The reordering must leave the data's
law unchanged under the null hypothesis, or the test is not valid. This
module builds one reordering per draw (lazily, so a large count costs no
memory) for each kind of data:

* ``"iid"`` rows (exchangeable): a uniform permutation of the rows; with
  ``z``, a permutation within strata of z (conditional independence); with
  exact copies of rows, the copies move together (a group of identical rows
  is one unit, exchanged only with groups of the same size);
* ``"block"`` (time series): y cut into consecutive blocks of L rows, the
  blocks shuffled; within a block y keeps its autocorrelation;
* ``"circular"`` (time series): y shifted in time by a random lag, wrapped
  around; y keeps all its autocorrelation but one junction.

`block_length_rule` chooses L (and the smallest circular shift) from the
two series' lag-1 autocorrelations; `independence_test(block_length=...)`
overrides it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: the values of ``independence_test(permutation=...)``
PERMUTATIONS = ("iid", "block", "circular")

#: the largest share of the null variance a block permutation may lose (`block_length_rule`)
BLOCK_VARIANCE_LOSS = 0.05
#: a block permutation keeps at least this many blocks (8! orders)
MIN_BLOCKS = 8


@dataclass(frozen=True)
class Reordering:
    """How the rows of y are reordered for one test.

    Attributes
    ----------
    kind : str
        ``"permutation"``, ``"stratified permutation"``, ``"grouped
        permutation"``, ``"block permutation"`` or ``"circular shift"``.
    n : int
        Rows.
    block_length : int or None
        L of a block permutation, the smallest shift of a circular one.
    units : numpy.ndarray of int64, shape (n,), or None
        Exchangeable unit of every row (a group of identical rows is one
        unit); None when every row is its own unit.
    cells : numpy.ndarray of int64, shape (n_units,), or None
        Units are exchanged only within a cell (a stratum of z, or a group
        size); None: all units are exchangeable.
    """

    kind: str
    n: int
    block_length: int | None = None
    units: np.ndarray | None = None
    cells: np.ndarray | None = None

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One reordering: row indices, shape (n,); y[order] is the reordered y."""
        n = self.n
        if self.kind == "circular shift":
            lo = self.block_length
            return (np.arange(n) + rng.integers(lo, n - lo + 1)) % n
        if self.kind == "block permutation":
            starts = np.arange(0, n, self.block_length)[rng.permutation(-(-n // self.block_length))]
            return np.concatenate([np.arange(s, min(s + self.block_length, n)) for s in starts])
        if self.units is None and self.cells is None:
            return rng.permutation(n)
        n_units = n if self.units is None else int(self.units.max()) + 1
        cells = np.zeros(n_units, dtype=np.int64) if self.cells is None else self.cells
        shuffled = np.lexsort((rng.random(n_units), cells))  # by cell, random within
        unit_order = np.empty(n_units, dtype=np.int64)
        unit_order[np.argsort(cells, kind="stable")] = shuffled
        if self.units is None:
            return unit_order
        first_row = np.unique(self.units, return_index=True)[1]  # a row of every unit
        return first_row[unit_order[self.units]]


def reordering(
    permutation: str,
    rows: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    zs: np.ndarray | None,
    stratum_size: int,
    block_length: int | None,
) -> Reordering:
    """The reordering of y for ``permutation`` on these data.

    Parameters
    ----------
    permutation : {"iid", "block", "circular"}
    rows : numpy.ndarray, shape (n, d)
        Every column of the data (x, y and z, y as its codes with
        ``discrete_y``), to find exact copies of rows.
    xs, ys : numpy.ndarray, shape (n, dx), (n, dy) or (n,)
        The two blocks, in time order for ``"block"`` and ``"circular"``.
    zs : numpy.ndarray, shape (n, dz), or None
        With z, ``"iid"`` permutes within strata of z.
    stratum_size : int
        Rows per stratum of z.
    block_length : int or None
        L, or None for `block_length_rule`.

    Returns
    -------
    Reordering
    """
    from ._em.folds import copy_groups

    n = rows.shape[0]
    if permutation != "iid":
        length = block_length or block_length_rule(xs, ys)
        if permutation == "block":
            length = min(length, max(1, n // MIN_BLOCKS))
            return Reordering("block permutation", n, block_length=length)
        return Reordering("circular shift", n, block_length=min(max(length, 1), n // 2))
    groups = copy_groups(rows)
    copies = int(groups.max(initial=-1)) + 1 < n
    units = groups if copies else None
    if zs is None and not copies:
        return Reordering("permutation", n)
    n_units = int(groups.max()) + 1
    cells = np.zeros(n_units, dtype=np.int64)
    if copies:  # a group of c identical rows is exchanged only with groups of c rows
        cells = np.bincount(groups)
    if zs is not None:
        first = np.unique(groups, return_index=True)[1]
        stratum = strata(zs[first], stratum_size)  # copies share z, hence a stratum
        cells = cells * (int(stratum.max()) + 1) + stratum
    kind = "grouped permutation" if zs is None else "stratified permutation"
    return Reordering(kind, n, units=units, cells=np.unique(cells, return_inverse=True)[1])


def strata(zs: np.ndarray, size: int) -> np.ndarray:
    """Stratum of each row: consecutive blocks of ~``size`` rows ordered by z.

    Parameters
    ----------
    zs : numpy.ndarray, shape (n, dz)
        Ordered by the first principal component of the standardised z when
        dz > 1.
    size : int
        Rows per stratum.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
    """
    n = zs.shape[0]
    zc = (zs - zs.mean(axis=0)) / zs.std(axis=0)
    if zc.shape[1] == 1:
        key = zc[:, 0]
    else:  # the first principal component of the standardised z
        key = zc @ np.linalg.svd(zc, full_matrices=False)[2][0]
    n_strata = max(1, n // size)
    order = np.argsort(key, kind="stable")
    stratum = np.empty(n, dtype=np.int64)
    stratum[order] = np.arange(n) * n_strata // n
    return stratum


def block_length_rule(xs: np.ndarray, ys: np.ndarray) -> int:
    """L, the block length of a block permutation (and the smallest circular shift).

    If x and y were AR(1) series with lag-1 autocorrelations a_x and a_y, the
    null variance of their sample cross-correlation would be proportional to
    S1 = Σ_h a^|h| = (1 + a) / (1 - a), with a = a_x a_y. Shuffling blocks of
    L rows keeps a lag-h pair of y with probability about 1 - h / L, so the
    permuted copies lose Σ_h |h| a^|h| / L = 2a / ((1 - a)² L) of it. L is the
    smallest length that loses at most `BLOCK_VARIANCE_LOSS` (5 %) of the
    variance: L = ⌈2a / ((1 - a²) · 0.05)⌉, with a the product of the largest
    |lag-1 autocorrelation| of a column of x and of y (on ranks, so that heavy
    tails do not drive it). Rows without autocorrelation give L = 1.

    Parameters
    ----------
    xs, ys : numpy.ndarray, shape (n, dx) and (n, dy), or (n,)
        The two series, in time order.

    Returns
    -------
    int
        L >= 1 (`reordering` keeps at least `MIN_BLOCKS` blocks).
    """
    a = _lag1(xs) * _lag1(ys)
    if a <= 0:
        return 1
    a = min(a, 0.999)
    return max(1, math.ceil(2 * a / ((1 - a * a) * BLOCK_VARIANCE_LOSS)))


def _lag1(block: np.ndarray) -> float:
    """The largest |lag-1 autocorrelation| of the ranks of a column of ``block``."""
    block = np.asarray(block, dtype=np.float64).reshape(block.shape[0], -1)
    best = 0.0
    for column in block.T:
        r = np.argsort(np.argsort(column, kind="stable"), kind="stable").astype(np.float64)
        r -= r.mean()
        denominator = float(np.dot(r, r))
        if denominator > 0:
            best = max(best, abs(float(np.dot(r[1:], r[:-1])) / denominator))
    return best
