"""Fitted mixtures: component ellipses, corner grids and data-vs-model density contours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse

from gmmmi.mixture import MixtureDraws

from ._style import DATA_COLOR, FIT_COLOR, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

    from gmmmi.result import Result


def _ellipse_axes(cov2):
    """Width, height (at 1 sigma, full axes lengths) and angle (degrees) of a 2x2 covariance."""
    vals, vecs = np.linalg.eigh(cov2)
    vals = np.clip(vals, 0.0, None)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    return 2 * np.sqrt(vals[1]), 2 * np.sqrt(vals[0]), angle


def plot_mixture_ellipses(
    weights: ArrayLike,
    means: ArrayLike,
    covariances: ArrayLike,
    *,
    X: ArrayLike | None = None,
    ax: Axes | None = None,
    dims: tuple[int, int] = (0, 1),
    color: str = FIT_COLOR,
    alpha: float = 0.9,
    linewidth: float = 1.5,
    levels: Sequence[float] = (1, 2),
) -> Axes:
    """Contour ellipses of every component of one mixture, over the data.

    Each non-empty component gets an ellipse at Mahalanobis distance 1 (solid)
    and 2 (dashed) from its mean, and a cross at its mean; its opacity is
    ``alpha * weight / max(weight)``, so minor components fade.

    Parameters
    ----------
    weights : array_like, shape (K,)
    means : array_like, shape (K, d)
    covariances : array_like, shape (K, d, d)
    X : array_like, shape (n, d), optional
        Data to scatter underneath, in the mixture's units.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    dims : (int, int), default (0, 1)
        The two coordinates shown (horizontal, vertical).
    color : str, default "C1"
    alpha : float, default 0.9
        Opacity of the heaviest component.
    linewidth : float, default 1.5
    levels : sequence of float, default (1, 2)
        Mahalanobis distances (the "sigma" levels) at which to draw ellipses.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(5.0, 5.0))
    weights = np.asarray(weights, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    covariances = np.asarray(covariances, dtype=np.float64)
    i, j = dims
    handles = []
    if X is not None:
        X = np.asarray(X, dtype=np.float64)
        ax.scatter(X[:, i], X[:, j], s=4, color=DATA_COLOR, alpha=0.35, lw=0, rasterized=True)
        handles.append(Line2D([], [], ls="", marker="o", ms=4, color=DATA_COLOR, label="data"))
    styles = ["-", "--", ":", "-."]
    w_max = weights.max()
    for w, mu, cov in zip(weights, means, covariances, strict=True):
        if w <= 0:
            continue
        width, height, angle = _ellipse_axes(cov[np.ix_([i, j], [i, j])])
        a = alpha * w / w_max
        for n, level in enumerate(levels):
            ax.add_patch(
                Ellipse(
                    (mu[i], mu[j]),
                    level * width,
                    level * height,
                    angle=angle,
                    fill=False,
                    edgecolor=color,
                    alpha=a,
                    lw=linewidth,
                    ls=styles[n % len(styles)],
                )
            )
        ax.plot(mu[i], mu[j], marker="x", ms=6 + 6 * w / w_max, color=color, alpha=a, ls="")
    for n, level in enumerate(levels):
        style = styles[n % len(styles)]
        handles.append(Line2D([], [], color=color, ls=style, label=f"fit {level:g}σ"))
    ax.autoscale_view()
    ax.legend(handles=handles, frameon=False, fontsize="small")
    return ax


def _fitted_model(
    mixtures, X, names, *, categories, ax, show_data, dims, color, alpha, linewidth, label, levels
):
    """The figure of ``EstimateMI.plot_fitted_model``: each mixture's ellipses over the data.

    ``mixtures`` holds one fitted mixture (S = 1), or one per category with
    ``categories = (name of y, its values)``: then each gets its own colour
    and legend entry.
    """
    for c, mix in enumerate(mixtures):
        ax = plot_mixture_ellipses(
            mix.weights[0],
            mix.means[0],
            mix.covariances[0],
            X=X if show_data and c == 0 else None,
            ax=ax,
            dims=dims,
            color=color if len(mixtures) == 1 else f"C{c}",
            alpha=alpha,
            linewidth=linewidth,
            levels=levels,
        )
    if categories is not None:
        y_name, values = categories
        handles = [
            ax.plot([], [], color=f"C{c}", lw=linewidth, label=f"{label}, {y_name} = {v}")[0]
            for c, v in enumerate(values)
        ]
        if show_data:
            data = Line2D([], [], ls="", marker="o", ms=4, color=DATA_COLOR, label="data")
            handles.insert(0, data)
        ax.legend(handles=handles, frameon=False, fontsize="small")
    else:
        ax.plot([], [], color=color, lw=linewidth, label=label)
    ax.set_xlabel(names[dims[0]])
    ax.set_ylabel(names[dims[1]])
    return ax


def _limits(mixture: MixtureDraws, X, pad=0.05):
    """Per-coordinate plot ranges, shape (d, 2): the data range and every component's 2.5σ."""
    used = mixture.weights[0] > 0
    mu = mixture.means[0, used]
    sd = np.sqrt(np.diagonal(mixture.covariances[0, used], axis1=1, axis2=2))
    low, high = (mu - 2.5 * sd).min(axis=0), (mu + 2.5 * sd).max(axis=0)
    if X is not None:
        low, high = np.minimum(low, X.min(axis=0)), np.maximum(high, X.max(axis=0))
    span = high - low
    return np.stack([low - pad * span, high + pad * span], axis=1)


def _plot_marginal(ax, mixture: MixtureDraws, i, X, lim, color):
    """The 1-D marginal density of coordinate ``i`` (draw 0), over the data's histogram."""
    if X is not None:
        ax.hist(X[:, i], bins="auto", range=tuple(lim), density=True, color=DATA_COLOR, alpha=0.4)
    grid = np.linspace(lim[0], lim[1], 400)
    density = np.exp(mixture.marginal([i]).logpdf(grid[:, None])[0])
    ax.plot(grid, density, color=color, lw=1.5)
    ax.set_yticks([])


def plot_corner(
    mixture: MixtureDraws,
    X: ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    *,
    color: str = FIT_COLOR,
) -> Figure:
    """Corner plot of one mixture: pairwise component ellipses and 1-D marginals.

    Parameters
    ----------
    mixture : MixtureDraws
        The first draw (``mixture.select(0)``) is shown; pass a reference fit
        (S = 1) to show that.
    X : array_like, shape (n, d), optional
        Data, scattered below the ellipses and histogrammed on the diagonal.
    labels : sequence of str, optional
        Coordinate names, length d; default ``x0, x1, ...``.
    color : str, default "C1"

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    mixture = mixture.select(0)
    d = mixture.n_dim
    X = None if X is None else np.asarray(X, dtype=np.float64)
    labels = [f"x{i}" for i in range(d)] if labels is None else [str(s) for s in labels]
    lims = _limits(mixture, X)
    fig, axes = plt.subplots(d, d, figsize=(2.2 * d + 0.6, 2.2 * d), squeeze=False)
    w, m, c = mixture.weights[0], mixture.means[0], mixture.covariances[0]
    for row in range(d):
        for col in range(d):
            ax = axes[row, col]
            if col > row:
                ax.axis("off")
                continue
            if col == row:
                _plot_marginal(ax, mixture, row, X, lims[row], color)
            else:
                plot_mixture_ellipses(w, m, c, X=X, ax=ax, dims=(col, row), color=color)
                ax.get_legend().remove()
                ax.set_ylim(lims[row])
            ax.set_xlim(lims[col])
            if row == d - 1:
                ax.set_xlabel(labels[col])
            else:
                ax.tick_params(labelbottom=False)
            if col == 0 and row > 0:
                ax.set_ylabel(labels[row])
            elif col > 0:
                ax.tick_params(labelleft=False)
    fig.legend(handles=_corner_handles(X, color), loc="upper right", frameon=False)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def _corner_handles(X, color):
    """Legend entries of a corner plot: data points and the two ellipse levels."""
    handles = [
        Line2D([], [], color=color, ls="-", label="fit 1σ"),
        Line2D([], [], color=color, ls="--", label="fit 2σ"),
    ]
    if X is not None:
        handles.insert(0, Line2D([], [], ls="", marker="o", ms=4, color=DATA_COLOR, label="data"))
    return handles


#: KDE, histogram and model-density points per axis of the contour grid
_CONTOUR_GRID = 80
#: points per axis of the 1-D marginal densities
_DENSITY_GRID = 200
#: at most this many points enter a KDE (a random subset beyond), to bound its cost
_KDE_MAX_POINTS = 4000


def plot_fitted_contours(
    mixture: MixtureDraws,
    X: ArrayLike,
    *,
    parameters: Sequence[str] | None = None,
    extents: Mapping[str, tuple[float, float]] | Sequence[tuple[float, float]] | None = None,
    rng: np.random.Generator | int | None = None,
    kde: bool = True,
    levels: Sequence[float] = (0.68, 0.95),
    shade_alpha: float = 0.35,
    linewidths: float = 1.5,
    colors: tuple[str, str] = (DATA_COLOR, FIT_COLOR),
    legend_kwargs: dict | None = None,
) -> Figure:
    """Corner plot of the data's density against a fitted mixture's, as contours.

    Below the diagonal, each pair of coordinates gets the contours enclosing
    the ``levels`` probability mass of the data's density (a KDE or a
    histogram) and of the mixture's exact 2-D marginal density, evaluated on a
    grid; the model's contours are labelled with their mass, and the data's
    innermost region is shaded. The diagonal shows both 1-D densities (the
    model's exact). Where the two disagree the mixture misses a feature of the
    data.

    Parameters
    ----------
    mixture : MixtureDraws
        Its first draw is drawn (pass a reference fit, S = 1, to show that).
    X : array_like, shape (n, d)
        The data, in the mixture's column order and units.
    parameters : sequence of str, optional
        Coordinate names (length d); default ``x0, x1, ...``.
    extents : dict or sequence, optional
        Plot range per coordinate: ``{name: (low, high)}`` (names from
        ``parameters``) or a length-d sequence of (low, high). Missing
        coordinates get the 0.5-99.5 percentile range of the data, widened to
        every component's mean ± 2.5 sd, padded by 10%.
    rng : numpy.random.Generator or int, optional
        Seed of the random subsets of more than 4000 points entering a KDE.
    kde : bool, default True
        Smooth the data with `scipy.stats.gaussian_kde`; False uses 2-D
        histograms, which is faster and noisier.
    levels : sequence of float, default (0.68, 0.95)
        Probability mass enclosed by each contour, increasing.
    shade_alpha : float, default 0.35
        Opacity of the shaded region inside the data's innermost contour
        (0: none).
    linewidths : float, default 1.5
        Width of the contour and density lines.
    colors : (str, str), default ("0.45", "C1")
        Colours of the data and of the fitted mixture.
    legend_kwargs : dict, optional
        Passed to ``Figure.legend`` (default ``loc="upper right"``).

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != mixture.n_dim:
        raise ValueError(
            f"X must have shape (n, {mixture.n_dim}), the mixture's coordinates; got {X.shape}."
        )
    rng = np.random.default_rng(rng)
    mixture = mixture.select(0)
    d = X.shape[1]
    names = [f"x{i}" for i in range(d)] if parameters is None else [str(p) for p in parameters]
    if len(names) != d:
        raise ValueError(f"parameters must name all {d} coordinates; got {len(names)} names.")
    lims = _contour_extents(extents, names, X, mixture)
    data_color, fit_color = colors
    size = max(2.4 * d + 0.8, 4.0)
    fig, axes = plt.subplots(d, d, figsize=(size, size - 0.4), squeeze=False)
    for row in range(d):
        for col in range(d):
            ax = axes[row, col]
            if col > row:
                ax.axis("off")
                continue
            if col == row:
                _density_1d(ax, X[:, row], lims[row], kde, rng, data_color, linewidths)
                grid = np.linspace(*lims[row], _DENSITY_GRID)
                ax.plot(
                    grid, _mixture_density(mixture, [row], grid), color=fit_color, lw=linewidths
                )
            else:
                density = _density_2d(X[:, [col, row]], lims[col], lims[row], kde, rng)
                _mass_contours(ax, *density, levels, data_color, shade_alpha, linewidths)
                _model_contours(ax, mixture, (col, row), lims, levels, fit_color, linewidths)
            ax.set_xlim(lims[col])
            if col != row:
                ax.set_ylim(lims[row])
            _corner_labels(ax, row, col, d, names)
    handles = [
        Line2D([], [], color=data_color, lw=linewidths, label="data"),
        Line2D([], [], color=fit_color, lw=linewidths, label="fitted model"),
    ]
    legend_kwargs = {"loc": "upper right", "frameon": False, **(legend_kwargs or {})}
    # a single panel has no empty corner for the figure legend: put it inside
    (axes[0, 0] if d == 1 else fig).legend(handles=handles, **legend_kwargs)
    fig.subplots_adjust(wspace=0.06, hspace=0.06, bottom=0.15 if d == 1 else 0.11)
    return fig


def plot_density_contours(
    mixture: MixtureDraws,
    X: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    dims: tuple[int, int] = (0, 1),
    levels: Sequence[float] = (0.68, 0.95),
    color: str = FIT_COLOR,
) -> Axes:
    """One panel: the data scattered under a mixture's exact, labelled density contours.

    Parameters
    ----------
    mixture : MixtureDraws
        Its first draw is drawn.
    X : array_like, shape (n, d), optional
        Data, in the mixture's columns and units.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    dims : (int, int), default (0, 1)
        The two coordinates shown (horizontal, vertical).
    levels : sequence of float, default (0.68, 0.95)
        Probability mass enclosed by each contour (of the 2-D marginal).
    color : str, default "C1"

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(5.0, 5.0))
    mixture = mixture.select(0)
    X = None if X is None else np.asarray(X, dtype=np.float64)
    lims = _contour_extents(None, [f"x{i}" for i in range(mixture.n_dim)], X, mixture)
    handles = []
    if X is not None:
        i, j = dims
        ax.scatter(X[:, i], X[:, j], s=4, color=DATA_COLOR, alpha=0.35, lw=0, rasterized=True)
        handles.append(Line2D([], [], ls="", marker="o", ms=4, color=DATA_COLOR, label="data"))
    _model_contours(ax, mixture, dims, lims, levels, color, 1.5)
    handles.append(Line2D([], [], color=color, lw=1.5, label="fitted model (mass enclosed)"))
    ax.set_xlim(lims[dims[0]])
    ax.set_ylim(lims[dims[1]])
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="upper left")
    return ax


def _mixture_density(mixture: MixtureDraws, idx, *grids) -> np.ndarray:
    """The exact marginal density over coordinates ``idx`` on the product of ``grids``.

    One grid: shape (n,); two: shape (ny, nx), rows following the second grid.
    """
    if len(grids) == 1:
        points = grids[0][:, None]
        return np.exp(mixture.marginal(idx).logpdf(points)[0])
    gx, gy = np.meshgrid(*grids)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return np.exp(mixture.marginal(idx).logpdf(points)[0]).reshape(gx.shape)


def _model_contours(ax, mixture, dims, lims, levels, color, linewidth):
    """The mixture's exact 2-D marginal density contours, labelled with the mass they enclose."""
    i, j = dims
    x = np.linspace(*lims[i], _CONTOUR_GRID)
    y = np.linspace(*lims[j], _CONTOUR_GRID)
    grid = _mixture_density(mixture, [i, j], x, y)
    levels = np.sort(np.asarray(levels, dtype=np.float64))
    thresholds = _mass_levels(grid, levels)
    if thresholds is None:
        return
    # thresholds increase while masses decrease: the largest mass is the outermost contour
    labels = dict(zip(thresholds, [f"{100 * m:g}%" for m in levels[::-1]], strict=False))
    contours = ax.contour(x, y, grid, levels=thresholds, colors=[color], linewidths=linewidth)
    ax.clabel(contours, fmt=labels, fontsize="x-small", inline=True)


def _contour_extents(extents, names, X, mixture):
    """(low, high) per coordinate: the user's, else the data's and the mixture's, padded.

    The default range spans the 0.5-99.5 percentiles of the data (if any) and
    every component's mean ± 2.5 sd, padded by 10%.
    """
    used = mixture.weights[0] > 0
    mu = mixture.means[0, used]
    sd = np.sqrt(np.diagonal(mixture.covariances[0, used], axis1=1, axis2=2))
    low, high = (mu - 2.5 * sd).min(axis=0), (mu + 2.5 * sd).max(axis=0)
    if X is not None:
        data_low, data_high = np.percentile(X, [0.5, 99.5], axis=0)
        low, high = np.minimum(low, data_low), np.maximum(high, data_high)
    pad = 0.1 * np.where(high > low, high - low, 1.0)
    lims = [[lo - p, hi + p] for lo, hi, p in zip(low, high, pad, strict=True)]
    if extents is None:
        return lims
    if isinstance(extents, dict):
        unknown = sorted(set(extents) - set(names))
        if unknown:
            raise ValueError(f"extents names {unknown} are not among the parameters {names}.")
        for i, name in enumerate(names):
            if name in extents:
                lims[i] = [float(v) for v in extents[name]]
        return lims
    extents = list(extents)
    if len(extents) != len(names):
        raise ValueError(
            f"extents must give one (low, high) per coordinate ({len(names)}); got {len(extents)}."
        )
    return [[float(v) for v in e] for e in extents]


def _kde_points(values, rng):
    """At most `_KDE_MAX_POINTS` rows of ``values`` (a random subset beyond)."""
    if values.shape[0] <= _KDE_MAX_POINTS:
        return values
    return values[rng.choice(values.shape[0], _KDE_MAX_POINTS, replace=False)]


def _density_1d(ax, values, lim, kde, rng, color, linewidth):
    """1-D density of ``values`` on ``lim``: a KDE curve or a step histogram."""
    if kde:
        from scipy.stats import gaussian_kde

        grid = np.linspace(lim[0], lim[1], _DENSITY_GRID)
        ax.plot(grid, gaussian_kde(_kde_points(values, rng))(grid), color=color, lw=linewidth)
    else:
        ax.hist(
            values,
            bins=30,
            range=tuple(lim),
            density=True,
            histtype="step",
            color=color,
            lw=linewidth,
        )
    ax.set_yticks([])


def _density_2d(pair, xlim, ylim, kde, rng):
    """Density of the (n, 2) points on a grid: (x (nx,), y (ny,), density (ny, nx)).

    KDE values at `_CONTOUR_GRID` points per axis, or histogram counts at
    bin centres (sqrt(n) / 2 bins per axis, between 10 and `_CONTOUR_GRID` / 2).
    """
    if kde:
        from scipy.stats import gaussian_kde

        x, y = np.linspace(*xlim, _CONTOUR_GRID), np.linspace(*ylim, _CONTOUR_GRID)
        gx, gy = np.meshgrid(x, y)
        density = gaussian_kde(_kde_points(pair, rng).T)(np.vstack([gx.ravel(), gy.ravel()]))
        return x, y, density.reshape(gx.shape)
    bins = int(np.clip(np.sqrt(pair.shape[0]) / 2, 10, _CONTOUR_GRID // 2))
    counts, ex, ey = np.histogram2d(pair[:, 0], pair[:, 1], bins=bins, range=[xlim, ylim])
    return 0.5 * (ex[1:] + ex[:-1]), 0.5 * (ey[1:] + ey[:-1]), counts.T


def _mass_levels(grid, levels):
    """Density thresholds whose super-level sets hold the ``levels`` fractions of the mass."""
    flat = np.sort(grid.ravel())[::-1]
    cum = np.cumsum(flat)
    if cum[-1] <= 0:
        return None
    cum /= cum[-1]
    idx = np.minimum(np.searchsorted(cum, levels), flat.size - 1)
    thresholds = np.unique(flat[idx])  # increasing: outermost contour first
    thresholds = thresholds[thresholds > 0]
    return thresholds if thresholds.size else None


def _mass_contours(ax, x, y, grid, levels, color, shade_alpha, linewidth):
    """Contours of ``grid`` (ny, nx) enclosing the ``levels`` masses, the innermost shaded."""
    thresholds = _mass_levels(grid, np.sort(np.asarray(levels, dtype=np.float64)))
    if thresholds is None:
        return
    if shade_alpha > 0:
        top = max(grid.max(), thresholds[-1]) * 1.01
        ax.contourf(x, y, grid, levels=[thresholds[-1], top], colors=[color], alpha=shade_alpha)
    ax.contour(x, y, grid, levels=thresholds, colors=[color], linewidths=linewidth)


def _corner_labels(ax, row, col, d, names):
    """Axis labels on the outer panels of a corner grid only."""
    if row == d - 1:
        ax.set_xlabel(names[col])
    else:
        ax.tick_params(labelbottom=False)
    if col == 0 and row > 0:
        ax.set_ylabel(names[row])
    elif col > 0 or row == 0:
        ax.tick_params(labelleft=False)


def plot_result_fit(
    result: Result,
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    z: ArrayLike | None = None,
    ax: Axes | None = None,
    levels: Sequence[float] = (0.68, 0.95),
    kde: bool = True,
    rng: np.random.Generator | int = 0,
) -> Figure | Axes:
    """Contours of a result's fitted mixture over the data.

    ``result.plot_fit(...)``, which maps the data to the mixture's
    coordinates and draws them with `plot_fitted_contours` (one panel on
    ``ax``: `plot_density_contours`); see there for every parameter.

    Parameters
    ----------
    result : Result
    x, y, z : array_like or pandas object
        The data given to `gmmmi.estimate`.
    ax : matplotlib Axes, optional
    levels : sequence of float, default (0.68, 0.95)
    kde : bool, default True
    rng : int or numpy.random.Generator, default 0

    Returns
    -------
    matplotlib Figure, or the Axes ``ax``
    """
    return result.plot_fit(x, y, z=z, ax=ax, levels=levels, kde=kde, rng=rng)


def _fit_over_data(mix, X, names, *, ax, levels, kde, rng):
    """The figure of ``Result.plot_fit``: a corner grid, or one panel on ``ax`` (2 columns)."""
    if ax is None:
        return plot_fitted_contours(mix, X, parameters=names, kde=kde, rng=rng, levels=levels)
    if mix.n_dim != 2:
        raise ValueError(
            f"ax is only accepted for two coordinates; this mixture has {mix.n_dim} "
            "(leave ax out to get a corner grid)."
        )
    ax = plot_density_contours(mix, X, ax=ax, levels=levels)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    return ax
