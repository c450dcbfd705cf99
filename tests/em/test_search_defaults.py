"""The component search: gmmmi.estimate's defaults, GMM-MI's kept for reproduction, and
EM fits that stop at their starting point (issue 9, item 2).
"""

import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi import datasets
from gmmmi._em.fit import EMSettings, fit_batch
from gmmmi._em.folds import make_folds
from gmmmi._em.init import initialise
from gmmmi._em.options import ESTIMATE_OVERRIDES, ORIGINAL_DEFAULTS
from gmmmi._em.select import (
    STALL_ITERATIONS,
    cross_validate,
    select_components,
    stalled_at_start,
)
from gmmmi.exceptions import ConvergenceWarning
from gmmmi.param_holders import GMMFitParamHolder, MIDistParamHolder, SelectComponentsParamHolder

#: the defaults of gmm-mi 0.8.2 (gmm_mi/param_holders.py: GMMFitParamHolder,
#: SelectComponentsParamHolder, MIDistParamHolder), which EstimateMI must keep
GMM_MI_082_DEFAULTS = {
    "init_type": "random_sklearn",
    "scale": None,
    "threshold_fit": 1e-5,
    "reg_covar": 1e-15,
    "max_iter": 10000,
    "n_inits": 3,
    "n_folds": 2,
    "metric_method": "valid",
    "threshold_components": 1e-5,
    "patience": 1,
    "max_components": 50,
    "fixed_components_number": 0,
    "n_bootstrap": 50,
    "integral_method": "MC",
    "MC_samples": 1e5,
}


def _standardised(ds, n, seed):
    X = np.column_stack(ds.sample(n, seed))
    return (X - X.mean(axis=0)) / X.std(axis=0)


def test_parameter_holders_keep_gmm_mi_082_defaults_exactly():
    held = {
        **GMMFitParamHolder().as_options(),
        **SelectComponentsParamHolder().as_options(),
        **MIDistParamHolder().as_options(),
    }
    assert held == GMM_MI_082_DEFAULTS
    original = {k: v for k, v in ORIGINAL_DEFAULTS.items() if k in GMM_MI_082_DEFAULTS}
    assert original == {k: GMM_MI_082_DEFAULTS[k] for k in original}
    assert len(original) == 12  # every EM and bootstrap option of GMM-MI is in the table
    assert ORIGINAL_DEFAULTS["reselect_components"] is False  # not in GMM-MI: off, as it had


def test_estimate_defaults_are_the_originals_with_the_overrides_only():
    x, y = datasets.gaussian(0.6).sample(300, 0)
    used = gmmmi.estimate(x, y, random_state=0, n_bootstrap=0).meta["options"]
    expected = {**ORIGINAL_DEFAULTS, **ESTIMATE_OVERRIDES, "n_bootstrap": 0}
    assert {k: used[k] for k in ORIGINAL_DEFAULTS} == expected
    assert ESTIMATE_OVERRIDES["init_type"] == "kmeans"
    assert all(ORIGINAL_DEFAULTS[k] != v for k, v in ESTIMATE_OVERRIDES.items())


def test_estimate_mi_runs_the_original_search():
    x, y = datasets.gaussian(0.6).sample(300, 0)
    est = gmmmi.EstimateMI()
    est.fit(np.column_stack([x, y]))
    used = est.fit_result.meta["options"]
    assert used["init_type"] == "random_sklearn" and used["patience"] == 1


def _two_clusters(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-2.0, 0.5, (n // 2, 2)), rng.normal(2.0, 0.5, (n // 2, 2))])
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _one_fit(X, init):
    n = X.shape[0]
    train = (np.arange(n, dtype=np.int64), np.ones(n), np.array([0, n], dtype=np.int64))
    return fit_batch(
        X, train, np.zeros(1, dtype=np.int64), tuple(a[None] for a in init), EMSettings()
    )


def test_a_fit_started_as_one_gaussian_in_disguise_is_stalled():
    X = _two_clusters()
    cov = np.cov(X.T, bias=True)
    disguised = (np.full(2, 0.5), np.repeat(X.mean(axis=0)[None], 2, axis=0), np.stack([cov, cov]))
    fit = _one_fit(X, disguised)
    # the start is a fixed point of EM: its first step changes nothing, and EM "converges"
    assert fit.n_iter[0] <= STALL_ITERATIONS and fit.status[0] == 0
    assert stalled_at_start(fit).tolist() == [True]


@pytest.mark.parametrize(
    "X", [_two_clusters(), _standardised(datasets.gaussian(0.6), 5000, 1)], ids=["two", "gauss"]
)
def test_a_fit_that_left_its_start_is_not_stalled(X):
    """No false alarm: k-means starts, converged fits of two clusters and of one Gaussian."""
    fit = _one_fit(
        X, initialise(X, 2, init_type="kmeans", scale=None, rng=np.random.default_rng(0))
    )
    assert fit.status[0] == 0
    assert stalled_at_start(fit).tolist() == [False]
    one = _one_fit(
        X, initialise(X, 1, init_type="kmeans", scale=None, rng=np.random.default_rng(0))
    )
    assert stalled_at_start(one).tolist() == [False]


def test_stalled_cross_validation_fits_are_restarted_from_k_means():
    """D3 at N=1e5: random responsibilities stall at the global mean; K=2 is really tried."""
    X = _standardised(datasets.paper("D3"), 100_000, 1)
    rng = np.random.default_rng(0)
    folds = make_folds(X.shape[0], 2, rng)
    one = cross_validate(
        X,
        1,
        folds,
        n_inits=1,
        init_type="random_sklearn",
        scale=None,
        settings=EMSettings(),
        rng=rng,
    )
    two = cross_validate(
        X,
        2,
        folds,
        n_inits=3,
        init_type="random_sklearn",
        scale=None,
        settings=EMSettings(),
        rng=rng,
    )
    assert two.stalled > 0
    assert not stalled_at_start(two.fits).any()
    # the old code scored K=2 as K=1 (a gain below 1e-5 nat); the real K=2 gains 0.04 nat
    assert two.best_score - one.best_score > 0.01


def test_the_original_search_no_longer_stops_at_a_stalled_k():
    """Regression (issue 9): GMM-MI's search chose K=1 for D3 at N=1e5 (0.044 nat, truth 0.132)."""
    X = _standardised(datasets.paper("D3"), 100_000, 1)
    sel = select_components(
        X, rng=np.random.default_rng(0), init_type="random_sklearn", curves=False
    )
    assert sel.n_components >= 3
    assert sel.status["stalled"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["D3", "D5"])
@pytest.mark.parametrize("options", [{}, {"init_type": "random_sklearn"}], ids=["new", "original"])
def test_paper_mixtures_at_large_n_within_3_sd(name, options):
    ds = datasets.paper(name)
    x, y = ds.sample(100_000, 0)
    res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=20, **options)
    assert abs(res.mi - ds.truth) < 3 * res.sd, (res.mi, res.sd, res.n_components)


def test_no_false_alarm_on_a_gaussian():
    """A Gaussian at N=1e5 with the defaults: K=1, no restart, no warning, within 3 sd."""
    ds = datasets.gaussian(0.6)
    x, y = ds.sample(100_000, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = gmmmi.estimate(x, y, random_state=0, n_bootstrap=20)
    assert res.n_components == 1
    assert res.diagnostics.extra["fit_status_counts"]["stalled"] == 0
    assert abs(res.mi - ds.truth) < 3 * res.sd


def test_restarts_that_stop_at_once_still_warn_of_a_loose_threshold():
    """Stalled fits restarted from k-means that stop again within 3 iterations are short."""
    x, y = datasets.paper("D3").sample(1000, 0)
    with pytest.warns(ConvergenceWarning, match="stopped within 2 EM iterations"):
        res = gmmmi.estimate(
            x, y, random_state=1, init_type="random_sklearn", threshold_fit=0.1, n_bootstrap=2
        )
    assert res.diagnostics.extra["fit_status_counts"]["stalled"] > 0
