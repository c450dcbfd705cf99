"""Sharp relations (issue 24, section 3, item 6): exact curves refused, unresolved ones warned.

An exact circle has an infinite MI and was not refused; y = sin 3x + 0.01
noise gave 1.8 +- 0.03 nat against 3.75, with nothing said.
"""

import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi._resolution import allowed_ratio, resolution_ratios, warn_unresolved
from gmmmi._rows import standardise
from gmmmi._screening import curve_determination, screen
from gmmmi.mixture import MixtureDraws


def _circle(n, noise, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    return np.cos(t) + noise * rng.standard_normal(n), np.sin(t) + noise * rng.standard_normal(n)


@pytest.mark.parametrize(
    ("name", "n"),
    [("circle", 500), ("circle", 3000), ("figure eight", 1000), ("spiral", 1000)],
)
def test_exact_curves_that_are_functions_of_neither_column_are_refused(name, n):
    t = np.random.default_rng(n).uniform(0, 2 * np.pi, n)
    x, y = {
        "circle": (np.cos(t), np.sin(t)),
        "figure eight": (np.sin(t), np.sin(2 * t)),
        "spiral": (t * np.cos(3 * t), t * np.sin(3 * t)),
    }[name]
    with pytest.raises(ValueError) as info:
        gmmmi.estimate(x, y, random_state=0)
    message = str(info.value)
    assert message.startswith(
        "x and y are (near-)deterministically related: the points (x 'x0', y 'y0') lie on a "
        "smooth curve that is a function of neither (such as a circle): a local quadratic fit "
        "along the curve through each row's nearest neighbours predicts the row to within "
    )
    assert "Their MI is unbounded" in message


def test_curve_residual_is_the_noise_and_legitimate_data_stay_far_above_the_cut():
    for noise in (1e-6, 1e-4):
        local, linear = curve_determination(np.column_stack(_circle(2000, noise, 1)))
        assert 0.3 * noise < local < 3 * noise
        assert linear > 0.9
    rng = np.random.default_rng(2)
    for rho in (0.6, 0.9999):
        X = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], 5000)
        local, linear = curve_determination(X)
        assert local > 3e-3  # three times the cut-off, 1e-3
        if rho > 0.999:  # and the straight line is nearly as good: left alone twice over
            assert linear < 10 * local


def test_noisy_circle_and_a_column_with_an_atom_are_not_refused():
    x, y = _circle(400, 0.05, 3)
    gmmmi.estimate(x, y, random_state=0, n_bootstrap=0)
    rng = np.random.default_rng(4)
    x = rng.standard_normal(400)
    y = np.where(rng.uniform(size=400) < 0.6, 0.0, x + rng.standard_normal(400))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gmmmi.estimate(x, y, random_state=0, n_bootstrap=0, transform="none")


def test_resolution_ratio_of_the_true_gaussian_is_near_one():
    X = np.random.default_rng(5).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 4000)
    ratios = resolution_ratios(
        X, np.ones(1), np.zeros((1, 2)), np.array([[[1, 0.6], [0.6, 1]]]), {"x": [0], "y": [1]}
    )
    assert [(key, j) for key, j, _ in ratios] == [("x", 0), ("y", 1)]
    for *_, ratio in ratios:
        assert 0.9 < ratio < 1.1


def test_conditional_sd_matches_a_row_by_row_reference():
    from scipy.stats import multivariate_normal

    from gmmmi._resolution import _conditional_sd

    rng = np.random.default_rng(6)
    K, d = 3, 3
    A = rng.normal(size=(K, d, d))
    covs, means = A @ A.transpose(0, 2, 1) + 0.5 * np.eye(d), rng.normal(size=(K, d))
    weights, P = np.array([0.5, 0.3, 0.2]), rng.normal(size=(40, 2))
    j, predictors = 0, [1, 2]
    expected = []
    for row in P:
        dens = [
            w * multivariate_normal(m[predictors], c[np.ix_(predictors, predictors)]).pdf(row)
            for w, m, c in zip(weights, means, covs, strict=True)
        ]
        var = [
            c[j, j]
            - c[j, predictors] @ np.linalg.inv(c[np.ix_(predictors, predictors)]) @ c[predictors, j]
            for c in covs
        ]
        expected.append(np.sqrt(np.dot(dens, var) / np.sum(dens)))
    got = _conditional_sd(P, weights, means, covs, j, predictors)
    assert got == pytest.approx(float(np.median(expected)), rel=1e-12)
    # one component (no responsibilities to weigh): its conditional sd, as two equal halves give
    one = _conditional_sd(P, weights[:1] / 0.5, means[:1], covs[:1], j, predictors)
    halves = _conditional_sd(P, np.full(2, 0.5), means[[0, 0]], covs[[0, 0]], j, predictors)
    assert one == pytest.approx(halves, rel=1e-14)


# the unresolved sine also fails the fit check: both warnings say so; this test reads the first.
# The fit of the mapped margins (K=21, 3.19 nat) leaves it unresolved; with transform="auto" the
# failed check sends the estimate on to the raw data, whose K=23 fit (3.35 nat) resolves it and is
# rightly not warned about, so the maps are asked for here. Its EM fits meet non-positive-definite
# covariances on the sharp curve (ConvergenceWarning), as expected of such data.
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning", "ignore::gmmmi.ConvergenceWarning")
def test_a_sharp_sine_is_warned_about_with_the_shortfall():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(2000)
    y = np.sin(3 * x) + 0.01 * rng.standard_normal(2000)
    with pytest.warns(gmmmi.SharpRelationWarning) as record:
        gmmmi.estimate(x, y, random_state=0, n_bootstrap=0, transform="gaussianize")
    message = str(next(w.message for w in record if w.category is gmmmi.SharpRelationWarning))
    assert message.startswith(
        "The relation is sharper than the fitted mixture resolves: its components' spread of a "
        "column given the other block is larger than the spread of the data around their "
        "nearest neighbours' local fit (y column 'y0' given x: "
    )
    assert f"allowed {allowed_ratio(2000):.3g}x" in message and "allowed 1.35x" in message
    assert "the estimate is likely too low, by up to about ln " in message


@pytest.mark.parametrize("copies", [0, 150])
def test_the_screens_distinct_rows_give_the_check_its_own_answer(copies):
    """`estimate` hands the check the screen's distinct rows (empty: no copies): same warning."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(700)
    X = np.column_stack([x, np.sin(3 * x) + 0.01 * rng.standard_normal(700)])
    X = np.concatenate([X, X[rng.integers(0, 700, copies)]])
    Xs, shift, scale = standardise(X)
    blocks, labels = {"x": [0], "y": [1]}, {"x": ["x"], "y": ["y"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gmmmi.DataWarning)  # the copies
        first = screen(Xs, shift, scale, blocks, labels, categorical=False, outliers=False)
    assert first.size == (0 if copies == 0 else 700)
    one = MixtureDraws(np.ones((1, 1)), Xs.mean(axis=0)[None, None], np.cov(Xs.T)[None, None])
    messages = []
    for given in (first, None):
        with pytest.warns(gmmmi.SharpRelationWarning) as record:
            warn_unresolved(Xs, one, blocks, labels, isolated=False, first=given)
        messages.append(str(record[0].message))
    assert messages[0] == messages[1]
    assert f"allowed {allowed_ratio(700):.3g}x" in messages[0]


def test_resolved_data_are_not_warned_about():
    X = np.random.default_rng(6).multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.SharpRelationWarning)
        gmmmi.estimate(X, random_state=0, n_bootstrap=0)
        gmmmi.estimate(np.exp(X), random_state=0, n_bootstrap=0)


def test_a_component_stretched_over_an_outlier_is_not_called_a_sharp_relation():
    X = np.random.default_rng(7).multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 1000)
    X[17, 0] = 100.0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gmmmi.estimate(X, n_bootstrap=0, random_state=0, transform="none")
    categories = {w.category for w in record}
    assert gmmmi.DataWarning in categories
    assert gmmmi.SharpRelationWarning not in categories


def test_the_allowed_ratio_grows_as_the_rows_get_fewer():
    assert [round(allowed_ratio(m), 2) for m in (50, 200, 2000)] == [2.05, 1.6, 1.35]
