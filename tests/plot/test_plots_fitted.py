"""Plots of fitted mixtures: EstimateMI's ellipses, data-vs-model contours, loss curves.

Every plot is rendered to PNG (Agg) so that drawing errors surface here.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from gmmmi import EstimateMI
from gmmmi.datasets import paper_mixture
from gmmmi.mixture import MixtureDraws
from gmmmi.plot import plot_fitted_contours
from gmmmi.plot.mixtures import _mass_levels

from helpers import render


@pytest.fixture(scope="module")
def d3_fit():
    """EstimateMI fitted to 600 points of the paper's 3-component mixture D3."""
    X = paper_mixture("D3").sample(600, np.random.default_rng(3))[0]
    return EstimateMI(random_state=3).fit(X), X


def test_fitted_model_over_the_data(d3_fit, tmp_path):
    est, X = d3_fit
    ax = est.plot_fitted_model()
    assert isinstance(ax, Axes)
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 2 * est.best_components
    # the heaviest component's 1-sigma ellipse sits on its mean, in data units
    ref = est.fitted_mixtures()
    k = int(np.argmax(ref.weights[0]))
    assert np.allclose([e.center for e in ellipses[2 * k : 2 * k + 1]], ref.means[0, k])
    assert len(ax.collections) == 1  # the data scatter, drawn on a new figure by default
    assert ax.get_xlabel() == "X1" and ax.get_ylabel() == "X2"
    render(ax.figure, tmp_path / "fitted_model.png", dpi=50, min_bytes=1_000)


def test_fitted_model_on_a_given_axes_adds_a_legend_entry(d3_fit):
    est, X = d3_fit
    _, ax = plt.subplots()
    ax.scatter(X[:, 0], X[:, 1], label="Input data")
    out = est.plot_fitted_model(ax=ax, color="salmon", alpha=0.8, linewidth=4, label="GMM")
    assert out is ax and len(ax.collections) == 1  # no second scatter
    ax.legend()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Input data", "GMM"]
    assert {p.get_linewidth() for p in ax.patches} == {4}
    with pytest.raises(TypeError):
        est.plot_fitted_model(colour="red")
    plt.close("all")


def test_fitted_contours_kde_and_histogram(d3_fit, tmp_path):
    est, _ = d3_fit
    for kde in (True, False):
        fig = est.plot_fitted_contours(
            parameters=["a", "b"], shade_alpha=0.4, linewidths=2, kde=kde
        )
        assert isinstance(fig, Figure)
        lower = fig.axes[2]
        assert lower.get_xlabel() == "a" and lower.get_ylabel() == "b"
        # the data's shaded region and contour lines, then the model's labelled contours
        assert len(lower.collections) == 3
        assert [t.get_text() for t in lower.collections[2].labelTexts] == ["95%", "68%"]
        render(fig, tmp_path / f"contours_kde{kde}.png", dpi=50, min_bytes=1_000)


def test_fitted_contours_conditional_case(rng, tmp_path):
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    X = rng.multivariate_normal(np.zeros(3), cov, 500)
    est = EstimateMI(random_state=1).fit(X)
    fig = est.plot_fitted_contours(extents={"Z1": (-4, 4)}, n_samples=2000)
    assert len(fig.axes) == 9
    assert [fig.axes[i].get_xlabel() for i in (6, 7, 8)] == ["X1", "X2", "Z1"]
    assert fig.axes[8].get_xlim() == (-4, 4)
    render(fig, tmp_path / "contours_cmi.png", dpi=50, min_bytes=1_000)


def test_categorical_plots(rng, tmp_path):
    labels = rng.choice(2, size=600, p=(0.7, 0.3))
    x = rng.normal(0, 1, size=(600, 2)) + 2.5 * labels[:, None]
    est = EstimateMI(random_state=2).fit_categorical(x, labels)
    ax = est.plot_fitted_model()
    colours = {p.get_edgecolor()[:3] for p in ax.patches}
    assert len(colours) == 2  # one colour per category
    render(ax.figure, tmp_path / "categorical_model.png", dpi=50, min_bytes=1_000)
    render(
        est.plot_fitted_contours(), tmp_path / "categorical_contours.png", dpi=50, min_bytes=1_000
    )
    x1 = est._x[:, :1]
    one_d = EstimateMI(random_state=2).fit_categorical(x1, labels)
    with pytest.raises(ValueError, match="at least 2 continuous coordinates"):
        one_d.plot_fitted_model()
    render(one_d.plot_fitted_contours(), tmp_path / "categorical_1d.png", dpi=50, min_bytes=1_000)


def test_loss_curves(d3_fit, tmp_path):
    est, _ = d3_fit
    ax = est.plot_loss_curves()
    n_cv_fits = 3 * 2  # n_inits x n_folds at the chosen K
    assert len(ax.lines) == 2 * n_cv_fits
    render(ax.figure, tmp_path / "loss_curves.png", dpi=50, min_bytes=1_000)


# ----------------------------------------------------------- the plot function
def test_mass_levels_enclose_the_requested_mass():
    """On a fine grid of a standard 2-D Gaussian, the 68% level is exp(-r^2/2)/2pi at r^2=2.28."""
    g = np.linspace(-6, 6, 601)
    xx, yy = np.meshgrid(g, g)
    density = np.exp(-0.5 * (xx**2 + yy**2)) / (2 * np.pi)
    low, high = _mass_levels(density, [0.68, 0.95])
    r2 = {p: -2 * np.log(1 - p) for p in (0.68, 0.95)}  # chi-square(2) quantiles
    np.testing.assert_allclose(high, np.exp(-0.5 * r2[0.68]) / (2 * np.pi), rtol=0.02)
    np.testing.assert_allclose(low, np.exp(-0.5 * r2[0.95]) / (2 * np.pi), rtol=0.02)


def test_plot_fitted_contours_checks_its_input(rng):
    mix = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 2)), np.eye(2)[None, None])
    X = rng.normal(size=(100, 2))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plot_fitted_contours(mix, X[:, :1])
    with pytest.raises(ValueError, match="parameters must name all 2"):
        plot_fitted_contours(mix, X, parameters=["a"])
    with pytest.raises(ValueError, match="not among the parameters"):
        plot_fitted_contours(mix, X, extents={"c": (0, 1)})
    with pytest.raises(ValueError, match="one \\(low, high\\) per coordinate"):
        plot_fitted_contours(mix, X, extents=[(0, 1)])
    fig = plot_fitted_contours(mix, X, extents=[(-3, 3), (-2, 2)], rng=0, legend_kwargs={"loc": 3})
    assert fig.axes[2].get_ylim() == (-2, 2)
    plt.close(fig)
