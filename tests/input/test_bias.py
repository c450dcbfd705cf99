"""The plug-in bias of a single fitted Gaussian (gmmmi._bias) and the few-rows check.

The correction is the Wishart expectation `independence_floor`: checked here
against a plain numpy plug-in estimator over many Gaussian data sets (its mean
minus the correction is the truth), then through `gmmmi.estimate`, whose K = 1
estimate must be that plug-in value minus the correction exactly.
"""

import re
import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi._screening import independence_floor
from gmmmi.datasets import block_gaussian
from gmmmi.exceptions import DataWarning

from reference import gaussian_mi


def _dense(d, rho=0.5):
    return np.eye(2 * d) * (1 - rho) + rho


def _plug_in(X, dx):
    corr = np.corrcoef(X, rowvar=False)
    return gaussian_mi(corr, range(dx), range(dx, X.shape[1]))


@pytest.mark.parametrize("n, d", [(60, 3), (400, 10)])
def test_correction_makes_the_plug_in_mi_unbiased_for_any_covariance(n, d):
    rng = np.random.default_rng(4)
    cov = _dense(d)
    truth = gaussian_mi(cov, range(d), range(d, 2 * d))
    values = np.array(
        [_plug_in(rng.multivariate_normal(np.zeros(2 * d), cov, size=n), d) for _ in range(500)]
    )
    corrected = values - independence_floor(n, d, d)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(corrected.mean() - truth) < 4 * se
    assert values.mean() - truth > 8 * se  # the plug-in alone is biased


# 6 + 6 columns at 800 rows: the few-rows regime where the correction matters (that warning
# is test_screening's); here only the subtracted amount is checked
@pytest.mark.filterwarnings("ignore:Few rows for the number of columns:gmmmi.DataWarning")
def test_k1_estimate_is_the_plug_in_value_less_the_correction_in_every_draw():
    ds = block_gaussian(_dense(6), range(6), range(6, 12))
    x, y = ds.sample(800, 1)
    options = {"random_state": 0, "fixed_components_number": 1, "n_bootstrap": 8}
    res = gmmmi.estimate(x, y, **options)
    raw = gmmmi.estimate(x, y, bias_correction=False, **options)
    floor = independence_floor(800, 6, 6)
    assert res.meta["bias_correction"] == {"subtracted": pytest.approx(floor), "rule": "wishart_k1"}
    assert res.value == pytest.approx(_plug_in(np.hstack([x, y]), 6) - floor, abs=1e-8)
    np.testing.assert_allclose(res.draws["mi"], raw.draws["mi"] - floor, atol=1e-12)
    assert res.sd == pytest.approx(raw.sd, rel=1e-9)
    assert raw.meta["bias_correction"]["subtracted"] == 0.0
    # in bits, the amount recorded is in bits
    bits = gmmmi.estimate(x, y, base=2, **options)
    assert bits.meta["bias_correction"]["subtracted"] == pytest.approx(floor / np.log(2))


def test_correction_is_printed_saved_and_loaded(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 16))
    res = gmmmi.estimate(X[:, :8], X[:, 8:], random_state=0, n_bootstrap=10)
    floor = independence_floor(500, 8, 8)
    assert res.n_components == 1
    line = f"  plug-in bias removed: {floor:.3g} nat (Wishart, K=1; bias_correction=False keeps it)"
    assert line in str(res).split("\n")
    res.to_netcdf(tmp_path / "r.nc")
    loaded = gmmmi.load(tmp_path / "r.nc")
    assert loaded.meta["bias_correction"] == res.meta["bias_correction"]
    assert str(loaded) == str(res)


def test_a_correction_below_a_tenth_of_the_sd_is_not_printed():
    x, y = gmmmi.datasets.gaussian(0.6).sample(300, 0)
    res = gmmmi.estimate(x, y, random_state=0)
    assert 0 < res.meta["bias_correction"]["subtracted"] < 0.1 * res.sd
    assert "bias removed" not in str(res)


def test_wide_independent_blocks_are_no_longer_several_sd_from_zero():
    # the second sweep's item 7: 10 + 10 independent columns, N = 2000, gave 3-4 sd
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2000, 20))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gmmmi.estimate(X[:, :10], X[:, 10:], random_state=0)
        raw = gmmmi.estimate(X[:, :10], X[:, 10:], random_state=0, bias_correction=False)
    assert res.n_components == 1
    assert raw.value > 3 * raw.sd  # the plug-in estimate
    assert abs(res.value) < 2 * res.sd
    low, high = res.interval()
    assert low < 0 < high
    few = [w for w in caught if "Few rows" in str(w.message)]
    assert len(few) == 1  # only for the uncorrected estimate, against its sd
    floor = independence_floor(2000, 10, 10)
    expected = (
        "Few rows for the number of columns: with 2000 rows, 10 x and 10 y column(s), one "
        f"Gaussian fitted to independent blocks gives an MI of {floor:.3g} nat on average (a "
        "mixture of several components gives more), more than the estimate's sd "
        f"({raw.sd:.3g} nat), and only a single Gaussian's bias is removed (bias_correction); "
        "the estimate is dominated by this bias. Use more rows (about "
        f"{int(np.ceil(2000 * (floor / raw.sd) ** 2))} bring it below the sd) or fewer columns "
        "(e.g. a few principal components per block), and compare with the estimate on rows of "
        "y shuffled against x."
    )
    assert str(few[0].message) == expected
    assert few[0].category is DataWarning


def test_estimate_mi_reports_the_original_plug_in_value():
    x, y = gmmmi.datasets.gaussian(0.6).sample(300, 0)
    est = gmmmi.EstimateMI(random_state=0)
    est.fit(np.column_stack([x, y]))
    est.estimate()
    assert est.result.meta["bias_correction"]["subtracted"] == 0.0


def test_bias_correction_must_be_a_bool():
    with pytest.raises(
        TypeError, match=re.escape("bias_correction must be True or False; got 'yes'.")
    ):
        gmmmi.estimate(np.arange(50.0), np.arange(50.0) ** 2, bias_correction="yes")


def test_chain_rule_cmi_given_discrete_z_removes_each_cells_bias():
    """Discrete z: the CMI is sum_s p(s) I_s, each cell's K=1 fit with its own n_s's bias."""
    ds = block_gaussian(_dense(3), range(3), range(3, 6))
    x, y = ds.sample(800, 3)
    z = (np.arange(800) % 8 < 3).astype(float)  # cells of 300 and 500 rows
    options = {"random_state": 0, "fixed_components_number": 1, "n_bootstrap": 3}
    options["transform"] = "none"
    res = gmmmi.estimate(x, y, z=z, **options)
    raw = gmmmi.estimate(x, y, z=z, bias_correction=False, **options)
    expected = (300 * independence_floor(300, 3, 3) + 500 * independence_floor(500, 3, 3)) / 800
    assert res.meta["bias_correction"] == {
        "subtracted": pytest.approx(expected, rel=1e-12),
        "rule": "wishart_k1",
    }
    assert type(res.meta["bias_correction"]["subtracted"]) is float  # saved as JSON
    np.testing.assert_allclose(res.draws["cmi"], raw.draws["cmi"] - expected, atol=1e-12)
    assert res.value == pytest.approx(raw.value - expected, abs=1e-12)
    assert raw.meta["bias_correction"]["subtracted"] == 0.0


def test_chain_rule_correction_only_where_every_term_is_one_cells_gaussian():
    from gmmmi._bias import chain_correction
    from gmmmi.diagnostics import DrawKind, FitDiagnostics

    one = FitDiagnostics(DrawKind.BOOTSTRAP, 1, (1, 5))
    counts, active = np.array([300.0, 500.0]), [[0, 1, 2], [0, 1, 2]]
    block_of = {0: "x", 1: "y", 2: "z", 3: "z"}
    cells = {0: one, 1: one}
    expected = (
        300 * independence_floor(300, 1, 1, 1) + 500 * independence_floor(500, 1, 1, 1)
    ) / 800
    assert chain_correction(cells, counts, active, block_of, {"z"}) == pytest.approx(expected)
    # a discrete column in x pools cells in the terms of y: no closed form
    assert chain_correction(cells, counts, active, block_of, {"x", "z"}) == 0.0
    two = FitDiagnostics(DrawKind.BOOTSTRAP, 2, (1, 5))
    assert chain_correction({0: one, 1: two}, counts, active, block_of, {"z"}) == 0.0
    posterior = FitDiagnostics(DrawKind.POSTERIOR, 1, (1, 5))
    assert chain_correction({0: posterior, 1: one}, counts, active, block_of, {"z"}) == 0.0
