"""k-means++'s squared distances: numpy's numbers, bit for bit, by a faster route."""

import numpy as np
import pytest

from gmmmi._em.init import squared_distances


@pytest.mark.parametrize("d", [1, 2, 3, 5, 7, 8, 9, 12])
def test_squared_distances_equal_numpys_sum_bit_for_bit(d):
    # both sides of the switch to np.sum at 8 columns, on columns of very different scales
    g = np.random.default_rng(d)
    X = g.normal(size=(3000, d)) * g.lognormal(sigma=2.0, size=d)
    for center in (X[17], X[-1], np.zeros(d)):
        expected = np.sum((X - center) ** 2, axis=1)
        np.testing.assert_array_equal(squared_distances(X, center), expected)
