"""The path of a greedy feature selection: the MI of the chosen set, step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._style import INTERVAL_COLOR, POINT_COLOR, TRUTH_COLOR, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gmmmi.feature_selection import SelectionPath


def plot_selection_path(path: SelectionPath, ax: Axes | None = None) -> Axes:
    """I(chosen features; y) after each step, with its 95% interval and the p-values.

    Each point is the MI between the target and the features chosen up to
    that step (the feature named under it included); the bars are the 95%
    intervals of the bootstrap. With a stopping test, each step is labelled
    with its p-value and the level it was compared with; the step that failed
    the test (not kept) is drawn hollow, in red.

    Parameters
    ----------
    path : gmmmi.feature_selection.SelectionPath
        E.g. ``MISelector(...).fit(X, y).path_``.
    ax : matplotlib.axes.Axes, optional
        Created if not given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    steps = path.steps
    ax = _axes(ax, figsize=(max(4.5, 0.7 * len(steps) + 2.0), 3.6))
    if not steps:
        ax.text(0.5, 0.5, "no step", ha="center", va="center", transform=ax.transAxes)
        return ax
    x = np.arange(1, len(steps) + 1)
    mi = np.array([s.mi for s in steps])
    low = np.array([s.interval[0] for s in steps])
    high = np.array([s.interval[1] for s in steps])
    kept = np.array([s.selected for s in steps])
    err = np.vstack([mi - low, high - mi])
    err = np.where(np.isfinite(err), err, 0.0)
    ax.errorbar(
        x[kept], mi[kept], yerr=err[:, kept], fmt="o", color=POINT_COLOR, ecolor=INTERVAL_COLOR
    )
    if (~kept).any():
        ax.errorbar(
            x[~kept],
            mi[~kept],
            yerr=err[:, ~kept],
            fmt="o",
            mfc="white",
            color=TRUTH_COLOR,
            ecolor=TRUTH_COLOR,
            label="not kept (test not significant)",
        )
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    for xi, s, top in zip(x, steps, np.where(np.isfinite(high), high, mi), strict=True):
        if np.isfinite(s.pvalue):
            ax.annotate(
                f"p = {s.pvalue:.2g}\nlevel {s.threshold:.2g}",
                (xi, top),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=7,
            )
    ax.set_xticks(x)
    ax.set_xticklabels([s.name for s in steps], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(0.4, len(steps) + 0.6)
    tops = np.where(np.isfinite(high), high, mi)
    top = float(np.nanmax(tops)) if np.isfinite(tops).any() else 1.0
    bottom = min(0.0, float(np.nanmin(low)) if np.isfinite(low).any() else 0.0)
    ax.set_ylim(bottom, top + 0.25 * (top - bottom) + 1e-12)  # room for the p-values
    ax.set_ylabel("I(chosen features; y) [nat]")
    ax.set_title(f"{path.method} selection: {len(path.selected)} kept", fontsize=9)
    return ax
