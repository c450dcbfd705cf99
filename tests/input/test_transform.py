"""Margins that do not matter: gmmmi.margins and estimate(transform=...)."""

import contextlib
import io
import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

import gmmmi
from gmmmi import margins
from gmmmi.datasets import gaussian, paper_mixture, student_t, with_margins
from gmmmi.margins import MarginalMap, MarginChoice, MarginReason, apply_maps, fit_marginal_map

TRUTH = -0.5 * math.log(1 - 0.6**2)


def _mixture_map():
    return MarginalMap("x", np.array([0.3, 0.7]), np.array([-2.0, 1.0]), np.array([0.5, 1.5]))


def test_map_is_phi_inverse_of_the_mixture_cdf():
    m = _mixture_map()
    x = np.linspace(-6.0, 8.0, 57)
    cdf = 0.3 * stats.norm.cdf(x, -2.0, 0.5) + 0.7 * stats.norm.cdf(x, 1.0, 1.5)
    np.testing.assert_allclose(m(x), stats.norm.ppf(cdf), rtol=1e-10, atol=1e-10)


def test_map_is_increasing_and_finite_far_in_both_tails():
    m = _mixture_map()
    x = np.concatenate([-np.logspace(6, 0, 40), np.logspace(0, 6, 40)])
    t = m(x)
    assert np.isfinite(t).all()
    assert (np.diff(t) > 0).all()
    # far in a tail the widest component decides: t -> (x - 1) / 1.5 (up to log terms)
    assert t[-1] == pytest.approx((1e6 - 1.0) / 1.5, rel=1e-3)


def test_log_derivative_matches_a_finite_difference():
    m = _mixture_map()
    x = np.linspace(-5.0, 7.0, 31)
    h = 1e-5
    numeric = np.log((m(x + h) - m(x - h)) / (2 * h))
    np.testing.assert_allclose(m.log_derivative(x), numeric, atol=1e-6)


def test_fitted_map_gaussianises_skewed_and_heavy_tailed_columns():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(5000)
    for column in (np.exp(v), v**3, stats.cauchy.ppf(stats.norm.cdf(v))):
        m = fit_marginal_map(column, "x", np.random.default_rng(1))
        assert not m.affine
        assert stats.kstest(m(column), "norm").statistic < 0.03


def test_asinh_scale_log_density_is_normalised_and_matches_the_derivative():
    m = MarginalMap(
        "x", np.array([0.4, 0.6]), np.array([-1.0, 1.0]), np.array([0.7, 1.2]), "asinh", 2.0, 3.0
    )
    x = np.linspace(-2000.0, 2000.0, 400001)
    assert np.trapezoid(np.exp(m.log_density(x)), x) == pytest.approx(1.0, abs=1e-3)
    h = 1e-5
    x = np.linspace(-50.0, 50.0, 41)
    numeric = np.log((m(x + h) - m(x - h)) / (2 * h))
    np.testing.assert_allclose(m.log_derivative(x), numeric, atol=1e-5)
    np.testing.assert_array_equal(MarginalMap.from_dict(m.to_dict())(x), m(x))


def test_gaussian_column_keeps_the_affine_map():
    for seed in range(5):
        column = 3.0 + 2.0 * np.random.default_rng(seed).standard_normal(2000)
        assert fit_marginal_map(column, "x", np.random.default_rng(seed)).affine


def test_auto_on_gaussian_data_is_exactly_the_raw_estimate():
    X = np.random.default_rng(0).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 500)
    auto = gmmmi.estimate(X, random_state=0, n_bootstrap=10)
    raw = gmmmi.estimate(X, random_state=0, n_bootstrap=10, transform="none")
    np.testing.assert_array_equal(auto.draws["mi"], raw.draws["mi"])
    assert auto.transform["chosen"] == "none"
    assert auto.transform["reason"] == "every margin fits one Gaussian"
    assert "margins" not in str(auto)


@pytest.mark.slow
def test_estimate_is_invariant_under_monotone_maps_of_each_variable():
    """Issue 9's criterion: raw, exp, cube, tanh(2·); N=2000; within ½ sd of raw, 3 sd of truth."""
    X = np.random.default_rng(2).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 2000)
    raw = gmmmi.estimate(X, random_state=0)
    for f in (np.exp, lambda v: v**3, lambda v: np.tanh(2 * v)):
        res = gmmmi.estimate(f(X), random_state=0)
        assert res.transform["chosen"] == "gaussianize"
        assert abs(res.value - raw.value) < 0.5 * raw.sd
        assert abs(res.value - TRUTH) < 3 * res.sd


@pytest.mark.slow
def test_cmi_and_categorical_mi_are_invariant_too():
    W = np.random.default_rng(0).multivariate_normal(
        [0, 0, 0], [[1, 0.3, 0.5], [0.3, 1, 0.2], [0.5, 0.2, 1]], 2000
    )
    raw = gmmmi.estimate(W[:, 0], W[:, 1], z=W[:, 2], random_state=0)
    mapped = gmmmi.estimate(np.exp(W[:, 0]), W[:, 1] ** 3, z=np.exp(W[:, 2]), random_state=0)
    assert mapped.transform["chosen"] == "gaussianize"
    assert abs(mapped.value - raw.value) < 0.5 * raw.sd
    # x and the sign of a Gaussian correlated 0.3 with it: I = ln 2 - E[h(Phi(0.3 x / 0.954))]
    label = (W[:, 1] > 0).astype(int)
    truth = 0.0295048
    raw = gmmmi.estimate(W[:, 0], label, discrete_y=True, random_state=0)
    mapped = gmmmi.estimate(np.exp(3 * W[:, 0]), label, discrete_y=True, random_state=0)
    assert mapped.transform["chosen"] == "gaussianize"
    # one map serves both categories, so each category's mapped x is only nearly Gaussian:
    # within one sd of the raw estimate (0.8 sd here), and both within 3 sd of the truth
    assert abs(mapped.value - raw.value) < raw.sd
    assert abs(raw.value - truth) < 3 * raw.sd and abs(mapped.value - truth) < 3 * mapped.sd


RAW_MARGINS_TEXT = (
    "the raw data's fit models every margin (its normal scores have a Gaussian's skewness and "
    "kurtosis) and scores above the Gaussian copula of those margins: the maps were not fitted"
)


def test_mixture_with_multimodal_margins_keeps_the_raw_fit(monkeypatch):
    """The paper's D3: a Gaussian mixture is modelled better raw. The pre-test sees it from the
    raw fit alone (no map fitted), and the full comparison, made when the pre-test is off,
    agrees with it.
    """
    X = paper_mixture("D3").sample(2000, np.random.default_rng(3))[0]
    res = gmmmi.estimate(X, random_state=0, n_bootstrap=0)
    assert res.margins.reason is MarginReason.RAW_MARGINS and res.margins.maps == ()
    assert MarginReason.RAW_MARGINS.value == RAW_MARGINS_TEXT
    crit = res.transform["criterion"]
    assert crit["none"] - crit["gaussian copula"] > margins.COPULA_GAP
    assert str(res).endswith(
        "\n  margins: raw data kept, no map fitted (the raw fit models every margin); "
        f"log-lik/row on the data scale: raw {crit['none']:.4f}, Gaussian copula of its margins "
        f"{crit['gaussian copula']:.4f}"
    )
    assert MarginChoice.from_dict(res.transform) == res.margins
    monkeypatch.setattr(margins, "COPULA_GAP", np.inf)  # the pre-test never skips
    full = gmmmi.estimate(X, random_state=0, n_bootstrap=0)
    assert full.margins.reason is MarginReason.HELDOUT and full.transform["chosen"] == "none"
    crit = full.transform["criterion"]
    assert crit["none"] > crit["gaussianize"]
    assert [c["n_components"] > 1 for c in full.transform["columns"]] == [True, True]
    assert "margins: raw data kept; held-out log-lik/row on the data scale" in str(full)
    assert full.value == res.value


def test_margins_the_raw_fit_models_with_a_gaussian_copula_still_reach_the_comparison():
    """log and logistic margins of a Gaussian: the raw fit models each margin (its normal
    scores look Gaussian), but the Gaussian copula of its margins scores within COPULA_GAP of
    it, so the maps are fitted and compared (and win).
    """
    for shape, seed in (("log", 0), ("logistic", 1)):
        x, y = with_margins(gaussian(0.6), shape).sample(1000, seed)
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=0)
        assert res.margins.reason is MarginReason.HELDOUT, shape
        assert res.margins.chosen == "gaussianize", shape


def test_a_scale_mixture_that_wins_the_raw_search_leaves_the_choice_to_the_comparison(
    monkeypatch,
):
    """Student-t data: a scale mixture wins the raw search, so its held-out score is not that
    of the Gaussian fit whose margins the pre-test would read; the pre-test steps aside and
    the full comparison decides (here too the raw data).
    """
    read = []
    real = margins.raw_margins_suffice
    monkeypatch.setattr(margins, "raw_margins_suffice", lambda *a: read.append(a) or real(*a))
    x, y = student_t(3.0, 0.6).sample(1000, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=0)
    assert res.diagnostics.extra.get("scale_mixture")
    assert read == []
    assert res.margins.reason is MarginReason.HELDOUT and res.margins.chosen == "none"


def test_the_search_of_the_comparison_is_reused_bit_for_bit(monkeypatch):
    """'auto' compares raw and mapped data with the same search as the fit that follows; the
    fit reuses it (kept on the backend instance by its heldout_loglik), and gives exactly what
    a fresh search gives.
    """
    import gmmmi._em.procedure as procedure

    X = paper_mixture("D3").sample(2000, np.random.default_rng(3))[0]
    searches = []
    select = procedure.select_components
    monkeypatch.setattr(
        procedure, "select_components", lambda *a, **k: searches.append(1) or select(*a, **k)
    )
    reused = gmmmi.estimate(X, random_state=0, n_bootstrap=5)
    # the raw data's search only (the pre-test needs no mapped one), and no second
    assert reused.transform["chosen"] == "none" and len(searches) == 1
    fresh = gmmmi.estimate(X, random_state=0, n_bootstrap=5, transform="none")
    np.testing.assert_array_equal(reused.draws["mi"], fresh.draws["mi"])
    assert reused.value == fresh.value
    assert reused.diagnostics.metric_per_k == fresh.diagnostics.metric_per_k
    # the comparison's searches skip the loss curves; the one the fit takes records them
    curves, fresh_curves = reused.diagnostics.loss_curves, fresh.diagnostics.loss_curves
    assert len(curves["train"]) == len(fresh_curves["train"]) > 0
    for part in ("train", "valid"):
        for a, b in zip(curves[part], fresh_curves[part], strict=True):
            np.testing.assert_array_equal(a, b)


def test_forced_map_is_recorded_printed_saved_and_loaded(tmp_path):
    x, y = with_margins(gaussian(0.6), "exp").sample(800, 0)
    res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=5, transform="gaussianize")
    record = res.transform
    assert (record["requested"], record["chosen"]) == ("gaussianize", "gaussianize")
    assert [c["label"] for c in record["columns"]] == ["x0", "y0"]
    assert "  margins: normal scores through 1-D mixture CDFs (x0:" in str(res)
    assert res.summary().attrs["margins"].startswith("margins: normal scores")
    res.to_netcdf(tmp_path / "r.nc")
    back = gmmmi.load(tmp_path / "r.nc")
    assert back.transform == record
    assert str(back) == str(res)
    # the mixture lives in the mapped coordinates: check_fit and plot_fit map the data
    X = np.column_stack([x, y])
    np.testing.assert_allclose(
        apply_maps(record, X)[:, 0], MarginalMap.from_dict(record["columns"][0])(x)
    )
    assert res.check_fit(x, y).ok


# expected: EstimateMI keeps the raw fit of exp margins on purpose, which its fit check flags
# (and which the sharp-relation check finds just above its limit, 1.52x against 1.49x)
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore::gmmmi.SharpRelationWarning")
def test_estimate_mi_class_keeps_the_raw_fit():
    x, y = with_margins(gaussian(0.6), "cube").sample(400, 0)
    mi = gmmmi.EstimateMI(random_state=0)
    mi.fit_estimate(np.column_stack([x, y]), mi_dist_params=gmmmi.MIDistParamHolder(n_bootstrap=5))
    assert mi.result.transform["chosen"] == "none"
    assert mi.result.transform["requested"] == "none"


def test_unknown_transform_is_refused():
    X = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(ValueError, match=r"^Unknown transform 'rank'; valid values are 'auto', "):
        gmmmi.estimate(X, transform="rank")
    with pytest.raises(ValueError, match=r"^Unknown transform 'rank'; valid values are 'auto', "):
        gmmmi.estimate_many([(X[:, 0], X[:, 1])], transform="rank")


def test_kl_with_a_map_is_refused_and_auto_keeps_the_raw_data():
    x, y = np.exp(np.random.default_rng(0).standard_normal((2, 300)))
    message = (
        r"^transform='gaussianize' with kl=True: KL\[p\(x\) \|\| p\(y\)\] is not invariant "
        r"under separate maps of x and y"
    )
    with pytest.raises(ValueError, match=message):
        gmmmi.estimate(x, y, kl=True, transform="gaussianize")
    res = gmmmi.estimate(x, y, kl=True, random_state=0, n_bootstrap=3)
    assert res.transform["chosen"] == "none"
    # skewed margins: the MI of the raw data depends on them, and the result says so
    assert res.transform["reason"].startswith("kl=True: KL is not invariant under separate maps")
    assert "margins: raw data kept (kl=True: KL is not invariant" in str(res)
    gx, gy = gaussian(0.6).sample(300, 0)  # Gaussian margins: nothing is lost, nothing to say
    res = gmmmi.estimate(gx, gy, kl=True, random_state=0, n_bootstrap=3)
    assert res.transform["reason"] == "kl=True needs the raw data"
    assert "margins" not in str(res)


def test_cli_transform_flag(tmp_path):
    from gmmmi import cli

    x, y = with_margins(gaussian(0.6), "exp").sample(600, 0)
    np.save(tmp_path / "d.npy", np.column_stack([x, y]))
    out = io.StringIO()
    argv = ["estimate", str(tmp_path / "d.npy"), "--x", "0", "--y", "1", "--json"]
    argv += ["--n-bootstrap", "3", "--seed", "0", "--transform", "none"]
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        # exp margins fitted raw (the flag's point) meet non-PD covariances in some EM fits
        warnings.simplefilter("ignore", gmmmi.ConvergenceWarning)
        assert cli.main(argv) == 0
    assert json.loads(out.getvalue())["meta"]["transform"]["chosen"] == "none"


@pytest.mark.parametrize("seed", [0, 1])
def test_cauchy_columns_get_the_asinh_map(seed):
    """A bivariate Cauchy (Student-t, nu = 1, rho = 0; MI 0.2242): k-means starts on the linear
    scale stop at one Gaussian, so the asinh scale must be tried too (skipping it gave the raw
    fit, 3.7 +- 1.9 nat, at N = 5000). Since shared-scale mixtures (scale_mixtures=True), the
    raw data may instead be kept with such a mixture, which is the Cauchy's own form.
    """
    ds = student_t(nu=1.0, rho=0.0)
    x, y = ds.sample(2000, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: neither path is a misfit or unresolved
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=20)
    # the raw data are kept only when a shared-scale mixture (the Cauchy's own form) wins
    if res.transform["chosen"] == "none":
        assert res.diagnostics.extra["scale_mixture"]
    else:
        assert [c["scale"] for c in res.transform["columns"]] == ["asinh", "asinh"]
    assert abs(res.value - ds.truth) < 3 * res.sd


# expected: the raw fit of lognormal margins is the point here, and its fit check flags it (and
# some of its EM fits meet a covariance that is not positive definite)
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore:2 of 25 EM fits met a covariance:gmmmi.ConvergenceWarning")
def test_a_start_from_init_is_read_in_the_coordinates_it_was_fitted_in():
    """init= is a mixture of the raw data unless transform='gaussianize' says it is mapped; with
    'auto', the maps used to be chosen anyway and the raw-data start was read as normal scores
    (K forced to the raw fit's 6 on data that one Gaussian fits once mapped).
    """
    rng = np.random.default_rng(0)
    X = np.exp(rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 2000))
    raw = gmmmi.estimate(X, random_state=0, transform="none", n_bootstrap=10)
    again = gmmmi.estimate(X, random_state=0, init=raw.diagnostics.reference_fit, n_bootstrap=10)
    assert again.transform["chosen"] == "none"
    assert "margins: raw data kept (init= is read as a mixture of the raw data" in str(again)
    assert again.n_components == raw.n_components
    assert abs(again.value - raw.value) < 0.5 * raw.sd
    mapped = gmmmi.estimate(X, random_state=0, n_bootstrap=10)
    assert mapped.transform["chosen"] == "gaussianize"
    restarted = gmmmi.estimate(
        X,
        random_state=0,
        init=mapped.diagnostics.reference_fit,
        transform="gaussianize",
        n_bootstrap=10,
    )
    assert restarted.transform["chosen"] == "gaussianize"
    assert restarted.n_components == mapped.n_components
    assert abs(restarted.value - mapped.value) < 0.5 * mapped.sd


def test_the_choice_is_a_frozen_record_rebuilt_from_any_saved_form(tmp_path):
    """Result.margins is a frozen MarginChoice with an enum reason, made once; a file's JSON
    (this version's, or an older one without the enum) gives the same record back.
    """
    import dataclasses

    from gmmmi.margins import MarginChoice, MarginReason

    x, y = with_margins(gaussian(0.6), "exp").sample(600, 1)
    res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=5)
    choice = res.margins
    assert choice is res.margins and choice.reason is MarginReason.HELDOUT
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.chosen = "none"
    assert res.transform == choice.to_dict()
    res.to_netcdf(tmp_path / "r.nc")
    loaded = gmmmi.load(tmp_path / "r.nc")
    assert loaded.margins == choice and str(loaded) == str(res)
    X = np.column_stack([x, y])
    np.testing.assert_array_equal(loaded.margins.apply(X), choice.apply(X))
    old = {  # a record as gmmmi wrote it before the enum (reason in words only)
        "requested": "auto",
        "chosen": "none",
        "reason": "no margin was mapped ('X1': fewer than 20 distinct values)",
        "columns": [],
        "criterion": {},
    }
    rebuilt = MarginChoice.from_dict(old)
    assert rebuilt.reason is MarginReason.AFFINE and rebuilt.to_dict() == old


def test_estimates_in_threads_sharing_one_backend_match_those_made_alone():
    """The searches 'auto' keeps for the fit live on the backend instance, keyed by data and
    generator state: threads sharing one backend object get what separate estimates get.
    """
    from concurrent.futures import ThreadPoolExecutor

    from gmmmi.backends.numba import NumbaBackend

    data = [with_margins(gaussian(0.6), "exp").sample(400, seed) for seed in (1, 2)]
    jobs = [(x, y, seed) for seed, (x, y) in enumerate(data)]

    def run(job, backend):
        x, y, seed = job
        return gmmmi.estimate(x, y, random_state=seed, n_bootstrap=5, backend=backend)

    alone = [run(job, "numba") for job in jobs]
    shared = NumbaBackend()
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda job: run(job, shared), jobs))
    for a, b in zip(alone, together, strict=True):
        assert a.transform == b.transform
        np.testing.assert_array_equal(a.draws["mi"], b.draws["mi"])


# 400 rows of exponential margins: one of the search's fits loses a component
@pytest.mark.filterwarnings("ignore:.*EM fits had a collapsed component:gmmmi.ConvergenceWarning")
def test_pymc_compares_margins_with_the_em_search_its_chains_start_from(monkeypatch):
    """backend="pymc" scores raw and mapped data with the EM search that gives its start (as
    the numba backend scores them), and its fit takes that search instead of repeating it.
    """
    import gmmmi._em.procedure as procedure
    from gmmmi._rows import standardise
    from gmmmi.backends.numba import NumbaBackend
    from gmmmi.backends.pymc import PyMCBackend, _check_options, _em_start

    X = standardise(np.column_stack(with_margins(gaussian(0.6), "exp").sample(400, 1)))[0]
    pymc, numba = PyMCBackend(), NumbaBackend()
    score = pymc.heldout_loglik(X, n_components=None, rng=np.random.default_rng(5))
    assert score == numba.heldout_loglik(X, n_components=None, rng=np.random.default_rng(5))
    searches = []
    select = procedure.select_components
    monkeypatch.setattr(
        procedure, "select_components", lambda *a, **k: searches.append(1) or select(*a, **k)
    )
    opts = _check_options({})
    kept, _ = _em_start(X, None, None, np.random.default_rng(5), opts, pymc._searches)
    assert searches == []  # taken from the instance
    fresh, _ = _em_start(X, None, None, np.random.default_rng(5), opts)
    assert searches == [1]
    np.testing.assert_array_equal(kept.means, fresh.means)
    np.testing.assert_array_equal(kept.covariances, fresh.covariances)


def test_mapped_data_enter_the_em_wing_once_per_search(monkeypatch):
    """One prepare step: 'auto' runs one joint search on the raw and one on the mapped data,
    and the fit of the mapped data it chooses takes the latter instead of searching again.
    """
    import gmmmi._em.procedure as procedure

    x, y = with_margins(gaussian(0.6), "exp").sample(400, 1)
    searches = []
    select = procedure.select_components
    monkeypatch.setattr(
        procedure, "select_components", lambda *a, **k: searches.append(1) or select(*a, **k)
    )
    res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=3)
    assert res.margins.chosen == "gaussianize" and len(searches) == 2
    fresh = gmmmi.estimate(x, y, random_state=0, n_bootstrap=3, transform="gaussianize")
    assert len(searches) == 3  # the same maps without a comparison: the fit searches itself
    np.testing.assert_array_equal(res.draws["mi"], fresh.draws["mi"])
