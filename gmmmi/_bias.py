"""The plug-in bias of a fitted single Gaussian's MI, and its correction.

The maximum-likelihood Gaussian fitted to n rows gives the MI (CMI)

    Î = ½ [ln det S_xz + ln det S_yz − ln det S_z − ln det S_xyz]

in terms of sample covariance determinants. For Gaussian data n S is
Wishart(n − 1, Σ), so E ln det S_d = ln det Σ_d + Σ_{i=1..d} ψ((n − i) / 2)
+ d ln(2 / n): the expectation of Î is the true MI plus a bias that depends
only on n and the block sizes, never on Σ (the ln det Σ terms give the
truth, the d ln(2 / n) terms cancel). That bias is
`gmmmi._screening.independence_floor`, about dx dy / (2 n) for n much larger
than the dimension: 0.25 nat for a 50 x 50 Gaussian at n = 5000, which the
bootstrap cannot see (every replica shares it).

`wishart_correction` subtracts it from a K = 1 maximum-likelihood fit (the
EM backend's bootstrap or single fit) and from each of its draws alike, so
the sd and the interval's width are unchanged and the centre is unbiased for
Gaussian data. Mixtures of several components (K > 1) are left alone: their
plug-in bias has no closed form, and the bootstrap's own estimate of it
(mean of the replicas minus the full-data value) did not reduce the error on
the paper's mixtures (docs/uncertainty.md, "Bias correction").

`chain_correction` does the same for the chain rule over discrete columns
(`gmmmi.mixed`) when they are all conditioned on (z): the CMI is then a
weighted sum of per-cell Gaussian CMIs, each with its own n.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ._screening import independence_floor
from .diagnostics import DrawKind, FitDiagnostics

#: the rule recorded in ``result.meta["bias_correction"]["rule"]``
WISHART_RULE = "wishart_k1"


def wishart_correction(diagnostics: FitDiagnostics, n: int, blocks: dict) -> float:
    """The plug-in bias, in nats, to subtract from an MI or CMI estimate (0 when none applies).

    Parameters
    ----------
    diagnostics : FitDiagnostics
        The backend's diagnostics: the correction applies to a maximum-
        likelihood fit (kind BOOTSTRAP or SINGLE_FIT) with K = 1 and no
        categories.
    n : int
        Rows fitted.
    blocks : dict
        Column indices of ``"x"``, ``"y"`` (and ``"z"``).

    Returns
    -------
    float
        `gmmmi._screening.independence_floor` of n and the block sizes, or 0.
    """
    if diagnostics.kind is DrawKind.POSTERIOR or diagnostics.per_category:
        return 0.0
    if int(diagnostics.n_components) != 1:
        return 0.0
    dx, dy, dz = (len(blocks.get(key, ())) for key in ("x", "y", "z"))
    if n <= dx + dy + dz + 1:
        return 0.0
    return float(independence_floor(n, dx, dy, dz))


def chain_correction(
    cells: dict, counts, active: list, block_of: dict, discrete_blocks: set
) -> float:
    """The plug-in bias, in nats, of a chain-rule CMI whose discrete columns are all in z.

    With every discrete column (and atom indicator) in z, the chain rule's CMI
    is sum_s p(s) I(x; y | z_c, cell s): each term the plug-in CMI of cell
    s's own fit to its n_s rows, whose Wishart bias is
    ``independence_floor(n_s, dx_s, dy_s, dz_s)`` (its continuous columns in
    each block) when that fit is one Gaussian. When a discrete column is in x
    or y, a term integrates a mixture pooled over cells, whose bias has no
    closed form, and nothing is corrected.

    Parameters
    ----------
    cells : dict of int to FitDiagnostics
        Each fitted cell's diagnostics.
    counts : numpy.ndarray, shape (n_cells,)
        Rows per cell.
    active : list of list of int
        Each cell's continuous columns.
    block_of : dict of int to str
        Block (``"x"``, ``"y"``, ``"z"``) of every column.
    discrete_blocks : set of str
        Blocks of the discrete variables.

    Returns
    -------
    float
        sum_s (n_s / n) independence_floor(...), or 0 when it does not apply.
    """
    if discrete_blocks != {"z"}:
        return 0.0
    for g in cells.values():
        scale = g.extra.get("scale_mixture") if isinstance(g.extra, dict) else None
        if g.kind is DrawKind.POSTERIOR or int(g.n_components) != 1 or scale:
            return 0.0
    total = 0.0
    for s in cells:
        dims = [sum(block_of[j] == key for j in active[s]) for key in ("x", "y", "z")]
        if counts[s] > sum(dims) + 1:
            total += counts[s] * float(independence_floor(int(counts[s]), *dims))
    return float(total / np.sum(counts))


def record(bias: float, base: float) -> dict:
    """``result.meta["bias_correction"]``: the amount subtracted (result's unit), the rule."""
    return {"subtracted": bias / base, "rule": WISHART_RULE}


def subtract(values: dict, point: dict, quantity: str, bias: float) -> tuple[dict, dict]:
    """``values`` and ``point`` with ``bias`` (nats) taken off the main quantity's draws and centre.

    Parameters
    ----------
    values : dict of str to gmmmi.integrate.IntegralResult
        One value per draw of each quantity.
    point : dict of str to float
        The reported centre of each quantity.
    quantity : {"mi", "cmi"}
    bias : float
        From `wishart_correction`; 0 returns the inputs unchanged.
    """
    if bias == 0.0:
        return values, point
    shifted = replace(values[quantity], values=values[quantity].values - bias)
    return {**values, quantity: shifted}, {**point, quantity: point[quantity] - bias}


def describe(record: dict | None, sd: float, unit: str) -> str | None:
    """The line `print(result)` adds: the bias removed, when it is a tenth of the sd or more."""
    if not record or not record.get("subtracted"):
        return None
    amount = float(record["subtracted"])
    if math.isfinite(sd) and amount < 0.1 * sd:
        return None
    return (
        f"plug-in bias removed: {amount:.3g} {unit} (Wishart, K=1; bias_correction=False keeps it)"
    )
