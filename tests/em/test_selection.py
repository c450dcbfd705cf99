"""Initialisations and the cross-validated choice of K (the EM wing, gmmmi._em)."""

import math
import pickle

import numpy as np
import pytest

from gmmmi._em import fit as em_fit
from gmmmi._em import select as em_select
from gmmmi._em.fit import EMSettings
from gmmmi._em.folds import make_folds
from gmmmi._em.init import default_scale, initialise, kmeans
from gmmmi._em.options import INIT_TYPES
from gmmmi._em.repair import collapsed_components
from gmmmi._em.select import (
    LossCurves,
    cross_validate,
    information_criteria,
    n_parameters,
    select_components,
    with_curves,
)
from gmmmi._kernels.em import mean_loglik
from gmmmi.datasets import paper_mixture

import reference
from helpers import standardise


def _gaussian(rng, n, rho=0.6):
    return standardise(rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], n))


@pytest.mark.parametrize("init_type", INIT_TYPES)
def test_every_init_type_gives_a_valid_start_and_a_finite_fit(rng, init_type):
    X = standardise(paper_mixture("D3").sample(300, rng)[0])
    w, m, c = initialise(X, 3, init_type=init_type, scale=None, rng=rng)
    assert w.shape == (3,) and m.shape == (3, 2) and c.shape == (3, 2, 2)
    np.testing.assert_allclose(w.sum(), 1.0)
    assert np.all(np.linalg.eigvalsh(c) > 0)
    sel = select_components(X, rng=rng, n_components=3, init_type=init_type)
    assert np.all(np.isfinite(sel.cv.val_scores))
    assert np.isfinite(sel.full_fit.train_ll[0])


def test_random_init_uses_scale(rng):
    X = _gaussian(rng, 200)
    _, _, c = initialise(X, 2, init_type="random", scale=0.5, rng=rng)
    np.testing.assert_allclose(c, np.stack([0.25 * np.eye(2)] * 2))
    _, _, c = initialise(X, 2, init_type="minmax", scale=None, rng=rng)
    np.testing.assert_allclose(c[0], default_scale(X, 2) ** 2 * np.eye(2))


def test_default_scale_fills_the_box():
    # 2-D: K discs of radius s cover the box area: K * pi * s^2 = area
    X = np.array([[0.0, 0.0], [4.0, 1.0]])
    s = default_scale(X, 2)
    np.testing.assert_allclose(2 * math.pi * s**2, 4.0)


def test_kmeans_finds_separated_clusters(rng):
    truth = np.array([[-6.0, 0.0], [6.0, 0.0], [0.0, 8.0]])
    labels_true = np.repeat(np.arange(3), 100)
    X = truth[labels_true] + rng.normal(size=(300, 2))
    labels = kmeans(X, 3, rng)
    # the same partition up to a relabelling
    mapping = {labels[i]: labels_true[i] for i in range(300)}
    assert len(mapping) == 3
    np.testing.assert_array_equal([mapping[v] for v in labels], labels_true)


def test_information_criteria_formulas():
    assert n_parameters(3, 2) == 2 + 6 + 9
    aic, bic = information_criteria(-1.5, 100, 3, 2)
    np.testing.assert_allclose(aic, 300.0 + 2 * 17)
    np.testing.assert_allclose(bic, 300.0 + 17 * math.log(100))


def test_gaussian_chooses_one_component(rng):
    sel = select_components(_gaussian(rng, 2000), rng=rng)
    assert sel.n_components == 1
    assert sel.metric_per_k["n_components"] == [1, 2]  # patience 1: stop after one worse K
    assert not sel.reached_max_components


def test_d3_chooses_three_components(rng):
    """D3 at N = 2000: K = 3 (in at least 2 of 3 independent data sets and splits)."""
    chosen = []
    for _ in range(3):
        X = standardise(paper_mixture("D3").sample(2000, rng)[0])
        chosen.append(select_components(X, rng=rng).n_components)
    assert chosen.count(3) >= 2, chosen


@pytest.mark.parametrize("metric_method", ["aic", "bic"])
def test_aic_bic_paths(rng, metric_method):
    X = standardise(paper_mixture("D3").sample(1000, rng)[0])
    sel = select_components(X, rng=rng, metric_method=metric_method)
    table = sel.metric_per_k
    assert len(table["n_components"]) == len(table["aic"]) == len(table["bic"])
    assert len(table["valid"]) == len(table["n_components"])
    i = table["n_components"].index(sel.n_components)
    values = np.array(table[metric_method])
    # the chosen K is the best, and the next K did not improve by more than the threshold
    assert values[i] == values.min()
    # the criterion of the chosen K is that of its full-data fit
    aic, bic = information_criteria(float(sel.full_fit.train_ll[0]), 1000, sel.n_components, 2)
    np.testing.assert_allclose(table[metric_method][i], aic if metric_method == "aic" else bic)
    assert sel.n_components >= 2


def test_valid_metric_reports_aic_bic_of_the_cv_mixture_on_all_data(rng):
    X = standardise(paper_mixture("D3").sample(1000, rng)[0])
    sel = select_components(X, rng=rng)
    table = sel.metric_per_k
    i = table["n_components"].index(sel.n_components)
    w, m, c = sel.start
    mean_ll = float(np.mean(reference.mixture_logpdf(X, w, m, c)))
    aic, bic = information_criteria(mean_ll, 1000, sel.n_components, 2)
    np.testing.assert_allclose([table["aic"][i], table["bic"][i]], [aic, bic], rtol=1e-10)
    # the reference fit is still a full-data EM fit from that mixture: at least as likely
    assert sel.full_fit.train_ll[0] >= mean_ll - 1e-9
    assert len(sel.cv.loss_curves["train"]) == len(sel.cv.fits.n_iter)


def test_mean_loglik_matches_oracle(rng):
    X = rng.normal(size=(300, 3))
    w = np.array([0.3, 0.7])
    m = rng.normal(size=(2, 3))
    c = np.stack([reference.random_covariance(rng, 3) for _ in range(2)])
    want = np.mean(reference.mixture_logpdf(X, w, m, c))
    np.testing.assert_allclose(mean_loglik(X, w, m, c), want, rtol=1e-12)


def test_curves_added_later_reproduce_the_fits(rng):
    X = standardise(paper_mixture("D3").sample(600, rng)[0])
    folds = make_folds(600, 2, rng)
    kw = dict(n_inits=2, init_type="random_sklearn", scale=None, settings=EMSettings())
    bare = cross_validate(X, 3, folds, rng=np.random.default_rng(1), record_curves=False, **kw)
    recorded = cross_validate(X, 3, folds, rng=np.random.default_rng(1), **kw)
    added = with_curves(X, bare, folds, EMSettings())
    assert not bare.fits.curves_train
    np.testing.assert_array_equal(added.fits.means, bare.fits.means)
    np.testing.assert_array_equal(added.fits.n_iter, bare.fits.n_iter)
    for a, b in zip(added.fits.curves_valid, recorded.fits.curves_valid, strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.all(np.isfinite(a))


def test_loss_curves_recorded_when_read_are_those_recorded_at_once(rng, monkeypatch):
    X = standardise(paper_mixture("D3").sample(600, rng)[0])
    sel = select_components(X, rng=np.random.default_rng(2))
    curves = sel.cv.loss_curves
    assert list(curves) == ["train", "valid"] and curves._curves is None  # not yet recorded
    monkeypatch.setattr(em_select, "LAZY_CURVES_BYTES", 0)  # larger data: recorded at once
    at_once = LossCurves(X, sel.cv, sel.folds, EMSettings())
    assert at_once._source is None
    X[:] = 0.0  # the data given may change afterwards: a copy is kept
    for name in ("train", "valid"):
        assert len(curves[name]) == len(sel.cv.fits.n_iter)
        for got, want in zip(curves[name], at_once[name], strict=True):
            np.testing.assert_array_equal(got, want)
    assert type(pickle.loads(pickle.dumps(curves))) is dict  # a pickle is a plain dict


def test_patience_looks_further(rng):
    X = _gaussian(rng, 500)
    sel = select_components(X, rng=rng, patience=3)
    assert sel.n_components == 1
    assert sel.metric_per_k["n_components"] == [1, 2, 3, 4]


def test_max_components_is_reported(rng):
    X = standardise(paper_mixture("D5").sample(1000, rng)[0])
    sel = select_components(X, rng=rng, max_components=2)
    assert sel.reached_max_components and sel.n_components == 2


def test_fixed_components_still_cross_validates_inits(rng):
    X = standardise(paper_mixture("D3").sample(500, rng)[0])
    sel = select_components(X, rng=rng, n_components=4, n_inits=4, n_folds=3)
    assert sel.n_components == 4 and sel.metric_per_k == {}
    assert sel.cv.val_scores.shape == (4, 3)
    assert sel.cv.best_init == np.argmax(sel.cv.val_scores.mean(axis=1))
    w, m, c = sel.cv.best_parameters()
    f = sel.cv.best_init * 3 + sel.cv.best_fold
    np.testing.assert_array_equal(m, sel.cv.fits.means[f])
    assert len(sel.cv.fits.curves_train) == 12
    assert all(
        len(ct) == n for ct, n in zip(sel.cv.fits.curves_train, sel.cv.fits.n_iter, strict=True)
    )


def test_loss_curves_end_at_the_reported_scores(rng):
    X = standardise(paper_mixture("D3").sample(400, rng)[0])
    sel = select_components(X, rng=rng, n_components=3)
    fits = sel.cv.fits
    for f in range(len(fits.n_iter)):
        assert fits.curves_valid[f][-1] == fits.valid_ll[f]
        assert fits.curves_train[f][-1] == fits.train_ll[f]
        assert np.all(np.diff(fits.curves_train[f]) >= -1e-10)


def test_too_few_samples_message(rng):
    X = rng.normal(size=(5, 2))
    with pytest.raises(ValueError, match=r"at least n_folds x n_components = 6 samples; got 5"):
        select_components(X, rng=rng, n_components=3, n_folds=2)
    with pytest.raises(ValueError, match="needs at least"):
        select_components(X[:2], rng=rng, n_folds=3)


def test_search_stops_at_the_sample_limit(rng):
    X = rng.normal(size=(8, 2))
    sel = select_components(X, rng=rng, n_folds=2, threshold_components=-np.inf)
    assert sel.reached_max_components and sel.n_components == 4


def test_settings_reach_the_fits(rng):
    X = standardise(paper_mixture("D3").sample(300, rng)[0])
    sel = select_components(X, rng=rng, n_components=3, settings=EMSettings(max_iter=3))
    assert np.all(sel.cv.fits.n_iter <= 3)
    assert sel.status["max_iter"] > 0


def test_collapsed_components_flags_spikes_thin_and_broken_covariances():
    eye = np.eye(2)
    covs = np.stack(
        [
            eye,  # healthy
            np.diag([1.0, 1e-15]),  # a spike along one axis
            [[1.0, 1.0], [1.0, 1.0]],  # collinear points: singular
            eye,  # fewer than d + 1 = 3 points' weight
            np.full((2, 2), np.nan),  # broken
            np.diag([1.0, 1e-15]),  # padding (weight 0): ignored
        ]
    )[None]
    weights = np.array([[0.9, 0.03, 0.03, 0.002, 0.038, 0.0]])
    got = collapsed_components(weights, covs, 1000.0)
    np.testing.assert_array_equal(got, [[False, True, True, True, True, False]])
    # the count rule scales with the sample size of each fit
    assert not collapsed_components(weights, covs, np.array([2000.0]))[0, 3]


def test_search_from_k_min_with_given_folds(rng):
    X = standardise(paper_mixture("D3").sample(400, rng)[0])
    folds = np.repeat([0, 1], 200)
    sel = select_components(X, rng=rng, k_min=2, folds=folds, curves=False)
    assert sel.metric_per_k["n_components"][0] == 2 and sel.n_components >= 2
    assert sel.folds is folds
    assert sel.cv.fits.curves_train == []  # no loss curves asked


@pytest.mark.parametrize("buffer", [1, 5, 10_000])
def test_loss_curves_do_not_depend_on_the_first_pass_buffer(rng, monkeypatch, buffer):
    """Fits longer than the curve buffer are re-run to record: same fits, same curves."""
    X = standardise(paper_mixture("D3").sample(600, rng)[0])
    folds = make_folds(600, 2, rng)
    kw = dict(n_inits=2, init_type="random_sklearn", scale=None, settings=EMSettings())
    full = cross_validate(X, 3, folds, rng=np.random.default_rng(1), **kw)
    monkeypatch.setattr(em_fit, "CURVE_BUFFER", buffer)
    cut = cross_validate(X, 3, folds, rng=np.random.default_rng(1), **kw)
    assert min(full.fits.n_iter) > 5  # the small buffers are exceeded
    for name in ("weights", "means", "covariances", "n_iter", "status", "train_ll", "valid_ll"):
        np.testing.assert_array_equal(getattr(cut.fits, name), getattr(full.fits, name))
    pairs = zip(cut.fits.curves_valid, full.fits.curves_valid, strict=True)
    for (a, b), n in zip(pairs, full.fits.n_iter, strict=True):
        assert len(a) == n
        np.testing.assert_array_equal(a, b)
    for a, b in zip(cut.fits.curves_train, full.fits.curves_train, strict=True):
        np.testing.assert_array_equal(a, b)


def test_memory_does_not_depend_on_max_iter(rng):
    # the curve buffers were (fits, max_iter): 1.25 GB at 1e7, a MemoryError at 1e12
    X = _gaussian(rng, 500)
    results = [
        select_components(X, rng=np.random.default_rng(0), settings=EMSettings(max_iter=m))
        for m in (10_000, 10**12)
    ]
    a, b = (r.cv.fits for r in results)
    assert results[0].n_components == results[1].n_components
    np.testing.assert_array_equal(a.means, b.means)
    for ca, cb in zip(a.curves_valid, b.curves_valid, strict=True):
        np.testing.assert_array_equal(ca, cb)
