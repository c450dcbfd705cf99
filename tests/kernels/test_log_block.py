"""The vectorised logarithm of the E-step and the quadrature (`log_block`) against numpy's."""

import numpy as np

from gmmmi._kernels.logdensity import log_block


def _log_block(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    ibits = np.empty(x.size, dtype=np.int64)
    log_block(x, out, x.size, ibits, ibits.view(np.float64))
    return out


def test_within_two_ulp_of_numpy_on_normal_numbers():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(1.0, 64.0, 20_000),  # the E-step's sums of shifted densities
            np.exp(rng.uniform(-700.0, 700.0, 20_000)),
            [2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 2.0, np.sqrt(2.0)],
            np.nextafter(np.sqrt(2.0), [0.0, 3.0]),  # both sides of the range reduction
        ]
    )
    ulp = np.abs(_log_block(x) - np.log(x)) / np.spacing(np.abs(np.log(x)))
    assert ulp.max() <= 2.0
    assert _log_block(np.array([1.0]))[0] == 0.0


def test_other_values_as_math_log():
    x = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 3.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.log(x)
    np.testing.assert_array_equal(_log_block(x), expected)


def test_only_the_first_nb_values():
    x = np.array([2.0, 3.0, 4.0])
    out = np.full(3, 7.0)
    ibits = np.empty(3, dtype=np.int64)
    log_block(x, out, 2, ibits, ibits.view(np.float64))
    np.testing.assert_array_equal(out, [np.log(2.0), np.log(3.0), 7.0])
