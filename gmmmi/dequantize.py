"""Counts made continuous: integer columns plus U(0, 1) noise (``estimate(dequantize=...)``).

For an integer column c and u ~ U(0, 1) independent of everything, c is
floor(c + u) and c + u has a density, so I(c + u; y | z) = I(c; y | z)
exactly, for any y and z: the MI of a count is that of a continuous
variable the mixture can fit, with no atom to put a narrow component on.
The noise is drawn from the estimate's generator, and only when a column is
dequantised, so every other estimate draws the same numbers as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ._data import column_indices


def dequantize_columns(data: Any, columns: Any, names: list, rng: np.random.Generator):
    """The validated data with U(0, 1) noise added to the named integer columns.

    Parameters
    ----------
    data : gmmmi._data.ValidatedData
    columns : None, True, or sequence of str or int
        None: nothing. True: every column whose values are all integers and
        that has more than ``gmmmi._screening.FEW_VALUES`` (10) distinct values. A
        sequence: those columns (names, or indices into the joint columns).
    names : list of str
        The joint columns' names.
    rng : numpy.random.Generator
        The estimate's generator (advanced only when a column is dequantised).

    Returns
    -------
    data : gmmmi._data.ValidatedData
        Unchanged when no column is dequantised.
    dequantized : list of str
        The names of the dequantised columns.

    Raises
    ------
    ValueError
        For an unknown column, or a listed column with non-integer values.
    """
    if columns is None or columns is False:
        return data, []
    X = data.X
    if columns is True:
        from ._screening import FEW_VALUES

        cols = [
            j
            for j in range(X.shape[1])
            if np.all(X[:, j] == np.round(X[:, j])) and np.unique(X[:, j]).size > FEW_VALUES
        ]
    else:
        cols = column_indices("dequantize", columns, names)
        for j in cols:
            if not np.all(X[:, j] == np.round(X[:, j])):
                raise ValueError(
                    f"dequantize: column {names[j]!r} has values that are not integers; adding "
                    "U(0, 1) noise keeps the MI only for integer (count) columns."
                )
    if not cols:
        return data, []
    X = X.copy()
    cols = sorted(set(cols))
    X[:, cols] += rng.uniform(0.0, 1.0, size=(X.shape[0], len(cols)))
    return replace(data, X=np.ascontiguousarray(X)), [names[j] for j in cols]
