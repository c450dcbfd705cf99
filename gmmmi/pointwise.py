"""Pointwise mutual information of a result's full-data fit at given rows.

``result.pointwise(x, y, z=None)`` is log p(x, y) / (p(x) p(y)) (or
log p(x, y | z) / (p(x | z) p(y | z)) for a conditional result) at each row,
from the mixture fitted to all the data (``diagnostics.reference_fit``, else
the first draw); its mean under the fitted law is the reported MI, and its
mean over the data an estimate of it. Per-column maps (``transform=``)
cancel in the ratio, so it is evaluated in the mixture's coordinates.
`gmmmi.Result` holds the fit and maps the rows to its coordinates; this module
checks that the result has one joint fit and evaluates the ratio.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .mixture import MixtureDraws


def check_pointwise(quantity: str, meta: Mapping[str, Any]) -> None:
    """Refuse a result that is not an MI or CMI of one joint fit.

    Parameters
    ----------
    quantity : str
        The result's `~gmmmi.Result.quantity`.
    meta : mapping
        The result's `~gmmmi.Result.meta`.

    Raises
    ------
    ValueError
        For a category label, an entropy or a divergence.
    """
    if quantity not in ("mi", "cmi") or "categories" in meta:
        what = "a category label" if "categories" in meta else repr(quantity)
        raise ValueError(
            f"pointwise needs an MI or CMI of one joint fit of continuous columns; this result "
            f"is of {what}. Estimate with continuous y (or a joint fit) for pointwise MI."
        )


def pointwise_mi(
    mixture: MixtureDraws,
    X: np.ndarray,
    blocks: Mapping[str, Sequence[int]],
    base: float = math.e,
) -> np.ndarray:
    """Pointwise (conditional) MI of one fitted mixture at every row.

    Parameters
    ----------
    mixture : MixtureDraws
        One draw (S = 1): the full-data fit, in the coordinates of ``X``.
    X : numpy.ndarray, shape (n, d)
        Rows in the mixture's coordinates (after the result's margin maps).
    blocks : mapping
        Column indices of ``"x"``, ``"y"`` and optionally ``"z"`` in ``X``.
    base : float, default e
        Logarithm base of the result's unit (e: nats, 2: bits).

    Returns
    -------
    numpy.ndarray, shape (n,)
        In the unit of ``base``.
    """
    bx, by, bz = list(blocks["x"]), list(blocks["y"]), list(blocks.get("z", []))

    def log_density(idx):
        return mixture.marginal(idx).logpdf(X[:, idx])[0]

    if bz:
        values = (
            log_density(bx + by + bz)
            + log_density(bz)
            - log_density(bx + bz)
            - log_density(by + bz)
        )
    else:
        values = log_density(bx + by) - log_density(bx) - log_density(by)
    return values / math.log(base)
