"""Screening of the standardised data before the fit: what would make the estimate wrong.

`screen` runs after `gmmmi._validation` has refused what cannot be fitted at
all (missing values, too few rows, linearly dependent columns) and looks for
data that can be fitted but give a wrong number or a wrong error bar. Each
finding is a `~gmmmi.exceptions.DataWarning` (or, for columns of a few
atoms, a ValueError) whose message names the rows or columns, says how the
estimate is affected and what to do. The rules, their thresholds and the
reasons for them are the module constants below; ``docs/refusals.md``
("Warnings about the data") shows each one.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import digamma

from ._em.select import copy_groups
from ._stacklevel import user_stacklevel
from .exceptions import DataWarning

#: a column with at most this many distinct values is refused: binary
#: data, small counts and ordinal scales (5- or 7-point, 0-10 scores) are
#: atoms, and a density fitted to atoms can put a component of vanishing
#: width on each one, so the fitted "MI" grows without bound (two binary
#: columns gave 12.4 nat, where ln 2 = 0.69 is the most possible)
FEW_VALUES = 10

#: a column with more than `FEW_VALUES` but at most this many distinct
#: values, most of them repeated (more than `TIED_FRACTION` of its values
#: repeat another, counted on the distinct rows so that copied rows do not
#: count), is coarsely quantised and warned about. Finer rounding is not
#: flagged: a Gaussian with rho = 0.6 rounded to 0.25 sd (26 values in 1000
#: rows) gave 0.237 +- 0.020 against 0.223, and to 0.1 sd (57 values) 0.241
#: +- 0.023, both within one sd, while continuous data have no ties at all
QUANTISED_VALUES = 30
TIED_FRACTION = 0.5

#: an outlier is isolated from the rest of its column by a gap of more than
#: this many robust standard deviations (1.4826 x the median absolute
#: deviation)...
OUTLIER_GAP = 10.0
#: ... which is also more than this fraction of its distance from the median,
#: so that the far end of a long continuous tail is not flagged: the top of
#: n log-normal values, exp(Z), is beyond a gap this large with probability
#: about exp(-ln 5 sqrt(2 ln n)), 0.3% per column at n = 1000 (0.5 flagged
#: 8%), while x = 20 among standard-normal rows (gap share 0.84), which
#: moved the rho = 0.6 estimate by 1.3 sd, is flagged ...
OUTLIER_GAP_SHARE = 0.8
#: ... and at most this fraction of the rows (at least one) lies beyond the
#: gap: a larger group is a cluster that a mixture component can fit
OUTLIER_MAX_FRACTION = 0.01

#: few rows for the dimension: the MI (or CMI) that one Gaussian fitted to
#: independent Gaussian blocks of the data's sizes gives on average, in
#: nats, must stay below this
SAMPLE_SIZE_FLOOR = 0.05

#: robust standard deviation per median absolute deviation, for Gaussian data
_MAD_TO_SD = 1.482602218505602

#: rows and columns named at most in one message
_NAMED = 5


def screen(
    Xs: np.ndarray,
    shift: np.ndarray,
    scale: np.ndarray,
    blocks: dict,
    labels: dict,
    *,
    categorical: bool,
) -> None:
    """Refuse columns of a few atoms; warn about data that give a wrong estimate.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        Standardised data (from `gmmmi._validation.standardise`).
    shift, scale : numpy.ndarray, shape (d,)
        The standardisation: data = ``Xs * scale + shift`` (for messages in
        data units).
    blocks : dict of str to list of int
        Column indices per block ("x", "y", optionally "z").
    labels : dict of str to list of str
        Column names per block.
    categorical : bool
        True with ``discrete_y``: y is category labels and not in ``Xs``.

    Raises
    ------
    ValueError
        A column with at most `FEW_VALUES` distinct values.

    Warns
    -----
    DataWarning
        Exact copies of rows; a quantised column; an isolated far outlier; few
        rows for the number of columns.
    """
    names = [name for key in blocks for name in labels[key]]
    _, first_rows = np.unique(copy_groups(Xs), return_index=True)
    distinct = Xs[first_rows]
    counts = np.array([np.unique(column).size for column in distinct.T])
    in_z = set(labels.get("z", ()))
    _check_distinct_values(counts, distinct.shape[0], names, categorical, in_z)
    # rows can coincide by chance only if every column has ties among the distinct rows
    if (counts == distinct.shape[0]).any():
        _warn_copies(Xs.shape[0], distinct.shape[0])
    _warn_outliers(Xs, shift, scale, names)
    if not categorical:
        _warn_few_rows(Xs.shape[0], blocks)


def _check_distinct_values(
    counts: np.ndarray, n: int, names: list, categorical: bool, z_names: set
) -> None:
    """Refuse columns of at most `FEW_VALUES` atoms; warn about coarsely quantised ones.

    ``counts`` holds the number of distinct values of each column among the
    ``n`` distinct rows; ``z_names`` are the names of the conditioning columns.
    """
    atoms = np.flatnonzero(counts <= FEW_VALUES)
    if atoms.size:
        listed = ", ".join(f"{names[j]!r} ({counts[j]} values)" for j in atoms[:_NAMED])
        fix = (
            "If x is continuous and y is a category label, pass the labels as y with "
            "discrete_y=True. "
            if not categorical
            else ""
        )
        if any(names[j] in z_names for j in atoms):
            fix += (
                "For a discrete z, I(x; y | z) = sum over c of p(z = c) I(x; y | z = c): estimate "
                "the MI on the rows of each value c and weight by its frequency. "
            )
        raise ValueError(
            f"Column(s) {listed} take at most {FEW_VALUES} distinct values: they are discrete "
            "(binary, counts, an ordinal scale), and a Gaussian mixture fitted to atoms can put a "
            "component of vanishing width on each one, so the estimated MI would grow without "
            f"bound (it is at most the entropy of the discrete variable). {fix}gmmmi estimates MI "
            "of continuous variables; for discrete x and y use the MI of their contingency table."
        )
    tied = 1.0 - counts / n
    flagged = np.flatnonzero((counts <= QUANTISED_VALUES) & (tied > TIED_FRACTION))
    if not flagged.size:
        return
    listed = ", ".join(
        f"{names[j]!r} ({counts[j]} distinct values in {n} distinct rows, {tied[j]:.0%} tied)"
        for j in flagged[:_NAMED]
    )
    _warn(
        f"Column(s) {listed} look coarsely rounded or quantised: at most {QUANTISED_VALUES} "
        f"distinct values, and more than {TIED_FRACTION:.0%} of their values repeat another. "
        "A Gaussian mixture can fit narrow components to the repeated "
        "values, which inflates the MI estimate without widening its error bar. Add uniform "
        "noise of one rounding step to each such column (x + rng.uniform(-q/2, q/2, n) for "
        "values rounded to multiples of q), or, for a column that is a category label, pass it "
        "as y with discrete_y=True."
    )


def _warn_copies(n: int, n_distinct: int) -> None:
    """Warn when some rows are exact copies of others.

    Called only when some column has no tied values among the distinct
    rows: then no two rows can coincide by chance (as rounded data do), and
    every copy is a repeated record.
    """
    if n_distinct == n:
        return
    copies = n - n_distinct
    _warn(
        f"{copies} of {n} rows ({copies / n:.1%}) are exact copies of another row. "
        "Cross-validation keeps all copies of a row in one fold, so they do not reward extra "
        "components; the bootstrap resamples rows and counts every copy as an independent "
        "observation. If the copies are repeated records of one observation (a merge, an "
        f"oversampling), the error bar is too small, by up to sqrt({n} / {n_distinct}) = "
        f"{np.sqrt(n / n_distinct):.2g}x: drop them first (numpy.unique(X, axis=0) or "
        "DataFrame.drop_duplicates())."
    )


def isolated_outliers(column: np.ndarray) -> np.ndarray:
    """Rows of one column that a wide gap isolates from the rest of the column.

    A row is flagged when it lies beyond a gap between consecutive sorted
    values that is wider than `OUTLIER_GAP` robust standard deviations
    (1.4826 x the median absolute deviation) and wider than
    `OUTLIER_GAP_SHARE` of the distance from the median to the first value
    beyond it, with at most `OUTLIER_MAX_FRACTION` of the rows (at least one)
    beyond the gap; both tails are searched.

    Parameters
    ----------
    column : numpy.ndarray, shape (n,)

    Returns
    -------
    numpy.ndarray of int64
        Sorted row indices of the outliers (empty if none).
    """
    n = column.size
    centre = np.median(column)
    spread = _MAD_TO_SD * np.median(np.abs(column - centre))
    if not spread > 0:
        return np.zeros(0, dtype=np.int64)
    reach = min(max(1, int(OUTLIER_MAX_FRACTION * n)), n - 1)
    flagged = []
    for signed in (column, -column):
        # the reach + 1 largest values, in increasing order: the inner one and the candidates
        top = np.argpartition(signed, n - reach - 1)[n - reach - 1 :]
        ranked = top[np.argsort(signed[top], kind="stable")]
        distance = np.abs(column[ranked] - centre)
        # gap between the value at position i and the next one out, at i + 1
        gaps = np.diff(distance)
        wide = (gaps > OUTLIER_GAP * spread) & (gaps > OUTLIER_GAP_SHARE * distance[1:])
        if wide.any():
            flagged.append(ranked[np.flatnonzero(wide)[0] + 1 :])
    return np.sort(np.concatenate(flagged)) if flagged else np.zeros(0, dtype=np.int64)


def _warn_outliers(Xs, shift, scale, names) -> None:
    """Warn about rows that `isolated_outliers` flags in some column."""
    found = {j: isolated_outliers(Xs[:, j]) for j in range(Xs.shape[1])}
    found = {j: rows for j, rows in found.items() if rows.size}
    if not found:
        return
    rows = np.unique(np.concatenate(list(found.values())))
    parts = []
    for j, flagged in found.items():
        centre = np.median(Xs[:, j])
        spread = _MAD_TO_SD * np.median(np.abs(Xs[:, j] - centre))
        shown = ", ".join(
            f"row {i}: {Xs[i, j] * scale[j] + shift[j]:.6g}, "
            f"{abs(Xs[i, j] - centre) / spread:.3g} robust sd from the median"
            for i in flagged[:_NAMED]
        )
        more = f" and {flagged.size - _NAMED} more" if flagged.size > _NAMED else ""
        parts.append(f"column {names[j]!r} ({shown}{more})")
    _warn(
        f"{rows.size} row(s) lie far from all the others, isolated by a gap of more than "
        f"{OUTLIER_GAP:g} robust standard deviations: {'; '.join(parts)} (rows counted from 0). "
        "A Gaussian mixture stretches a component over, or spends one on, an isolated row, "
        "which changes the estimate (often toward 0) without widening its error bar, so the "
        "estimate is likely wrong. Check these rows for recording errors and correct or drop "
        "them; if the column is genuinely heavy-tailed, estimate on a transformed column "
        "(e.g. its logarithm or its ranks mapped to normal scores)."
    )


def independence_floor(n: int, dx: int, dy: int, dz: int = 0) -> float:
    """Mean MI (CMI) estimate, in nats, of one Gaussian fitted to independent blocks.

    For n rows of Gaussian blocks x (dx columns) and y (dy columns),
    independent given z (dz columns), the maximum-likelihood Gaussian gives
    Î = ½ [ln det S_xz + ln det S_yz − ln det S_z − ln det S_xyz] in terms of
    sample covariance determinants, whose expectations are Wishart
    moments: E ln det S_d = Σ_{i=1..d} ψ((n − i) / 2) + terms that cancel.
    It grows like dx dy / (2 n) for n much larger than the dimension, and
    faster near it. A mixture of several components gives more.

    Parameters
    ----------
    n : int
        Rows (more than dx + dy + dz).
    dx, dy, dz : int
        Block dimensions.

    Returns
    -------
    float
    """

    def log_det(d):
        return float(np.sum(digamma((n - np.arange(1, d + 1)) / 2.0)))

    return 0.5 * (log_det(dx + dz) + log_det(dy + dz) - log_det(dz) - log_det(dx + dy + dz))


def _warn_few_rows(n: int, blocks: dict) -> None:
    """Warn when `independence_floor` exceeds `SAMPLE_SIZE_FLOOR`."""
    dx, dy, dz = (len(blocks.get(key, ())) for key in ("x", "y", "z"))
    floor = independence_floor(n, dx, dy, dz)
    if floor <= SAMPLE_SIZE_FLOOR:
        return
    enough = n
    while independence_floor(enough, dx, dy, dz) > SAMPLE_SIZE_FLOOR:
        enough *= 2
    low = enough // 2
    while enough - low > 1:
        middle = (low + enough) // 2
        if independence_floor(middle, dx, dy, dz) > SAMPLE_SIZE_FLOOR:
            low = middle
        else:
            enough = middle
    given = f" given {dz} z column(s)" if dz else ""
    _warn(
        f"Few rows for the number of columns: with {n} rows, {dx} x and {dy} y column(s){given}, "
        f"one Gaussian fitted to independent blocks gives an MI of {floor:.3g} nat on average "
        "(a mixture of several components gives more), above the "
        f"{SAMPLE_SIZE_FLOOR:g} nat this check allows; the estimate and its error bar are "
        f"dominated by this bias. Use more rows (about {enough} bring it below "
        f"{SAMPLE_SIZE_FLOOR:g} nat) or fewer columns (e.g. a few principal components per "
        "block), and compare with the estimate on rows of y shuffled against x."
    )


def _warn(message: str) -> None:
    """`DataWarning` at the first caller outside the gmmmi package (the user's line)."""
    warnings.warn(message, DataWarning, stacklevel=user_stacklevel())
