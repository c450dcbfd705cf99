"""Screening of the standardised data before the fit: what would make the estimate wrong.

`screen` runs after `gmmmi._data` and `gmmmi._rows` have refused what cannot be fitted at
all (missing values, too few rows, linearly dependent columns) and looks for
data that can be fitted but give a wrong number or a wrong error bar. Each
finding is a `~gmmmi.exceptions.DataWarning`, or a ValueError for data
without a finite or resolvable MI (columns of a few atoms, fewer distinct
rows than the fit needs, a column that is a smooth function of the other
block, two columns on a curve), whose message names the rows or columns, says how the estimate is
affected and what to do. The rules, their thresholds and the reasons for
them are the module constants below; ``docs/refusals.md`` ("Non-linear
deterministic relations", "Warnings about the data") shows each one.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from ._em.folds import copy_groups
from ._rows import distinct_count, rows_needed
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

#: a column of x (of y) is (near-)deterministically related to the other
#: block (and z) when a local quadratic fit on its nearest neighbours there
#: predicts it, in half the rows, to within this fraction of its median
#: absolute deviation (see `determination`; with noise, of the order of the
#: noise's sd over the column's). Exact smooth functions give below 3e-5
#: with 200 rows and one predictor (y = sin 3x, x^2, e^x) and below 2e-4 with
#: 1000 rows and two (x = sin y + z^2, y z, sin z + z^2 / 10); noise up to
#: 3e-4 of the scale is caught, 1e-3 is not. Legitimate data stay far above:
#: y = x + 0.01 noise gives 1.3e-2, a Gaussian with rho = 0.9999 1.6e-2, the
#: lowest of 282 data sets, none refused (the 31 robustness-suite
#: distributions, the paper's D1-D5, Gaussians with rho up to 0.9999 and
#: monotone maps of one with rho = 0.999, at 1000 and 5000 rows, 3 seeds
#: each). Below it the relation is deterministic at the data's resolution:
#: the MI is unbounded (above about ln(1e3) = 6.9 nat for a near one), and a
#: mixture of a few components cannot follow a curve this thin (y = sin 3x
#: exactly gave a finite 2.87 +- 0.04 nat)
DETERMINED_SPREAD = 1e-3
#: ... unless one straight-line fit predicts the column nearly as well (its
#: median absolute residual is below this multiple of the local one): one
#: Gaussian follows a linear relation at any noise that float64 resolves
#: (y = x + 1e-5 noise has a finite MI of 11.5 nat), and exactly linear
#: columns are refused by `gmmmi._rows.check_not_degenerate`
LINEAR_SHARE = 10.0
#: the check uses at most this many distinct rows (a fixed random subset
#: above it, the same on every call), so that it costs at most about 0.1 s
#: however large the data: an exact function of two columns leaves 8e-6 here
DETERMINED_ROWS = 5_000
#: the check first runs on this many of them and stops unless the residual
#: there is below `DETERMINED_FIRST_SPREAD`: noise does not shrink with fewer
#: rows, so legitimate data stay above it, and exact functions come below it
#: (1e-3 at most for two predictors at 200 rows); data that pass cost 1-3 ms
DETERMINED_FIRST_ROWS = 500
DETERMINED_FIRST_SPREAD = 1e-2
#: predictors (columns of the other block and z) at most: with three or
#: more, nearest neighbours are too far apart for a local fit to resolve a
#: curve (an exact smooth function of three columns left 2e-4 with 10 000
#: rows, of four 1.5e-3), so the check is skipped for wider blocks
DETERMINED_PREDICTORS = 2

#: a curve that is a function of neither column (a circle, a loop) is refused for one x and
#: one y column without z when its residual normal to the curve (`curve_determination`)
#: is below this, and one straight line does `LINEAR_SHARE` times worse. It is stricter
#: than `DETERMINED_SPREAD` because a distance normal to a steep curve is smaller than the
#: same noise measured along one column: y = sin 3x + 1e-3 noise leaves 5.9e-4 here and
#: is not refused by either rule. An exact circle leaves 1e-8 of the spread at 500 rows,
#: with noise 1e-4 of the radius 1.2e-4 (not refused); a Gaussian with rho = 0.9999 leaves
#: 4e-3 and y = x + 0.01 noise 3.7e-3 at 5000 rows. The check is skipped when either column
#: has fewer distinct values than `CURVE_UNTIED` of the distinct rows (rows on an atom lie
#: on a line)
CURVE_SPREAD = 1e-4
#: a column with fewer distinct values than this share of the distinct rows skips the curve
#: check (see `CURVE_SPREAD`)
CURVE_UNTIED = 0.9

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
    n_folds: int = 1,
    outliers: bool = True,
    orders: tuple | None = None,
) -> np.ndarray:
    """Refuse what has no finite or resolvable MI; warn about data that give a wrong estimate.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        Standardised data (from `gmmmi._rows.standardise`).
    shift, scale : numpy.ndarray, shape (d,)
        The standardisation: data = ``Xs * scale + shift`` (for messages in
        data units).
    blocks : dict of str to list of int
        Column indices per block ("x", "y", optionally "z").
    labels : dict of str to list of str
        Column names per block.
    categorical : bool
        True with ``discrete_y``: y is category labels and not in ``Xs``.
    n_folds : int, default 1
        Cross-validation folds of the fit (1 without cross-validation), for
        the distinct rows needed (`gmmmi._rows.rows_needed`).
    outliers : bool, default True
        Whether to warn about isolated far rows here; `gmmmi.estimate` checks
        them with `warn_outliers` on the data it fits (after the margins' maps,
        which bring heavy tails in).
    orders : tuple of numpy.ndarray, optional
        An order of every column of ``Xs`` (`gmmmi._rows.column_orders`), when
        the caller has them: its distinct values are counted without a sort.

    Returns
    -------
    numpy.ndarray of int64
        The first row of each group of exact copies in ``Xs``, in row order,
        for `gmmmi._resolution.warn_unresolved`; empty when no row is a copy
        (``arange(n)`` would hold 8 bytes a row through the fit).

    Raises
    ------
    ValueError
        A column with at most `FEW_VALUES` distinct values; fewer distinct
        rows than the fit needs; a column of x or y that is a smooth function
        of the other block (and z), up to `DETERMINED_SPREAD`, or one x and
        one y column on a smooth curve (a circle), up to `CURVE_SPREAD`.

    Warns
    -----
    DataWarning
        Exact copies of rows; a quantised column; an isolated far outlier
        (few rows for the number of columns: `warn_few_rows`, after the fit).
    """
    names = [name for key in blocks for name in labels[key]]
    if orders is None:
        counts = np.array([np.unique(column).size for column in Xs.T])
    else:
        counts = np.array([distinct_count(Xs[o, j]) for j, o in enumerate(orders)])
    distinct = Xs  # a column of n distinct values: no row is a copy (no sort of the rows)
    first_rows = np.zeros(0, dtype=np.int64)
    if counts.max(initial=0) < Xs.shape[0]:
        _, first_rows = np.unique(copy_groups(Xs), return_index=True)
        distinct = Xs[first_rows]
        counts = np.array([np.unique(column).size for column in distinct.T])
    in_z = set(labels.get("z", ()))
    _check_distinct_values(counts, distinct.shape[0], names, categorical, in_z)
    _check_distinct_rows(distinct.shape[0], Xs.shape[0], Xs.shape[1], n_folds)
    if not categorical:
        _check_not_determined(distinct, blocks, labels, counts)
    # rows can coincide by chance only if every column has ties among the distinct rows
    if (counts == distinct.shape[0]).any():
        _warn_copies(Xs.shape[0], distinct.shape[0])
    if outliers:
        warn_outliers(Xs, shift, scale, names)
    return first_rows


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
            f"bound (it is at most the entropy of the discrete variable). {fix}gmmmi.estimate "
            "splits discrete columns off by the chain rule with discrete='auto' (its default) or "
            "a list of the discrete columns (docs/mixed.md)."
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


def _check_distinct_rows(n_distinct: int, n: int, d: int, n_folds: int) -> None:
    """Refuse data with fewer distinct rows than `gmmmi._rows.rows_needed`.

    Copies of a row stay in one cross-validation fold and add no point to
    the density, so the rows the fit needs must be distinct ones.
    """
    need = rows_needed(d, n_folds)
    if n_distinct >= need:
        return
    folds = f"{n_folds} folds x " if n_folds > 1 else ""
    raise ValueError(
        f"Only {n_distinct} of the {n} rows are distinct; the other {n - n_distinct} are exact "
        f"copies of them. A fit of {d}-dimensional data needs at least {need} = {folds}2 (d + 1) "
        "distinct rows: copies of a row add no new point to the density and stay together in "
        "one cross-validation fold, so the fit would describe these few points, not a "
        "distribution, with an error bar that cannot show it. Check whether the rows were "
        "repeated by a merge or an oversampling; drop the copies (numpy.unique(X, axis=0)) and "
        "provide more distinct samples."
    )


def determination(target: np.ndarray, predictors: np.ndarray) -> tuple[float, float]:
    """How closely ``predictors`` determine ``target``: local and linear residual spreads.

    Each row's ``target`` is predicted, leaving the row out, by a quadratic
    fitted by least squares to its nearest neighbours in ``predictors``
    (twice as many as the quadratic's coefficients); rows of equal
    predictors are predicted by their neighbours' mean. A smooth function
    leaves residuals of the order of its third derivative times the
    neighbours' distance cubed, noise leaves the noise.

    Parameters
    ----------
    target : numpy.ndarray, shape (n,)
        One column, not constant.
    predictors : numpy.ndarray, shape (n, p)
        With n larger than twice the quadratic's 1 + p + p (p + 1) / 2
        coefficients; rows distinct from each other in (target, predictors).

    Returns
    -------
    local : float
        Median absolute residual of the local quadratic fits, over the
        median absolute deviation of ``target`` (its mean absolute deviation
        if more than half its values are equal).
    linear : float
        The same for one straight-line (affine) fit to all rows.
    """
    residuals, _ = local_residuals(target, predictors)
    n = target.size
    # a robust spread, so that a heavy tail does not make the bulk's residuals look small
    deviation = np.abs(target - np.median(target))
    spread = np.median(deviation) or deviation.mean()
    local = float(np.median(np.abs(residuals))) / spread
    affine = np.column_stack([np.ones(n), predictors])
    coef, *_ = np.linalg.lstsq(affine, target, rcond=None)
    linear = float(np.median(np.abs(target - affine @ coef))) / spread
    return local, linear


def local_residuals(target: np.ndarray, predictors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out residuals of `determination`'s local quadratic fits, and their leverage.

    Parameters
    ----------
    target : numpy.ndarray, shape (n,)
    predictors : numpy.ndarray, shape (n, p)
        As for `determination`.

    Returns
    -------
    residuals : numpy.ndarray, shape (n,)
        ``target`` minus each row's prediction from its neighbours.
    leverage : numpy.ndarray, shape (n,)
        The variance of each prediction per unit noise variance: with
        independent noise of sd s, a residual has sd s sqrt(1 + leverage).
    """
    n, p = predictors.shape
    pairs = np.triu_indices(p)
    n_coef = 1 + p + pairs[0].size
    k = 2 * n_coef
    neighbours = nearest_neighbours(predictors, k + 1)
    # leave each row out; a row tied with k others at distance 0 may not be listed first
    own = neighbours == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True
    neighbours = neighbours[~own].reshape(n, k)
    offsets = predictors[neighbours] - predictors[:, None, :]
    radius = np.sqrt((offsets**2).sum(axis=2)).max(axis=1)
    offsets /= np.where(radius > 0, radius, 1.0)[:, None, None]
    if p == 1:
        predicted, leverage = quadratic_intercepts(offsets[:, :, 0], target[neighbours], 1e-10 * k)
        return target - predicted, leverage
    design = np.concatenate(
        [np.ones((n, k, 1)), offsets, offsets[:, :, pairs[0]] * offsets[:, :, pairs[1]]], axis=2
    )
    # a tiny ridge keeps the coefficients finite when neighbours are tied or collinear
    transposed = design.transpose(0, 2, 1)
    gram = transposed @ design + 1e-10 * k * np.eye(n_coef)
    rhs = np.concatenate([transposed @ target[neighbours][:, :, None], np.zeros((n, n_coef, 1))], 2)
    rhs[:, 0, 1] = 1.0
    solved = np.linalg.solve(gram, rhs)
    return target - solved[:, 0, 0], solved[:, 0, 1]


def quadratic_intercepts(
    t: np.ndarray, values: np.ndarray, ridge: float
) -> tuple[np.ndarray, np.ndarray]:
    """Intercepts of ridge least-squares quadratics a + b t + c t², one per row, and (G⁻¹)₀₀.

    The 3 x 3 normal equations G (a, b, c) = (Σ v, Σ t v, Σ t² v), with
    G = [Σ tⁱ⁺ʲ] + ``ridge`` I, solved by a Cholesky factorisation written out
    over all rows at once: what ``numpy.linalg.solve`` of the stacked
    systems gives up to rounding, at a fraction of its cost for one
    predictor (`local_residuals`, `curve_determination`).

    Parameters
    ----------
    t : numpy.ndarray, shape (n, k)
        Abscissae of each row's k points (at most 1 in absolute value).
    values : numpy.ndarray, shape (n, k)
        Ordinates.
    ridge : float
        Added to G's diagonal (positive: keeps G positive definite when the
        abscissae are tied).

    Returns
    -------
    intercept : numpy.ndarray, shape (n,)
        a of each row.
    g00 : numpy.ndarray, shape (n,)
        The (0, 0) element of G⁻¹ (the intercept's variance per unit noise variance).
    """
    t2 = t * t
    s1, s2, s3, s4 = t.sum(axis=1), t2.sum(axis=1), (t2 * t).sum(axis=1), (t2 * t2).sum(axis=1)
    b0, b1, b2 = values.sum(axis=1), (t * values).sum(axis=1), (t2 * values).sum(axis=1)
    # G = L L^T with L lower triangular
    l00 = math.sqrt(t.shape[1] + ridge)
    l10, l20 = s1 / l00, s2 / l00
    l11 = np.sqrt(s2 + ridge - l10 * l10)
    l21 = (s3 - l20 * l10) / l11
    l22 = np.sqrt(s4 + ridge - l20 * l20 - l21 * l21)
    # forward: L y = b; backward: L^T x = y, of which only x0 is needed
    y0 = b0 / l00
    y1 = (b1 - l10 * y0) / l11
    y2 = (b2 - l20 * y0 - l21 * y1) / l22
    x2 = y2 / l22
    x1 = (y1 - l21 * x2) / l11
    intercept = (y0 - l10 * x1 - l20 * x2) / l00
    # (G^-1)_00 = |L^-1 e0|^2
    v0 = 1.0 / l00
    v1 = -l10 * v0 / l11
    v2 = -(l20 * v0 + l21 * v1) / l22
    return intercept, v0 * v0 + v1 * v1 + v2 * v2


def nearest_neighbours(points: np.ndarray, k: int) -> np.ndarray:
    """The k nearest rows of every row of ``points`` (itself included), nearest first.

    What ``scipy.spatial.cKDTree(points).query(points, k)`` returns (up to the
    order of neighbours whose distances differ but whose squares round alike). For one
    column (n > k) the neighbours are found without the tree: in sorted
    order, the rows below and above each row are merged by distance, k steps
    over all rows at once (a few times faster). Where two of a row's
    k + 1 nearest distances are equal (ties, whose order the tree decides),
    the tree is asked.

    Parameters
    ----------
    points : numpy.ndarray, shape (n, p)
    k : int
        Neighbours per row, at most n.

    Returns
    -------
    numpy.ndarray of int, shape (n, k)
        Row indices, by increasing distance.
    """
    n, p = points.shape
    if p != 1 or n <= k:
        return cKDTree(points).query(points, k=k)[1]
    order = np.argsort(points[:, 0])
    x = points[order, 0]
    # k infinite sentinels at each end: a step past either end is infinitely far
    padded = np.concatenate([np.full(k, -np.inf), x, np.full(k, np.inf)])
    place = np.arange(n)
    # merge the rows below and above each row in sorted order, nearest first: k steps, and
    # one more to see a tie at the last place
    chosen = np.empty((n, k), dtype=np.intp)
    chosen[:, 0] = place
    below, above = place - 1, place + 1
    last = np.zeros(n)
    tied = np.zeros(n, dtype=bool)
    for step in range(1, k + 1):
        down = x - padded[below + k]
        up = padded[above + k] - x
        take_down = down < up
        distance = np.minimum(down, up)
        tied |= down == up
        tied |= distance == last
        if step < k:
            chosen[:, step] = np.where(take_down, below, above)
            below -= take_down
            above += ~take_down
        last = distance
    if tied.any():
        return cKDTree(points).query(points, k=k)[1]
    out = np.empty((n, k), dtype=np.intp)
    out[order] = order[chosen]
    return out


def curve_determination(points: np.ndarray) -> tuple[float, float]:
    """How closely two columns lie on one smooth curve, a function of neither or both.

    `determination` predicts one column from the other, which misses a
    relation such as a circle (two values of y for each x). Here each row is
    predicted from its nearest neighbours in the plane, leaving it out: their
    principal direction is the curve's tangent, and a quadratic of the
    normal offset in the tangent offset, fitted to them by least squares,
    predicts the row's normal offset (0). A smooth curve leaves a residual of
    the order of its third derivative times the neighbours' distance cubed,
    noise leaves the noise.

    Parameters
    ----------
    points : numpy.ndarray, shape (n, 2)
        Distinct rows, n above 13; neither column constant.

    Returns
    -------
    local : float
        Median absolute normal residual, each column in units of its median
        absolute deviation (its mean absolute deviation if more than half
        its values are equal).
    linear : float
        The same for the straight line of the points' principal axis.
    """
    # each column in units of its robust spread, so that the neighbours do not depend on
    # the columns' scales (an outlier shrinks a standardised column's bulk to a line)
    deviation = np.abs(points - np.median(points, axis=0))
    typical = np.median(deviation, axis=0)
    points = points / np.where(typical > 0, typical, deviation.mean(axis=0))
    n = points.shape[0]
    k = 6  # twice the quadratic's 3 coefficients
    _, neighbours = cKDTree(points).query(points, k=k + 1)
    own = neighbours == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True
    offsets = points[neighbours[~own].reshape(n, k)] - points[:, None, :]
    # the tangent: the principal axis of the neighbours around their mean
    dx, dy = offsets[:, :, 0], offsets[:, :, 1]
    cx, cy = dx - dx.mean(axis=1, keepdims=True), dy - dy.mean(axis=1, keepdims=True)
    # the 2 x 2 scatter's leading eigenvector, at the angle 0.5 atan2(2 s_xy, s_xx - s_yy)
    angle = 0.5 * np.arctan2(
        2.0 * (cx * cy).sum(axis=1), (cx * cx).sum(axis=1) - (cy * cy).sum(axis=1)
    )
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    along = dx * cos + dy * sin
    normal = dy * cos - dx * sin
    radius = np.abs(along).max(axis=1, keepdims=True)
    t = along / np.where(radius > 0, radius, 1.0)
    predicted, _ = quadratic_intercepts(t, normal, 1e-10 * k)
    _, global_axes = np.linalg.eigh(np.cov(points.T))
    line = (points - points.mean(axis=0)) @ global_axes[:, 0]
    return float(np.median(np.abs(predicted))), float(np.median(np.abs(line)))


def _on_curve(stages: list, columns: list) -> tuple[float, float] | None:
    """`curve_determination` of two columns if below `CURVE_SPREAD`; else None."""
    cutoffs = (DETERMINED_FIRST_SPREAD, CURVE_SPREAD)[-len(stages) :]
    for rows, cutoff in zip(stages, cutoffs, strict=True):
        local, linear = curve_determination(rows[:, columns])
        if not local < cutoff:
            return None
    return (local, linear) if linear > LINEAR_SHARE * local else None


def _determined(stages: list, column: int, predictors: list) -> tuple[float, float] | None:
    """`determination` of one column if it meets `DETERMINED_SPREAD` and `LINEAR_SHARE`; else None.

    ``stages`` holds the first `DETERMINED_FIRST_ROWS` rows and then the
    first `DETERMINED_ROWS` (only the latter for fewer rows than the
    former); the second is computed only if the first comes below
    `DETERMINED_FIRST_SPREAD`.
    """
    cutoffs = (DETERMINED_FIRST_SPREAD, DETERMINED_SPREAD)[-len(stages) :]
    for rows, cutoff in zip(stages, cutoffs, strict=True):
        target = rows[:, column]
        if target.std() == 0:
            return None
        local, linear = determination(target, rows[:, predictors])
        if not local < cutoff:
            return None
    return (local, linear) if linear > LINEAR_SHARE * local else None


def _check_not_determined(
    distinct: np.ndarray, blocks: dict, labels: dict, counts: np.ndarray
) -> None:
    """Refuse a column of x (of y) that `determination` finds a smooth function of y (x) and z.

    ``distinct`` holds the distinct rows of the standardised data (copies
    would predict each other exactly), ``counts`` the distinct values of each
    of its columns.
    """
    n = distinct.shape[0]
    # a fixed random order, so that both stages and every call use the same rows
    order = np.random.default_rng(0).choice(n, min(n, DETERMINED_ROWS), replace=False)
    stages = [distinct[np.sort(order[:DETERMINED_FIRST_ROWS])], distinct[np.sort(order)]]
    if n <= DETERMINED_FIRST_ROWS:
        stages = stages[1:]
    z = list(blocks.get("z", ()))
    found, by_z = [], []
    for key, other in (("x", "y"), ("y", "x")):
        predictors = list(blocks[other]) + z
        p = len(predictors)
        if p > DETERMINED_PREDICTORS or n <= 4 * (1 + p + p * (p + 1) // 2):
            continue
        for j, name in zip(blocks[key], labels[key], strict=True):
            spreads = _determined(stages, j, predictors)
            if spreads is None:
                continue
            if z and _determined(stages, j, z) is not None:
                by_z.append(f"{name!r} ({key})")
                continue
            found.append(
                f"{key} column {name!r} is a smooth function of {other}{' and z' if z else ''}: "
                "a local quadratic fit on each row's nearest neighbours predicts it to within "
                f"{spreads[0]:.1e} of its spread (median absolute deviation) in half the rows, "
                f"where one straight line leaves {spreads[1]:.2g}"
            )
    # a curve through the plane of one x and one y column; columns with many tied values
    # (an atom, a quantised scale) are left to the other checks, since rows on one value lie
    # on a line
    pair = [blocks["x"][0], blocks["y"][0]] if len(blocks["x"]) == len(blocks["y"]) == 1 else []
    untied = all(counts[j] >= CURVE_UNTIED * n for j in pair)
    if pair and not z and not found and untied and n > 4 * 3:
        spreads = _on_curve(stages, pair)
        if spreads is not None:
            found.append(
                f"the points (x {labels['x'][0]!r}, y {labels['y'][0]!r}) lie on a smooth curve "
                "that is a function of neither (such as a circle): a local quadratic fit along "
                "the curve through each row's nearest neighbours predicts the row to within "
                f"{spreads[0]:.1e} of the columns' spread (median absolute deviation) in half "
                f"the rows, where one straight line leaves {spreads[1]:.2g}"
            )
    if found:
        given, mi = (" given z", "CMI") if z else ("", "MI")
        raise ValueError(
            f"x and y are (near-)deterministically related{given}: {'; '.join(found)}. Their {mi} "
            "is unbounded: infinite for an exact function, and for noise this small above about "
            f"ln(1 / {DETERMINED_SPREAD:g}) = {np.log(1 / DETERMINED_SPREAD):.1f} nat, along a "
            "curve thinner than a mixture of a few Gaussian components can follow, so a finite "
            "estimate would be set by the number of components, not by the data. If the "
            f"relation is exact, report it as such (the {mi} is infinite); if the variables are "
            "measured, add their measurement noise (e.g. y + rng.normal(0, sigma, n), sigma the "
            "instrument's resolution); if a column was computed from the others, drop it."
        )
    if by_z:
        raise ValueError(
            f"Column(s) {', '.join(by_z)} are smooth functions of z alone: a local quadratic fit "
            "on each row's nearest neighbours in z predicts each to within "
            f"{DETERMINED_SPREAD:g} of its spread (median absolute deviation) in half the rows. "
            "Given z such a column is constant, so "
            "I(x; y | z) is the same without it (0 if it is all of x or all of y), and the "
            "conditional density a mixture would fit is degenerate: drop it."
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


def isolated_outliers(column: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
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
    order : numpy.ndarray of int, shape (n,), optional
        An order of ``column`` (`gmmmi._rows.column_orders`), when the caller
        has it: the median and the tails are read from it (the same rows).

    Returns
    -------
    numpy.ndarray of int64
        Sorted row indices of the outliers (empty if none).
    """
    n = column.size
    if order is None:
        centre = np.median(column)
    else:  # what numpy.median gives: the middle value, or the mean of the middle two
        middle = column[order[(n - 1) // 2 : n // 2 + 1]]
        centre = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
    spread = _MAD_TO_SD * np.median(np.abs(column - centre))
    if not spread > 0:
        return np.zeros(0, dtype=np.int64)
    reach = min(max(1, int(OUTLIER_MAX_FRACTION * n)), n - 1)
    flagged = []
    for side, signed in enumerate((column, -column)):
        # the reach + 1 largest values, in increasing order: the inner one and the candidates
        if order is not None:
            ranked = order[n - reach - 1 :] if side == 0 else order[reach::-1]
        else:
            top = np.argpartition(signed, n - reach - 1)[n - reach - 1 :]
            ranked = top[np.argsort(signed[top], kind="stable")]
        distance = np.abs(column[ranked] - centre)
        # gap between the value at position i and the next one out, at i + 1
        gaps = np.diff(distance)
        wide = (gaps > OUTLIER_GAP * spread) & (gaps > OUTLIER_GAP_SHARE * distance[1:])
        if wide.any():
            flagged.append(ranked[np.flatnonzero(wide)[0] + 1 :])
    return np.sort(np.concatenate(flagged)) if flagged else np.zeros(0, dtype=np.int64)


def warn_outliers(
    Xs: np.ndarray,
    shift: np.ndarray,
    scale: np.ndarray,
    names: list,
    fitted: np.ndarray | None = None,
    orders: tuple | None = None,
) -> bool:
    """Warn about rows that `isolated_outliers` flags in some column of the fitted data.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        Standardised data; data = ``Xs * scale + shift`` (the values shown).
    shift, scale : numpy.ndarray, shape (d,)
    names : list of str
        Column names.
    fitted : numpy.ndarray, shape (n, d), optional
        The data the mixture is fitted to, if not ``Xs`` (the margins' maps
        applied, standardised): rows are flagged, and their distance given,
        in it.
    orders : tuple of numpy.ndarray, optional
        An order of every column of the fitted data (`gmmmi._rows.column_orders`),
        when the caller has them.

    Returns
    -------
    bool
        Whether some row was flagged (and warned about).
    """
    fitted = Xs if fitted is None else fitted
    found = {
        j: isolated_outliers(fitted[:, j], None if orders is None else orders[j])
        for j in range(fitted.shape[1])
    }
    found = {j: rows for j, rows in found.items() if rows.size}
    if not found:
        return False
    rows = np.unique(np.concatenate(list(found.values())))
    parts = []
    for j, flagged in found.items():
        centre = np.median(fitted[:, j])
        spread = _MAD_TO_SD * np.median(np.abs(fitted[:, j] - centre))
        shown = ", ".join(
            f"row {i}: {Xs[i, j] * scale[j] + shift[j]:.6g}, "
            f"{abs(fitted[i, j] - centre) / spread:.3g} robust sd from the median"
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
    return True


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


def warn_few_rows(n: int, blocks: dict, sd: float, corrected: bool) -> None:
    """Warn when the plug-in bias `independence_floor` dominates an estimate it was not taken from.

    Called by `gmmmi.estimate` after the fit. A single Gaussian's bias is
    removed by ``bias_correction`` (``corrected``: no warning); otherwise
    (several components, or the correction turned off) the bias is compared
    with the estimate's sd (under the null it is sqrt(dx dy / 2) sd, so wide
    blocks are off by several sd at any n), or, for a single fit without an
    sd, with `SAMPLE_SIZE_FLOOR`.

    Parameters
    ----------
    n : int
        Rows.
    blocks : dict
        Column indices of ``"x"``, ``"y"`` (and ``"z"``).
    sd : float
        The estimate's sd in nats (NaN for a single fit).
    corrected : bool
        Whether the estimate had the bias subtracted.
    """
    if corrected:
        return
    dx, dy, dz = (len(blocks.get(key, ())) for key in ("x", "y", "z"))
    floor = independence_floor(n, dx, dy, dz)
    given = f" given {dz} z column(s)" if dz else ""
    head = (
        f"Few rows for the number of columns: with {n} rows, {dx} x and {dy} y column(s){given}, "
        f"one Gaussian fitted to independent blocks gives an MI of {floor:.3g} nat on average "
        "(a mixture of several components gives more), "
    )
    tail = (
        " or fewer columns (e.g. a few principal components per block), and compare with the "
        "estimate on rows of y shuffled against x."
    )
    if math.isfinite(sd) and sd > 0:
        if floor <= sd:
            return
        # the bias falls like 1/n, the sd like 1/sqrt(n)
        enough = math.ceil(n * (floor / sd) ** 2)
        _warn(
            head + f"more than the estimate's sd ({sd:.3g} nat), and only a single Gaussian's "
            "bias is removed (bias_correction); the estimate is dominated by this bias. Use more "
            f"rows (about {enough} bring it below the sd)" + tail
        )
        return
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
    _warn(
        head + f"above the {SAMPLE_SIZE_FLOOR:g} nat this check allows; the estimate is "
        f"dominated by this bias. Use more rows (about {enough} bring it below "
        f"{SAMPLE_SIZE_FLOOR:g} nat)" + tail
    )


def _warn(message: str) -> None:
    """`DataWarning` at the first caller outside the gmmmi package (the user's line)."""
    warnings.warn(message, DataWarning, stacklevel=user_stacklevel())
