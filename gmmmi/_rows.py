"""What a fit needs of the rows, and standardising: the last checks before the fit.

`standardise` centres and scales every column (refusing a constant one);
`column_orders` sorts every column once for the checks that need an order;
`rows_needed`, `check_enough_rows` and `check_category_rows` refuse too few
rows (overall or per category), `check_not_degenerate` (near-)linearly
dependent columns. Messages say what was expected, what was got, and what to
do.
"""

from __future__ import annotations

import numpy as np

from ._data import _count

# ---------------------------------------------------------------------------
# Standardisation


def standardise(X, *, labels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale every column to zero mean and unit variance.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Finite float64 data (from `validate_data`), in data units.
    labels : sequence of str, optional
        Column names, used in the error message (default: column indices).

    Returns
    -------
    Xs : ndarray, shape (n, d)
        float64, C-contiguous, such that ``X = shift + scale * Xs``.
    shift : ndarray, shape (d,)
        Column means, in data units.
    scale : ndarray, shape (d,)
        Column standard deviations (ddof=0), in data units; all > 0.

    Raises
    ------
    ValueError
        For a constant column.
    """
    X = np.asarray(X, dtype=np.float64)
    # per column: numpy's max along axis 0 of an (n, 2) array is 40x slower (0.9 s at 10^7)
    top = np.array([column.max() for column in X.T])
    bottom = np.array([column.min() for column in X.T])
    # divide by the largest magnitude first so that sums cannot overflow or underflow
    magnitude = np.maximum(top, -bottom)
    unit = np.where(magnitude > 0, magnitude, 1.0)
    centred = X / unit  # centred in place below: one array of n x d, not four
    mean_n = centred.mean(axis=0)
    centred -= mean_n
    scale_n = np.sqrt(np.mean(np.square(centred), axis=0))
    constant = np.flatnonzero((scale_n == 0) | (top == bottom))
    if constant.size:
        j = int(constant[0])
        name = repr(labels[j]) if labels is not None else str(j)
        raise ValueError(
            f"Column {name} is constant (every value is {float(X[0, j])!r}); MI with a constant is "
            "0 and its density has no spread to fit. Drop the column."
        )
    centred /= scale_n
    return np.ascontiguousarray(centred), mean_n * unit, scale_n * unit


def column_orders(X: np.ndarray) -> tuple[np.ndarray, ...]:
    """``numpy.argsort`` of every column, sorted once for every check that needs an order.

    An order of ``X[:, j]`` also sorts any non-decreasing map of it, such as
    the standardised column (``(x - mean) / sd`` rounds monotonically), so one
    sort serves the point-mass plan (`gmmmi.mixed.plan_columns`), the screen's
    distinct values (`gmmmi._screening.screen`), the serial check's ranks
    (`gmmmi.serial.normal_scores`) and the outlier check
    (`gmmmi._screening.isolated_outliers`); each gives what its own sort gave
    (tied values may be ordered otherwise, which none of them depends on).

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)

    Returns
    -------
    tuple of numpy.ndarray of intp, shape (n,)
        One per column: ``X[order, j]`` is non-decreasing.
    """
    return tuple(np.argsort(column) for column in X.T)


def distinct_count(sorted_values: np.ndarray) -> int:
    """Distinct values of a non-decreasing array: ``numpy.unique(values).size``."""
    if sorted_values.size == 0:
        return 0
    return 1 + int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1]))


def sorted_unique(column: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.unique(column, return_counts=True)`` from an order of the column (`column_orders`).

    A column holding 0.0 is left to ``numpy.unique``, whose sort decides
    whether -0.0 or 0.0 stands for the two.
    """
    ordered = column[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    values = ordered[first]
    if (values == 0).any():
        return np.unique(column, return_counts=True)
    return values, np.diff(np.append(np.flatnonzero(first), ordered.size))


# ---------------------------------------------------------------------------
# Whether the data can be fitted

#: smallest ratio of the smallest to the largest eigenvalue of the standardised
#: data's correlation matrix that a float64 fit resolves: covariances are
#: summed and factorised with a relative rounding error of order eps = 2.2e-16
#: of their largest eigenvalue, so an eigenvalue 1000 eps above it still keeps
#: about three significant digits.
RESOLVABLE_EIGENVALUE_RATIO = 1e3 * np.finfo(np.float64).eps


def rows_needed(d: int, n_folds: int) -> int:
    """Fewest rows for a fit of ``d``-dimensional data with ``n_folds``-fold cross-validation.

    One full-covariance Gaussian in d dimensions needs d + 1 rows (fewer
    give a singular covariance). Each cross-validation fold, and with one
    fold the whole data, must hold twice that, 2 (d + 1): room for a
    bootstrap replica, which repeats rows and so keeps only about 63% of
    them distinct, and for a validation fold that scores more than a
    handful of points.

    Parameters
    ----------
    d : int
        Number of continuous columns fitted.
    n_folds : int
        Cross-validation folds (1 for a backend without cross-validation).

    Returns
    -------
    int
        ``n_folds * 2 * (d + 1)``.
    """
    return max(n_folds, 1) * 2 * (d + 1)


def check_enough_rows(
    n_rows: int, d: int, n_folds: int, *, category=None, category_code=None
) -> None:
    """ValueError with the justification of `rows_needed` when ``n_rows`` is below it.

    Parameters
    ----------
    n_rows : int
        Rows of the data, or of one category with ``discrete_y``.
    d : int
        Number of continuous columns fitted.
    n_folds : int
        Cross-validation folds (1 without cross-validation).
    category, category_code : optional
        The label value and code 0..C-1 of the category checked, if any.
    """
    need = rows_needed(d, n_folds)
    if n_rows >= need:
        return
    folds = f"{n_folds} folds x " if n_folds > 1 else ""
    where = "every cross-validation fold" if n_folds > 1 else "the data"
    prefix, what = "", f"{_count(n_rows, 'row')} of {d}-dimensional data"
    if category is not None:
        prefix = f"Category {category_code} could not be fitted: "
        what = f"category {category!r} has {_count(n_rows, 'row')} of {d}-dimensional x"
    raise ValueError(
        f"{prefix}Too few samples: {what}; need at least {need} = {folds}2 (d + 1), so that "
        f"{where} holds twice the d + 1 rows one full-covariance Gaussian needs. Provide more "
        f"samples{', fewer columns or a smaller n_folds' if n_folds > 1 else ' or fewer columns'}."
    )


def check_not_degenerate(Xs: np.ndarray, blocks: dict, labels: dict) -> None:
    """ValueError when the standardised columns are (near-)linearly dependent.

    The screen is on the correlation matrix R of the standardised data: if
    its smallest eigenvalue is below `RESOLVABLE_EIGENVALUE_RATIO` times
    its largest, some combination of columns is constant up to rounding
    (y = x + 1e-9 noise gives 5e-19). A float64 fit cannot resolve that
    direction: EM's covariances become numerically singular, and any MI
    returned would be set by rounding and ``reg_covar``, not by the data.
    When the combination involves both x and y, the relation between them
    is (near-)deterministic and their MI is unbounded.

    This sees linear relations only (after standardising); a non-linear
    deterministic relation such as y = x ** 2 passes the screen.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        Standardised data (from `standardise`).
    blocks : dict of str to list of int
        Column indices per block, as in `ValidatedData`.
    labels : dict of str to list of str
        Column names per block.
    """
    n, d = Xs.shape
    if d < 2:
        return
    eigval, eigvec = np.linalg.eigh(Xs.T @ Xs / n)
    smallest, largest = max(float(eigval[0]), 0.0), float(eigval[-1])
    if smallest > RESOLVABLE_EIGENVALUE_RATIO * largest:
        return
    loading = np.abs(eigvec[:, 0])
    involved = loading > 1e-3 * loading.max()
    names = {j: name for key in blocks for j, name in zip(blocks[key], labels[key], strict=True)}
    columns = ", ".join(repr(names[j]) for j in np.flatnonzero(involved))
    in_blocks = [key for key in blocks if involved[blocks[key]].any()]
    text = (
        f"Columns {columns} are (near-)linearly dependent: after standardising, one combination "
        f"of them has variance {smallest:.1e} against {largest:.3g} along the widest direction, "
        f"a ratio below the {RESOLVABLE_EIGENVALUE_RATIO:.1e} (1000 x float64 epsilon) that a "
        "float64 fit resolves. "
    )
    if "x" in in_blocks and "y" in in_blocks:
        text += (
            "x and y are (near-)deterministically related: their mutual information is "
            "unbounded (infinite for an exact relation, beyond what float64 resolves for a near "
            "one), so a finite estimate would be set by rounding, not by the data. Check for a "
            "duplicated or derived column (y computed from x)."
        )
    else:
        text += (
            f"The {' and '.join(in_blocks)} block(s) hold redundant columns: drop one of them "
            "(it carries no further information), since the fit needs a non-singular covariance."
        )
    raise ValueError(text)


def check_category_rows(codes: np.ndarray, values: list, d: int, n_folds: int) -> None:
    """ValueError naming every category with too few rows to fit (see `rows_needed`).

    Parameters
    ----------
    codes : numpy.ndarray of int64, shape (n,)
        Category codes 0..C-1.
    values : list, length C
        The label of each code.
    d : int
        Number of continuous columns of x.
    n_folds : int
        Cross-validation folds (1 without cross-validation).
    """
    counts = np.bincount(codes, minlength=len(values))
    need = rows_needed(d, n_folds)
    rare = [c for c, count in enumerate(counts) if count < need]
    if not rare:
        return
    try:
        first = rare[0]
        check_enough_rows(
            int(counts[first]), d, n_folds, category=values[first], category_code=first
        )
    except ValueError as err:
        named = ", ".join(f"{values[c]!r} ({_count(int(counts[c]), 'row')})" for c in rare)
        raise ValueError(
            f"{err} The categories with fewer than {need} rows are {named}. Pass "
            f"min_category_size={need} (or more) to pool them: neighbouring numbers such as "
            "counts are merged (e.g. '5-7'), other labels into one 'other' category. Or drop "
            "those rows, or treat y as continuous (see docs/trust.md)."
        ) from None
