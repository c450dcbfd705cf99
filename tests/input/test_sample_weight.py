"""estimate(..., sample_weight=...): the MI of the weighted law, and what refuses weights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import gmmmi


def _gaussian_mi(rho: float) -> float:
    return -0.5 * np.log(1.0 - rho**2)


def test_importance_weights_turn_one_gaussian_into_another():
    """Rows of a rho = 0.3 Gaussian, weighted by p_0.7 / p_0.3: the MI of rho = 0.7."""
    rng = np.random.default_rng(0)
    s1, s2 = [[1, 0.3], [0.3, 1]], [[1, 0.7], [0.7, 1]]
    X = rng.multivariate_normal([0, 0], s1, 3000)
    w = multivariate_normal(cov=s2).pdf(X) / multivariate_normal(cov=s1).pdf(X)
    res = gmmmi.estimate(X, sample_weight=w, random_state=0)
    assert abs(res.value - _gaussian_mi(0.7)) < 3 * res.sd
    assert res.value - _gaussian_mi(0.3) > 10 * res.sd  # not the unweighted law's MI
    assert res.meta["effective_n"] < 3000
    assert res.meta["transform"]["reason"].startswith("sample_weight= is given")


def test_zero_weights_remove_a_population():
    """Half the rows independent, half with rho = 0.8; weight 0 on the first half."""
    rng = np.random.default_rng(1)
    a = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], 1500)
    b = rng.normal(size=(1500, 2)) * 2.0 + 3.0
    order = rng.permutation(3000)  # rows in no particular order (not a time series)
    X = np.vstack([b, a])[order]
    w = np.r_[np.zeros(1500), np.ones(1500)][order]
    res = gmmmi.estimate(X, sample_weight=w, random_state=0, n_bootstrap=30)
    assert abs(res.value - _gaussian_mi(0.8)) < 3 * res.sd
    # conditional MI with weights, I(x; y | z) with the weights on all three columns
    z = rng.normal(size=3000)
    cmi = gmmmi.estimate(
        X[:, 0] + z, X[:, 1] + z, z=z, sample_weight=w, random_state=0, n_bootstrap=30
    )
    assert abs(cmi.value - _gaussian_mi(0.8)) < 3 * cmi.sd


def test_unit_weights_give_the_unweighted_answer():
    rng = np.random.default_rng(2)
    X = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 400)
    plain = gmmmi.estimate(X, random_state=0, transform="none", n_bootstrap=10)
    unit = gmmmi.estimate(X, sample_weight=np.full(400, 3.0), random_state=0, n_bootstrap=10)
    assert unit.value == plain.value
    np.testing.assert_array_equal(unit.draws["mi"], plain.draws["mi"])


@pytest.mark.parametrize(
    "weights, options, message",
    [
        (
            np.ones(99),
            {},
            "sample_weight must be a vector of one weight per row (100); got shape (99,).",
        ),
        (
            np.r_[np.ones(50), -1.0, np.ones(49)],
            {},
            "sample_weight must be non-negative; row 50 has weight -1.",
        ),
        (
            np.r_[np.nan, np.ones(99)],
            {},
            "sample_weight holds NaN or inf; every weight must be a finite number.",
        ),
        (
            np.zeros(100),
            {},
            "sample_weight is zero for every row; at least one weight must be positive.",
        ),
        (
            np.ones(100),
            {"reselect_components": True},
            "sample_weight cannot be used with reselect_components=True: the bootstrap replicas "
            "then choose K again by an unweighted search.",
        ),
        (
            np.ones(100),
            {"metric_method": "bic"},
            "sample_weight cannot be used with metric_method='aic'/'bic': the criteria count "
            "parameters against n rows, which weighted rows do not define; use "
            "metric_method='valid'.",
        ),
    ],
)
def test_bad_weights_and_options_that_refuse_them(weights, options, message):
    X = np.random.default_rng(3).normal(size=(100, 2))
    with pytest.raises(ValueError) as err:
        gmmmi.estimate(X, sample_weight=weights, random_state=0, **options)
    assert str(err.value) == message


def test_categories_pymc_and_independence_test_refuse_weights():
    rng = np.random.default_rng(4)
    x, labels = rng.normal(size=200), rng.integers(0, 2, 200)
    with pytest.raises(ValueError) as err:
        gmmmi.estimate(x, labels, discrete_y=True, sample_weight=np.ones(200))
    assert str(err.value) == (
        "sample_weight cannot be used with discrete_y=True: the class weights of an MI with a "
        "category are counts of rows (their bootstrap and posterior are those of counts), which "
        "weighted rows do not give."
    )
    with pytest.raises(ValueError) as err:  # a column of 3 values: split off by the chain rule
        gmmmi.estimate(x, rng.integers(0, 3, 200).astype(float), sample_weight=np.ones(200))
    assert str(err.value) == (
        "sample_weight cannot be used with discrete columns or point masses (discrete=): they are "
        "split off by the chain rule, whose cell probabilities are counts of rows; pass "
        "discrete=None to fit every column as continuous."
    )
    with pytest.raises(ValueError) as err:
        gmmmi.estimate(rng.normal(size=(200, 2)), backend="pymc", sample_weight=np.ones(200))
    assert str(err.value) == (
        "The 'pymc' backend cannot honour sample_weight (its likelihood has no weight per row); "
        "use backend='numba'."
    )
    with pytest.raises(ValueError) as err:
        gmmmi.independence_test(x, rng.normal(size=200), sample_weight=np.ones(200))
    assert str(err.value) == (
        "independence_test does not take sample_weight: permuting the rows of y moves them away "
        "from their weights, so the permuted copies are not draws of the weighted null."
    )
