"""Plots of time-series estimates: MI against lag (`gmmmi.lagged_mi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._style import INTERVAL_COLOR, POINT_COLOR, TRUTH_COLOR, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gmmmi.lagged import LaggedMI


def plot_lagged_mi(lagged: LaggedMI, ax: Axes | None = None, *, truth=None) -> Axes:
    """MI against lag, with the 95% interval as a band.

    Lags with a surrogate p-value of at most 0.05 are drawn filled, the
    others hollow (when the result has p-values; with 19 surrogates the
    smallest p-value is 0.05).

    Parameters
    ----------
    lagged : LaggedMI
        From `gmmmi.lagged_mi`.
    ax : matplotlib Axes, optional
    truth : array_like of shape (L,) or callable, optional
        True MI per lag (or a function of the lag), drawn as a line.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    t = lagged.table
    lags = t["lag"].to_numpy()
    ax.fill_between(
        lags, t["low"], t["high"], color=INTERVAL_COLOR, alpha=0.4, lw=0, label="95% interval"
    )
    ax.plot(lags, t["mi"], color=POINT_COLOR, lw=1)
    if "p_value" in t:
        significant = t["p_value"].to_numpy() <= 0.05
        mi = t["mi"].to_numpy()
        ax.plot(lags[significant], mi[significant], "o", color=POINT_COLOR, label="p ≤ 0.05")
        ax.plot(
            lags[~significant],
            mi[~significant],
            "o",
            mfc="white",
            color=POINT_COLOR,
            label="p > 0.05",
        )
    else:
        ax.plot(lags, t["mi"], "o", color=POINT_COLOR, ms=4, label="MI")
    if truth is not None:
        values = [truth(lag) for lag in lags] if callable(truth) else np.asarray(truth)
        ax.plot(lags, values, "--", color=TRUTH_COLOR, label="truth")
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    x, y = lagged.names
    ax.set_xlabel("lag (time steps; > 0: x leads)")
    ax.set_ylabel(f"MI({x}(t − lag); {y}(t)) [{lagged.unit}]")
    ax.legend(frameon=False)
    return ax
