"""Low counts as categories (discrete_y=True): rare values named, or pooled by min_category_size."""

import re

import numpy as np
import pytest

import gmmmi
from gmmmi._data import pool_categories
from gmmmi._estimate_options import check_estimate_options
from gmmmi.datasets import categorical_mi

FAST = {"n_inits": 1, "max_components": 3}


def spike_counts(rng, n):
    """Counts 0..3 with P = (0.45, 0.45, 0.07, 0.03); x | count=0 ~ N(0, 1), else N(2, 1).

    x depends on the count only through count > 0, so pooling counts 1, 2, 3
    in any way keeps all the information: I(x; pooled) = I(x; count > 0).
    """
    counts = rng.choice(4, size=n, p=[0.45, 0.45, 0.07, 0.03])
    return rng.normal(np.where(counts > 0, 2.0, 0.0), 1.0), counts


def test_rare_counts_are_named_in_the_error(rng):
    x = rng.normal(size=300)
    counts = np.zeros(300, dtype=int)
    counts[150:] = 1
    counts[:6] = 2  # 6 rows: too few for 2 folds x 2 (d + 1) = 8
    counts[6] = 7  # a count seen once
    message = (
        "Category 2 could not be fitted: Too few samples: category 2 has 6 rows of "
        "1-dimensional x; need at least 8 = 2 folds x 2 (d + 1), so that every cross-validation "
        "fold holds twice the d + 1 rows one full-covariance Gaussian needs. Provide more "
        "samples, fewer columns or a smaller n_folds. The categories with fewer than 8 rows are "
        "2 (6 rows), 7 (1 row). Pass min_category_size=8 (or more) to pool them"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        gmmmi.estimate(x, counts, discrete_y=True, **FAST)


def test_pooled_counts_keep_their_information(rng):
    x, counts = spike_counts(rng, 1000)
    result = gmmmi.estimate(
        x, counts, discrete_y=True, min_category_size=100, n_bootstrap=20, random_state=0, **FAST
    )
    assert result.meta["categories"] == ["0", "1", "2-3"]
    truth = categorical_mi((0.45, 0.55), (0.0, 2.0), (1.0, 1.0))
    assert abs(result.value - truth) < 3 * result.sd


def test_pooling_numbers_merges_neighbours():
    codes = np.repeat(np.arange(6), [50, 3, 40, 2, 2, 1])
    new, labels = pool_categories(codes, [0, 1, 2, 3, 4, 5], 4)
    assert labels == [0, "1-2", "3-5"]  # 5 alone (1 row) joins the group below
    assert np.bincount(new).tolist() == [50, 43, 5]
    new, labels = pool_categories(codes, [0, 1, 2, 3, 4, 5], 10)
    assert labels == [0, "1-5"] and np.bincount(new).tolist() == [50, 48]


def test_pooling_labels_gathers_the_rare_ones_into_other():
    codes = np.repeat(np.arange(4), [50, 3, 40, 4])
    new, labels = pool_categories(codes, ["a", "b", "c", "d"], 5)
    assert labels == ["a", "c", "other"] and np.bincount(new).tolist() == [50, 40, 7]
    new, labels = pool_categories(codes, ["a", "b", "c", "d"], 10)
    assert labels == ["a", "other"] and np.bincount(new).tolist() == [50, 47]


def test_pooling_everything_into_one_category_is_refused(rng):
    x, counts = spike_counts(rng, 100)
    with pytest.raises(ValueError, match="min_category_size=1000 pools all 4 categories of y"):
        gmmmi.estimate(x, counts, discrete_y=True, min_category_size=1000)


def test_min_category_size_needs_discrete_y(rng):
    with pytest.raises(ValueError, match="min_category_size pools rare category labels"):
        gmmmi.estimate(rng.normal(size=50), rng.normal(size=50), min_category_size=5)
    with pytest.raises(ValueError, match="min_category_size must be at least 1; got 0"):
        gmmmi.estimate(rng.normal(size=50), np.arange(50) % 2, discrete_y=True, min_category_size=0)
    check_estimate_options({"discrete_y": True, "min_category_size": 5})  # estimate_many accepts it
