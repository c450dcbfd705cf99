"""Every kind of bad input gets the right exception and a message that says what to do.

The first part calls the validation helpers directly; the second goes through
`gmmmi.estimate`, because those checks live in the backends, the integrators
and the backend registry.
"""

import re

import numpy as np
import pandas as pd
import pytest

import gmmmi
from gmmmi._checks import validate_options
from gmmmi._data import validate_data
from gmmmi._rows import standardise

# ---------------------------------------------------------------------------
# validate_data


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_reported_with_count_and_first_row(rng, bad_value):
    y = rng.normal(size=(20, 2))
    y[[4, 9], 1] = bad_value
    y[9, 0] = bad_value
    with pytest.raises(
        ValueError,
        match=r"^y contains 3 non-finite values \(NaN or inf\) in 2 rows, the first in row 4\. "
        r"Drop those rows \(from every variable\) or impute them",
    ):
        validate_data(rng.normal(size=20), y)


def test_missing_values_in_a_dataframe_are_non_finite(rng):
    z = pd.DataFrame({"a": rng.normal(size=10), "b": rng.normal(size=10)})
    z.loc[7, "b"] = None
    with pytest.raises(
        ValueError,
        match=r"^z contains 1 non-finite value \(NaN or inf\) in 1 row, the first in row 7\.",
    ):
        validate_data(rng.normal(size=10), rng.normal(size=10), z)


def test_three_dimensional_array_is_rejected(rng):
    with pytest.raises(
        ValueError,
        match=r"^x must be an array of samples, shape \(n,\) or \(n, d\); got a 3-D array of "
        r"shape \(10, 2, 2\)\. Reshape it",
    ):
        validate_data(rng.normal(size=(10, 2, 2)))


def test_scalar_is_rejected(rng):
    with pytest.raises(
        ValueError,
        match=r"^y must be an array of samples, shape \(n,\) or \(n, d\); got a scalar \(3\.0\)",
    ):
        validate_data(rng.normal(size=10), 3.0)


def test_ragged_sequence_is_rejected():
    with pytest.raises(
        ValueError, match=r"^x must be a rectangular array .* got a ragged sequence"
    ):
        validate_data([[1.0, 2.0], [3.0], [4.0, 5.0]])


@pytest.mark.parametrize(
    ("x", "y", "z", "message"),
    [
        (100, 99, None, "x and y must have the same number of samples; got 100 and 99."),
        (50, 50, 49, "x and z must have the same number of samples; got 50 and 49."),
    ],
)
def test_different_lengths(rng, x, y, z, message):
    z = None if z is None else rng.normal(size=z)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_data(rng.normal(size=x), rng.normal(size=(y, 2)), z)


def test_string_data_is_a_type_error():
    with pytest.raises(
        TypeError,
        match=r"^x must hold real numbers \(float, int or bool\); got 'a' \(str\)\. Convert it "
        r"to numbers first; for category labels use y with discrete_y=True\.$",
    ):
        validate_data(np.array(["a", "b", "c"]), [1.0, 2.0, 3.0])


def test_object_array_with_none_is_a_type_error():
    with pytest.raises(TypeError, match=r"^y must hold real numbers .*; got None \(NoneType\)"):
        validate_data([1.0, 2.0, 3.0], np.array([1.0, None, 2.0], dtype=object))


def test_string_column_of_a_dataframe_is_named(rng):
    frame = pd.DataFrame({"ok": rng.normal(size=3), "city": ["Rome", "Oslo", "Lima"]})
    with pytest.raises(
        TypeError, match=r"^x must hold real numbers .*; column 'city' has dtype .*drop it"
    ):
        validate_data(frame)


@pytest.mark.parametrize("shape", [(0, 2), (5, 0), (0,)])
def test_empty_input(shape):
    shown = re.escape(str(shape if len(shape) == 2 else (0, 1)))
    with pytest.raises(ValueError, match=rf"^x is empty: shape {shown}; need at least one column"):
        validate_data(np.zeros(shape), None if len(shape) == 2 else np.zeros(0))


def test_single_sample_is_too_few():
    with pytest.raises(
        ValueError,
        match=r"^Too few samples: a covariance of 2 variables needs at least 3 samples; got 1\. "
        r"Provide more samples or fewer columns\.$",
    ):
        validate_data([[1.0, 2.0]])


def test_fewer_samples_than_columns_plus_one(rng):
    with pytest.raises(
        ValueError, match=r"^Too few samples: a covariance of 5 variables needs at least 6 .*got 5"
    ):
        validate_data(rng.normal(size=(5, 2)), rng.normal(size=(5, 3)))


def test_single_variable_needs_a_second_one(rng):
    with pytest.raises(
        ValueError, match=r"^MI needs two variables; got only x with 1 column and no y\. Pass y"
    ):
        validate_data(rng.normal(size=30))


def test_z_without_y(rng):
    with pytest.raises(ValueError, match=r"^z was given without y; pass both x and y"):
        validate_data(rng.normal(size=30), z=rng.normal(size=30))


def test_kl_needs_equal_dimensions(rng):
    with pytest.raises(
        ValueError,
        match=r"^kl=True compares the marginal densities of x and y, so they must have the same "
        r"dimension; got x with 2 columns and y with 1\.$",
    ):
        validate_data(rng.normal(size=(30, 2)), rng.normal(size=30), kl=True)


# ---------------------------------------------------------------------------
# discrete_y


def test_discrete_single_category(rng):
    with pytest.raises(
        ValueError,
        match=r"^y has a single category \('cat'\); MI with a constant is 0\. Need at least 2",
    ):
        validate_data(rng.normal(size=5), ["cat"] * 5, discrete_y=True)


def test_discrete_labels_of_wrong_length(rng):
    with pytest.raises(
        ValueError, match=r"^x and y must have the same number of samples; got 6 and 5\.$"
    ):
        validate_data(rng.normal(size=6), ["a", "b", "a", "b", "a"], discrete_y=True)


def test_discrete_missing_labels(rng):
    with pytest.raises(
        ValueError,
        match=r"^y contains 2 missing labels \(None, NaN, pd\.NA, NaT or masked\), the first in "
        r"row 1\. Drop those",
    ):
        validate_data(rng.normal(size=4), ["a", None, "b", float("nan")], discrete_y=True)


def test_discrete_unhashable_labels(rng):
    with pytest.raises(TypeError, match=r"^Category labels must be hashable .*; got list in row 0"):
        validate_data(rng.normal(size=2), [[0], [1]], discrete_y=True)


def test_discrete_label_matrix(rng):
    with pytest.raises(
        ValueError, match=r"^With discrete_y=True, y must be a 1-D vector of labels; got an array"
    ):
        validate_data(rng.normal(size=4), np.zeros((4, 2)), discrete_y=True)


def test_discrete_needs_y(rng):
    with pytest.raises(ValueError, match=r"^discrete_y=True needs y, the vector of category"):
        validate_data(rng.normal(size=(4, 2)), discrete_y=True)


def test_discrete_with_z_is_not_supported(rng):
    with pytest.raises(ValueError, match=r"^Conditional MI with discrete_y=True is not supported"):
        validate_data(rng.normal(size=4), [0, 1, 0, 1], rng.normal(size=4), discrete_y=True)


# ---------------------------------------------------------------------------
# standardise and validate_options


def test_constant_column_is_named(rng):
    X = np.column_stack([rng.normal(size=10), np.full(10, 2.5)])
    with pytest.raises(
        ValueError,
        match=r"^Column 'y0' is constant \(every value is 2\.5\); MI with a constant is 0 .*"
        r"Drop the column\.$",
    ):
        standardise(X, labels=["x0", "y0"])
    with pytest.raises(ValueError, match=r"^Column 1 is constant"):
        standardise(X)


def test_standardise_is_the_plain_formula_bit_for_bit(rng):
    """Column extremes taken per column give the same numbers as numpy's axis-0 reductions."""
    for X in (
        rng.normal(size=(500, 3)) * [1e-300, 1.0, 1e300],
        -np.abs(rng.normal(size=(300, 2))),
        np.asfortranarray(np.exp(rng.normal(size=(400, 4)))),
        rng.normal(size=(600, 6))[:, ::3],
    ):
        unit = np.abs(X).max(axis=0)
        Xn = X / unit
        centred = Xn - Xn.mean(axis=0)
        scale = np.sqrt(np.mean(centred**2, axis=0))
        Xs, shift, sd = standardise(X)
        np.testing.assert_array_equal(Xs, centred / scale)
        np.testing.assert_array_equal(shift, Xn.mean(axis=0) * unit)
        np.testing.assert_array_equal(sd, scale * unit)
        assert Xs.flags.c_contiguous


def test_unknown_option_lists_valid_names_sorted():
    allowed = {"n_inits": 3, "n_folds": 2, "max_iter": 10000}
    with pytest.raises(
        TypeError,
        match=r"^Unknown option 'n_fold' \(did you mean 'n_folds'\?\); valid options are "
        r"max_iter, n_folds, n_inits\.$",
    ):
        validate_options({"n_fold": 3, "n_inits": 1}, allowed)


def test_several_unknown_options():
    with pytest.raises(TypeError, match=r"^Unknown options 'colour', 'zzz'; valid options are a\."):
        validate_options({"zzz": 1, "colour": 2}, {"a": 0})


# ---------------------------------------------------------------------------
# Through gmmmi.estimate (backend, integrators and registry checks)

FAST = {"n_bootstrap": 0, "n_inits": 1, "max_components": 3}


@pytest.fixture
def gaussian(rng):
    """200 samples of a bivariate Gaussian with correlation 0.6."""
    return rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], size=200)


def test_estimate_validates_its_data(gaussian):
    with pytest.raises(ValueError, match=r"^x and y must have the same number of samples"):
        gmmmi.estimate(gaussian[:, 0], gaussian[:-1, 1], random_state=0, **FAST)


def test_estimate_rejects_a_constant_column(gaussian):
    with pytest.raises(ValueError, match=r"is constant .*MI with a constant is 0"):
        gmmmi.estimate(gaussian[:, 0], np.ones(200), random_state=0, **FAST)


def test_estimate_rejects_an_unknown_option(gaussian):
    with pytest.raises(TypeError, match=r"^Unknown option 'n_fold' \(did you mean 'n_folds'\?\)"):
        gmmmi.estimate(gaussian, n_fold=3, random_state=0)


def test_every_path_refuses_an_unknown_option_in_one_format():
    """estimate, estimate_many and both backends' check_options give the same message."""
    from gmmmi.backends.numba import NumbaBackend

    valid = ", ".join(sorted(NumbaBackend.options))
    expected = (
        r"^Unknown option 'n_bootstrapp' \(did you mean 'n_bootstrap'\?\); "
        rf"valid options are {valid}\.$"
    )
    with pytest.raises(TypeError, match=expected):
        NumbaBackend().check_options({"n_bootstrapp": 3})
    with pytest.raises(TypeError, match=expected):
        NumbaBackend().fit(np.zeros((10, 2)), rng=np.random.default_rng(0), n_bootstrapp=3)
    with pytest.raises(
        TypeError, match=r"^Unknown option 'drawz' \(did you mean 'draws'\?\); valid"
    ):
        gmmmi.get_backend("pymc").check_options({"drawz": 3})
    with pytest.raises(TypeError, match=r"^Unknown option 'n_bootstrapp' \(did you mean "):
        gmmmi.estimate(np.zeros((10, 2)), n_bootstrapp=3)
    with pytest.raises(TypeError, match=r"^Unknown option 'n_bootstrapp' \(did you mean "):
        gmmmi.estimate_many([np.zeros((10, 2))], n_bootstrapp=3)


@pytest.mark.parametrize(
    ("option", "valid"),
    [
        ("init_type", ["random", "minmax", "kmeans", "randomized_kmeans", "random_sklearn"]),
        ("metric_method", ["valid", "aic", "bic"]),
        ("integral_method", ["quad", "mc"]),
    ],
)
def test_estimate_unknown_choice_lists_valid_names(gaussian, option, valid):
    with pytest.raises(ValueError, match=rf"^Unknown {option} 'nope'; valid values are ") as err:
        gmmmi.estimate(gaussian, random_state=0, **{**FAST, option: "nope"})
    for name in valid:
        assert repr(name) in str(err.value)


def test_estimate_unknown_backend_lists_valid_names(gaussian):
    with pytest.raises(ValueError, match=r"^Unknown backend 'nope'; valid names are .*'numba'"):
        gmmmi.estimate(gaussian, backend="nope", random_state=0)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("n_bootstrap", 2.5, r"^n_bootstrap must be an integer; got 2\.5\.$"),
        ("n_folds", -1, r"^n_folds must be at least \d+; got -1\.$"),
        ("MC_samples", 0, r"^MC_samples must be at least 1; got 0\.$"),
        ("max_components", 0, r"^max_components must be at least 1; got 0\.$"),
    ],
)
def test_estimate_bad_counts(gaussian, option, value, message):
    with pytest.raises(ValueError, match=message):
        gmmmi.estimate(gaussian, random_state=0, **{**FAST, option: value})


def test_estimate_count_of_wrong_type(gaussian):
    with pytest.raises(TypeError, match=r"^n_folds must be an integer; got '2' \(str\)\.$"):
        gmmmi.estimate(gaussian, random_state=0, **{**FAST, "n_folds": "2"})


def test_estimate_too_few_samples_for_the_folds(rng):
    X = rng.normal(size=(40, 2))  # enough rows for 6 folds (36), too few for 10 components
    with pytest.raises(
        ValueError,
        match=r"^Too few samples: fitting 10 component\(s\) with 6-fold cross-validation needs at "
        r"least n_folds x n_components = 60 samples; got 40\. Provide more data, or lower n_folds",
    ):
        gmmmi.estimate(X, n_folds=6, fixed_components_number=10, n_bootstrap=0, random_state=0)


@pytest.mark.parametrize("factor", [1e-12, 1e12])
def test_estimate_is_unchanged_by_the_units_of_the_data(gaussian, factor):
    options = {"n_bootstrap": 5, "n_inits": 1, "random_state": 3}
    reference = gmmmi.estimate(gaussian, **options)
    scaled = gmmmi.estimate(gaussian * factor, **options)
    assert reference.sd > 0
    # same seed and the same standardised data up to rounding: equal well within 1% of an sd
    assert abs(scaled.value - reference.value) < 0.01 * reference.sd
    assert abs(scaled.sd - reference.sd) < 0.01 * reference.sd
