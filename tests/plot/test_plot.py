"""Plots: each one renders to PNG (Agg), draws what it claims, and never calls show()."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.patches import Ellipse

from gmmmi.mixture import MixtureDraws
from gmmmi.plot import (
    plot_corner,
    plot_distribution,
    plot_loss_curves,
    plot_mixture_ellipses,
    plot_result_fit,
)

from helpers import make_bootstrap_result, make_posterior_result, make_single_fit_result, render


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("plots must never call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def ellipses(ax):
    return [p for p in ax.patches if isinstance(p, Ellipse)]


def mahalanobis_on_boundary(ellipse, mean, cov):
    """Mahalanobis distances of an Ellipse patch's boundary points from ``mean``."""
    # the unit circle is cubic Bézier segments: every third vertex lies on the curve
    on_curve = ellipse.get_path().vertices[:-1:3]
    pts = ellipse.get_patch_transform().transform(on_curve)
    diff = pts - mean
    return np.sqrt(np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff))


# ----------------------------------------------------------- distributions
def test_result_plot_bootstrap_with_truth(rng, tmp_path):
    res = make_bootstrap_result(rng)
    ax = res.plot(truth=0.19)
    assert ax.get_xlabel() == "MI [nat]"
    texts = legend_texts(ax)
    assert texts[0] == "50 draws"
    assert "estimate 0.21" in texts and "truth 0.19" in texts
    assert "95% interval (value ± 1.96 sd)" in texts  # the recommended interval, named
    lines = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert lines["estimate 0.21"] == 0.21 and lines["truth 0.19"] == 0.19
    (shade,) = [p for p in ax.patches if p.get_label() == "95% interval (value ± 1.96 sd)"]
    span = (shade.get_x(), shade.get_x() + shade.get_width())  # a Rectangle in data x
    np.testing.assert_allclose(span, res.interval(), rtol=1e-12)
    assert "90% HDI" in legend_texts(res.plot(prob=0.9, method="hdi"))
    render(ax.figure, tmp_path / "mi_bootstrap.png")


def test_result_plot_posterior_per_chain_and_kl(rng, tmp_path):
    res = make_posterior_result(rng)
    ax = res.plot()
    assert ax.get_xlabel() == "CMI [nat]"
    assert {"chain 0", "chain 1"} <= set(legend_texts(ax))
    render(ax.figure, tmp_path / "cmi_posterior.png")
    ax = make_bootstrap_result(rng).plot(quantity="kl_xy")
    assert ax.get_xlabel() == "KL[p(x)||p(y)] [nat]"


def test_result_plot_single_fit_draws_only_the_estimate(rng, tmp_path):
    ax = make_single_fit_result(rng).plot(truth=0.2)
    assert legend_texts(ax) == ["estimate 0.2135", "truth 0.2"]
    render(ax.figure, tmp_path / "single.png")


def test_plot_distribution_on_given_axes():
    fig, ax = plt.subplots()
    out = plot_distribution(
        np.linspace(0, 1, 30), point=0.5, interval=(0.1, 0.9), label="I", unit="bit", ax=ax
    )
    assert out is ax
    assert ax.get_xlabel() == "I [bit]"


# ---------------------------------------------------------- fitted mixtures
def test_ellipses_lie_at_one_and_two_sigma(rng):
    cov = np.array([[2.0, 1.2], [1.2, 1.5]])
    mean = np.array([1.0, -2.0])
    ax = plot_mixture_ellipses([0.6, 0.4], [mean, mean + 3], [cov, np.eye(2)])
    first = ellipses(ax)[:2]
    for level, patch in zip((1, 2), first, strict=True):
        np.testing.assert_allclose(mahalanobis_on_boundary(patch, mean, cov), level, rtol=1e-9)
    # opacity by weight: the lighter component is 0.4 / 0.6 as opaque
    assert ellipses(ax)[2].get_alpha() == pytest.approx(ellipses(ax)[0].get_alpha() * 0.4 / 0.6)


def test_ellipses_skip_empty_components_and_pick_dims(rng):
    d = 3
    cov = np.diag([1.0, 4.0, 9.0])
    ax = plot_mixture_ellipses([1.0, 0.0], np.zeros((2, d)), [cov, cov], dims=(2, 1))
    assert len(ellipses(ax)) == 2  # 1σ and 2σ of the one non-empty component
    patch = ellipses(ax)[0]
    sub = cov[np.ix_([2, 1], [2, 1])]
    np.testing.assert_allclose(mahalanobis_on_boundary(patch, np.zeros(2), sub), 1, rtol=1e-9)


def contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def test_plot_fit_contours_are_exact_and_labelled_with_their_mass(rng, tmp_path):
    res = make_bootstrap_result(rng)
    mix = res.diagnostics.reference_fit
    X = mix.sample(600, rng)[0]
    fig = res.plot_fit(X)  # the single-array form given to gmmmi.estimate
    axes = np.array(fig.axes[:4]).reshape(2, 2)
    assert (axes[1, 0].get_xlabel(), axes[1, 0].get_ylabel()) == ("height", "weight")
    assert not axes[0, 1].axison
    model = contour_sets(axes[1, 0])[-1]  # the data's (shaded, then lines) come first
    assert [t.get_text() for t in model.labelTexts] == ["95%", "68%"]
    # the contours are the exact density's: the mass of the fitted mixture above each
    # level is the label (Monte Carlo over 200 000 draws of the mixture, sd ~0.001)
    draws = mix.sample(200_000, np.random.default_rng(1))[0]
    density = np.exp(mix.logpdf(draws)[0])
    for level, mass in zip(model.levels, (0.95, 0.68), strict=True):
        assert np.mean(density >= level) == pytest.approx(mass, abs=0.01)
    # the diagonal shows the exact 1-D marginal
    line = axes[0, 0].get_lines()[-1]
    x = line.get_xdata()
    np.testing.assert_allclose(
        line.get_ydata(), np.exp(mix.marginal([0]).logpdf(x[:, None])[0]), rtol=1e-12
    )
    render(fig, tmp_path / "fit_2d.png")


def test_plot_fit_on_one_axes_and_refusals(rng, tmp_path):
    res = make_bootstrap_result(rng)
    X = res.diagnostics.reference_fit.sample(600, rng)[0]
    _, ax = plt.subplots()
    assert res.plot_fit(X[:, 0], X[:, 1], ax=ax) is ax
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("height", "weight")
    assert legend_texts(ax) == ["data", "fitted model (mass enclosed)"]
    assert [t.get_text() for t in contour_sets(ax)[0].labelTexts] == ["95%", "68%"]
    render(ax.figure, tmp_path / "fit_ax.png")
    _, ax2 = plt.subplots()  # the function form is the method
    assert plot_result_fit(res, X[:, 0], X[:, 1], ax=ax2) is ax2
    assert legend_texts(ax2) == legend_texts(ax)
    with pytest.raises(ValueError, match=r"The data have 3 columns but this result's mixture"):
        res.plot_fit(X, X[:, 0])
    post = make_posterior_result(rng)
    X3 = post.mixture.select(0).sample(300, rng)[0]
    with pytest.raises(ValueError, match="ax is only accepted for two coordinates"):
        post.plot_fit(X3[:, 0], X3[:, 1], z=X3[:, 2], ax=ax)


def test_plot_fit_corner_for_three_dims(rng, tmp_path):
    res = make_posterior_result(rng)  # no reference fit: the first draw is shown
    X = res.mixture.select(0).sample(800, rng)[0]
    fig = res.plot_fit(X[:, 0], X[:, 1], z=X[:, 2])
    axes = np.array(fig.axes[:9]).reshape(3, 3)
    assert axes[2, 0].get_xlabel() == "a" and axes[2, 0].get_ylabel() == "c"
    assert not axes[0, 2].axison
    assert len(contour_sets(axes[2, 1])) == 3  # data shaded + data lines + model
    render(fig, tmp_path / "fit_corner.png")


def test_plot_loss_draws_the_fit_loss_curves(rng, tmp_path):
    res = make_bootstrap_result(rng)
    ax = res.plot_loss()
    assert len(ax.get_lines()) == 4 and legend_texts(ax) == ["train", "valid"]
    render(ax.figure, tmp_path / "result_loss.png")
    with pytest.raises(ValueError, match="No loss curves to plot: the fit recorded none"):
        make_posterior_result(rng).plot_loss()


def test_corner_marginal_is_the_mixture_density(rng):
    mix = MixtureDraws(
        np.array([[0.3, 0.7]]),
        np.array([[[0.0, 0.0], [3.0, 1.0]]]),
        np.stack([[np.eye(2), 0.5 * np.eye(2)]]),
    )
    fig = plot_corner(mix, labels=["u", "v"])
    line = fig.axes[0].get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    expected = 0.3 * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi) + 0.7 * np.exp(
        -((x - 3) ** 2)
    ) / np.sqrt(np.pi)
    np.testing.assert_allclose(y, expected, rtol=1e-10)
    # ~1 of density mass in the plotted range
    assert np.trapezoid(y, x) == pytest.approx(1, abs=0.02)


# -------------------------------------------------------------- diagnostics
def test_loss_curves(rng, tmp_path):
    curves = make_bootstrap_result(rng).diagnostics.loss_curves
    ax = plot_loss_curves(curves)
    assert len(ax.get_lines()) == 4
    assert legend_texts(ax) == ["train", "valid"]
    assert ax.get_xlabel() == "EM iteration"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 8))
    render(ax.figure, tmp_path / "loss.png")
    # the original GMM-MI's flat list alternates train and valid
    ax = plot_loss_curves([np.arange(3.0), np.arange(3.0) - 1, np.arange(4.0), np.ones(4)])
    assert [line.get_color() for line in ax.get_lines()] == ["0.5", "0.5", "salmon", "salmon"]
    with pytest.raises(ValueError, match="No loss curves"):
        plot_loss_curves({})


# ---------------------------------------------------------------- heat-map
def test_heat_map_labels_show_two_significant_digits_of_the_sd():
    """A small but clearly non-zero MI is never written "0.00±0.00"."""
    import pandas as pd

    from gmmmi.matrix import MIMatrix

    names = ["a", "b", "c"]
    mean = pd.DataFrame(
        [[np.nan, 0.0042, 0.31], [0.0042, np.nan, 0.0007], [0.31, 0.0007, np.nan]], names, names
    )
    sd = pd.DataFrame(
        [[np.nan, 0.0011, 0.024], [0.0011, np.nan, 0.0009], [0.024, 0.0009, np.nan]], names, names
    )
    ax = MIMatrix(mean, sd, errors={}, results={}, symmetric=True).plot()
    texts = {(t.get_position()): t.get_text() for t in ax.texts}
    assert texts[(1, 0)] == "0.0042±0.0011"  # 3.8 sd from zero: not hatched, readable
    assert texts[(2, 0)] == "0.310±0.024"
    assert texts[(2, 1)] == "0.00070±0.00090"
