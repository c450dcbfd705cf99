"""One prepare step: from validated data to the one object the fit is handed.

`prepare` runs each step once, in this order, on the continuous data of one
joint fit (`gmmmi.estimate` without discrete columns; `gmmmi.mixed` prepares
its cells itself):

1. standardise the data as measured (`gmmmi._rows.standardise`) and refuse
   too few rows or (near-)dependent columns (`gmmmi._rows`);
2. screen the data as measured (`gmmmi._screening.screen`: copies, atoms,
   deterministic relations and curves);
3. resolve the bootstrap (`gmmmi._resampling.resolve_bootstrap`, which may
   warn about serial dependence);
4. choose the margins (`gmmmi.margins.choose_margins`): the backend's
   ``heldout_loglik`` scores the raw data (given standardised, as measured)
   and the mapped data, and may keep its search for the fit;
5. standardise the chosen data when they were mapped, and look for isolated
   far rows in what will be fitted (`gmmmi._screening.warn_outliers`).

The result is a frozen `Prepared`: the standardised data the backend fits,
the affine map back to data units, the margin record and the bootstrap
keywords of ``backend.fit``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._data import ValidatedData
from ._resampling import resolve_bootstrap
from ._rows import check_category_rows, check_enough_rows, check_not_degenerate, standardise
from ._screening import screen, warn_outliers
from .margins import MarginChoice, choose_margins


@dataclass(frozen=True)
class Prepared:
    """What `prepare` hands the fit.

    Attributes
    ----------
    data : ValidatedData
        The data in data units, columns mapped when ``margins.chosen`` is
        ``"gaussianize"``.
    X : numpy.ndarray, shape (n, d)
        ``data.X`` standardised: float64, C-contiguous, what the backend fits.
    shift, scale : numpy.ndarray, shape (d,)
        ``data.X = shift + scale * X`` (column means and sds, data units).
    margins : gmmmi.margins.MarginChoice
        What was done to the margins, and why.
    bootstrap : dict
        Keyword arguments of ``backend.fit`` for the bootstrap asked for
        (``block_length=`` for a block bootstrap; empty for IID rows).
    isolated : bool
        Whether a column of ``X`` has an isolated far row (warned about;
        the sharp-relation check then stands down).
    distinct : numpy.ndarray of int64 or None
        The first row of each group of exact copies in ``X`` (empty: no row
        is a copy), found by the screen, when ``X`` is the data screened (no
        margins' maps); None otherwise (the sharp-relation check then looks
        itself).
    """

    data: ValidatedData
    X: np.ndarray
    shift: np.ndarray
    scale: np.ndarray
    margins: MarginChoice
    bootstrap: dict
    isolated: bool = False
    distinct: np.ndarray | None = None


def prepare(
    data: ValidatedData,
    *,
    backend,
    transform: str,
    kl: bool,
    fit_options: dict,
    n_components: int | None,
    rng: np.random.Generator,
    n_folds: int,
    bootstrap: str,
    block_length: float | None,
    resampled: bool,
    init: bool = False,
    weighted: bool = False,
    orders: tuple | None = None,
) -> Prepared:
    """Validate the rows, screen, standardise and choose the margins, once each, in order.

    Parameters
    ----------
    data : ValidatedData
        Validated continuous data (`gmmmi._data.validate_data`), data units.
    backend : gmmmi.backends.Backend
        The backend of the fit (its ``heldout_loglik`` scores the margins).
    transform : {"auto", "none", "gaussianize"}
        See `gmmmi.margins.choose_margins`.
    kl : bool
        Whether KL divergences between the x and y marginals are asked for.
    fit_options : dict
        The backend's options.
    n_components : int or None
        A fixed K of the fit, or None to choose it.
    rng : numpy.random.Generator
        Not advanced (the margins draw from copies of it).
    n_folds : int
        Cross-validation folds (1 for a backend without them).
    bootstrap : {"iid", "block"}
        How the backend resamples the rows.
    block_length : float or None
        Mean block length of a block bootstrap; None: chosen from the data.
    resampled : bool
        Whether the backend resamples at all (``n_bootstrap >= 1``).
    init : bool, default False
        Whether the fit starts from a given mixture.
    weighted : bool, default False
        Whether the fit has sample weights.
    orders : tuple of numpy.ndarray, optional
        `gmmmi._rows.column_orders` of ``data.X``, when the caller has them:
        one sort of each column serves the screen, the serial check and the
        outlier check (they sort no column again).

    Returns
    -------
    Prepared

    Raises
    ------
    ValueError
        For a constant column, too few rows (per category with categories),
        (near-)linearly dependent columns, or data the screen refuses.
    """
    names = [name for key in data.blocks for name in data.labels[key]]
    categorical = data.categories is not None
    Xs, shift, scale = standardise(data.X, labels=names)
    _check_fittable(Xs, data, n_folds)
    # the screen looks at the data as measured (copies, atoms, functions), the outlier
    # check at the data as fitted: the margins' maps bring heavy tails in
    distinct = screen(
        Xs,
        shift,
        scale,
        data.blocks,
        data.labels,
        categorical=categorical,
        n_folds=n_folds,
        outliers=False,
        orders=orders,
    )
    block_kw = resolve_bootstrap(
        bootstrap,
        block_length,
        backend,
        Xs,
        names,
        categorical=categorical,
        resampled=resampled,
        orders=orders,
    )
    # margins (gmmmi.margins): per-column monotone maps leave MI and CMI unchanged
    chosen, margins = choose_margins(
        data,
        transform,
        backend=backend,
        kl=kl,
        fit_options=fit_options,
        n_components=n_components,
        rng=rng,
        init=init,
        weighted=weighted,
        standardised=(Xs, scale),
    )
    measured = Xs, shift, scale
    if margins.chosen != "none":
        Xs, shift, scale = standardise(chosen.X, labels=names)
        distinct = orders = None  # other data than the screen saw
    isolated = warn_outliers(*measured, names, fitted=Xs, orders=orders)
    return Prepared(chosen, Xs, shift, scale, margins, block_kw, isolated, distinct)


def _check_fittable(Xs: np.ndarray, data: ValidatedData, n_folds: int) -> None:
    """Refuse too few rows (per category with categories) and (near-)dependent columns."""
    d = Xs.shape[1]
    if data.categories is None:
        check_enough_rows(Xs.shape[0], d, n_folds)
    else:
        check_category_rows(data.categories, data.category_values, d, n_folds)
    check_not_degenerate(Xs, data.blocks, data.labels)
