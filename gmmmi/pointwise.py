"""Pointwise mutual information of a result's full-data fit at given rows.

``result.pointwise(x, y, z=None)`` is log p(x, y) / (p(x) p(y)) (or
log p(x, y | z) / (p(x | z) p(y | z)) for a conditional result) at each row,
from the mixture fitted to all the data (``diagnostics.reference_fit``, else
the first draw); its mean under the fitted law is the reported MI, and its
mean over the data an estimate of it. Per-column maps (``transform=``)
cancel in the ratio, so it is evaluated in the mixture's coordinates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def pointwise_mi(result: Any, x: Any, y: Any = None, z: Any = None) -> np.ndarray:
    """Pointwise (conditional) MI at every row, in the result's unit.

    Parameters
    ----------
    result : gmmmi.Result
        An MI or CMI result of `gmmmi.estimate` with continuous columns.
    x, y, z : array_like or pandas object
        Rows with the columns given to `gmmmi.estimate` (``y=None`` for its
        single-array form).

    Returns
    -------
    numpy.ndarray, shape (n,)

    Raises
    ------
    ValueError
        For a result that is not an MI or CMI of one joint fit (a category
        label, discrete columns, an entropy or divergence), or rows with other
        columns.
    """
    if result.quantity not in ("mi", "cmi") or "categories" in result.meta:
        what = "a category label" if "categories" in result.meta else repr(result.quantity)
        raise ValueError(
            f"pointwise needs an MI or CMI of one joint fit of continuous columns; this result "
            f"is of {what}. Estimate with continuous y (or a joint fit) for pointwise MI."
        )
    X = result._data(x, y, z)
    mixture = result._fitted_mixture()
    blocks = result.meta["blocks"]
    bx, by, bz = blocks["x"], blocks["y"], blocks.get("z", [])

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
    return values / math.log(result.meta.get("base", math.e))
