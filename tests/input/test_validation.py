"""validate_data / standardise / validate_options on good input: shapes, blocks, labels."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gmmmi._checks import validate_options
from gmmmi._data import ValidatedData, validate_data
from gmmmi._rows import standardise


def _assert_float_c(X, shape):
    assert X.shape == shape
    assert X.dtype == np.float64
    assert X.flags["C_CONTIGUOUS"]


def test_single_array_two_columns_is_mi_between_columns(rng):
    x = rng.normal(size=(50, 2))
    data = validate_data(x)
    assert isinstance(data, ValidatedData)
    _assert_float_c(data.X, (50, 2))
    np.testing.assert_array_equal(data.X, x)
    assert data.blocks == {"x": [0], "y": [1]}
    assert data.labels == {"x": ["X1"], "y": ["X2"]}
    assert data.categories is None and data.category_values is None


def test_single_array_extra_columns_condition_on_the_rest(rng):
    x = rng.normal(size=(50, 4))
    data = validate_data(x)
    assert data.blocks == {"x": [0], "y": [1], "z": [2, 3]}
    assert data.labels == {"x": ["X1"], "y": ["X2"], "z": ["Z1", "Z2"]}


def test_single_dataframe_keeps_column_names(rng):
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    data = validate_data(frame)
    assert data.labels == {"x": ["a"], "y": ["b"], "z": ["c"]}
    np.testing.assert_array_equal(data.X, frame.to_numpy())


def test_blocks_are_stacked_x_then_y_then_z(rng):
    x, y, z = rng.normal(size=(40, 2)), rng.normal(size=40), rng.normal(size=(40, 3))
    data = validate_data(x, y, z)
    _assert_float_c(data.X, (40, 6))
    assert data.blocks == {"x": [0, 1], "y": [2], "z": [3, 4, 5]}
    assert data.labels == {"x": ["x0", "x1"], "y": ["y0"], "z": ["z0", "z1", "z2"]}
    np.testing.assert_array_equal(data.X[:, :2], x)
    np.testing.assert_array_equal(data.X[:, 2], y)
    np.testing.assert_array_equal(data.X[:, 3:], z)


def test_two_one_dimensional_arrays(rng):
    x, y = rng.normal(size=20), rng.normal(size=20)
    data = validate_data(x, y)
    assert data.blocks == {"x": [0], "y": [1]}
    np.testing.assert_array_equal(data.X, np.column_stack([x, y]))


def test_lists_integers_and_bools_become_float64():
    x = [1, 2, 3, 4, 5]
    y = np.array([True, False, True, True, False])
    z = np.array([[1, 2], [3, 1], [0, 5], [2, 2], [7, 1]], dtype=np.int32)
    data = validate_data(x, y, z)
    _assert_float_c(data.X, (5, 4))
    np.testing.assert_array_equal(data.X[:, 1], [1.0, 0.0, 1.0, 1.0, 0.0])


def test_object_array_of_numbers_is_accepted():
    x = np.array([1, 2.5, np.float32(3), 4], dtype=object)
    data = validate_data(x, [0.0, 1.0, 0.5, 2.0])
    np.testing.assert_array_equal(data.X[:, 0], [1.0, 2.5, 3.0, 4.0])


def test_fortran_and_strided_input_become_c_contiguous(rng):
    x = np.asfortranarray(rng.normal(size=(20, 4)))[:, ::2]
    data = validate_data(x)
    _assert_float_c(data.X, (20, 2))
    np.testing.assert_array_equal(data.X, x)


def test_pandas_names_become_labels(rng):
    x = pd.DataFrame({"height": rng.normal(size=10), "age": np.arange(10)})
    y = pd.Series(rng.normal(size=10), name="weight")
    z = pd.Series(rng.normal(size=10))  # unnamed: default label
    data = validate_data(x, y, z)
    assert data.labels == {"x": ["height", "age"], "y": ["weight"], "z": ["z0"]}
    np.testing.assert_array_equal(data.X[:, 1], np.arange(10.0))


def test_duplicate_dataframe_column_names_are_kept(rng):
    x = pd.DataFrame(rng.normal(size=(5, 2)), columns=["a", "a"])
    assert validate_data(x).labels == {"x": ["a"], "y": ["a"]}


def test_pandas_nullable_integers_are_numbers():
    x = pd.Series(pd.array([1, 2, 3, 4], dtype="Int64"), name="n")
    data = validate_data(x, [0.5, 0.1, 0.7, 0.2])
    np.testing.assert_array_equal(data.X[:, 0], [1.0, 2.0, 3.0, 4.0])


def test_discrete_string_labels_are_coded_in_sorted_order(rng):
    x = rng.normal(size=(6, 2))
    data = validate_data(x, ["b", "a", "c", "a", "b", "c"], discrete_y=True)
    assert data.blocks == {"x": [0, 1]}
    assert data.category_values == ["a", "b", "c"]
    np.testing.assert_array_equal(data.categories, [1, 0, 2, 0, 1, 2])
    assert data.categories.dtype == np.int64
    np.testing.assert_array_equal(data.X, x)
    assert data.labels == {"x": ["x0", "x1"], "y": ["y0"]}


def test_discrete_numpy_ints_give_python_values(rng):
    data = validate_data(rng.normal(size=4), np.array([7, 3, 7, 3]), discrete_y=True)
    assert data.category_values == [3, 7]
    assert all(type(v) is int for v in data.category_values)
    np.testing.assert_array_equal(data.categories, [1, 0, 1, 0])


def test_discrete_tuple_labels_from_a_list(rng):
    labels = [(0, 1), (1, 0), (0, 1), (1, 1)]
    data = validate_data(rng.normal(size=4), labels, discrete_y=True)
    assert data.category_values == [(0, 1), (1, 0), (1, 1)]
    np.testing.assert_array_equal(data.categories, [0, 1, 0, 2])


def test_discrete_unsortable_labels_keep_first_appearance_order(rng):
    labels = ["a", 1, "a", 1, (2,)]
    data = validate_data(rng.normal(size=5), labels, discrete_y=True)
    assert data.category_values == ["a", 1, (2,)]
    np.testing.assert_array_equal(data.categories, [0, 1, 0, 1, 2])


def test_discrete_labels_from_a_named_series(rng):
    y = pd.Series(["u", "v", "u", "v"], name="kind")
    x = pd.DataFrame({"f": rng.normal(size=4)})
    data = validate_data(x, y, discrete_y=True)
    assert data.labels == {"x": ["f"], "y": ["kind"]}
    assert data.category_values == ["u", "v"]


def test_kl_accepts_equal_dimensions(rng):
    data = validate_data(rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), kl=True)
    assert data.blocks == {"x": [0, 1], "y": [2, 3]}
    assert validate_data(rng.normal(size=(30, 2)), kl=True).blocks == {"x": [0], "y": [1]}


def test_minimum_sample_count_is_accepted(rng):
    # 3 columns need 4 samples for a covariance
    data = validate_data(rng.normal(size=(4, 2)), rng.normal(size=4))
    assert data.X.shape == (4, 3)


def test_validated_data_is_frozen(rng):
    data = validate_data(rng.normal(size=(5, 2)))
    with pytest.raises(AttributeError):
        data.X = None


def test_importing_validation_does_not_import_pandas():
    code = "import sys, gmmmi._checks, gmmmi._data, gmmmi._rows; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# standardise


@pytest.mark.parametrize("factor", [1e-300, 1e-12, 1.0, 1e12, 1e306])
def test_standardise_round_trip_and_moments(rng, factor):
    # at 1e306 a plain column sum (200 values of ~3e306) would overflow to inf
    base = rng.normal(size=(200, 3)) * np.array([1.0, 5.0, 0.01]) + 3.0
    X = base * factor
    Xs, shift, scale = standardise(X)
    _assert_float_c(Xs, X.shape)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(shift / factor, base.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale / factor, base.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose((shift + scale * Xs) / factor, base, rtol=1e-12)


def test_standardise_is_scale_invariant(rng):
    X = rng.normal(size=(100, 2))
    Xs, _, _ = standardise(X)
    for factor in (1e-12, 1e12):
        Xs_scaled, _, scale = standardise(X * factor)
        np.testing.assert_allclose(Xs_scaled, Xs, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(scale, X.std(axis=0) * factor, rtol=1e-12)


# ---------------------------------------------------------------------------
# validate_options


def test_validate_options_merges_into_defaults():
    allowed = {"n_folds": 2, "n_inits": 3}
    merged = validate_options({"n_folds": 5}, allowed)
    assert merged == {"n_folds": 5, "n_inits": 3}
    assert allowed == {"n_folds": 2, "n_inits": 3}  # defaults untouched
    assert validate_options({}, allowed) == allowed
