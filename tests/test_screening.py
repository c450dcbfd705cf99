"""Screening before the fit: copies of rows, atoms, quantised columns, outliers, few rows."""

import re
import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi import DataWarning, EstimateMI
from gmmmi._em import select as _selection
from gmmmi._em.select import copy_groups, make_folds
from gmmmi._screening import (
    FEW_VALUES,
    OUTLIER_GAP,
    SAMPLE_SIZE_FLOOR,
    independence_floor,
    isolated_outliers,
)

RHO = 0.6
TRUTH = -0.5 * np.log(1 - RHO**2)


def _gaussian(n, seed):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], n)


def _data_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, DataWarning)]


# --------------------------------------------------------------------------- folds and copies
def test_copy_groups_number_groups_by_first_row():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_array_equal(copy_groups(X), [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(copy_groups(_gaussian(50, 0)), np.arange(50))


def test_folds_without_copies_are_the_plain_split():
    n = 101
    plain = make_folds(n, 3, np.random.default_rng(4))
    grouped = make_folds(n, 3, np.random.default_rng(4), np.arange(n))
    np.testing.assert_array_equal(plain, grouped)


def test_copies_of_a_row_share_a_fold():
    X = np.repeat(_gaussian(40, 1), 3, axis=0)[np.random.default_rng(2).permutation(120)]
    groups = copy_groups(X)
    folds = make_folds(X.shape[0], 2, np.random.default_rng(3), groups)
    for g in range(groups.max() + 1):
        assert np.unique(folds[groups == g]).size == 1
    # the groups, not the rows, are split into near-equal folds
    assert np.abs(np.bincount(folds) - 60).max() <= 3


def test_estimate_without_copies_is_unchanged_by_grouped_folds(monkeypatch):
    """Data without copies give the same draws as the split that ignores copies."""
    X = _gaussian(300, 5)
    opts = dict(random_state=3, n_bootstrap=5)
    new = gmmmi.estimate(X, **opts)
    monkeypatch.setattr(_selection, "copy_groups", lambda X: None)
    old = gmmmi.estimate(X, **opts)
    np.testing.assert_array_equal(new.draws["mi"], old.draws["mi"])
    assert new.value == old.value


def test_every_row_five_times_gives_the_distinct_rows_estimate():
    X = _gaussian(1000, 1)
    distinct = gmmmi.estimate(X, random_state=0, n_bootstrap=20)
    copies = np.repeat(X, 5, axis=0)
    expected = (
        "4000 of 5000 rows (80.0%) are exact copies of another row. Cross-validation keeps all "
        "copies of a row in one fold, so they do not reward extra components; the bootstrap "
        "resamples rows and counts every copy as an independent observation. If the copies are "
        "repeated records of one observation (a merge, an oversampling), the error bar is too "
        "small, by up to sqrt(5000 / 1000) = 2.2x: drop them first (numpy.unique(X, axis=0) or "
        "DataFrame.drop_duplicates())."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)):
        repeated = gmmmi.estimate(copies, random_state=0, n_bootstrap=20)
    assert abs(repeated.value - distinct.value) < distinct.sd
    assert abs(repeated.value - TRUTH) < 3 * distinct.sd


# --------------------------------------------------------------------------- atoms and rounding
def test_binary_columns_are_refused_with_the_fix():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(500, 2)).astype(float)
    expected = (
        "Column(s) 'X1' (2 values), 'X2' (2 values) take at most 10 distinct values: they are "
        "discrete (binary, counts, an ordinal scale), and a Gaussian mixture fitted to atoms can "
        "put a component of vanishing width on each one, so the estimated MI would grow without "
        "bound (it is at most the entropy of the discrete variable). If x is continuous and y is "
        "a category label, pass the labels as y with discrete_y=True. gmmmi estimates MI of "
        "continuous variables; for discrete x and y use the MI of their contingency table."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        gmmmi.estimate(X)
    with pytest.raises(ValueError, match=re.escape(expected)):
        EstimateMI().fit(X)


def test_a_discrete_conditioning_column_is_refused_with_the_split_by_category_fix():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, size=500).astype(float)
    x, y = z + rng.normal(size=500), z + rng.normal(size=500)
    fix = (
        "For a discrete z, I(x; y | z) = sum over c of p(z = c) I(x; y | z = c): estimate the "
        "MI on the rows of each value c and weight by its frequency. "
    )
    with pytest.raises(ValueError, match=r"^Column\(s\) 'z0' \(2 values\)") as e:
        gmmmi.estimate(x, y, z=z)
    assert fix in str(e.value)
    with pytest.raises(ValueError) as e:
        gmmmi.estimate(np.round(x), y)  # a discrete x is not a conditioning column
    assert "For a discrete z" not in str(e.value)


def test_discrete_x_with_discrete_y_is_refused_without_the_discrete_y_hint():
    rng = np.random.default_rng(0)
    x = rng.integers(0, FEW_VALUES, size=400).astype(float)
    with pytest.raises(ValueError, match=r"^Column\(s\) 'x0' \(10 values\) take at most 10 ") as e:
        gmmmi.estimate(x, rng.integers(0, 2, size=400), discrete_y=True)
    assert "discrete_y" not in str(e.value)


def test_coarsely_rounded_column_warns():
    X = _gaussian(1000, 2)
    X[:, 0] = np.round(X[:, 0] * 4) / 4
    n_values = np.unique(X[:, 0]).size
    expected = (
        f"Column(s) 'X1' ({n_values} distinct values in 1000 distinct rows, "
        f"{1 - n_values / 1000:.0%} tied) look coarsely rounded or quantised: at most 30 distinct "
        "values, and more than 50% of their values repeat another. A Gaussian mixture can fit "
        "narrow components to the repeated values, which inflates the MI estimate without "
        "widening its error bar. Add uniform noise of one rounding step to each such column "
        "(x + rng.uniform(-q/2, q/2, n) for values rounded to multiples of q), or, for a column "
        "that is a category label, pass it as y with discrete_y=True."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)):
        gmmmi.estimate(X, n_bootstrap=0, random_state=0)


def test_fine_rounding_and_float32_do_not_warn():
    X = _gaussian(5000, 3)
    for data in (np.round(X, 2), X.astype(np.float32)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            gmmmi.estimate(data, n_bootstrap=0, random_state=0, max_components=2)
        assert _data_warnings(record) == []


# --------------------------------------------------------------------------- outliers
def test_far_outlier_is_named_by_row_and_column():
    X = _gaussian(1000, 1)
    X[17, 0] = 100.0
    column = X[:, 0]
    mad = np.median(np.abs(column - np.median(column)))
    z = (100.0 - np.median(column)) / (1.482602218505602 * mad)
    expected = (
        "1 row(s) lie far from all the others, isolated by a gap of more than 10 robust standard "
        f"deviations: column 'X1' (row 17: 100, {z:.3g} robust sd from the median) (rows counted "
        "from 0). A Gaussian mixture stretches a component over, or spends one on, an isolated "
        "row, which changes the estimate (often toward 0) without widening its error bar, so the "
        "estimate is likely wrong. Check these rows for recording errors and correct or drop "
        "them; if the column is genuinely heavy-tailed, estimate on a transformed column (e.g. "
        "its logarithm or its ranks mapped to normal scores)."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)) as record:
        gmmmi.estimate(X, n_bootstrap=0, random_state=0)
    # at the user's line, through gmmmi.estimate and through EstimateMI
    assert [w.filename for w in record if w.category is DataWarning] == [__file__]
    with pytest.warns(DataWarning, match=re.escape(expected)) as record:
        estimator = EstimateMI(random_state=0).fit(X)
        # the same data again: no second warning
        estimator.estimate(mi_dist_params=gmmmi.MIDistParamHolder(n_bootstrap=2))
    assert [w.filename for w in record if w.category is DataWarning] == [__file__]


def test_outliers_beyond_one_gap_are_all_named_and_a_far_cluster_is_not():
    rng = np.random.default_rng(7)
    column = rng.standard_normal(2000)
    column[[5, 9]] = [-60.0, -61.0]
    np.testing.assert_array_equal(isolated_outliers(column), [5, 9])
    column[:100] = rng.normal(60.0, 1.0, 100)  # 5% of the rows: a cluster, not an outlier
    assert isolated_outliers(column).size == 0


@pytest.mark.parametrize("n", [30, 1000, 100_000])
def test_outlier_rule_stays_quiet_on_gaussian_data(n):
    rng = np.random.default_rng(n)
    reps = 3_000_000 // n if n < 100_000 else 5
    flagged = sum(isolated_outliers(rng.standard_normal(n)).size for _ in range(min(reps, 2000)))
    assert flagged == 0
    assert OUTLIER_GAP == 10.0


# --------------------------------------------------------------------------- few rows
def test_independence_floor_matches_simulated_gaussian_fits():
    """The Wishart expectation against the mean plug-in Gaussian MI / CMI of simulated data."""
    rng = np.random.default_rng(11)
    n, dx, dy, dz = 40, 3, 2, 2

    def plug_in(X):
        S = np.cov(X, rowvar=False)
        ld = lambda idx: np.linalg.slogdet(S[np.ix_(idx, idx)])[1] if idx else 0.0  # noqa: E731
        x, y, z = list(range(dx)), list(range(dx, dx + dy)), list(range(dx + dy, dx + dy + dz))
        return 0.5 * (ld(x + z) + ld(y + z) - ld(z) - ld(x + y + z))

    values = np.array([plug_in(rng.standard_normal((n, dx + dy + dz))) for _ in range(4000)])
    se = values.std() / np.sqrt(values.size)
    assert abs(values.mean() - independence_floor(n, dx, dy, dz)) < 4 * se
    assert independence_floor(10**6, 1, 1) == pytest.approx(1 / (2 * 10**6), rel=1e-3)


def test_few_rows_for_the_dimension_warns():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((120, 25))
    floor = independence_floor(120, 20, 5)
    assert floor > SAMPLE_SIZE_FLOOR
    expected = (
        "Few rows for the number of columns: with 120 rows, 20 x and 5 y column(s), one Gaussian "
        f"fitted to independent blocks gives an MI of {floor:.3g} nat on average (a mixture of "
        "several components gives more), above the 0.05 nat this check allows; the estimate and "
        "its error bar are dominated by this bias. Use more rows (about "
    )
    with pytest.warns(DataWarning, match=re.escape(expected) + r"(\d+) bring it below 0\.05 nat"):
        gmmmi.estimate(Z[:, :20], Z[:, 20:], n_bootstrap=0, random_state=0, max_components=1)


def test_ordinary_data_raise_no_data_warning():
    cases = [
        gmmmi.datasets.gaussian(0.6).sample(2000, 0),
        gmmmi.datasets.get("D3").sample(2000, 0),
        gmmmi.datasets.gaussian_cmi().sample(500, 0),
    ]
    for x, y, *z in cases:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            gmmmi.estimate(
                x, y, z=z[0] if z else None, n_bootstrap=0, random_state=0, max_components=3
            )
        assert _data_warnings(record) == []
