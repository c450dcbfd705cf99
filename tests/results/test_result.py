"""Result: numbers, text, ArviZ summary/HDI, InferenceData and the netCDF round trip.

Results are built by hand from known draws and synthetic diagnostics, so
every expected value is known exactly.
"""

import dataclasses
import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gmmmi
from gmmmi._em.select import LossCurves
from gmmmi.exceptions import ResultFileError
from gmmmi.result import Result, load

from helpers import (
    forbid_unpickling,
    make_bootstrap_result,
    make_posterior_result,
    make_single_fit_result,
)


# ------------------------------------------------------------- the numbers
def test_value_sd_and_unpacking(rng):
    res = make_bootstrap_result(rng)
    assert res.value == res.mi == 0.21
    assert float(res) == 0.21
    assert res.sd == pytest.approx(0.04, rel=1e-12)
    assert res.draws_mean == pytest.approx(0.2, rel=1e-12)
    mean, sd = res
    assert (mean, sd) == (res.value, res.sd)
    assert res.kl == (0.52, 0.43)
    assert res.n_components == 2
    assert res.diagnostics.method == "bootstrap"
    assert res.mixture.n_draws == 50


def test_cmi_alias_and_missing_kl(rng):
    cond = make_posterior_result(rng)
    assert cond.cmi == cond.value == cond.mi
    plain = make_bootstrap_result(rng, kl=False)
    with pytest.raises(AttributeError, match="not 'cmi'"):
        _ = plain.cmi
    with pytest.raises(AttributeError, match=r"not computed .*; use gmmmi\.marginal_kl\(x, y\)\.$"):
        _ = plain.kl


def test_single_fit_has_no_sd(rng):
    res = make_single_fit_result(rng)
    mean, sd = res
    assert mean == 0.213456
    assert np.isnan(sd)


# --------------------------------------------------------------------- text
def test_repr_bootstrap_with_kl(rng):
    res = make_bootstrap_result(rng)
    assert str(res) == repr(res)
    # the names label the quantity, and the recommended interval is shown and named:
    # 0.21 ± 1.959964 * 0.04 = [0.1316, 0.2884]
    assert repr(res).splitlines() == [
        "MI(height; weight) = 0.210 ± 0.040 nat (numba, 50 bootstrap, K=2)",
        "  95% interval (value ± 1.96 sd): [0.132, 0.288] nat",
        "KL[p(x)||p(y)] = 0.520 ± 0.050 nat",
        "KL[p(y)||p(x)] = 0.430 ± 0.080 nat",
    ]


def test_repr_posterior_and_single_fit(rng):
    post = make_posterior_result(rng)
    sd = np.std(post.draws["cmi"], ddof=1)
    decimals = 1 - int(np.floor(np.log10(sd)))
    low, high = post.value - 1.959964 * sd, post.value + 1.959964 * sd
    assert repr(post).splitlines() == [
        f"CMI(a; b | c) = {post.value:.{decimals}f} ± {sd:.{decimals}f} nat "
        "(pymc, NUTS 2×200 draws, K=3)",
        f"  95% interval (value ± 1.96 sd): [{low:.{decimals}f}, {high:.{decimals}f}] nat",
    ]
    # no sd, no interval
    single = make_single_fit_result(rng)
    assert repr(single) == "MI(height; weight) = 0.2135 nat (numba, single fit, K=1)"


def test_repr_of_identical_draws_has_no_interval(rng):
    res = make_bootstrap_result(rng, kl=False)
    res.draws["mi"][:] = 0.21  # every replica the same: sd 0, no interval to show
    assert repr(res) == "MI(height; weight) = 0.21 nat (numba, 50 bootstrap, K=2)"


def test_repr_names_multi_column_blocks(rng):
    res = make_posterior_result(rng)
    res.meta["labels"] = {"x": ["a", "b"], "y": ["c"], "z": []}
    assert repr(res).startswith("CMI(a, b; c) = ")


# ------------------------------------------------------------ ArviZ stats
SUMMARY_COLUMNS = [
    "estimate",
    "mean",
    "sd",
    "normal_2.5%",
    "normal_97.5%",
    "mcse_mean",
    "mcse_sd",
    "ess_bulk",
    "ess_tail",
    "r_hat",
]


def test_summary_bootstrap(rng):
    res = make_bootstrap_result(rng)
    table = res.summary()
    assert list(table.columns) == SUMMARY_COLUMNS
    assert list(table.index) == ["mi", "kl_xy", "kl_yx"]
    for name, values in res.draws.items():
        row = table.loc[name]
        assert row["estimate"] == res.point[name]
        assert row["mean"] == pytest.approx(np.mean(values), rel=1e-12)
        assert row["sd"] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        # the recommended interval: the estimate ± 1.96 sd
        sd = np.std(values, ddof=1)
        assert row["normal_2.5%"] == pytest.approx(res.point[name] - 1.959964 * sd, rel=1e-6)
        assert row["normal_97.5%"] == pytest.approx(res.point[name] + 1.959964 * sd, rel=1e-6)
        assert np.isnan(row["r_hat"])  # one chain: undefined, not an error
    assert table.attrs["interval"] == "95% interval (value ± 1.96 sd)"
    hdi = res.summary(0.5, method="hdi")
    assert list(hdi.columns[3:5]) == ["hdi_25%", "hdi_75%"]
    assert hdi.attrs["interval"] == "50% HDI"


def test_summary_posterior_two_chains(rng):
    res = make_posterior_result(rng)
    row = res.summary().loc["cmi"]
    assert row["mean"] == pytest.approx(res.draws["cmi"].mean(), rel=1e-12)
    # iid draws in both chains: R-hat near 1, bulk ESS near the 400 draws
    assert abs(row["r_hat"] - 1) < 0.03
    assert 200 < row["ess_bulk"] < 800


def test_summary_single_draw_is_nan_not_error(rng):
    row = make_single_fit_result(rng).summary().loc["mi"]
    assert row["mean"] == row["estimate"] == 0.213456
    assert np.isnan(row["sd"])


def test_interval_is_value_pm_z_sd_by_default_and_hdi_by_name(rng):
    res = make_bootstrap_result(rng)  # value 0.21, sd exactly 0.04
    assert res.interval() == pytest.approx((0.21 - 1.959964 * 0.04, 0.21 + 1.959964 * 0.04))
    assert res.interval(0.68) == pytest.approx((0.21 - 0.994458 * 0.04, 0.21 + 0.994458 * 0.04))
    kl_sd = np.std(res.draws["kl_xy"], ddof=1)
    assert res.interval(quantity="kl_xy") == pytest.approx(
        (0.52 - 1.959964 * kl_sd, 0.52 + 1.959964 * kl_sd)
    )
    assert res.interval(0.9, method="hdi") == res.hdi(0.9)
    assert np.isnan(make_single_fit_result(rng).interval()).all()
    with pytest.raises(ValueError, match=r"Unknown interval method 'basic'; valid values are"):
        res.interval(method="basic")
    with pytest.raises(
        ValueError, match=r"prob must be a probability in \(0, 1\), e.g. 0.95; got 95"
    ):
        res.interval(95)


def test_hdi_matches_summary_and_normal_theory(rng):
    res = make_bootstrap_result(rng)
    table = res.summary(0.9, method="hdi")
    assert res.hdi(0.9) == (table.loc["mi", "hdi_5%"], table.loc["mi", "hdi_95%"])
    assert res.hdi(0.9, quantity="kl_xy") == (
        table.loc["kl_xy", "hdi_5%"],
        table.loc["kl_xy", "hdi_95%"],
    )
    with pytest.raises(KeyError, match="no draws|No draws"):
        res.hdi(quantity="cmi")
    # the HDI is the shortest interval holding ~94% of the pooled draws
    post = make_posterior_result(rng)
    values = post.draws["cmi"].ravel()
    lo, hi = post.hdi(0.94)
    inside = np.mean((values >= lo) & (values <= hi))
    assert 0.94 <= inside <= 0.94 + 2 / values.size
    central = np.quantile(values, [0.03, 0.97])
    assert hi - lo <= central[1] - central[0]


# ------------------------------------------------------------ InferenceData
def test_to_arviz_groups_dims_and_values(rng):
    res = make_posterior_result(rng)
    idata = res.to_arviz()
    assert isinstance(idata, az.InferenceData)
    post = idata.posterior
    assert post["cmi"].dims == ("chain", "draw")
    assert post["weights"].dims == ("chain", "draw", "component")
    assert post["means"].dims == ("chain", "draw", "component", "dim")
    assert post["covariances"].dims == ("chain", "draw", "component", "dim", "dim2")
    assert post["covariances"].shape == (2, 200, 3, 3, 3)
    # chain-major: draw s = chain * n_draws + draw
    np.testing.assert_array_equal(post["means"].values[1, 7], res.mixture.means[200 + 7])
    np.testing.assert_array_equal(post["cmi"].values, res.draws["cmi"])
    assert post.attrs["backend"] == "pymc"
    assert post.attrs["quantity"] == "cmi"
    assert "sample_stats" in idata.groups()
    assert idata.sample_stats.equals(res.diagnostics.sample_stats)
    # ArviZ's own functions accept it
    assert az.summary(idata, var_names=["cmi"]).shape[0] == 1


def test_bootstrap_is_one_chain(rng):
    idata = make_bootstrap_result(rng).to_arviz()
    assert dict(idata.posterior["mi"].sizes) == {"chain": 1, "draw": 50}
    assert "sample_stats" not in idata.groups()


# ------------------------------------------------------------- persistence
def assert_mixture_equal(a, b):
    for name in ("weights", "means", "covariances"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def assert_results_equal(a: Result, b: Result):
    assert list(a.draws) == list(b.draws)
    for k in a.draws:
        np.testing.assert_array_equal(a.draws[k], b.draws[k])
    assert a.point == b.point
    assert list(a.integration_error) == list(b.integration_error)
    for k in a.integration_error:
        np.testing.assert_array_equal(a.integration_error[k], b.integration_error[k])
    assert_mixture_equal(a.mixture, b.mixture)
    assert a.meta == b.meta
    da, db = a.diagnostics, b.diagnostics
    assert (da.method, da.n_components, da.metric_method, da.reached_max_components) == (
        db.method,
        db.n_components,
        db.metric_method,
        db.reached_max_components,
    )
    assert (da.reference_fit is None) == (db.reference_fit is None)
    if da.reference_fit is not None:
        assert_mixture_equal(da.reference_fit, db.reference_fit)
    assert da.metric_per_k == db.metric_per_k
    np.testing.assert_array_equal(da.n_iter, db.n_iter)
    assert db.n_iter.dtype == np.asarray(da.n_iter).dtype
    np.testing.assert_array_equal(da.converged, db.converged)
    assert db.converged.dtype == bool
    assert list(da.loss_curves) == list(db.loss_curves)
    for name in da.loss_curves:
        assert len(da.loss_curves[name]) == len(db.loss_curves[name])
        for ca, cb in zip(da.loss_curves[name], db.loss_curves[name], strict=True):
            np.testing.assert_array_equal(ca, cb)
    if isinstance(da.sample_stats, xr.Dataset):
        assert db.sample_stats.identical(da.sample_stats)
    else:
        assert db.sample_stats is None


@pytest.mark.parametrize(
    "factory", [make_bootstrap_result, make_posterior_result, make_single_fit_result]
)
def test_netcdf_round_trip_is_lossless(rng, tmp_path, factory, monkeypatch):
    res = factory(rng)
    path = tmp_path / "result.nc"
    res.to_netcdf(path)
    forbid_unpickling(monkeypatch)
    back = load(path)
    assert_results_equal(res, back)
    assert repr(back) == repr(res)
    assert_results_equal(res, gmmmi.load(str(path)))
    assert_results_equal(res, Result.from_netcdf(path))


def test_round_trip_extra_keeps_only_json(rng, tmp_path):
    res = make_bootstrap_result(rng)
    res.to_netcdf(tmp_path / "r.nc")
    extra = load(tmp_path / "r.nc").diagnostics.extra
    assert extra == {"init": "random_sklearn", "seconds": 1.25}


def test_round_trip_awkward_meta(rng, tmp_path):
    """Seeds beyond int64, bools, None, nested lists and numpy scalars survive."""
    res = make_bootstrap_result(rng)
    res.meta.update(
        random_state=2**64 + 3,
        flag=True,
        nothing=None,
        base=np.float64(2.0),
        n_samples=np.int64(7),
        categories=["a", "b"],
    )
    res.to_netcdf(tmp_path / "r.nc")
    meta = load(tmp_path / "r.nc").meta
    assert meta["random_state"] == 2**64 + 3
    assert meta["flag"] is True and meta["nothing"] is None
    assert meta["base"] == 2.0 and meta["n_samples"] == 7
    assert meta["categories"] == ["a", "b"]


def test_arviz_round_trip_in_memory(rng):
    res = make_posterior_result(rng)
    assert_results_equal(res, Result.from_arviz(res.to_arviz()))


def test_loading_a_plain_arviz_file_says_what_is_wrong(tmp_path):
    idata = az.from_dict(posterior={"mu": np.zeros((2, 10))})
    idata.to_netcdf(str(tmp_path / "plain.nc"))
    with pytest.raises(ValueError, match="Not a gmmmi result"):
        load(tmp_path / "plain.nc")


# --------------------------------------------------------------- validation
def test_constructor_rejects_inconsistent_inputs(rng):
    good = make_bootstrap_result(rng, kl=False)
    parts = dict(
        draws=good.draws,
        point=good.point,
        integration_error=good.integration_error,
        mixture=good.mixture,
        diagnostics=good.diagnostics,
        meta=good.meta,
    )
    with pytest.raises(ValueError, match="main quantity"):
        Result(**{**parts, "draws": {"kl_xy": good.draws["mi"]}})
    with pytest.raises(ValueError, match=r"shape \(1, 50\)"):
        Result(**{**parts, "draws": {**good.draws, "kl_xy": np.zeros((2, 25))}})
    with pytest.raises(ValueError, match="2-D"):
        Result(**{**parts, "draws": {"mi": np.zeros(50)}})
    with pytest.raises(ValueError, match="point lacks"):
        Result(**{**parts, "point": {}})
    with pytest.raises(ValueError, match="50 mixtures"):
        Result(**{**parts, "mixture": good.mixture.select(slice(0, 10))})
    wrong = dataclasses.replace(good.diagnostics, sample_shape=(2, 25))
    with pytest.raises(
        ValueError,
        match=r"^diagnostics\.sample_shape \(2, 25\) must be the draws' \(chain, draw\) shape "
        r"\(1, 50\)\.$",
    ):
        Result(**{**parts, "diagnostics": wrong})


def test_mixing_messages_check_posteriors_only(rng):
    """R-hat and ESS of the main quantity belong to the Result, whatever the backend."""
    posterior = make_posterior_result(rng)
    assert posterior.mixing_messages() == []
    posterior.draws["cmi"][1] += 0.2  # the two chains disagree
    messages = posterior.mixing_messages()
    assert messages[0].startswith("R-hat of MI across chains is ")
    assert make_bootstrap_result(rng).mixing_messages() == []


def test_round_trip_without_integration_errors(rng, tmp_path):
    """An empty group is not written to the file; loading still gives an empty dict."""
    res = make_single_fit_result(rng)
    res.integration_error.clear()
    res.to_netcdf(tmp_path / "r.nc")
    back = load(tmp_path / "r.nc")
    assert back.integration_error == {}
    assert_results_equal(res, back)


# ---------------------------------------------------- real results, every field
def assert_same(a, b, where="result"):
    """a and b are equal in every attribute, recursively (arrays: dtype, shape, values)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{where}: {type(b).__name__} instead of an array"
        assert (a.dtype, a.shape) == (b.dtype, b.shape), f"{where}: dtype or shape"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, xr.Dataset):
        assert a.identical(b), where
    elif isinstance(a, pd.DataFrame):  # e.g. the fit check's table
        assert isinstance(b, pd.DataFrame), f"{where}: {type(b).__name__} instead of a DataFrame"
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, LossCurves):  # loss curves recorded when read come back as a dict
        assert_same(dict(a), b, where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), f"{where}: length"
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{where}[{i}]")
    elif hasattr(a, "__dict__"):
        assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
        assert_same(vars(a), vars(b), where)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b and isinstance(b, bool) == isinstance(a, bool), f"{where}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def real_results():
    """Real numba results: MI with KL, CMI, discrete y, single fit, reselected K."""
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal([0, 0, 0], [[1, 0.6, 0.3], [0.6, 1, 0.2], [0.3, 0.2, 1]], 300)
    labels = np.where(X[:, 1] > 0, "up", "down")
    fast = {"n_bootstrap": 6, "n_inits": 2, "max_components": 3, "random_state": 0}
    return {
        "mi_kl": gmmmi.estimate(X[:, :2], kl=True, **fast),
        "cmi": gmmmi.estimate(X[:, 0], X[:, 1], z=X[:, 2], **fast),
        "discrete_y": gmmmi.estimate(X[:, [0, 2]], labels, discrete_y=True, **fast),
        "single_mc": gmmmi.estimate(
            X[:, :2], **{**fast, "n_bootstrap": 0}, integral_method="mc", MC_samples=1000
        ),
        "reselected": gmmmi.estimate(X[:, :2], reselect_components=True, **fast),
    }


@pytest.mark.parametrize("name", ["mi_kl", "cmi", "discrete_y", "single_mc", "reselected"])
def test_real_results_round_trip_every_attribute(real_results, name, tmp_path, monkeypatch):
    res = real_results[name]
    forbid_unpickling(monkeypatch)
    res.to_netcdf(tmp_path / "r.nc")
    back = load(tmp_path / "r.nc")
    assert_same(res, back)
    extra = back.diagnostics.extra
    assert "extra_dropped" not in extra
    if name == "discrete_y":
        assert extra["class_weights"].shape == (6, 2)
        # each category's own diagnostics come back, with their reference fits
        assert len(back.diagnostics.per_category) == 2
        extra = back.diagnostics.per_category[1].extra
        assert back.diagnostics.per_category[1].reference_fit.n_draws == 1
    for key in ("cv_scores", "fold_assignment", "cv_n_iter"):
        assert isinstance(extra[key], np.ndarray), key
    if name == "reselected":
        assert extra["replica_n_components"].dtype == np.int64


# 50 draws per chain on purpose (the test is the round trip)
@pytest.mark.filterwarnings("ignore:Bulk effective sample size of MI:gmmmi.ConvergenceWarning")
@pytest.mark.slow
def test_pymc_result_round_trips_every_attribute(tmp_path):
    pytest.importorskip("pymc")
    X = np.random.default_rng(1).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 200)
    res = gmmmi.estimate(
        X, backend="pymc", draws=50, tune=50, chains=2, cores=1, random_state=0, progress=False
    )
    res.to_netcdf(tmp_path / "r.nc")
    assert_same(res, load(tmp_path / "r.nc"))


# ------------------------------------------------------- damaged and foreign files
@pytest.fixture
def saved(rng, tmp_path):
    """A real result saved to a file, and the file's bytes."""
    X = np.random.default_rng(1).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 300)
    res = gmmmi.estimate(X, n_bootstrap=5, random_state=0)
    path = tmp_path / "r.nc"
    res.to_netcdf(path)
    return res, path.read_bytes()


def test_truncated_file_is_one_gmmmi_error_naming_it(saved, tmp_path):
    path = tmp_path / "cut.nc"
    path.write_bytes(saved[1][: len(saved[1]) // 2])
    with pytest.raises(ResultFileError, match=r"'.*cut\.nc' cannot be read as a netCDF-4 file"):
        load(path)
    (tmp_path / "text.nc").write_text("x,y\n1,2\n")
    with pytest.raises(ResultFileError, match=r"text\.nc' cannot be read .* of another format"):
        load(tmp_path / "text.nc")
    with pytest.raises(FileNotFoundError, match=r"No file '.*none\.nc' to load a gmmmi result"):
        load(tmp_path / "none.nc")


def test_every_flipped_bit_is_refused_or_harmless(saved, tmp_path, capfd):
    """A flipped bit gives a ResultFileError or the very same result, never other numbers."""
    res, raw = saved
    path = tmp_path / "flip.nc"
    outcomes = set()
    for pos in range(0, len(raw), max(1, len(raw) // 80)):
        damaged = bytearray(raw)
        damaged[pos] ^= 0x10
        path.write_bytes(bytes(damaged))
        try:
            back = load(path)
        except ResultFileError as err:
            assert "flip.nc" in str(err)
            outcomes.add("damaged" if "checksum" in str(err) else "unreadable")
            continue
        assert_same(res, back)
        outcomes.add("harmless")
    assert outcomes == {"damaged", "unreadable", "harmless"}
    assert "Exception ignored" not in capfd.readouterr().err


def test_foreign_and_incomplete_files_say_what_is_missing(saved, tmp_path):
    xr.Dataset({"a": ("x", np.arange(3))}).to_netcdf(tmp_path / "foreign.nc", engine="h5netcdf")
    with pytest.raises(ResultFileError, match=r"foreign\.nc': Not a gmmmi result: expected a"):
        load(tmp_path / "foreign.nc")
    res = saved[0]
    groups, attrs = gmmmi._arviz.groups_of(res.to_arviz())
    del groups["point_estimate"], attrs["gmmmi_checksum"]
    gmmmi._arviz.write_netcdf(gmmmi._arviz.inference_data(groups, attrs=attrs), tmp_path / "m.nc")
    with pytest.raises(
        ResultFileError, match=r"m\.nc': Not a complete gmmmi result: the group 'point_estimate'"
    ):
        load(tmp_path / "m.nc")
    groups, attrs = gmmmi._arviz.groups_of(res.to_arviz())
    del attrs["gmmmi_checksum"]
    groups["fit_diagnostics"].attrs["gmmmi_diagnostics"] = "{broken"
    gmmmi._arviz.write_netcdf(gmmmi._arviz.inference_data(groups, attrs=attrs), tmp_path / "j.nc")
    with pytest.raises(
        ResultFileError, match=r"j\.nc' is not a complete gmmmi result: its metadata is damaged"
    ):
        load(tmp_path / "j.nc")
    groups, attrs = gmmmi._arviz.groups_of(res.to_arviz())
    del attrs["gmmmi_checksum"]
    groups["posterior"] = groups["posterior"].drop_vars("means")
    gmmmi._arviz.write_netcdf(gmmmi._arviz.inference_data(groups, attrs=attrs), tmp_path / "v.nc")
    message = r"v\.nc' is not a complete gmmmi result: No variable named 'means'"
    with pytest.raises(ResultFileError, match=message):
        load(tmp_path / "v.nc")
