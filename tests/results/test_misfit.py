"""Every estimate checks its own fit: result.fit_check, MisfitWarning, the wider search."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

import gmmmi
from gmmmi import cli
from gmmmi._em.fit import EMSettings
from gmmmi._em.select import select_components
from gmmmi._em.widen import PATIENCE, widen_search
from gmmmi.diagnostics import WidenedSearch
from gmmmi.fit_check import (
    FAMILY_ALPHA,
    MAX_PAIRS,
    MAX_ROWS,
    automatic_check,
    bounded_pairs,
    check_fit,
    pair_indices,
)
from gmmmi.margins import describe_reconsidered
from gmmmi.mixture import MixtureDraws

FAST = {"n_bootstrap": 5, "random_state": 0}


def sine(n, seed, noise=0.05):
    """y = sin(3x) + noise: one Gaussian (K=1) cannot describe it."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, n)
    return x, np.sin(3 * x) + noise * rng.standard_normal(n)


def gaussian(n, seed, rho=0.6):
    return np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)


def expected_message(check, search="", mapped=False, both=False):
    kind, column, z = check.worst()
    what = f"the margin of {column}" if kind == "marginal" else f"the dependence of {column}"
    n_flagged = int(check.table["misfit"].sum())
    if both:  # transform="auto" fitted the raw and the mapped data (gmmmi._other_margins)
        advice = "the raw data and the margins' maps were both fitted, so try "
    elif mapped:
        advice = "the margins were already mapped (transform='gaussianize'), so try "
    else:
        advice = "try transform='gaussianize', "
    return (
        f"The fitted mixture does not describe the data: {what} departs from the fit by "
        f"z = {z:+.1f} sd ({n_flagged} of {len(check.table)} goodness-of-fit tests fail at "
        f"family level 0.001). {search}The estimate may be far from the truth and its interval "
        "does not include this error. Look at result.fit_check.plot() and "
        f"result.plot_fit(x, y); {advice}a larger max_components or "
        "n_inits, or compare with another estimator (docs/trust.md, 'MisfitWarning')."
    )


# K=1 on a sine: the relation is sharper than the fit, as the misfit the test wants
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_a_misfit_warns_at_the_users_line_and_shows_under_the_interval():
    x, y = sine(1000, 0)
    with pytest.warns(gmmmi.MisfitWarning) as record:
        res = gmmmi.estimate(x, y, fixed_components_number=1, **FAST)
    (warning,) = [w for w in record if w.category is gmmmi.MisfitWarning]
    assert warning.filename == __file__
    check = res.fit_check
    assert not check.ok and check.family_alpha == FAMILY_ALPHA
    assert check.alpha == pytest.approx(FAMILY_ALPHA / 3)  # two margins and one pair
    # the margins' maps were chosen (x is uniform): the advice does not suggest them again
    assert res.transform["chosen"] == "gaussianize"
    assert str(warning.message) == expected_message(check, mapped=True)
    kind, column, z = check.worst()
    assert z > 10
    verdict = f"MISFIT in {int(check.table['misfit'].sum())} of 3 tests (worst: {kind} {column}, "
    assert check.verdict() == verdict + f"z = {z:+.1f} sd)"
    line = f"  fit check failed: {check.verdict()}; the interval does not cover this misfit"
    assert str(res).splitlines()[2] == line
    assert res.summary().attrs["fit_check"] == line.strip()
    assert res.diagnostics.search is None  # K was fixed: no wider search


# K=1 on a sine: the relation is sharper than the fit, as the misfit the test wants
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_the_advice_suggests_the_maps_only_when_they_were_not_used():
    x, y = sine(600, 3)
    with pytest.warns(gmmmi.MisfitWarning) as record:
        res = gmmmi.estimate(x, y, transform="none", fixed_components_number=1, **FAST)
    (warning,) = [w for w in record if w.category is gmmmi.MisfitWarning]
    assert res.transform["chosen"] == "none"
    assert str(warning.message) == expected_message(res.fit_check)
    assert "; try transform='gaussianize', a larger" in str(warning.message)


def test_a_good_fit_is_checked_silently_and_the_check_survives_save_and_load(tmp_path):
    X = gaussian(600, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.MisfitWarning)
        res = gmmmi.estimate(X, **FAST)
    assert res.fit_check.ok and res.fit_check.n_rows is None
    assert "fit check" not in str(res)
    assert res.summary().attrs["fit_check"] == "passed"
    assert list(res.fit_check.names) == ["X1", "X2"]
    # the same check as by hand, on the data and the reference fit in data units
    again = check_fit(res.diagnostics.reference_fit, X, alpha=res.fit_check.alpha)
    np.testing.assert_allclose(again.table["chi2"], res.fit_check.table["chi2"], rtol=1e-9)
    res.to_netcdf(tmp_path / "r.nc")
    loaded = gmmmi.load(tmp_path / "r.nc")
    pd.testing.assert_frame_equal(loaded.fit_check.table, res.fit_check.table)
    np.testing.assert_array_equal(loaded.fit_check.conditional, res.fit_check.conditional)
    assert loaded.fit_check.family_alpha == FAMILY_ALPHA


# K=1 on a sine: the relation is sharper than the fit, as the misfit the test wants
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_a_failed_check_survives_save_and_load(tmp_path):
    x, y = sine(600, 2)
    with pytest.warns(gmmmi.MisfitWarning):
        res = gmmmi.estimate(x, y, fixed_components_number=1, **FAST)
    res.to_netcdf(tmp_path / "bad.nc")
    loaded = gmmmi.load(tmp_path / "bad.nc")
    assert not loaded.fit_check.ok and str(loaded) == str(res)


def test_the_automatic_check_looks_at_a_fixed_subset_of_large_data():
    mix = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 3)), np.eye(3)[None, None])
    X = np.random.default_rng(3).standard_normal((3 * MAX_ROWS, 3))
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    check = automatic_check(mix, X)
    assert check.marginal.shape == (MAX_ROWS, 3) and check.n_rows == 3 * MAX_ROWS
    assert rng.bit_generator.state == state
    np.testing.assert_array_equal(automatic_check(mix, X).marginal, check.marginal)
    assert "FitCheck of 4000 points (of 12000): no misfit at level 0.001" in repr(check)


@pytest.mark.parametrize("d", [2, 12, 13, 30, 60])
def test_pairs_are_all_pairs_up_to_12_columns_then_a_bounded_set_covering_every_column(d):
    mix = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, d)), np.eye(d)[None, None])
    X = np.random.default_rng(d).standard_normal((300, d))
    check = automatic_check(mix, X)
    pairs = check.pairs
    if d <= 12:
        assert pairs == pair_indices(d)
    else:
        assert len(pairs) == MAX_PAIRS == 66
        assert pairs == bounded_pairs(d)
        assert {i for p in pairs for i in p} == set(range(d))
        assert (0, 1) in pairs and (d - 2, d - 1) in pairs
    assert all(i < j for i, j in pairs) and len(set(pairs)) == len(pairs)
    assert len(check.table) == d + len(pairs)
    assert check.alpha == pytest.approx(FAMILY_ALPHA / (d + len(pairs)))


def test_the_wider_search_goes_past_the_plateau_from_other_starts():
    """Three clusters fitted by K=1: the wider search finds 3 and stops PATIENCE K later."""
    rng = np.random.default_rng(5)
    centres = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, 0.0]])
    X = np.concatenate([c + 0.5 * rng.standard_normal((300, 2)) for c in centres])
    X = np.ascontiguousarray((X - X.mean(0)) / X.std(0))
    settings = EMSettings()
    sel = select_components(
        X, rng=rng, n_components=1, init_type="kmeans", n_inits=1, settings=settings
    )
    wider, record = widen_search(
        X, sel, reason="test", rng=rng, settings=settings, threshold=1e-5, max_components=50
    )
    assert record.start_n_components == 1 and wider.n_components == 3 == record.n_components
    assert record.score > record.start_score + 0.5
    ks = [k for _, k, _ in record.tried]
    assert ks[0] == 2 and max(ks) == 3 + PATIENCE  # PATIENCE K without improvement, then stop
    assert {label for label, _, _ in record.tried} == {"k-means", "split"}
    assert record.stopped == f"no better held-out score for {PATIENCE} successive K"
    fit = wider.full_fit
    assert automatic_check(MixtureDraws(fit.weights, fit.means, fit.covariances), X).ok


@pytest.mark.slow
def test_the_wider_search_fixes_a_search_that_stopped_early_on_a_noisy_sine():
    """y = sin 3x + 0.3 e, N=5000, seed 1: the first search stops at K=7 and fails the check."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-np.pi, np.pi, 5000)
    y = np.sin(3 * x) + 0.3 * rng.standard_normal(5000)
    x, y = pd.Series(x, name="angle"), pd.Series(y, name="signal")
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.MisfitWarning)
        res = gmmmi.estimate(x, y, random_state=1, n_bootstrap=10)
    search = res.diagnostics.search
    assert (
        search is not None and search.accepted and search.n_components > search.start_n_components
    )
    # the first check's verdict names the user's columns (the search ran on x0, x1)
    assert "(worst: marginal angle, z = " in search.reason
    assert res.fit_check.ok
    truth = 0.862  # grid integral of the density (benchmarks/bench_widen.py)
    assert abs(res.value - truth) < 0.03


def test_the_wider_search_record_takes_the_users_column_names():
    record = WidenedSearch(
        reason="MISFIT in 2 of 66 tests (worst: joint x1 & x10, z = +7.0 sd)",
        start_n_components=1,
        start_score=-2.0,
        best_check="MISFIT in 1 of 66 tests (worst: marginal x10, z = +5.1 sd)",
    )
    names = [f"c{i}" for i in range(12)]
    names[1], names[10] = "x10", "wind speed"
    named = record.relabel(names)
    assert named.reason == "MISFIT in 2 of 66 tests (worst: joint x10 & wind speed, z = +7.0 sd)"
    assert named.best_check == "MISFIT in 1 of 66 tests (worst: marginal wind speed, z = +5.1 sd)"
    good = replace(record, reason="no misfit at level 0.001", best_check="")
    assert good.relabel(names) == good


@pytest.mark.slow
def test_saturating_margins_warn():
    """Sweep item 5: tanh(3 g1), tanh(4 g2) of a rho=0.6 Gaussian moved the MI silently."""
    g = gaussian(2000, 0)
    x, y = np.tanh(3 * g[:, 0]), np.tanh(4 * g[:, 1])
    with pytest.warns(gmmmi.MisfitWarning) as record:
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=0)
    search = res.diagnostics.search
    (warning,) = [w for w in record if w.category is gmmmi.MisfitWarning]
    mapped = res.transform["chosen"] == "gaussianize"
    # both the raw and the mapped data fail their checks: both are said, the maps kept
    both = res.diagnostics.extra["other_margins"]
    assert mapped and both["kept"] == "gaussianize" and both["none"]["check"].startswith("MISFIT")
    said = search.describe() + describe_reconsidered(both)
    assert str(warning.message) == expected_message(res.fit_check, said, mapped, both=True)
    # a better-scoring fit that still fails is not kept
    assert not search.accepted and res.n_components == search.start_n_components


def test_categories_are_checked_each_under_its_own_fit():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 800)
    x = rng.standard_normal(800) + 1.5 * labels
    res = gmmmi.estimate(x, labels, discrete_y=True, **FAST)
    assert res.fit_check.ok and res.fit_check.names == ["x0"]
    # one Gaussian for a bimodal category fails
    x2 = np.where(labels == 1, rng.choice([-3.0, 3.0], 800) + 0.3 * rng.standard_normal(800), x)
    with pytest.warns(gmmmi.MisfitWarning, match="the margin of x0"):
        bad = gmmmi.estimate(x2, labels, discrete_y=True, fixed_components_number=1, **FAST)
    assert not bad.fit_check.ok


def parabola(n, seed):
    """y = x^2 + noise: its copula is U-shaped, which one Gaussian cannot describe."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return x, x**2 + 0.1 * rng.standard_normal(n)


# the command prints its warnings ("gmmmi: warning: ..."), as a user sees them: K=1 on a
# parabola fails the fit check (asserted) and is a sharp relation too
@pytest.mark.filterwarnings("default:The fitted mixture does not describe:gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("default:The relation is sharper:gmmmi.SharpRelationWarning")
def test_cli_json_and_text_say_when_the_fit_check_failed(tmp_path, capsys):
    x, y = parabola(600, 4)
    pd.DataFrame({"a": x, "b": y}).to_csv(tmp_path / "d.csv", index=False)
    args = ["estimate", str(tmp_path / "d.csv"), "--x", "a", "--y", "b", "--components", "1"]
    args += ["--n-bootstrap", "5", "--seed", "0"]
    assert cli.main([*args, "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["fit_ok"] is False and out["fit_check"].startswith("MISFIT in ")
    assert "gmmmi: warning: The fitted mixture does not describe the data: " in captured.err
    assert cli.main(args) == 0
    assert "  fit check failed: MISFIT in " in capsys.readouterr().out


def test_mi_matrix_marks_the_pairs_whose_fit_failed(tmp_path):
    x, y = parabola(600, 6)
    g = gaussian(600, 6)
    df = pd.DataFrame({"x": x, "y": y, "g": g[:, 0]})
    with pytest.warns(UserWarning):
        mat = gmmmi.mi_matrix(df, fixed_components_number=1, n_bootstrap=5, random_state=0)
    ok = mat.fit_ok
    assert ok.loc["x", "y"] is False and ok.loc["y", "x"] is False
    assert ok.loc["x", "g"] is True and ok.loc["x", "x"] is None
    frame = mat.to_frame().set_index(["x", "y"])
    assert list(frame["fit_ok"]) == [False, True, True]  # x & y, x & g, y & g
    ax = mat.plot()
    red = [
        p
        for p in ax.patches
        if getattr(p, "get_edgecolor", None) and p.get_edgecolor()[:3] == (1, 0, 0)
    ]
    assert len(red) == 2  # the pair and its mirror
    assert "red frame, !: fit check failed" in ax.get_title()
    ax.figure.savefig(tmp_path / "matrix.png")


def test_weighted_counts_are_divided_by_the_design_effect():
    """Under a correct model the weighted chi-squared over its design effect has mean dof."""
    rng = np.random.default_rng(11)
    mix = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 2)), np.eye(2)[None, None])
    chi2, dof = [], None
    for _ in range(100):
        X = rng.standard_normal((1000, 2))
        w = rng.exponential(1.0, 1000)  # design effect about 2
        table = automatic_check(mix, X, weights=w).table
        chi2.append(table["chi2"].to_numpy())
        dof = table["dof"].to_numpy()
        # by hand: weighted histogram of the first margin's PIT, statistic over n sum w^2/(sum w)^2
        counts = np.bincount(np.minimum((ndtr(X[:, 0]) * 20).astype(int), 19), w, minlength=20)
        expected = w.sum() / 20
        deff = 1000 * np.sum(w**2) / w.sum() ** 2
        assert table["chi2"].iloc[0] == pytest.approx(
            np.sum((counts - expected) ** 2) / expected / deff, rel=1e-9
        )
    chi2 = np.array(chi2)
    # mean of chi2 is dof under the null; its sd over 100 sets is sqrt(2 dof / 100)
    z = (chi2.mean(axis=0) - dof) / np.sqrt(2 * dof / 100)
    assert np.all(np.abs(z) < 4), z
    ok = automatic_check(mix, X, weights=np.ones(1000))
    pd.testing.assert_frame_equal(ok.table, automatic_check(mix, X).table)  # equal weights


# K=1 on a sine: the relation is sharper than the fit, as the misfit the test wants
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_a_weighted_fit_is_checked():
    x, y = sine(800, 5)
    w = np.random.default_rng(5).exponential(1.0, 800)
    with pytest.warns(gmmmi.MisfitWarning) as record:
        bad = gmmmi.estimate(x, y, sample_weight=w, fixed_components_number=1, **FAST)
    (warning,) = [r for r in record if r.category is gmmmi.MisfitWarning]
    assert bad.transform["chosen"] == "none"  # weighted rows keep the raw data here
    assert str(warning.message) == expected_message(bad.fit_check)
    assert bad.fit_check.worst()[2] > 10
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.MisfitWarning)
        good = gmmmi.estimate(gaussian(800, 5), sample_weight=w, **FAST)
    assert good.fit_check.ok
