"""Fit diagnostics: EM loss curves and PIT histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.ticker import MaxNLocator

from ._style import INTERVAL_COLOR, TRAIN_COLOR, TRUTH_COLOR, VALID_COLOR, _axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

    from gmmmi.fit_check import FitCheck


def plot_loss_curves(
    loss_curves: Mapping[str, Sequence[ArrayLike]] | Sequence[ArrayLike], ax: Axes | None = None
) -> Axes:
    """EM loss curves of the cross-validation fits: train and validation log-likelihood.

    Parameters
    ----------
    loss_curves : dict or list
        ``FitDiagnostics.loss_curves``: ``{"train": [arrays], "valid": [arrays]}``
        (one array per fit, one value per EM iteration; further names are drawn
        too), or the original GMM-MI's flat list alternating train and
        validation curves.
    ax : matplotlib Axes, optional
        Where to draw (all fits overlaid); a new figure when None.

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(loss_curves, Mapping):  # a dict, or the curves a fit records when read
        curves = list(loss_curves)
        loss_curves = {"train": curves[0::2], "valid": curves[1::2]}
    if not any(len(v) for v in loss_curves.values()):
        raise ValueError(
            "No loss curves to plot: the fit recorded none (K fixed by "
            "fixed_components_number, or a backend without EM)."
        )
    ax = _axes(ax)
    colors = {"train": TRAIN_COLOR, "valid": VALID_COLOR}
    for n, (name, curves) in enumerate(loss_curves.items()):
        color = colors.get(name, f"C{n}")
        for c, curve in enumerate(curves):
            curve = np.asarray(curve, dtype=np.float64)
            ax.plot(
                np.arange(1, curve.size + 1),
                curve,
                color=color,
                lw=1.2,
                alpha=0.8,
                label=name if c == 0 else None,
            )
    ax.set_xlabel("EM iteration")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean log-likelihood")
    ax.legend(frameon=False)
    return ax


def plot_pit(check: FitCheck, axes: np.ndarray | None = None) -> np.ndarray:
    """Histograms of the probability integral transforms of a ``gmmmi.fit_check.FitCheck``.

    Top row: the PIT of each coordinate under its fitted marginal, with the
    expected count ± 2 sd (binomial) per bin as a grey band. Bottom row: for
    each pair of coordinates, the counts of their conditional PITs on a grid
    of squares relative to the expected count (white: as expected). A good fit
    is flat in every panel. Each title gives the chi-squared statistic's
    excess in sd units (z) and flags a misfit.

    Parameters
    ----------
    check : gmmmi.fit_check.FitCheck
    axes : array of matplotlib Axes, shape (2, max(d, d (d - 1) / 2)), optional
        Where to draw; a new figure when None.

    Returns
    -------
    numpy.ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    n, d = check.marginal.shape
    pairs = check.pairs
    ncols = max(d, len(pairs))
    if axes is None:
        _, axes = plt.subplots(
            2, ncols, figsize=(2.6 * ncols + 0.6, 5.0), squeeze=False, layout="constrained"
        )
    axes = np.asarray(axes).reshape(2, ncols)
    for ax in axes.ravel():
        ax.axis("off")
    expected = n / check.bins
    band = 2 * np.sqrt(expected * (1 - 1 / check.bins))
    for j, name in enumerate(check.names):
        ax = axes[0, j]
        ax.axis("on")
        row = check.table.loc[("marginal", name)]
        ax.axhspan(expected - band, expected + band, color=INTERVAL_COLOR, alpha=0.3, lw=0)
        ax.axhline(expected, color=INTERVAL_COLOR, lw=1)
        color = TRUTH_COLOR if row["misfit"] else "C0"
        ax.hist(check.marginal[:, j], bins=check.bins, range=(0, 1), color=color, alpha=0.7)
        ax.set(xlim=(0, 1), yticks=[], xlabel=f"F({name})")
        ax.set_title(_pit_title(row), fontsize="small")
    b = check.pair_bins
    for c, (i, j) in enumerate(pairs):
        ax = axes[1, c]
        ax.axis("on")
        label = f"{check.names[i]} & {check.names[j]}"
        row = check.table.loc[("joint", label)]
        u = check.conditional
        counts = np.histogram2d(u[:, i], u[:, j], bins=b, range=[(0, 1), (0, 1)])[0]
        ratio = counts.T / (n / b**2)
        image = ax.imshow(ratio, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r", vmin=0, vmax=2)
        ax.set(xlabel=_conditional_cdf(check.names, i), ylabel=_conditional_cdf(check.names, j))
        ax.set_title(_pit_title(row), fontsize="small")
    if pairs:
        axes[1, 0].figure.colorbar(image, ax=axes[1, len(pairs) - 1], label="count / expected")
    return axes


def _conditional_cdf(names, k) -> str:
    """``F(x_k | x_0, ..., x_k-1)`` with the coordinates' names."""
    given = "" if k == 0 else f" | {', '.join(names[:k])}"
    return f"F({names[k]}{given})"


def _pit_title(row) -> str:
    """The test's excess in sd units, and MISFIT when flagged."""
    return f"z = {row['z']:+.1f} sd" + ("  MISFIT" if row["misfit"] else "")
