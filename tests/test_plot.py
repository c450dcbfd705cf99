"""Plots: each one renders to PNG (Agg), draws what it claims, and never calls show()."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Ellipse
from test_result import make_bootstrap_result, make_posterior_result, make_single_fit_result

from gmmmi.mixture import MixtureDraws
from gmmmi.plot import plot_corner, plot_distribution, plot_loss_curves, plot_mixture_ellipses


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def show(*args, **kwargs):
        raise AssertionError("plots must never call plt.show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def render(fig, path):
    fig.savefig(path, dpi=90)
    assert path.stat().st_size > 5_000  # a real image, not an empty canvas


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
    assert "94% HDI" in texts and "estimate 0.21" in texts and "truth 0.19" in texts
    lines = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert lines["estimate 0.21"] == 0.21 and lines["truth 0.19"] == 0.19
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
        np.linspace(0, 1, 30), point=0.5, hdi=(0.1, 0.9), label="I", unit="bit", ax=ax
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


def test_plot_fit_2d_over_data(rng, tmp_path):
    res = make_bootstrap_result(rng)
    X = res.diagnostics.reference_fit.sample(600, rng)[0]
    ax = res.plot_fit(X)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("height", "weight")
    assert len(ellipses(ax)) == 2 * res.n_components
    assert legend_texts(ax) == ["data", "fit 1σ", "fit 2σ"]
    # the reference fit is the one drawn
    centre = ellipses(ax)[0].center
    np.testing.assert_allclose(centre, res.diagnostics.reference_fit.means[0, 0])
    render(ax.figure, tmp_path / "fit_2d.png")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        res.plot_fit(X[:, :1])


def test_plot_fit_corner_for_three_dims(rng, tmp_path):
    res = make_posterior_result(rng)  # no reference fit: the first draw is shown
    X = res.mixture.select(0).sample(800, rng)[0]
    fig = res.plot_fit(X)
    axes = np.array(fig.axes[:9]).reshape(3, 3)
    assert axes[2, 0].get_xlabel() == "a" and axes[2, 0].get_ylabel() == "c"
    assert len(ellipses(axes[1, 0])) == 2 * res.n_components
    assert not axes[0, 2].axison
    centre = ellipses(axes[2, 1])[0].center
    np.testing.assert_allclose(centre, res.mixture.means[0, 0, [1, 2]])
    render(fig, tmp_path / "fit_corner.png")
    with pytest.raises(ValueError, match="only accepted for d = 2"):
        res.plot_fit(X, ax=plt.gca())


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
