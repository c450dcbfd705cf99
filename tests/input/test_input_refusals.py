"""Regression tests of issue 10's input items: each refusal on its exact message.

Misaligned pandas indexes, masked entries, missing labels, data at extreme
scales, (near-)deterministic columns, `EstimateMI`'s input path, the type of
``init`` and too few rows. The integrals at extreme scales are checked against
the same estimate on unscaled data, in units of its own bootstrap sd.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import gmmmi
from gmmmi import DataUnitsWarning, EstimateMI
from gmmmi._data import validate_data
from gmmmi._rows import rows_needed

FAST = {"n_bootstrap": 0, "n_inits": 1, "max_components": 3, "random_state": 0}


@pytest.fixture
def gaussian(rng):
    """500 rows of a bivariate Gaussian with correlation 0.6 (MI 0.223 nat)."""
    return rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], size=500)


# ---------------------------------------------------------------------------
# 2. pandas indexes


def test_pandas_inputs_with_reordered_index_are_refused(gaussian):
    frame = pd.DataFrame(gaussian, columns=["a", "b"])
    with pytest.raises(
        ValueError,
        match=r"^x and y are pandas objects whose indexes differ \(the same labels in a different "
        r"order\); gmmmi pairs rows by position, which would pair different rows\. Align them "
        r"first, e\.g\. y = y\.reindex\(x\.index\), or pass y\.to_numpy\(\) to pair rows by "
        r"position on purpose\.$",
    ):
        gmmmi.estimate(frame.a, frame.b.sort_values(), **FAST)


def test_pandas_inputs_with_other_labels_are_refused(gaussian):
    x = pd.Series(gaussian[:, 0])
    z = pd.DataFrame({"z": gaussian[:, 1]}, index=np.arange(500) + 7)
    with pytest.raises(ValueError, match=r"^x and z are pandas objects .*\(different labels\)"):
        validate_data(x, gaussian[:, 1], z)


def test_discrete_labels_are_checked_against_the_index_of_x(gaussian):
    x = pd.Series(gaussian[:, 0])
    labels = pd.Series(gaussian[:, 1] > 0).sample(frac=1.0, random_state=0)
    with pytest.raises(ValueError, match=r"^x and y are pandas objects whose indexes differ"):
        validate_data(x, labels, discrete_y=True)


def test_equal_indexes_and_pandas_with_numpy_are_paired_by_position(gaussian):
    frame = pd.DataFrame(gaussian, columns=["a", "b"], index=np.arange(500)[::-1])
    paired = validate_data(frame.a, frame.b).X
    mixed = validate_data(frame.a, gaussian[:, 1]).X
    np.testing.assert_array_equal(paired, gaussian)
    np.testing.assert_array_equal(mixed, gaussian)
    # realigned as the message suggests: the sorted column is put back in x's order
    shuffled = frame.b.sort_values()
    np.testing.assert_array_equal(validate_data(frame.a, shuffled.reindex(frame.index)).X, gaussian)


# ---------------------------------------------------------------------------
# 3. masked arrays


def _masked(values, rows):
    mask = np.zeros(values.shape, dtype=bool)
    mask[rows] = True if values.ndim == 1 else [False, True]
    return np.ma.array(values, mask=mask, fill_value=1e30)


MASKED_MESSAGE = (
    r"contains 2 masked values in 2 rows, the first in row 3; gmmmi treats masked entries as "
    r"missing values\. Drop those rows \(from every variable\) or impute them before estimating\.$"
)


def test_masked_entries_are_missing_values_in_estimate(gaussian):
    with pytest.raises(ValueError, match=r"^x " + MASKED_MESSAGE):
        gmmmi.estimate(_masked(gaussian, [3, 9]), **FAST)
    with pytest.raises(ValueError, match=r"^y " + MASKED_MESSAGE):
        gmmmi.estimate(gaussian[:, 0], _masked(gaussian[:, 1], [3, 9]), **FAST)


def test_masked_entries_are_missing_values_in_estimate_mi(gaussian):
    with pytest.raises(ValueError, match=r"^x " + MASKED_MESSAGE):
        EstimateMI().fit(_masked(gaussian, [3, 9]))


def test_masked_array_without_masked_entries_is_its_data(gaussian):
    unmasked = np.ma.array(gaussian, mask=np.zeros(gaussian.shape, dtype=bool))
    np.testing.assert_array_equal(validate_data(unmasked).X, gaussian)


def test_masked_labels_are_missing_labels(gaussian):
    labels = np.ma.array(gaussian[:, 1] > 0, mask=np.arange(500) == 4)
    with pytest.raises(
        ValueError, match=r"^y contains 1 missing label \(None, NaN, pd\.NA, NaT or masked\)"
    ):
        gmmmi.estimate(gaussian[:, 0], labels, discrete_y=True, **FAST)


# ---------------------------------------------------------------------------
# 4. missing labels


@pytest.mark.parametrize(
    "labels",
    [
        pd.Series(pd.array([1, None, 2, 1] * 25, dtype="Int64")),  # pd.NA
        pd.Series(pd.array(["a", None, "b", "a"] * 25, dtype="string")),  # pd.NA
        [pd.Timestamp(0), pd.NaT, pd.Timestamp(1), pd.Timestamp(0)] * 25,
        np.array(["2020-01-01", "NaT", "2021-01-01", "2020-01-01"] * 25, dtype="datetime64[D]"),
        ["a", None, "b", "a"] * 25,
        [1.0, np.nan, 2.0, 1.0] * 25,
        pd.Series(["a", np.nan, "b", "a"] * 25, dtype="category"),
    ],
    ids=["Int64-NA", "string-NA", "NaT", "datetime64-NaT", "None", "NaN", "category-NaN"],
)
def test_missing_labels_are_not_a_category(rng, labels):
    with pytest.raises(
        ValueError,
        match=r"^y contains 25 missing labels \(None, NaN, pd\.NA, NaT or masked\), the first in "
        r"row 1\. Drop those rows or give them a category\.$",
    ):
        gmmmi.estimate(rng.normal(size=100), labels, discrete_y=True, **FAST)


# ---------------------------------------------------------------------------
# 7. integrals in standardised units


@pytest.mark.parametrize("factor", [1e-300, 1e-160, 1e160, 1e300])
def test_mi_is_unchanged_at_extreme_scales_of_one_column(gaussian, factor):
    options = {"n_bootstrap": 5, "n_inits": 1, "random_state": 3}
    reference = gmmmi.estimate(gaussian, **options)
    scaled_data = gaussian * [1.0, factor] + [0.0, 7.0 * factor]
    with pytest.warns(
        DataUnitsWarning,
        match=r"^The fitted mixture cannot be stored in data units: the variances of column\(s\) "
        r"'X2' \(standard deviation [0-9.]+e[-+]\d+\) over- or underflow float64, so "
        r"result\.mixture and diagnostics\.reference_fit hold inf or 0 there\. The reported MI, "
        r"CMI and KL are computed in standardised units and are not affected",
    ):
        scaled = gmmmi.estimate(scaled_data, **options)
    assert reference.sd > 0
    # the standardised data differ by rounding only: equal to a millionth of an sd
    assert abs(scaled.value - reference.value) < 1e-6 * reference.sd
    assert abs(scaled.sd - reference.sd) < 1e-6 * reference.sd
    assert np.isfinite(scaled.draws["mi"]).all()


def test_cmi_is_unchanged_when_every_column_is_scaled_by_1e300(rng):
    z = rng.normal(size=(400, 1))
    x, y = z + rng.normal(size=(400, 1)), z + rng.normal(size=(400, 1))
    options = {"n_bootstrap": 3, "n_inits": 1, "random_state": 1}
    reference = gmmmi.estimate(x, y, z=z, **options)
    with pytest.warns(DataUnitsWarning, match=r"'x0', 'y0', 'z0' \(standard deviation"):
        scaled = gmmmi.estimate(x * 1e300, y * 1e-300, z=z * 1e300, **options)
    assert reference.sd > 0
    assert abs(scaled.value - reference.value) < 1e-6 * reference.sd


def test_kl_is_unchanged_by_a_common_affine_map_only(gaussian):
    x, y = gaussian[:, 0], 1.5 * gaussian[:, 1] + 0.3
    options = {"kl": True, "n_bootstrap": 3, "n_inits": 1, "random_state": 2}
    reference = gmmmi.estimate(x, y, **options)
    with pytest.warns(DataUnitsWarning):
        common = gmmmi.estimate(x * 1e200 + 5e200, y * 1e200 + 5e200, **options)
    for key in ("kl_xy", "kl_yx"):
        sd = reference.draws[key].std(ddof=1)
        assert abs(common.point[key] - reference.point[key]) < 1e-6 * sd
    # different maps of x and y change the KL (but not the MI)
    apart = gmmmi.estimate(x, 3.0 * y, **options)
    assert abs(apart.point["mi"] - reference.point["mi"]) < 1e-6 * reference.sd
    assert abs(apart.point["kl_xy"] - reference.point["kl_xy"]) > 0.1


def test_kl_beyond_float64_is_refused(gaussian):
    with pytest.raises(
        ValueError,
        match=r"^kl=True: x and y are too far apart in float64 for a KL divergence \(coordinate 0: "
        r"standard deviations .*; KL is invariant only under a map applied to x and y alike, so "
        r"no rescaling brings it into range\. Drop kl=True, or compare variables in the same "
        r"units\.$",
    ):
        gmmmi.estimate(gaussian[:, 0] * 1e200, gaussian[:, 1] * 1e-200, kl=True, **FAST)


def test_warm_start_from_an_overflowed_mixture_is_refused(gaussian):
    with pytest.warns(DataUnitsWarning):
        fit = gmmmi.estimate(gaussian * 1e300, **FAST)
    with pytest.raises(
        ValueError,
        match=r"^init has a covariance that is not finite and positive definite in standardised "
        r"units, as a mixture stored in data units that over- or underflow float64 has \(see "
        r"DataUnitsWarning\)\. Rescale the data",
    ):
        gmmmi.estimate(gaussian * 1e300, init=fit.diagnostics.reference_fit, **FAST)


def test_ordinary_scales_give_no_data_units_warning(gaussian):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataUnitsWarning)
        result = gmmmi.estimate(gaussian * 1e100, **FAST)
    assert np.isfinite(result.mixture.covariances).all()


# ---------------------------------------------------------------------------
# 8. (near-)deterministic columns


DEPENDENT = (
    r"are \(near-\)linearly dependent: after standardising, one combination of them has "
    r"variance [0-9.]+e[-+]\d+ against [0-9.]+ along the widest direction, a ratio below the "
    r"2\.2e-13 \(1000 x float64 epsilon\) that a float64 fit resolves\. "
)


@pytest.mark.parametrize("noise", [0.0, 1e-9, 1e-7])
def test_near_duplicate_columns_are_a_deterministic_relation(rng, noise):
    x = rng.normal(size=500)
    y = x + noise * rng.normal(size=500)
    with pytest.raises(
        ValueError,
        match=r"^Columns 'x0', 'y0' " + DEPENDENT + r"x and y are \(near-\)deterministically "
        r"related: their mutual information is unbounded \(infinite for an exact relation, beyond "
        r"what float64 resolves for a near one\), so a finite estimate would be set by rounding, "
        r"not by the data\. Check for a duplicated or derived column \(y computed from x\)\.$",
    ):
        gmmmi.estimate(x, y, **FAST)


def test_a_linear_combination_across_blocks_is_found(rng):
    x = rng.normal(size=(500, 2))
    z = rng.normal(size=500)
    y = 2.0 * x[:, 0] - x[:, 1] + 3.0 * z
    with pytest.raises(ValueError, match=r"^Columns 'x0', 'x1', 'y0', 'z0' " + DEPENDENT):
        gmmmi.estimate(x, y, z=z, **FAST)


def test_redundant_columns_within_one_block(rng):
    x = rng.normal(size=(500, 1))
    with pytest.raises(
        ValueError,
        match=r"^Columns 'a', 'b' " + DEPENDENT + r"The x block\(s\) hold redundant columns: "
        r"drop one of them \(it carries no further information\), since the fit needs a "
        r"non-singular covariance\.$",
    ):
        frame = pd.DataFrame({"a": x[:, 0], "b": 1e-3 * x[:, 0] - 5.0})
        gmmmi.estimate(frame, rng.normal(size=500) > 0, discrete_y=True, **FAST)


def test_a_strong_but_resolvable_relation_is_estimated(rng):
    noise = 1e-5  # correlation 1 - 5e-11: well above the screen, MI 11.5 nat
    x = rng.normal(size=500)
    y = x + noise * rng.normal(size=500)
    result = gmmmi.estimate(x, y, n_bootstrap=10, n_inits=1, random_state=0)
    truth = 0.5 * np.log1p(1.0 / noise**2)
    assert np.isfinite(result.draws["mi"]).all()
    assert abs(result.value - truth) < 4 * result.sd + 0.05


# ---------------------------------------------------------------------------
# 14. EstimateMI goes through the same validation


def test_estimate_mi_refuses_complex_data(rng):
    a, b = rng.normal(size=100), rng.normal(size=100)
    with pytest.raises(
        TypeError,
        match=r"^x must hold real numbers \(float, int or bool\); got \(.*j\) \(complex\)\. "
        r"Convert it to numbers first",
    ):
        EstimateMI().fit(a + 1j * b, a - 1j * b)


def test_estimate_mi_refuses_ragged_input():
    with pytest.raises(
        ValueError,
        match=r"^x must be a rectangular array of samples, shape \(n,\) or \(n, d\); got a ragged "
        r"sequence\. Give every sample the same number of values\.$",
    ):
        EstimateMI().fit([[1.0, 2.0], [3.0]])


def test_estimate_mi_refuses_missing_labels(rng):
    with pytest.raises(ValueError, match=r"^y contains 10 missing labels \(None, NaN, pd\.NA"):
        EstimateMI().fit_categorical(rng.normal(size=40), ["a", "b", None, "a"] * 10)


# ---------------------------------------------------------------------------
# 18. the type of init


@pytest.mark.parametrize("init", ["garbage", 42, {"weights": 1}])
def test_init_of_the_wrong_type(gaussian, init):
    with pytest.raises(
        TypeError,
        match=r"^init must be one MixtureDraws \(e\.g\. result\.diagnostics\.reference_fit\), or "
        rf"None; got {type(init).__name__}\.$",
    ):
        gmmmi.estimate(gaussian, init=init, **FAST)


# ---------------------------------------------------------------------------
# 21. too few rows


def test_three_rows_of_two_dimensional_data_are_too_few(gaussian):
    with pytest.raises(
        ValueError,
        match=r"^Too few samples: 3 rows of 2-dimensional data; need at least 12 = 2 folds x "
        r"2 \(d \+ 1\), so that every cross-validation fold holds twice the d \+ 1 rows one "
        r"full-covariance Gaussian needs\. Provide more samples, fewer columns or a smaller "
        r"n_folds\.$",
    ):
        gmmmi.estimate(gaussian[:3], **FAST)


@pytest.mark.parametrize(("d", "n_folds"), [(2, 2), (3, 5), (2, 3)])
def test_the_minimum_number_of_rows_is_enough(rng, d, n_folds):
    need = rows_needed(d, n_folds)
    assert need == n_folds * 2 * (d + 1)
    with pytest.raises(ValueError, match=rf"^Too few samples: {need - 1} rows of {d}-dim"):
        gmmmi.estimate(rng.normal(size=(need - 1, d)), n_folds=n_folds, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gmmmi.ConvergenceWarning)  # tiny data may hit max_iter
        result = gmmmi.estimate(rng.normal(size=(need, d)), n_folds=n_folds, **FAST)
    assert np.isfinite(result.value)


def test_too_few_rows_in_one_category(rng):
    labels = np.array(["rare"] * 7 + ["common"] * 93)
    with pytest.raises(
        ValueError,
        match=r"^Category 1 could not be fitted: Too few samples: category 'rare' has 7 rows of "
        r"1-dimensional x; need at least 8 = 2 folds x 2 \(d \+ 1\)",
    ):
        gmmmi.estimate(rng.normal(size=100), labels, discrete_y=True, **FAST)


def test_too_few_rows_without_cross_validation():
    from gmmmi._rows import check_enough_rows

    with pytest.raises(
        ValueError,
        match=re.escape(
            "Too few samples: 5 rows of 2-dimensional data; need at least 6 = 2 (d + 1), so that "
            "the data holds twice the d + 1 rows one full-covariance Gaussian needs. Provide "
            "more samples or fewer columns."
        ),
    ):
        check_enough_rows(5, 2, 1)
