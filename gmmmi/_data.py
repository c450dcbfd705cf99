"""Coercion of user data (arrays, DataFrames, masked arrays, labels) and its input errors.

`validate_data` turns x, y, z into one `ValidatedData`: float64 columns in
data units, blocks, labels and, with ``discrete_y``, category codes (pooled by
`pool_categories`). Messages say what was expected, what was got, and what to
do. What a fit needs of the rows (enough of them, no constant or dependent
column) and standardising are in `gmmmi._rows`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._checks import check_int


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


def column_indices(option: str, items, names: list[str]) -> list[int]:
    """The column indices that ``items`` (names or indices) select, in their order.

    Parameters
    ----------
    option : str
        The option's name, which starts every message (``"discrete"``, ``"dequantize"``).
    items : iterable of str or int
        Column names (from ``names``) or indices 0 to ``len(names) - 1``.
    names : list of str
        The names of the columns, in order.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        For an index out of range or a name that is not a column.
    """
    d = len(names)
    listed = ", ".join(map(repr, names))
    cols = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= item < d:
                raise ValueError(
                    f"{option}: column index {item} is out of range for {d} columns ({listed})."
                )
            cols.append(int(item))
        elif item in names:
            cols.append(names.index(item))
        else:
            raise ValueError(
                f"{option}: {item!r} is not a column; the columns are {listed} "
                f"(names, or indices 0 to {d - 1})."
            )
    return cols


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
