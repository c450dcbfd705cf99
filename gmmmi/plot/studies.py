"""Plots of many estimates: the MI matrix heat map, and the comparison and calibration studies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gmmmi._intervals import INTERVALS, LEVELS
from gmmmi._text import format_pm

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gmmmi.matrix import MIMatrix
    from gmmmi.studies import Calibration, Comparison


def plot_mi_matrix(
    matrix: MIMatrix,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    cmap: str = "viridis",
    min_ratio: float = 2.0,
    alpha: float = 0.05,
) -> Axes:
    """Annotated heat-map of a `gmmmi.MIMatrix`, with its uncertainty visible.

    Each cell is coloured by the mean MI and, if ``annotate``, labelled
    ``"mean±sd"``, the sd to two significant digits and the mean to the
    same decimal. With p-values (``mi_matrix(..., pvalues=True)``), the
    cells whose corrected p-value exceeds ``alpha`` (independence not
    rejected) are hatched; without, the cells whose mean is less than
    ``min_ratio`` standard deviations from zero (a rough screen, with no
    known false-positive rate). Failed pairs are grey and marked "failed";
    pairs whose fit failed its goodness-of-fit check get a red frame and a
    "!" (their number is not to be trusted, see docs/trust.md).

    Parameters
    ----------
    matrix : MIMatrix
        From `gmmmi.mi_matrix`.
    ax : matplotlib Axes, optional
        Created (with a size that fits the labels) if not given.
    annotate : bool, optional
        Write "mean±sd" in the cells; default: when the matrix has at most
        20 rows and columns.
    cmap : str, default "viridis"
    min_ratio : float, default 2.0
        The screen without p-values.
    alpha : float, default 0.05
        The level of the corrected p-values, with p-values.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    mean, sd = matrix.mean.to_numpy(float), matrix.sd.to_numpy(float)
    padj = None if matrix.p_adjusted is None else matrix.p_adjusted.to_numpy(float)
    p, q = mean.shape
    annotate = max(p, q) <= 20 if annotate is None else annotate
    if ax is None:
        cell = 0.8 if max(p, q) <= 20 else max(0.2, 16.0 / max(p, q))  # inches
        size = (max(4.5, 2.0 + cell * q), max(3.5, 1.2 + cell * p))
        _, ax = plt.subplots(figsize=size, layout="constrained")
    finite = mean[np.isfinite(mean)]
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    img = ax.imshow(np.ma.masked_invalid(mean), cmap=cmap, vmin=0.0, vmax=vmax, aspect="auto")
    cmap_obj = img.get_cmap()
    ax.set_facecolor("white")
    ax.figure.colorbar(img, ax=ax, label=f"MI [{matrix.unit}]", fraction=0.046, pad=0.04)
    ax.set_xticks(range(q), labels=list(matrix.mean.columns), rotation=45, ha="right")
    ax.set_yticks(range(p), labels=list(matrix.mean.index))
    rpos = {r: i for i, r in enumerate(matrix.mean.index)}
    cpos = {c: j for j, c in enumerate(matrix.mean.columns)}
    faint = dict(fill=False, hatch="///", edgecolor="0.55", linewidth=0)
    for i in range(p):
        for j in range(q):
            m, s = mean[i, j], sd[i, j]
            if not np.isfinite(m):
                continue
            if padj is not None:
                weak = bool(np.isfinite(padj[i, j]) and padj[i, j] > alpha)
            else:
                weak = bool(np.isfinite(s) and s > 0 and abs(m) < min_ratio * s)
            if weak:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, **faint))
            if annotate:
                r, g, b, _ = cmap_obj(img.norm(m))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                text = format_pm(m, s, sep="±")
                color = "white" if dark else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    for r, c in matrix.errors:
        cells = {(rpos[r], cpos[c])}
        if matrix.symmetric:
            cells.add((rpos[c], cpos[r]))
        for i, j in cells:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.8"))
            ax.text(j, i, "failed", ha="center", va="center", fontsize=7, color="0.3")
    misfits = _mark_misfits(ax, matrix.fit_ok.to_numpy())
    if padj is not None:
        hatched = f"{matrix.correction}-corrected p > {alpha:g}"
    else:
        hatched = f"mean < {min_ratio:g} sd"
    title = f"MI, mean±sd\nhatched: {hatched}"
    if misfits:
        title += f"; {MISFIT_COLOR} frame, !: fit check failed"
    ax.set_title(title, fontsize=9)
    return ax


#: edge colour of a heat-map cell whose fit failed its check
MISFIT_COLOR = "red"


def _mark_misfits(ax: Axes, fit_ok: np.ndarray) -> int:
    """A red frame and a "!" on every cell whose fit failed; the number of such cells."""
    from matplotlib.patches import Rectangle

    cells = np.argwhere(fit_ok == False)  # noqa: E712 (object array of True/False/None)
    for i, j in cells:
        frame = Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, edgecolor=MISFIT_COLOR, lw=2)
        ax.add_patch(frame)
        ax.text(
            j + 0.38,
            i - 0.3,
            "!",
            ha="right",
            va="top",
            fontsize=9,
            color=MISFIT_COLOR,
            fontweight="bold",
        )
    return len(cells)


def plot_comparison(comparison: Comparison, ax: Axes | None = None) -> Axes:
    """Overlay each method's distribution of MI draws, its estimate and the truth.

    Parameters
    ----------
    comparison : Comparison
        From `gmmmi.compare`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    ax = plt.subplots(figsize=(6, 4))[1] if ax is None else ax
    unit = "nat"
    for i, (name, res) in enumerate(comparison.results.items()):
        color = f"C{i}"
        draws = np.asarray(res.draws[res.quantity], dtype=float).ravel()  # chains pooled
        unit = getattr(res, "unit", unit)
        if draws.size > 1:
            ax.hist(draws, bins="auto", density=True, histtype="step", color=color, label=name)
        else:
            ax.plot([], [], color=color, label=f"{name} (single fit)")
        ax.axvline(float(res.value), color=color, lw=1)
    if comparison.truth is not None:
        ax.axvline(comparison.truth, color="k", ls="--", label="truth")
    ax.set_xlabel(f"estimate [{unit}]")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return ax


def plot_calibration(
    calibration: Calibration, axes: Sequence[Axes] | None = None, *, interval: str = "normal"
) -> np.ndarray:
    """Estimates with their 95 % intervals against the truth, and a coverage bar chart.

    Parameters
    ----------
    calibration : Calibration
        From `gmmmi.calibration`.
    axes : sequence of two matplotlib Axes, optional
    interval : {"normal", "hdi", "basic"}, default "normal"
        Interval drawn in the left panel.

    Returns
    -------
    numpy.ndarray of two matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 4), width_ratios=(2, 1))[1]
    left, right = axes
    dataset, truth = calibration.dataset, calibration.dataset.truth
    methods = list(calibration.table["method"])
    for i, name in enumerate(methods):
        est = calibration.estimates
        g = est[(est["method"] == name) & est["error"].isna()]
        pos = g["repeat"].to_numpy() + (i - (len(methods) - 1) / 2) * 0.8 / len(methods)
        lo, hi = g[f"{interval}95_low"], g[f"{interval}95_high"]
        left.errorbar(
            pos,
            g["value"],
            yerr=[g["value"] - lo, hi - g["value"]] if lo.notna().all() else None,
            fmt="o",
            ms=3,
            lw=0.8,
            color=f"C{i}",
            label=name,
        )
    left.axhline(truth, color="k", ls="--", label="truth")
    left.set_xlabel("repeat")
    left.set_ylabel("estimate [nat]")
    left.set_title(
        f"{dataset.name}, n={calibration.n}: {interval} 95% intervals",
        fontsize="medium",
    )
    left.legend(fontsize="small")
    _plot_coverage(calibration, right, methods)
    return np.asarray(axes)


def _plot_coverage(calibration, ax, methods):
    """Bars of each method's coverage per interval kind and nominal level."""
    table = calibration.table
    width = 0.8 / len(INTERVALS)
    x = np.arange(len(LEVELS) * len(methods))
    for j, kind in enumerate(INTERVALS):
        heights = [
            table.loc[table["method"] == m, f"cover{round(lv * 100)}_{kind}"].iloc[0]
            for m in methods
            for lv in LEVELS
        ]
        ax.bar(x + (j - (len(INTERVALS) - 1) / 2) * width, heights, width, label=kind)
    for lv in LEVELS:
        ax.axhline(lv, color="k", lw=0.8, ls=":")
    ax.set_xticks(x, [f"{m}\n{round(lv * 100)}%" for m in methods for lv in LEVELS])
    ax.set_ylim(0, 1)
    ax.set_ylabel("coverage")
    ax.legend(fontsize="small", title="interval")
