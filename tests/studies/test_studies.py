"""compare / calibration: the study machinery on fake methods of known behaviour, then for real."""

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import gmmmi
from gmmmi import datasets
from gmmmi.diagnostics import DrawKind, FitDiagnostics
from gmmmi.mixture import MixtureDraws
from gmmmi.result import Result
from gmmmi.studies import INTERVALS, METHODS, Method, _split_options, calibration, compare

DATASET = datasets.gaussian(0.6)
TRUTH = DATASET.truth


def fake_result(value, draws):
    """A genuine Result holding the given point estimate and draws (one chain)."""
    draws = np.asarray(draws, dtype=float)
    S = draws.size
    mixture = MixtureDraws(
        np.ones((S, 1)), np.zeros((S, 1, 2)), np.broadcast_to(np.eye(2), (S, 1, 2, 2))
    )
    return Result(
        draws={"mi": draws.reshape(1, S)},
        point={"mi": value},
        integration_error={},
        mixture=mixture,
        diagnostics=FitDiagnostics(kind=DrawKind.BOOTSTRAP, n_components=1, sample_shape=(1, S)),
        meta={"quantity": "mi", "unit": "nat", "backend": "fake"},
    )


def noisy_estimator(x, y=None, *, z=None, random_state, progress, bias, sigma, reported, n_draws):
    """Estimate = truth + bias + N(0, sigma); draws spread `reported` around it."""
    rng = np.random.default_rng(random_state)
    value = TRUTH + bias + sigma * rng.standard_normal()
    return fake_result(value, value + reported * rng.standard_normal(n_draws))


def fake(name, *, bias=0.0, sigma=0.05, reported=0.05, n_draws=400):
    est = partial(noisy_estimator, bias=bias, sigma=sigma, reported=reported, n_draws=n_draws)
    return Method(name, estimator=est)


def binomial_ok(p_hat, p, repeats, n_se=4):
    return abs(p_hat - p) < n_se * np.sqrt(p * (1 - p) / repeats)


# ----------------------------------------------------------- fake methods
@pytest.fixture(scope="module")
def study():
    """400 repeats of an honest, an over-confident and a biased fake method."""
    methods = [
        fake("honest"),
        fake("overconfident", reported=0.025),
        fake("biased", bias=0.05),
    ]
    return calibration(DATASET, n=10, repeats=400, methods=methods, random_state=1)


def test_honest_method_covers_at_nominal_rate(study):
    row = study.table.set_index("method").loc["honest"]
    for kind in INTERVALS:
        assert binomial_ok(row[f"cover68_{kind}"], 0.68, 400), kind
        assert binomial_ok(row[f"cover95_{kind}"], 0.95, 400), kind
    assert abs(row["bias"]) < 4 * 0.05 / np.sqrt(400)
    assert row["sd_ratio"] == pytest.approx(1.0, abs=0.15)
    assert row["rmse"] == pytest.approx(0.05, rel=0.15)


def test_overconfident_method_undercovers(study):
    row = study.table.set_index("method").loc["overconfident"]
    # reported sd = sigma / 2: an interval +-z sd/2 covers P(|Z| < z/2)
    for level in (0.68, 0.95):
        expected = 2 * stats.norm.cdf(stats.norm.ppf(0.5 + level / 2) / 2) - 1
        got = row[f"cover{round(level * 100)}_normal"]
        assert binomial_ok(got, expected, 400), (level, got, expected)
    assert row["sd_ratio"] == pytest.approx(0.5, abs=0.08)


def test_biased_method_reports_its_bias(study):
    row = study.table.set_index("method").loc["biased"]
    assert row["bias"] == pytest.approx(0.05, abs=4 * row["bias_se"])
    assert row["bias_se"] == pytest.approx(0.05 / np.sqrt(400), rel=0.15)
    assert row["rmse"] == pytest.approx(np.hypot(0.05, 0.05), rel=0.15)
    # a bias of one sd: 95 % normal coverage drops to P(|Z + 1| < 1.96) ~ 0.83
    expected = stats.norm.cdf(1.96 - 1) - stats.norm.cdf(-1.96 - 1)
    assert binomial_ok(row["cover95_normal"], expected, 400)


def test_table_recomputes_from_estimates(study):
    """The summary is what a direct numpy computation on the per-repeat estimates gives."""
    est = study.estimates
    assert len(est) == 3 * 400 and set(est["repeat"]) == set(range(400))
    for name, row in study.table.set_index("method").iterrows():
        g = est[est["method"] == name]
        v = g["value"].to_numpy()
        assert row["bias"] == pytest.approx(np.mean(v - TRUTH))
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean((v - TRUTH) ** 2)))
        assert row["sd_ratio"] == pytest.approx(g["sd"].mean() / np.std(v, ddof=1))
        inside = (g["hdi95_low"] <= TRUTH) & (TRUTH <= g["hdi95_high"])
        assert row["cover95_hdi"] == pytest.approx(inside.mean())
        half = stats.norm.ppf(0.84) * g["sd"]
        assert np.allclose(g["normal68_high"] - g["value"], half)


def test_basic_interval_corrects_a_shifted_bootstrap():
    """Draws shifted by +d from the estimate: the basic interval mirrors them to the other side."""
    res = fake_result(1.0, 1.2 + np.linspace(-0.1, 0.1, 1001))
    from gmmmi.studies import _intervals

    iv = _intervals(res, 1.0, res.sd)
    assert iv["basic95_low"] == pytest.approx(2 * 1.0 - np.quantile(res.draws["mi"], 0.975))
    assert iv["basic95_high"] == pytest.approx(0.8 + 0.1 * 0.95, abs=1e-3)
    assert iv["normal95_low"] == pytest.approx(1.0 - 1.959964 * res.sd, rel=1e-6)


def test_executor_gives_the_same_table_as_serial():
    methods = [fake("a"), fake("b", reported=0.02)]
    serial = calibration(DATASET, n=10, repeats=12, methods=methods, random_state=7)
    with ThreadPoolExecutor(2) as pool:
        pooled = calibration(
            DATASET, n=10, repeats=12, methods=methods, random_state=7, executor=pool
        )
    drop = ["seconds"]
    pd.testing.assert_frame_equal(serial.table.drop(columns=drop), pooled.table.drop(columns=drop))
    pd.testing.assert_frame_equal(
        serial.estimates.drop(columns=drop), pooled.estimates.drop(columns=drop)
    )
    other = calibration(DATASET, n=10, repeats=12, methods=methods, random_state=8)
    assert not np.allclose(other.estimates["value"], serial.estimates["value"])


def test_methods_get_the_same_seed_whatever_else_runs():
    one = calibration(DATASET, n=10, repeats=5, methods=[fake("a")], random_state=3)
    two = calibration(DATASET, n=10, repeats=5, methods=[fake("b"), fake("a")], random_state=3)
    a = two.estimates[two.estimates["method"] == "a"]
    np.testing.assert_array_equal(one.estimates["value"], a["value"])


def flaky_estimator(x, y=None, *, z=None, random_state, progress, fail_below):
    if np.random.default_rng(random_state).uniform() < fail_below:
        raise np.linalg.LinAlgError("not positive definite")
    return noisy_estimator(
        x,
        y,
        random_state=random_state,
        progress=progress,
        bias=0.0,
        sigma=0.05,
        reported=0.05,
        n_draws=50,
    )


def test_failed_repeats_are_recorded_and_left_out():
    flaky = Method("flaky", estimator=partial(flaky_estimator, fail_below=0.3))
    study = calibration(DATASET, n=10, repeats=40, methods=[flaky, fake("a")], random_state=0)
    row = study.table.set_index("method").loc["flaky"]
    errors = study.estimates.loc[study.estimates["method"] == "flaky", "error"]
    assert 0 < row["failed"] == errors.notna().sum() < 40
    assert row["repeats"] == 40 - row["failed"]
    assert errors.dropna().iloc[0] == "LinAlgError: not positive definite"
    assert np.isfinite(row["bias"]) and study.table.set_index("method").loc["a", "failed"] == 0
    study.plot()
    plt.close("all")
    broken = Method("broken", estimator=partial(flaky_estimator, fail_below=2.0))
    with pytest.raises(RuntimeError, match="Every repeat of method 'broken' failed.*LinAlgError"):
        calibration(DATASET, n=10, repeats=3, methods=[broken], random_state=0)
    with pytest.raises(np.linalg.LinAlgError):
        compare(np.zeros(5), np.zeros(5), methods=[broken])


def test_single_draw_methods_have_no_coverage():
    study = calibration(DATASET, n=10, repeats=4, methods=[fake("one", n_draws=1)], random_state=0)
    row = study.table.iloc[0]
    assert np.isnan(row["cover95_normal"]) and np.isnan(row["mean_sd"])
    assert np.isfinite(row["bias"])


def test_calibration_plot_and_dataset_by_name(study):
    axes = study.plot()
    assert len(axes) == 2 and axes[0].get_legend() is not None
    plt.close("all")
    small = calibration("D1", n=10, repeats=2, methods=[fake("a")], random_state=0)
    assert small.dataset.name == "D1" and small.table["truth"].iloc[0] == datasets.PAPER_MI["D1"]


# ------------------------------------------------------------------ compare
def test_compare_table_and_plot_with_fake_methods(rng):
    x, y = DATASET.sample(50, rng)
    cmp = compare(x, y, methods=[fake("a"), fake("b", n_draws=1)], truth=TRUTH, random_state=2)
    t = cmp.table.set_index("method")
    assert list(t.columns[:8]) == [
        "value",
        "mean",
        "sd",
        "hdi_low",
        "hdi_high",
        "width",
        "ess",
        "seconds",
    ]
    a = cmp.results["a"]
    assert t.loc["a", "value"] == a.value and t.loc["a", "sd"] == pytest.approx(a.sd)
    assert (t.loc["a", "hdi_low"], t.loc["a", "hdi_high"]) == pytest.approx(a.hdi(0.94))
    assert t.loc["a", "width"] == pytest.approx(t.loc["a", "hdi_high"] - t.loc["a", "hdi_low"])
    assert np.isnan(t.loc["b", "width"]) and np.isnan(t.loc["a", "ess"])
    assert t.loc["a", "error"] == pytest.approx(a.value - TRUTH)
    ax = cmp.plot()
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())
    plt.close("all")


def test_unknown_method_lists_valid_ones():
    with pytest.raises(
        ValueError, match="valid methods are 'bootstrap', 'bayes', 'advi', 'single'"
    ):
        compare(np.zeros(10), np.zeros(10), methods=["bootsrap"])
    with pytest.raises(ValueError, match="distinct"):
        compare(np.zeros(10), np.zeros(10), methods=["single", "single"])


def test_options_go_to_the_backends_that_accept_them():
    ms = [METHODS["bootstrap"], METHODS["bayes"], METHODS["single"]]
    split = _split_options(ms, {"n_bootstrap": 7, "draws": 30, "n_inits": 2, "typo": 1})
    assert split["bootstrap"] == {"n_bootstrap": 7, "n_inits": 2, "typo": 1}
    assert split["bayes"] == {"draws": 30, "n_inits": 2, "typo": 1}
    assert split["single"] == {"n_inits": 2, "typo": 1}  # its own n_bootstrap=0 wins


def test_compare_runs_gmmmi_estimate_for_real(rng):
    x, y = DATASET.sample(200, rng)
    cmp = compare(x, y, methods=("bootstrap", "single"), n_bootstrap=10, random_state=4)
    boot = cmp.results["bootstrap"]
    again = gmmmi.estimate(x, y, n_bootstrap=10, random_state=boot.meta["random_state"])
    assert boot.value == again.value
    np.testing.assert_array_equal(boot.draws["mi"], again.draws["mi"])
    assert cmp.results["single"].n_draws == 1
    assert cmp.table.set_index("method").loc["single", "value"] == pytest.approx(boot.value)


def test_calibration_for_real_with_threads():
    kw = dict(n=200, repeats=3, methods=("bootstrap",), n_bootstrap=5, random_state=5)
    serial = calibration(DATASET, **kw)
    with ThreadPoolExecutor(2) as pool:
        pooled = calibration(DATASET, executor=pool, **kw)
    np.testing.assert_array_equal(serial.estimates["value"], pooled.estimates["value"])
    assert np.all(np.abs(serial.estimates["value"] - TRUTH) < 0.25)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"truth": "x"}, TypeError, r"truth must be a number; got 'x' \(str\)"),
        ({"truth": float("nan")}, ValueError, "truth must be finite; got nan"),
        ({"hdi_prob": 1.5}, ValueError, r"hdi_prob must be between 0 and 1 \(exclusive\); got 1.5"),
        ({"base": "abc"}, TypeError, r"base must be a number; got 'abc' \(str\)"),
        ({"n_bootsrap": 3}, TypeError, r"Unknown option 'n_bootsrap' \(did you mean 'n_bootstrap'"),
        ({"methods": ["advi"]}, ValueError, 'method="advi" is not available'),
        ({"random_state": "x"}, TypeError, r"random_state must be an integer, a numpy Generat"),
    ],
)
def test_compare_refuses_bad_options_before_any_work(monkeypatch, kwargs, error, message):
    def no_work(*args, **kw):
        raise AssertionError("no estimate may run with a bad option")

    monkeypatch.setattr("gmmmi.api.estimate", no_work)
    x, y = np.random.default_rng(0).normal(size=(2, 50))
    kwargs = {"methods": ["single"], **kwargs}
    with pytest.raises(error, match=message):
        gmmmi.compare(x, y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"executor": "threads"}, TypeError, r"executor must be None \(run here\), a concurrent"),
        ({"base": 1.0}, ValueError, "base must be a positive number other than 1"),
        ({"max_iter": "many"}, TypeError, r"max_iter must be an integer; got 'many' \(str\)"),
    ],
)
def test_calibration_refuses_bad_options_before_any_work(monkeypatch, kwargs, error, message):
    def no_work(*args, **kw):
        raise AssertionError("no estimate may run with a bad option")

    monkeypatch.setattr("gmmmi.api.estimate", no_work)
    with pytest.raises(error, match=message):
        gmmmi.calibration("gaussian", n=50, repeats=2, **kwargs)
