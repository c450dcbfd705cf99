"""EstimateMI: the original GMM-MI API as a façade over gmmmi.estimate."""

import math

import numpy as np
import pytest

import gmmmi
from gmmmi import EstimateMI
from gmmmi.datasets import categorical_mi
from gmmmi.exceptions import ResultFileError
from gmmmi.mi import NotFittedError
from gmmmi.param_holders import (
    GMMFitParamHolder,
    MIDistParamHolder,
    SelectComponentsParamHolder,
)

from helpers import forbid_unpickling
from reference import gaussian_cmi, gaussian_kl, gaussian_mi

COV = np.array([[1.0, 0.6], [0.6, 1.0]])
TRUTH = gaussian_mi(COV, [0], [1])  # 0.2231 nat
QUAD = dict(integral_method="quad")


def gaussian_data(rng, n=400, mean=(0.0, 0.0), cov=COV):
    return rng.multivariate_normal(mean, cov, n)


def within(value, sd, truth, k=4.0, floor=0.0):
    """|value - truth| <= k sd (+ floor for quantities whose sd can be tiny)."""
    return abs(value - truth) <= k * sd + floor


@pytest.fixture
def fitted(rng):
    """An estimator fitted to 400 correlated Gaussian points, seeded."""
    X = gaussian_data(rng)
    return EstimateMI(random_state=11).fit(X), X


# ------------------------------------------------------------------ the façade
def test_import_paths():
    from gmmmi.mi import EstimateMI as E

    assert E is gmmmi.EstimateMI


def test_fit_is_gmmmi_estimate_without_bootstrap(fitted):
    est, X = fitted
    ref = gmmmi.estimate(X, random_state=11, n_bootstrap=0)
    np.testing.assert_array_equal(est.fit_result.mixture.means, ref.mixture.means)
    assert est.fit_result.diagnostics.method == "single fit"
    assert est.best_components == ref.n_components == 1
    assert est.converged and not est.reached_max_components
    table = est.results_dict
    assert list(table) == ref.diagnostics.metric_per_k["n_components"]
    assert set(table[1]) == {"valid_score", "aic", "bic"}
    assert table[1]["aic"] == ref.diagnostics.metric_per_k["aic"][0]


def test_estimate_is_gmmmi_estimate_from_the_fit(fitted):
    est, X = fitted
    mean, sd = est.estimate(MIDistParamHolder(n_bootstrap=8, **QUAD))
    ref = gmmmi.estimate(  # EstimateMI keeps GMM-MI's plug-in estimate: no bias correction
        X,
        random_state=11,
        init=est.fitted_mixtures(),
        n_bootstrap=8,
        integral_method="quad",
        bias_correction=False,
    )
    assert (mean, sd) == (ref.value, ref.sd)
    np.testing.assert_array_equal(est.result.draws["mi"], ref.draws["mi"])


def test_estimates_reuse_the_fit_without_choosing_k(fitted, monkeypatch):
    est, _ = fitted

    def no_selection(*args, **kwargs):
        raise AssertionError("estimate() chose K again")

    monkeypatch.setattr("gmmmi._em.procedure.select_components", no_selection)
    small = est.estimate(MIDistParamHolder(n_bootstrap=6, **QUAD))
    assert est.result.n_draws == 6
    assert est.result.diagnostics.metric_per_k == {}
    assert est.result.diagnostics.extra["warm_start"]
    large = est.estimate(MIDistParamHolder(n_bootstrap=30, integral_method="MC", MC_samples=2e4))
    assert est.result.n_draws == 30 and est.result.meta["integral_method"] == "mc"
    assert est.result.n_components == est.best_components
    for mean, sd in (small, large):
        assert within(mean, sd, TRUTH)
    # the same settings give the same numbers: the fit's seed is reused
    assert est.estimate(MIDistParamHolder(n_bootstrap=6, **QUAD)) == small


def test_hyperparameters_read_through_the_holders(fitted):
    est, _ = fitted
    assert est.threshold_fit == 1e-5 and est.n_inits == 3
    with pytest.raises(AttributeError, match="n_bootstrap"):
        _ = est.n_bootstrap  # no estimate yet
    est.estimate(MIDistParamHolder(n_bootstrap=3, **QUAD))
    assert est.n_bootstrap == 3 and est.integral_method == "quad"
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = est.nonsense


def test_no_bootstrap_gives_no_sd(fitted):
    est, _ = fitted
    mean, sd = est.estimate(MIDistParamHolder(n_bootstrap=0))
    assert sd is None and est.result.diagnostics.method == "single fit"
    assert abs(mean - est.fit_result.value) < 0.01  # MC (1e5 points) vs quadrature


def test_readme_flow_with_holders(rng):
    X = gaussian_data(rng, n=300)
    est = EstimateMI(
        gmm_fit_params=GMMFitParamHolder(threshold_fit=1e-5, reg_covar=1e-15),
        select_components_params=SelectComponentsParamHolder(n_inits=3, n_folds=2),
        random_state=3,
    )
    est.fit(X)
    mean, sd = est.estimate(mi_dist_params=MIDistParamHolder(n_bootstrap=20, MC_samples=2e4))
    assert 0.01 < sd < 0.2 and within(mean, sd, TRUTH)
    assert est.result.meta["options"]["n_inits"] == 3


def test_two_1d_arrays_and_bits(rng):
    X = gaussian_data(rng)
    est = EstimateMI(random_state=5)
    nat = est.fit_estimate(X[:, 0], X[:, 1], mi_dist_params=MIDistParamHolder(n_bootstrap=5))
    bit = est.estimate(MIDistParamHolder(n_bootstrap=5), base=2)
    np.testing.assert_allclose(np.array(bit) * math.log(2), nat, rtol=1e-12)
    assert est.result.unit == "bit"


def test_fixed_components_number(rng):
    X = gaussian_data(rng, n=300)
    sel = SelectComponentsParamHolder(fixed_components_number=2)
    est = EstimateMI(select_components_params=sel, random_state=2).fit(X)
    assert est.best_components == 2 and est.results_dict == {}
    mean, sd = est.estimate(MIDistParamHolder(n_bootstrap=10, **QUAD))
    assert est.result.n_components == 2 and within(mean, sd, TRUTH)


def test_kl_forward_and_reverse(rng):
    mean = np.array([0.0, 1.0])
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    X = gaussian_data(rng, n=2000, mean=mean, cov=cov)
    est = EstimateMI(random_state=4).fit(X)
    params = MIDistParamHolder(n_bootstrap=10, **QUAD)
    est.estimate(params, include_kl=True)
    forward = gaussian_kl(mean[0], cov[0, 0], mean[1], cov[1, 1])
    assert within(est.KL_mean, est.KL_std, forward, floor=0.01)
    est.estimate(params, include_kl=True, kl_order="reverse")
    reverse = gaussian_kl(mean[1], cov[1, 1], mean[0], cov[0, 0])
    assert abs(forward - reverse) > 0.1  # the two orders are distinguishable
    assert within(est.KL_mean, est.KL_std, reverse, floor=0.01)
    est.estimate(params)
    assert est.KL_mean is None and est.KL_std is None


def test_conditional_mi(rng):
    cov = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    X = gaussian_data(rng, n=1000, mean=np.zeros(3), cov=cov)
    est = EstimateMI(random_state=1)
    mean, sd = est.fit_estimate(X, mi_dist_params=MIDistParamHolder(n_bootstrap=10, **QUAD))
    assert est.result.quantity == "cmi"
    assert within(mean, sd, gaussian_cmi(cov, [0], [1], [2]))


# ------------------------------------------------------------------- errors
def test_not_fitted():
    est = EstimateMI()
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        est.estimate()
    with pytest.raises(ValueError, match="not fitted"):
        est.plot_fitted_model()
    assert not est.fit_done and repr(est) == "EstimateMI(not fitted)"


def test_bad_arguments(fitted):
    est, _ = fitted
    with pytest.raises(ValueError, match="kl_order"):
        est.estimate(kl_order="sideways")
    with pytest.raises(TypeError, match="mi_dist_params must be a MIDistParamHolder"):
        est.estimate(mi_dist_params={"n_bootstrap": 3})
    with pytest.raises(TypeError, match="gmm_fit_params must be a GMMFitParamHolder"):
        EstimateMI(gmm_fit_params=SelectComponentsParamHolder())
    with pytest.raises(ValueError, match="integral_method"):
        MIDistParamHolder(integral_method="trapezoid")
    with pytest.raises(ValueError, match="n_folds"):
        SelectComponentsParamHolder(n_folds=1)
    with pytest.raises(ValueError, match="estimate_categorical needs a model made by"):
        est.estimate_categorical()


def test_bad_data():
    with pytest.raises(ValueError, match="MI needs two variables"):
        EstimateMI().fit(np.zeros((50, 1)))
    with pytest.raises(ValueError, match="same number of samples|50 and 49"):
        EstimateMI().fit(np.zeros(50), np.zeros(49))


# -------------------------------------------------------------- categorical
def categorical_data(rng, n, weights, means=(0.0, 2.0), sds=(1.0, 1.0)):
    labels = rng.choice(len(weights), size=n, p=weights)
    return rng.normal(np.asarray(means)[labels], np.asarray(sds)[labels]), labels


def test_categorical_unbalanced_classes(rng):
    """90/10 classes: truth 0.142 nat, where equal class weights (GMM-MI 0.8) give 0.337."""
    weights = (0.9, 0.1)
    truth = categorical_mi(weights, (0.0, 2.0), (1.0, 1.0))
    equal_weights = categorical_mi((0.5, 0.5), (0.0, 2.0), (1.0, 1.0))
    x, labels = categorical_data(rng, 3000, weights)
    names = np.where(labels == 0, "common", "rare")  # labels of any hashable type
    est = EstimateMI(random_state=7)
    mean, sd = est.fit_estimate_categorical(x, names, MIDistParamHolder(n_bootstrap=20, **QUAD))
    assert est.result.meta["categories"] == ["common", "rare"]
    assert est.best_components == [est.fitted_mixtures()[c].n_components for c in (0, 1)]
    assert within(mean, sd, truth)
    assert abs(mean - equal_weights) > 10 * sd
    # estimate_categorical reuses the per-category fits
    again = est.estimate_categorical(MIDistParamHolder(n_bootstrap=0))
    assert again[1] is None
    assert all(g.extra["warm_start"] for g in est.result.diagnostics.per_category)


# iid rows: a false alarm of the serial check (r6 = 0.12 at n = 1000, 3.8 se; 1.1 % of iid sets)
@pytest.mark.filterwarnings("ignore:.*look serially dependent:gmmmi.SerialDependenceWarning")
def test_categorical_balanced_classes(rng):
    truth = categorical_mi((0.5, 0.5), (0.0, 2.0), (1.0, 1.0))  # 0.337 nat
    x, labels = categorical_data(rng, 1000, (0.5, 0.5))
    est = EstimateMI(random_state=8).fit_categorical(x, labels)
    mean, sd = est.estimate_categorical(MIDistParamHolder(n_bootstrap=15, **QUAD))
    assert within(mean, sd, truth)


def test_categorical_errors(rng):
    x = rng.normal(size=100)
    with pytest.raises(ValueError, match="single category"):
        EstimateMI().fit_categorical(x, np.zeros(100, dtype=int))
    with pytest.raises(ValueError, match="y has 99|100 and 99|same number"):
        EstimateMI().fit_categorical(x, np.arange(99) % 2)
    lonely = np.zeros(100, dtype=int)
    lonely[0] = 1
    with pytest.raises(ValueError, match="Category 1 could not be fitted: Too few samples"):
        EstimateMI().fit_categorical(x, lonely)
    with pytest.raises(ValueError, match="needs Y"):
        EstimateMI().fit_categorical(x, None)
    est = EstimateMI(random_state=0).fit_categorical(x, np.arange(100) % 2)
    with pytest.raises(ValueError, match="estimate needs a model made by fit"):
        est.estimate()


# -------------------------------------------------------------- persistence
def test_save_load_round_trip(fitted, tmp_path, monkeypatch):
    est, _ = fitted
    params = MIDistParamHolder(n_bootstrap=5, **QUAD)
    first = est.estimate(params, include_kl=True)
    path = tmp_path / "estimator.nc"
    est.save(path)
    forbid_unpickling(monkeypatch)
    loaded = EstimateMI.load(path)
    assert (loaded.MI_mean, loaded.MI_std, loaded.KL_mean) == (*first, est.KL_mean)
    assert loaded.mi_dist_params == params
    assert loaded.gmm_fit_params == est.gmm_fit_params
    assert loaded.results_dict == est.results_dict
    assert loaded.best_components == est.best_components
    assert loaded.estimate(params) == est.estimate(params)
    # the file is also a plain result (the fit)
    assert gmmmi.load(path).value == est.fit_result.value


# iid rows: a false alarm of the serial check (r1 = -0.18 at n = 400; 1.1 % of iid sets)
@pytest.mark.filterwarnings("ignore:.*look serially dependent:gmmmi.SerialDependenceWarning")
def test_save_load_categorical(rng, tmp_path):
    x, labels = categorical_data(rng, 400, (0.7, 0.3))
    est = EstimateMI(random_state=9).fit_categorical(x, np.where(labels == 0, "a", "b"))
    params = MIDistParamHolder(n_bootstrap=4, **QUAD)
    expected = est.estimate_categorical(params)
    est.save(tmp_path / "cat.nc")
    loaded = EstimateMI.load(tmp_path / "cat.nc")
    assert loaded.estimate_categorical(params) == expected


def test_load_rejects_a_plain_result(fitted, tmp_path):
    est, _ = fitted
    est.fit_result.to_netcdf(tmp_path / "plain.nc")
    with pytest.raises(ValueError, match="holds no EstimateMI"):
        EstimateMI.load(tmp_path / "plain.nc")
    with pytest.raises(ValueError, match="not fitted"):
        EstimateMI().save(tmp_path / "nothing.nc")


def _rewrite(path, out, change):
    """Copy the file at ``path`` to ``out`` with ``change(groups, attrs)`` applied."""
    groups, attrs = gmmmi._arviz.read_netcdf(path)
    change(groups, attrs)
    gmmmi._arviz.write_netcdf(gmmmi._arviz.inference_data(groups, attrs=attrs), out)


def test_load_of_a_damaged_file_is_one_error_naming_it(fitted, tmp_path, capfd):
    """Truncated, bit-flipped, edited or incomplete files: ResultFileError, never raw h5py."""
    est, X = fitted
    path = tmp_path / "e.nc"
    est.save(path)
    raw = path.read_bytes()
    (tmp_path / "cut.nc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ResultFileError, match=r"^'.*cut\.nc' cannot be read as a netCDF-4 file"):
        EstimateMI.load(tmp_path / "cut.nc")
    with pytest.raises(FileNotFoundError, match=r"^No file '.*none\.nc' to load"):
        EstimateMI.load(tmp_path / "none.nc")

    # one stored data value edited (it moved the MI from 0.2 to 1e-8 silently): the
    # estimator's data and settings are inside a checksum of their own
    def edit_data(groups, attrs):
        ds = groups["estimate_mi"]
        x = ds["x"].values.copy()
        x[0, 0] = 1e6
        groups["estimate_mi"] = ds.assign(x=(ds["x"].dims, x))

    _rewrite(path, tmp_path / "edited.nc", edit_data)
    damaged = r"^'.*edited\.nc' is damaged: its content does not match the checksum"
    with pytest.raises(ResultFileError, match=damaged):
        EstimateMI.load(tmp_path / "edited.nc")

    def drop_settings(groups, attrs):
        del attrs["gmmmi_estimate_mi_checksum"]
        del groups["estimate_mi"].attrs["gmmmi_estimate_mi"]

    _rewrite(path, tmp_path / "part.nc", drop_settings)
    with pytest.raises(
        ResultFileError,
        match=r"^'.*part\.nc' is not a complete EstimateMI file: 'gmmmi_estimate_mi' is missing",
    ):
        EstimateMI.load(tmp_path / "part.nc")
    # every flipped bit: an error naming the file, or the very same estimator
    outcomes = set()
    for pos in range(0, len(raw), len(raw) // 60):
        flipped = bytearray(raw)
        flipped[pos] ^= 0x10
        (tmp_path / "flip.nc").write_bytes(bytes(flipped))
        try:
            back = EstimateMI.load(tmp_path / "flip.nc")
        except ResultFileError as err:
            assert "flip.nc" in str(err)
            outcomes.add("damaged" if "checksum" in str(err) else "unreadable")
            continue
        np.testing.assert_array_equal(back._x, X)
        assert back.fit_result.point == est.fit_result.point
        assert (back.gmm_fit_params, back.random_state) == (est.gmm_fit_params, 11)
        assert back.select_components_params == est.select_components_params
        outcomes.add("harmless")
    assert outcomes == {"damaged", "unreadable", "harmless"}
    assert "Exception ignored" not in capfd.readouterr().err
