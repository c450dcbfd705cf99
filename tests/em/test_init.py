"""k-means starts: k-means++'s squared distances in a fixed order, and one cluster's labels."""

import numpy as np
import pytest

from gmmmi._em.init import squared_distances


@pytest.mark.parametrize("d", [1, 2, 3, 5, 7, 8, 9, 12])
def test_squared_distances_are_the_sum_of_squares(d):
    # both sides of the switch to np.sum at 8 columns, on columns of very different scales
    g = np.random.default_rng(d)
    X = g.normal(size=(3000, d)) * g.lognormal(sigma=2.0, size=d)
    for center in (X[17], X[-1], np.zeros(d)):
        squares = (X - center) ** 2
        got = squared_distances(X, center)
        np.testing.assert_allclose(got, np.sum(squares, axis=1), rtol=d * 2.3e-16, atol=0)
        if d < 8:  # left to right, one IEEE addition at a time: the same bits on any CPU
            expected = squares[:, 0].copy()
            for j in range(1, d):
                expected = expected + squares[:, j]
            np.testing.assert_array_equal(got, expected)


def test_one_cluster_skips_lloyd_with_the_same_labels_and_draws():
    """K = 1: every row's label is 0, as Lloyd's gives, and the generator moves as k-means++'s."""
    from gmmmi._em.init import kmeans, kmeans_plusplus
    from gmmmi._kernels.kmeans import kmeans_lloyd

    X = np.random.default_rng(3).normal(size=(500, 2)) * [1.0, 1e6]
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    labels = kmeans(X, 1, a)
    lloyd, _, n_iter = kmeans_lloyd(X, kmeans_plusplus(X, 1, b), 300, 1e-4)
    assert n_iter >= 1
    np.testing.assert_array_equal(labels, lloyd)
    assert labels.dtype == np.int64 and a.bit_generator.state == b.bit_generator.state


@pytest.mark.parametrize(("n", "d"), [(1, 2), (7, 2), (500, 3), (3000, 2)])
def test_column_variances_add_each_column_from_first_row_to_last(n, d):
    from gmmmi._em.init import column_variances

    g = np.random.default_rng(n + d)
    X = g.normal(size=(n, d)) * g.uniform(0.1, 1e3, d) + 10.0 * g.normal(size=d)
    got = column_variances(X)
    for j in range(d):  # IEEE additions in row order, as Python adds floats
        total = 0.0
        for v in X[:, j].tolist():
            total += v
        mean = total / n
        squares = 0.0
        for v in (X[:, j] - mean).tolist():
            squares += v * v
        assert got[j] == squares / n
    np.testing.assert_allclose(got, np.var(X, axis=0), rtol=1e-12)
