"""Mixtures mapped from standardised to data units; a warning where float64 cannot hold them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ._stacklevel import user_stacklevel
from .exceptions import DataUnitsWarning
from .mixture import MixtureDraws


def affine_checked(
    draws: MixtureDraws, scale: np.ndarray, shift: np.ndarray
) -> tuple[MixtureDraws, np.ndarray]:
    """``draws.affine(scale, shift)`` and, per column, whether it left float64's normal range.

    Parameters
    ----------
    draws : MixtureDraws
        Mixtures in standardised units, d columns.
    scale, shift : numpy.ndarray, shape (d,)
        Data units per standardised unit, and the column means (data units).

    Returns
    -------
    mixture : MixtureDraws
        In data units (inf or 0 where float64 over- or underflows).
    bad : numpy.ndarray of bool, shape (d,)
        Columns whose variances or means are not finite normal numbers.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mixture = draws.affine(scale, shift)
    variances = np.diagonal(mixture.covariances, axis1=2, axis2=3)[mixture.weights > 0]
    bad = ~np.isfinite(variances) | (variances < np.finfo(np.float64).tiny)
    return mixture, bad.any(axis=0) | ~np.isfinite(mixture.means).all(axis=(0, 1))


def warn_unstorable(bad: np.ndarray, scale: np.ndarray, column_names: Sequence) -> None:
    """A `DataUnitsWarning` naming the columns `affine_checked` found out of range (if any).

    Parameters
    ----------
    bad : numpy.ndarray of bool, shape (d,)
    scale : numpy.ndarray, shape (d,)
        Standard deviations of the columns, data units.
    column_names : sequence of str, length d
    """
    if not bad.any():
        return
    names = ", ".join(repr(column_names[j]) for j in np.flatnonzero(bad))
    sds = ", ".join(f"{s:.3g}" for s in scale[bad])
    warnings.warn(
        f"The fitted mixture cannot be stored in data units: the variances of column(s) "
        f"{names} (standard deviation {sds}) over- or underflow float64, so result.mixture "
        "and diagnostics.reference_fit hold inf or 0 there. The reported MI, CMI and KL are "
        "computed in standardised units and are not affected; rescale those columns (e.g. "
        "to unit standard deviation) for a usable mixture.",
        DataUnitsWarning,
        stacklevel=user_stacklevel(),
    )
