"""MI with a discrete label (gmmmi.categorical): class weights by the kind of draws, and
each category's diagnostics kept, so that no category's convergence is lost.
"""

import dataclasses

import numpy as np
import pytest

import gmmmi
from gmmmi.backends import BaseBackend
from gmmmi.categorical import class_weight_draws
from gmmmi.diagnostics import DrawKind, FitDiagnostics
from gmmmi.mixture import MixtureDraws


class OneGaussian(BaseBackend):
    """K = 1 fits, S = ``n_draws`` copies of the full-data Gaussian, of a chosen kind.

    A category whose rows have a mean above ``0.5`` (standardised units) is
    reported as not converged in every draw.
    """

    name = "one-gaussian"
    options = {"n_draws": 5, "kind": DrawKind.BOOTSTRAP}

    def fit(self, X, *, n_components, rng, progress, **options):
        opts = self.check_options(options)
        S = opts["n_draws"]
        d = X.shape[1]
        mean, cov = X.mean(axis=0), np.cov(X, rowvar=False).reshape(d, d)
        draws = MixtureDraws(np.ones((S, 1)), np.tile(mean, (S, 1, 1)), np.tile(cov, (S, 1, 1, 1)))
        return draws, FitDiagnostics(
            kind=opts["kind"],
            n_components=1,
            sample_shape=(1, S),
            reference_fit=draws.select(0),
            n_iter=np.full(S, 3),
            converged=np.full(S, mean[0] <= 0.5),
        )


# the two categories are stacked (150 rows of each), so x is autocorrelated in row order
pytestmark = pytest.mark.filterwarnings("ignore::gmmmi.SerialDependenceWarning")


def _data(rng):
    labels = np.repeat([0, 1], 150)
    x = rng.normal(size=300) + 2.0 * labels
    return x, labels


def test_a_category_that_did_not_converge_is_reported(rng):
    """Regression: a categorical result reported category 0's convergence as the whole fit's."""
    x, labels = _data(rng)
    res = gmmmi.estimate(x, labels, discrete_y=True, backend=OneGaussian(), random_state=0)
    first, second = res.diagnostics.per_category
    assert first.converged.all() and not second.converged.any()
    assert not res.diagnostics.converged.any()
    assert res.diagnostics.n_iter.tolist() == [3] * 5
    assert [g.n_components for g in res.diagnostics.per_category] == [1, 1]


@pytest.mark.parametrize("kind", list(DrawKind))
def test_class_weights_follow_the_kind_of_draws(kind, rng):
    counts = np.array([30.0, 70.0])
    pis = class_weight_draws(kind, counts, 400, np.random.default_rng(0))
    assert pis.shape == (400, 2)
    np.testing.assert_allclose(pis.sum(axis=1), 1.0)
    if kind is DrawKind.SINGLE_FIT:
        np.testing.assert_array_equal(pis, np.tile([0.3, 0.7], (400, 1)))
    elif kind is DrawKind.BOOTSTRAP:  # multinomial counts over n = 100 rows
        np.testing.assert_allclose(pis * 100, np.round(pis * 100), atol=1e-9)
        assert abs(pis[:, 0].std() - np.sqrt(0.3 * 0.7 / 100)) < 0.1 * np.sqrt(0.21 / 100)
    else:  # Dirichlet(31, 71): not multiples of 1/n
        assert np.any(np.abs(pis * 100 - np.round(pis * 100)) > 1e-6)
        sd = np.sqrt(31 * 71 / (102**2 * 103))
        assert abs(pis[:, 0].mean() - 31 / 102) < 4 * sd / np.sqrt(400)


def test_an_unknown_kind_is_an_error_not_a_posterior():
    with pytest.raises(TypeError, match=r"^kind must be a DrawKind; got 'jackknife'\.$"):
        class_weight_draws("jackknife", np.array([1.0, 2.0]), 3, np.random.default_rng(0))


def test_categories_of_different_kinds_are_refused(rng):
    class Mixed(OneGaussian):
        calls = 0

        def fit(self, X, **kwargs):
            draws, diag = super().fit(X, **kwargs)
            Mixed.calls += 1
            kind = DrawKind.POSTERIOR if Mixed.calls == 2 else diag.kind
            return draws, dataclasses.replace(diag, kind=kind)

    x, labels = _data(rng)
    with pytest.raises(ValueError, match=r"different kinds or shapes for different categories"):
        gmmmi.estimate(x, labels, discrete_y=True, backend=Mixed(), random_state=0)


def test_per_category_reference_fits_are_the_fits_themselves(rng):
    """No merge-and-split: each category's reference fit is its own, in data units."""
    x, labels = _data(rng)
    res = gmmmi.estimate(x, labels, discrete_y=True, n_bootstrap=5, random_state=0)
    for c, g in enumerate(res.diagnostics.per_category):
        ref = g.reference_fit
        assert ref.weights.sum() == pytest.approx(1.0, abs=1e-12)
        centre = (ref.weights[0] * ref.means[0, :, 0]).sum()
        assert centre == pytest.approx(x[labels == c].mean(), abs=0.05)
