"""`estimate`'s choice of bootstrap: IID rows, or blocks of consecutive rows.

`resolve_bootstrap` checks ``bootstrap`` and ``block_length`` against the
data and the backend, warns about time-ordered rows resampled one by one
(`gmmmi.serial`), and chooses the block length (`gmmmi.block_length`); it
returns the keyword the backend's ``fit`` receives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .block_length import check_bootstrap, optimal_block_length
from .serial import warn_serial_dependence


def resolve_bootstrap(
    bootstrap,
    block_length,
    backend,
    X: np.ndarray,
    labels: Sequence,
    *,
    categorical: bool,
    resampled: bool,
    orders: tuple | None = None,
) -> dict:
    """The keyword arguments of ``backend.fit`` for the bootstrap asked for.

    Parameters
    ----------
    bootstrap : {"iid", "block"}
    block_length : float or None
        Rows per block; None chooses it (`gmmmi.block_length`).
    backend : Backend
    X : numpy.ndarray, shape (n, d)
        The continuous columns, standardised, rows in the user's order.
    labels : sequence of str
        Their names.
    categorical : bool
        Whether y is a discrete label (``discrete_y``).
    resampled : bool
        Whether the uncertainty will come from the rows as independent draws
        (a bootstrap with ``n_bootstrap >= 1``, or a posterior); a single
        fit has no interval to be misled, and is not warned about.
    orders : tuple of numpy.ndarray, optional
        An order of every column of ``X`` (`gmmmi._rows.column_orders`), when
        the caller has them (the serial check's ranks).

    Returns
    -------
    dict
        ``{}`` for the IID bootstrap (the backend's own default), or
        ``{"block_length": L}`` for a circular block bootstrap, L the given or
        chosen length rounded to whole rows (at least 1).

    Raises
    ------
    ValueError
        A bad kind or length, ``"block"`` with a backend that cannot
        resample blocks, or with ``discrete_y``.

    Warns
    -----
    SerialDependenceWarning
        With ``bootstrap="iid"`` and ``resampled``, when the rows look serially
        dependent.
    """
    kind, length = check_bootstrap(bootstrap, block_length, X.shape[0])
    supports = getattr(backend, "supports_block_bootstrap", False)
    if kind == "iid":
        fix = (
            'bootstrap="block" (a circular block bootstrap of runs of consecutive rows)'
            if supports
            else f'backend="numba" with bootstrap="block" (the {backend.name!r} backend '
            "treats rows as independent)"
        )
        if resampled:
            warn_serial_dependence(X, labels, fix=fix, orders=orders)
        return {}
    if not supports:
        raise ValueError(
            f"bootstrap='block' is not available with backend={backend.name!r}: its likelihood "
            "treats the rows as independent draws, so its uncertainty is too small for a time "
            "series. Use backend='numba' with bootstrap='block' (a circular block bootstrap of "
            "runs of consecutive rows)."
        )
    if categorical:
        raise ValueError(
            "bootstrap='block' cannot be combined with discrete_y=True: each category is fitted "
            "on its own rows, which are not consecutive in time. Use bootstrap='iid', or treat "
            "y as continuous."
        )
    length = optimal_block_length(X) if length is None else length
    return {"block_length": max(1, round(length))}
