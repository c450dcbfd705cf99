"""Coercion of user input and every input error message of gmmmi.

Messages say what was expected, what was got, and what to do.
"""

from __future__ import annotations

import difflib
import numbers
from dataclasses import dataclass

import numpy as np


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), else raise ValueError."""
    if value not in choices:
        raise ValueError(
            f"Unknown {name} {value!r}; valid values are {', '.join(map(repr, choices))}."
        )
    return value


def check_int(name: str, value, minimum: int | None = None) -> int:
    """Return ``value`` as int; raise for a non-integer or a value below ``minimum``.

    Floats with an integral value (``1e5``) are accepted, as in the original
    gmm-mi (``MC_samples=1e5``); bools are not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__}).")
    if not float(value).is_integer():
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return value


def check_float(name: str, value, minimum: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite float no smaller than ``minimum``.

    With ``strict=True`` the value must be strictly greater than ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        bound = "greater than" if strict else "at least"
        raise ValueError(f"{name} must be {bound} {minimum}; got {value}.")
    return value


# ---------------------------------------------------------------------------
# Options


def validate_options(options: dict, allowed: dict) -> dict:
    """Merge user options into their defaults, rejecting unknown names.

    Parameters
    ----------
    options : dict
        Options given by the user (name -> value).
    allowed : dict
        Every accepted option name with its default value.

    Returns
    -------
    dict
        A copy of ``allowed`` updated with ``options``.

    Raises
    ------
    TypeError
        For a name not in ``allowed``; the message lists the valid names
        (sorted) and suggests the closest one.
    """
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = sorted(allowed)
        hints = [
            f"{name!r} (did you mean {match[0]!r}?)" if match else repr(name)
            for name in unknown
            for match in [difflib.get_close_matches(name, valid, n=1)]
        ]
        noun = "option" if len(unknown) == 1 else "options"
        raise TypeError(f"Unknown {noun} {', '.join(hints)}; valid options are {', '.join(valid)}.")
    return {**allowed, **options}


# ---------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class ValidatedData:
    """Data checked and coerced by `validate_data`.

    Attributes
    ----------
    X : ndarray, shape (n, d)
        float64, C-contiguous, in data units. Columns: the x block, then the
        y block, then the z block.
    blocks : dict of str to list of int
        Column indices into ``X`` per block: ``"x"``, ``"y"`` (absent when
        ``discrete_y``), ``"z"`` (only when conditional).
    labels : dict of str to list of str
        Column names per block (DataFrame/Series names, else ``"x0"``,
        ``"y0"``, ``"z0"``...; ``"X1"``, ``"X2"``, ``"Z1"``... for the
        single-array form). With ``discrete_y``, ``labels["y"]`` holds the
        label vector's name although ``y`` is not a column of ``X``.
    categories : ndarray of int64, shape (n,) or None
        With ``discrete_y``: the category code of each sample, 0..C-1.
    category_values : list or None
        With ``discrete_y``: the original label values, in code order.
    """

    X: np.ndarray
    blocks: dict[str, list[int]]
    labels: dict[str, list[str]]
    categories: np.ndarray | None = None
    category_values: list | None = None


def validate_data(
    x, y=None, z=None, *, discrete_y=False, kl=False, min_category_size=None
) -> ValidatedData:
    """Check and coerce the data of an estimate.

    Parameters
    ----------
    x : array_like or DataFrame or Series, shape (n,) or (n, dx)
        Samples of the first variable. Given alone, ``x`` of shape (n, 2)
        means the MI between its two columns, and ``x`` of shape (n, 2 + k)
        the conditional MI I(X1; X2 | X3..X(2+k)) (the original gmm-mi's
        conventions).
    y : array_like or DataFrame or Series, shape (n,) or (n, dy), optional
        Samples of the second variable; with ``discrete_y`` a vector of
        hashable labels (strings, integers, tuples...).
    z : array_like or DataFrame or Series, shape (n,) or (n, dz), optional
        Samples of the conditioning variable (conditional MI). Needs ``y``.
    discrete_y : bool, default=False
        Treat ``y`` as category labels.
    kl : bool, default=False
        The KL divergence between the marginals of x and y is wanted; they
        must then have the same dimension.
    min_category_size : int or None, default None
        With ``discrete_y``: pool the categories with fewer rows (see
        `pool_categories`). None: keep every category as it is.

    Returns
    -------
    ValidatedData

    Raises
    ------
    TypeError
        For non-numeric continuous data (strings, objects, complex, dates).
    ValueError
        For wrong shapes, ragged sequences, empty input, NaN, inf or masked
        entries, missing labels (None, NaN, ``pandas.NA``, NaT), mismatched
        sample counts, pandas inputs with different indexes (rows are paired
        by position and never realigned silently), too few samples, a single
        category, or KL between blocks of different dimension.
    """
    if discrete_y:
        return _validate_discrete(x, y, z, kl=kl, min_category_size=min_category_size)
    if min_category_size is not None:
        raise ValueError(
            "min_category_size pools rare category labels, so it needs discrete_y=True; drop it "
            "or pass discrete_y=True."
        )
    if y is None:
        if z is not None:
            raise ValueError(
                "z was given without y; pass both x and y (the variables whose MI is "
                "wanted) together with z."
            )
        return _validate_single(x)
    arrays = {"x": _as_samples("x", x), "y": _as_samples("y", y)}
    if z is not None:
        arrays["z"] = _as_samples("z", z)
    _check_lengths({name: values for name, (values, _) in arrays.items()})
    _check_same_index({"x": x, "y": y, "z": z})
    data = _assemble(arrays)
    _check_enough_samples(data.X)
    if kl:
        _check_kl(len(data.blocks["x"]), len(data.blocks["y"]))
    return data


def _validate_single(x) -> ValidatedData:
    """The single-array form: (n, 2) -> MI, (n, 2 + k) -> conditional MI.

    Its x and y blocks are one column each, so any KL request is valid.
    """
    values, names = _as_samples("x", x)
    n, d = values.shape
    if d < 2:
        raise ValueError(
            "MI needs two variables; got only x with 1 column and no y. Pass y, or an x "
            "of shape (n, 2) whose columns are the two variables."
        )
    blocks = {"x": [0], "y": [1]}
    default = ["X1", "X2"] + [f"Z{i}" for i in range(1, d - 1)]
    names = names or default
    labels = {"x": names[:1], "y": names[1:2]}
    if d > 2:
        blocks["z"] = list(range(2, d))
        labels["z"] = names[2:]
    _check_enough_samples(values)
    return ValidatedData(X=values, blocks=blocks, labels=labels)


def _validate_discrete(x, y, z, *, kl: bool, min_category_size=None) -> ValidatedData:
    """Continuous x, category labels y."""
    if y is None:
        raise ValueError("discrete_y=True needs y, the vector of category labels; got y=None.")
    if z is not None:
        raise ValueError(
            "Conditional MI with discrete_y=True is not supported; got z. Drop z, or "
            "estimate I(x; y | z) with continuous y."
        )
    if kl:
        raise ValueError(
            "kl=True compares the marginals of two continuous variables; it cannot be "
            "combined with discrete_y=True."
        )
    values, names = _as_samples("x", x)
    labels_y, y_name = _as_labels(y)
    _check_lengths({"x": values, "y": labels_y})
    _check_same_index({"x": x, "y": y})
    categories, category_values = _encode(labels_y)
    if min_category_size is not None:
        min_size = check_int("min_category_size", min_category_size, minimum=1)
        categories, category_values = pool_categories(categories, category_values, min_size)
    _check_enough_samples(values)
    dx = values.shape[1]
    return ValidatedData(
        X=values,
        blocks={"x": list(range(dx))},
        labels={"x": names or [f"x{i}" for i in range(dx)], "y": [y_name or "y0"]},
        categories=categories,
        category_values=category_values,
    )


def _assemble(arrays: dict) -> ValidatedData:
    """Stack blocks column-wise into one array with block indices and labels."""
    blocks, labels, start = {}, {}, 0
    for name, (values, names) in arrays.items():
        d = values.shape[1]
        blocks[name] = list(range(start, start + d))
        labels[name] = names or [f"{name}{i}" for i in range(d)]
        start += d
    X = np.ascontiguousarray(np.hstack([values for values, _ in arrays.values()]))
    return ValidatedData(X=X, blocks=blocks, labels=labels)


def _as_samples(name: str, value) -> tuple[np.ndarray, list[str] | None]:
    """Coerce one continuous variable to a finite float64 (n, d) array.

    Returns the array and its column names (None when it had none).
    """
    if value is None:
        raise TypeError(f"{name} must be an array of samples; got None.")
    if _is_dataframe(value):
        _check_numeric_frame(name, value)
        names = [str(c) for c in value.columns]
        array = value.to_numpy(dtype=np.float64, na_value=np.nan)
    elif _is_series(value):
        frame = value.to_frame()
        _check_numeric_frame(name, frame)
        names = None if value.name is None else [str(value.name)]
        array = value.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        names = None
        array = _to_float_array(name, _unmasked(name, value))
    array = _as_2d(name, array)
    _check_finite(name, array)
    return np.ascontiguousarray(array, dtype=np.float64), names


def _unmasked(name: str, value):
    """The data of a masked array without masked entries; ValueError if any is masked.

    A masked entry is a missing value, refused like NaN: its stored number
    (often a fill value such as 1e20) is not data.
    """
    if not np.ma.isMaskedArray(value):
        return value
    mask = np.ma.getmaskarray(value)
    if mask.any():
        rows = np.flatnonzero(mask.reshape(mask.shape[0] if mask.ndim else 1, -1).any(axis=1))
        raise ValueError(
            f"{name} contains {_count(int(mask.sum()), 'masked value')} in "
            f"{_count(rows.size, 'row')}, the first in row {rows[0]}; gmmmi treats masked "
            "entries as missing values. Drop those rows (from every variable) or impute them "
            "before estimating."
        )
    return np.ma.getdata(value)


def _to_float_array(name: str, value) -> np.ndarray:
    """numpy conversion with messages for ragged and non-numeric input."""
    try:
        array = np.asarray(value)
    except ValueError as err:  # numpy >= 1.24 refuses ragged nested sequences
        raise ValueError(
            f"{name} must be a rectangular array of samples, shape (n,) or (n, d); "
            "got a ragged sequence. Give every sample the same number of values."
        ) from err
    if array.dtype.kind == "O" and all(_is_real(v) for v in array.flat):
        return array.astype(np.float64)
    _check_numeric_dtype(name, array.dtype, array)
    return array.astype(np.float64, copy=False)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real)


def _check_numeric_dtype(name: str, dtype: np.dtype, values) -> None:
    """TypeError unless ``dtype`` is boolean, integer or real floating."""
    if dtype.kind in "biuf":
        return
    flat = np.asarray(values, dtype=object).ravel()
    bad = [v for v in flat[:1_000_000] if not _is_real(v)][:1]
    got = f"{bad[0]!r} ({type(bad[0]).__name__})" if bad else f"dtype {dtype}"
    raise TypeError(
        f"{name} must hold real numbers (float, int or bool); got {got}. Convert it to "
        "numbers first; for category labels use y with discrete_y=True."
    )


def _check_numeric_frame(name: str, frame) -> None:
    """TypeError naming the first non-numeric column of a DataFrame."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    for column, dtype in frame.dtypes.items():
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)) or str(dtype).startswith(
            "complex"
        ):
            raise TypeError(
                f"{name} must hold real numbers (float, int or bool); column {column!r} has "
                f"dtype {dtype}. Convert it to numbers or drop it; for category labels use "
                "y with discrete_y=True."
            )


def _as_2d(name: str, array: np.ndarray) -> np.ndarray:
    """(n,) -> (n, 1); reject scalars, >2-D arrays and empty input."""
    if array.ndim == 0:
        raise ValueError(
            f"{name} must be an array of samples, shape (n,) or (n, d); got a scalar "
            f"({array.item()!r})."
        )
    if array.ndim > 2:
        raise ValueError(
            f"{name} must be an array of samples, shape (n,) or (n, d); got a {array.ndim}-D "
            f"array of shape {array.shape}. Reshape it, e.g. {name}.reshape(n, -1)."
        )
    if array.ndim == 1:
        array = array[:, None]
    if array.size == 0:
        raise ValueError(
            f"{name} is empty: shape {array.shape}; need at least one column and enough "
            "samples (rows)."
        )
    return array


def _check_finite(name: str, array: np.ndarray) -> None:
    """ValueError for NaN or inf, with how many and the first row."""
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{name} contains {_count(int(bad.sum()), 'non-finite value')} (NaN or inf) in "
            f"{_count(rows.size, 'row')}, the first in row {rows[0]}. Drop those rows (from every "
            "variable) or impute them before estimating."
        )


def _count(n: int, noun: str) -> str:
    """``"1 row"``, ``"3 rows"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _check_lengths(arrays: dict) -> None:
    """ValueError unless every variable has as many samples as x."""
    n = {name: len(values) for name, values in arrays.items()}
    for name, count in n.items():
        if count != n["x"]:
            raise ValueError(
                f"x and {name} must have the same number of samples; got {n['x']} and {count}."
            )


def _check_same_index(variables: dict) -> None:
    """ValueError when two pandas variables carry different indexes.

    Rows are paired by position. Two pandas objects with different indexes
    would pair rows that pandas itself would not (e.g. ``df.b.sort_values()``
    against ``df.a``), so they are refused rather than silently misaligned or
    silently realigned; numpy input, or pandas mixed with numpy, is paired by
    position.
    """
    indexed = {name: v.index for name, v in variables.items() if _is_pandas(v)}
    if len(indexed) < 2:
        return
    (first, index), *others = indexed.items()
    for name, other in others:
        if index.equals(other):
            continue
        same_labels = len(index) == len(other) and set(index) == set(other)
        how = "the same labels in a different order" if same_labels else "different labels"
        raise ValueError(
            f"{first} and {name} are pandas objects whose indexes differ ({how}); gmmmi pairs "
            "rows by position, which would pair different rows. Align them first, e.g. "
            f"{name} = {name}.reindex({first}.index), or pass {name}.to_numpy() to pair rows by "
            "position on purpose."
        )


def _check_enough_samples(X: np.ndarray) -> None:
    """ValueError unless a d-dimensional covariance can be estimated."""
    n, d = X.shape
    need = max(2, d + 1)
    if n < need:
        raise ValueError(
            f"Too few samples: a covariance of {d} variables needs at least {need} samples; "
            f"got {n}. Provide more samples or fewer columns."
        )


def _check_kl(dx: int, dy: int) -> None:
    if dx != dy:
        raise ValueError(
            "kl=True compares the marginal densities of x and y, so they must have the same "
            f"dimension; got x with {_count(dx, 'column')} and y with {dy}."
        )


# ---------------------------------------------------------------------------
# Category labels


def _as_labels(y) -> tuple[list, str | None]:
    """A label vector as a list of hashable values, and its name if any."""
    if _is_dataframe(y):
        if y.shape[1] != 1:
            raise ValueError(
                "With discrete_y=True, y must be one vector of labels; got a DataFrame with "
                f"{y.shape[1]} columns. Pass one column, e.g. df['label']."
            )
        return y.iloc[:, 0].tolist(), str(y.columns[0])
    if _is_series(y):
        return y.tolist(), None if y.name is None else str(y.name)
    if isinstance(y, np.ndarray):
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                "With discrete_y=True, y must be a 1-D vector of labels; got an array of "
                f"shape {y.shape}."
            )
        return y.tolist(), None
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise TypeError(
            "With discrete_y=True, y must be a sequence of labels (list, array, Series); "
            f"got {type(y).__name__}."
        )
    return list(y), None


def _encode(labels: list) -> tuple[np.ndarray, list]:
    """Integer codes 0..C-1 and the distinct label values (sorted when sortable)."""
    _check_labels(labels)
    distinct = list(dict.fromkeys(labels))
    try:
        distinct = sorted(distinct)
    except TypeError:
        pass  # mixed types: keep the order of first appearance
    if len(distinct) < 2:
        raise ValueError(
            f"y has a single category ({distinct[0]!r}); MI with a constant is 0. Need at "
            "least 2 categories."
        )
    code = {value: i for i, value in enumerate(distinct)}
    return np.array([code[v] for v in labels], dtype=np.int64), distinct


def pool_categories(codes: np.ndarray, values: list, min_size: int) -> tuple[np.ndarray, list]:
    """Merge the categories with fewer than ``min_size`` rows.

    Numbers (e.g. spike counts) are ordered, so rare values are merged with
    their neighbours: walking up from the smallest value, values join one
    group until it holds ``min_size`` rows; a last group that stays too small
    joins the one below it. A group of several values is labelled
    ``"lo-hi"`` (e.g. ``"5-7"``). Other labels have no order: the rare ones
    are pooled into one category ``"other"``, which takes in the smallest
    common categories while it is still too small.

    Parameters
    ----------
    codes : numpy.ndarray of int64, shape (n,)
        Category codes 0..C-1.
    values : list, length C
        The label of each code (sorted for numbers).
    min_size : int
        Fewest rows a category may have.

    Returns
    -------
    codes : numpy.ndarray of int64, shape (n,)
        New codes 0..G-1.
    values : list, length G
        The label of each new code: the original value, or a string naming
        the pooled ones.

    Raises
    ------
    ValueError
        If fewer than two categories would remain.
    """
    counts = np.bincount(codes, minlength=len(values))
    if counts.min() >= min_size:
        return codes, values
    ordered = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    groups = _pool_ordered(counts, min_size) if ordered else _pool_unordered(counts, min_size)
    if len(groups) < 2:
        raise ValueError(
            f"min_category_size={min_size} pools all {len(values)} categories of y "
            f"({_count(int(counts.sum()), 'row')}) into one; MI with a constant is 0. Use a "
            "smaller min_category_size."
        )
    new_code = np.empty(len(values), dtype=np.int64)
    labels = []
    for g, members in enumerate(groups):
        new_code[members] = g
        if len(members) == 1:
            labels.append(values[members[0]])
        elif ordered:
            labels.append(f"{values[members[0]]}-{values[members[-1]]}")
        else:
            labels.append("other")
    return new_code[codes], labels


def _pool_ordered(counts: np.ndarray, min_size: int) -> list[list[int]]:
    groups, current, size = [], [], 0
    for code, count in enumerate(counts):
        current.append(code)
        size += int(count)
        if size >= min_size:
            groups.append(current)
            current, size = [], 0
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return groups


def _pool_unordered(counts: np.ndarray, min_size: int) -> list[list[int]]:
    order = [int(c) for c in np.argsort(counts, kind="stable")]  # smallest first
    other = [c for c in order if counts[c] < min_size]
    common = [c for c in order if counts[c] >= min_size]
    while common and counts[other].sum() < min_size:
        other.append(common.pop(0))
    return [[c] for c in sorted(common)] + [sorted(other)]


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


def _check_labels(labels: list) -> None:
    """Labels must be hashable and not missing (see `_is_missing_label`)."""
    for row, value in enumerate(labels):
        if _is_missing_label(value):
            missing = sum(map(_is_missing_label, labels))
            raise ValueError(
                f"y contains {_count(missing, 'missing label')} (None, NaN, pd.NA, NaT or "
                f"masked), the first in row {row}. Drop those rows or give them a category."
            )
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"Category labels must be hashable (str, int, tuple...); got "
                f"{type(value).__name__} in row {row}."
            ) from None


def _is_missing_label(value) -> bool:
    """True for None (also a masked entry), NaN, ``pandas.NA`` and NaT.

    NaN and NaT are the values not equal to themselves; ``pandas.NA``
    compares to nothing, so it is recognised by its type.
    """
    if value is None or type(value).__name__ == "NAType":
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # e.g. an array-valued comparison
        return False


# ---------------------------------------------------------------------------
# pandas duck-typing (pandas is never imported unless the user passed pandas)


def _is_pandas(value) -> bool:
    return _is_dataframe(value) or _is_series(value)


def _is_dataframe(value) -> bool:
    return hasattr(value, "columns") and hasattr(value, "to_numpy") and hasattr(value, "iloc")


def _is_series(value) -> bool:
    return (
        hasattr(value, "to_numpy")
        and hasattr(value, "name")
        and hasattr(value, "iloc")
        and getattr(value, "ndim", None) == 1
    )


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
    # divide by the largest magnitude first so that sums cannot overflow or underflow
    magnitude = np.abs(X).max(axis=0)
    unit = np.where(magnitude > 0, magnitude, 1.0)
    Xn = X / unit
    mean_n = Xn.mean(axis=0)
    centred = Xn - mean_n
    scale_n = np.sqrt(np.mean(centred**2, axis=0))
    constant = np.flatnonzero((scale_n == 0) | (np.ptp(X, axis=0) == 0))
    if constant.size:
        j = int(constant[0])
        name = repr(labels[j]) if labels is not None else str(j)
        raise ValueError(
            f"Column {name} is constant (every value is {float(X[0, j])!r}); MI with a constant is "
            "0 and its density has no spread to fit. Drop the column."
        )
    Xs = np.ascontiguousarray(centred / scale_n)
    return Xs, mean_n * unit, scale_n * unit


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
