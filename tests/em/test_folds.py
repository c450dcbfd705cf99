"""Folds of the cross-validation (gmmmi._em.folds): balanced, random, copies of a row together."""

import numpy as np

from gmmmi._em.folds import copy_groups, make_folds

from helpers import gaussian_pair


def test_folds_are_balanced_and_random(rng):
    folds = make_folds(101, 3, rng)
    assert sorted(np.bincount(folds)) == [33, 34, 34]
    assert not np.array_equal(folds, make_folds(101, 3, rng))


def test_copy_groups_number_groups_by_first_row():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(copy_groups(X), [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(copy_groups(gaussian_pair(50, 0)), np.arange(50))


def test_folds_without_copies_are_the_plain_split():
    n = 101
    plain = make_folds(n, 3, np.random.default_rng(4))
    grouped = make_folds(n, 3, np.random.default_rng(4), np.arange(n))
    np.testing.assert_array_equal(plain, grouped)


def test_copies_of_a_row_share_a_fold():
    X = np.repeat(gaussian_pair(40, 1), 3, axis=0)[np.random.default_rng(2).permutation(120)]
    groups = copy_groups(X)
    folds = make_folds(X.shape[0], 2, np.random.default_rng(3), groups)
    for g in range(groups.max() + 1):
        assert np.unique(folds[groups == g]).size == 1
    # the groups, not the rows, are split into near-equal folds
    assert np.abs(np.bincount(folds) - 60).max() <= 3
