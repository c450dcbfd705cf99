"""Folds of the cross-validation, and the groups of copied rows that must share a fold.

`make_folds` splits rows (or groups of exact copies, `copy_groups`) at random into
near-equal folds; `contiguous_folds` keeps rows in time order, for series.
"""

from __future__ import annotations

import numpy as np


def contiguous_folds(n_samples: int, n_folds: int) -> np.ndarray:
    """Fold index of every row for rows in time order: ``n_folds`` consecutive segments.

    With random folds, the neighbours of a validation row (near copies of it in
    an autocorrelated series) sit in the training part, and the validation
    score rewards extra components; segments keep that leak to their edges.

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples,)
    """
    return np.arange(n_samples, dtype=np.int64) * n_folds // n_samples


def make_folds(
    n_samples: int, n_folds: int, rng: np.random.Generator, groups: np.ndarray | None = None
) -> np.ndarray:
    """Fold index (0 .. n_folds-1) of every sample: a random split into near-equal folds.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_folds : int
        Number of folds.
    rng : numpy.random.Generator
        Source of the split (one ``permutation`` call).
    groups : numpy.ndarray of int64, shape (n_samples,), optional
        Group of every row, numbered 0, 1, ... in order of first appearance
        (as `copy_groups` gives): the groups, not the rows, are split into
        near-equal folds, so all rows of a group share a fold. A copy of a
        row in both the training and the validation part would reward
        components that fit single rows. With every group of one row (no
        copies), the split is the same as without ``groups``.

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples,)
    """
    n_groups = n_samples if groups is None else int(groups.max(initial=-1)) + 1
    folds = np.empty(n_groups, dtype=np.int64)
    folds[rng.permutation(n_groups)] = np.arange(n_groups) * n_folds // n_groups
    return folds if groups is None else folds[groups]


def copy_groups(X: np.ndarray) -> np.ndarray:
    """Group of every row of ``X``: exact copies of a row share one group.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Groups numbered 0, 1, ... in order of their first row, so that data
        without copies give ``arange(n)``.
    """
    n = X.shape[0]
    # rows can only be copies if every column has ties; continuous data stop at the first
    if n == 0 or any(np.unique(column).size == n for column in X.T):
        return np.arange(n, dtype=np.int64)
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]
