"""Distributions of an estimated quantity: its draws, a result's, a test's null draws."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gmmmi._text import QUANTITY_LABELS, draws_of, interval_name, method_text

from ._style import INTERVAL_COLOR, POINT_COLOR, TRUTH_COLOR, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

    from gmmmi.independence import IndependenceTest
    from gmmmi.result import Result


def plot_distribution(
    values: ArrayLike,
    *,
    point: float | None = None,
    interval: tuple[float, float] | None = None,
    interval_label: str = "interval",
    truth: float | None = None,
    label: str = "MI",
    unit: str = "nat",
    ax: Axes | None = None,
    bins: int | Sequence[float] | str = "auto",
    color: str = "C0",
) -> Axes:
    """Histogram of the draws of one quantity, with its estimate, interval and truth.

    Parameters
    ----------
    values : array_like, shape (chain, draw) or (draw,)
        The draws (bootstrap replicas are one chain). With several chains each
        is drawn as its own step histogram on shared bins.
    point : float, optional
        The reported estimate, drawn as a solid vertical line.
    interval : (float, float), optional
        An interval of the quantity (e.g. `gmmmi.Result.interval`), shaded.
    interval_label : str, default "interval"
        Its legend entry, e.g. ``"95% interval (value ± 1.96 sd)"``.
    truth : float, optional
        A known true value, drawn as a dashed vertical line.
    label : str, default "MI"
        Name of the quantity, used in the x-axis label.
    unit : str, default "nat"
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    bins : int, sequence or str, default "auto"
        Passed to `numpy.histogram_bin_edges`.
    color : str, default "C0"
        Colour of a single-chain histogram.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    finite = values[np.isfinite(values)]
    if finite.size > 1 and np.ptp(finite) > 0:
        edges = np.histogram_bin_edges(finite, bins=bins)
        if values.shape[0] == 1:
            ax.hist(
                finite,
                bins=edges,
                density=True,
                color=color,
                alpha=0.55,
                label=f"{finite.size} draws",
            )
        else:
            for c, chain in enumerate(values):
                ax.hist(
                    chain[np.isfinite(chain)],
                    bins=edges,
                    density=True,
                    histtype="step",
                    lw=1.5,
                    label=f"chain {c}",
                )
        ax.set_ylabel("density")
    else:
        ax.set_yticks([])
        lines = [v for v in (point, truth) if v is not None] + list(interval or [])
        _frame_vertical_lines(ax, lines)
    if interval is not None:
        low, high = interval
        ax.axvspan(
            low, high, color=INTERVAL_COLOR, alpha=0.25, lw=0, zorder=0, label=interval_label
        )
    if point is not None:
        ax.axvline(point, color=POINT_COLOR, lw=2, label=f"estimate {point:.4g}")
    if truth is not None:
        ax.axvline(truth, color=TRUTH_COLOR, lw=2, ls="--", label=f"truth {truth:.4g}")
    ax.set_xlabel(f"{label} [{unit}]")
    ax.legend(frameon=False, fontsize="small")
    return ax


def _frame_vertical_lines(ax, xs):
    """x-limits around vertical lines alone (no histogram to set them)."""
    if not xs:
        return
    lo, hi = min(xs), max(xs)
    pad = max(0.5 * (hi - lo), 0.05 * max(abs(lo), abs(hi)), 1e-3)
    ax.set_xlim(lo - pad, hi + pad)


def plot_result(
    result: Result,
    ax: Axes | None = None,
    truth: float | None = None,
    *,
    quantity: str | None = None,
    prob: float = 0.95,
    method: str = "normal",
    bins: int | Sequence[float] | str = "auto",
) -> Axes:
    """Distribution of a result's draws with the estimate, its interval and truth.

    The body of `gmmmi.Result.plot`; see there for every parameter.

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes, optional
    truth : float, optional
    quantity : str, optional
    prob : float, default 0.95
    method : {"normal", "hdi"}, default "normal"
    bins : int, sequence or str, default "auto"

    Returns
    -------
    matplotlib Axes
    """
    quantity = result.quantity if quantity is None else quantity
    values = draws_of(result.draws, quantity)
    interval = result.interval(prob, method, quantity) if values.size > 1 else None
    ax = plot_distribution(
        values,
        point=result.point[quantity],
        interval=interval,
        interval_label=interval_name(prob, method, result.interval_correction),
        truth=truth,
        label=QUANTITY_LABELS.get(quantity, quantity),
        unit=result.unit,
        ax=ax,
        bins=bins,
    )
    ax.set_title(
        f"{result.meta.get('backend', '?')}, {method_text(result.diagnostics)}, "
        f"K={result.n_components}",
        fontsize="medium",
    )
    return ax


def plot_null_distribution(test: IndependenceTest, ax: Axes | None = None) -> Axes:
    """Histogram of a permutation test's null draws with the observed statistic.

    The body of `gmmmi.IndependenceTest.plot`.

    Parameters
    ----------
    test : IndependenceTest
        From `gmmmi.independence_test`.
    ax : matplotlib Axes, optional
        Created if not given.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.2), layout="constrained")
    lo = min(test.null.min(), test.statistic)
    hi = max(test.null.max(), test.statistic)
    bins = np.linspace(lo, hi + 1e-12 * max(1.0, abs(hi)), 31)
    ax.hist(test.null, bins=bins, color="0.7", edgecolor="0.4", label="null (permuted)")
    ax.axvline(test.statistic, color="C3", linewidth=2, label="observed")
    ax.set_xlabel(f"{'CMI' if test.quantity == 'cmi' else 'MI'} [{test.unit}]")
    ax.set_ylabel("permutations")
    ax.set_title(f"{test.scheme}: p = {test.pvalue:.3g} (B = {test.n_permutations})", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    return ax
