"""The goodness-of-fit check of every estimate, and `gmmmi.MisfitWarning`.

`gmmmi.estimate` calls `check_estimate` on the backend's fit to all the data
(in standardised units) and `warn_misfit` on the result's diagnostics. The
numba backend has already checked its fit (it needs the check to decide on a
wider search, `gmmmi._em.widen`); other backends' fits are checked here, a
posterior's at its draw with the highest likelihood (a posterior has no
single full-data fit).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ._block_maps import describe_record as describe_maps
from ._stacklevel import user_stacklevel
from .diagnostics import FitDiagnostics
from .exceptions import MisfitWarning
from .fit_check import FitCheck, automatic_check, misfit_message, relabel
from .margins import describe_reconsidered
from .mixture import MixtureDraws

#: draws of a posterior (evenly spaced) and rows scored to pick the one that is checked
_DRAWS_SCORED, _ROWS_SCORED = 50, 1000


def check_estimate(
    diagnostics: FitDiagnostics,
    draws: MixtureDraws | list[MixtureDraws],
    X: np.ndarray,
    names: list[str],
    categories: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> FitDiagnostics:
    """``diagnostics`` with ``fit_check`` of the fit to all the data filled in.

    Parameters
    ----------
    diagnostics : FitDiagnostics
        The backend's (with ``per_category`` for a categorical estimate).
    draws : MixtureDraws, or list of MixtureDraws (one per category)
        The backend's draws, standardised units: checked at their best draw
        when there is no reference fit.
    X : numpy.ndarray, shape (n, d)
        The standardised data the backend fitted.
    names : list of str
        Column names.
    categories : numpy.ndarray of int, shape (n,), optional
        Category of every row (``discrete_y``): each row is checked under its
        category's fit, and the tests pool every row.
    weights : numpy.ndarray, shape (n,), optional
        Row weights of a weighted fit: the tests count weight
        (`gmmmi.fit_check.test_pits`).

    Returns
    -------
    FitDiagnostics
    """
    if categories is None:
        if diagnostics.fit_check is not None:
            check = relabel(diagnostics.fit_check, names)
        else:
            fit = _checked_fit(diagnostics, draws, X)
            check = automatic_check(fit, X, names=names, weights=weights)
    else:
        fits = [
            _checked_fit(g, d, X[categories == c])
            for c, (g, d) in enumerate(zip(diagnostics.per_category, draws, strict=True))
        ]
        check = automatic_check(fits, X, names=names, groups=categories)
    # the wider searches' verdicts name the user's columns, as the check does
    named = [
        g if g.search is None else replace(g, search=g.search.relabel(names))
        for g in (diagnostics, *diagnostics.per_category)
    ]
    return replace(named[0], fit_check=check, per_category=tuple(named[1:]))


def _checked_fit(diagnostics: FitDiagnostics, draws: MixtureDraws, X: np.ndarray) -> MixtureDraws:
    """The reference fit, else the draw with the highest mean log-likelihood of (some) rows."""
    if diagnostics.reference_fit is not None:
        return diagnostics.reference_fit
    from ._kernels.em import mean_loglik

    candidates = np.unique(np.linspace(0, draws.n_draws - 1, _DRAWS_SCORED).astype(int))
    rows = X[:: max(1, X.shape[0] // _ROWS_SCORED)]
    scores = [
        mean_loglik(rows, draws.weights[s], draws.means[s], draws.covariances[s])
        for s in candidates
    ]
    return draws.select(int(candidates[int(np.nanargmax(scores))]))


def warn_misfit(diagnostics: FitDiagnostics, *, mapped: bool = False) -> None:
    """`MisfitWarning` at the user's line when the fit check failed.

    ``mapped``: the fit was made to the margins' maps (`gmmmi.margins`).
    """
    check: FitCheck | None = diagnostics.fit_check
    if check is None or check.ok:
        return
    searches = [g.search for g in diagnostics.per_category or (diagnostics,)]
    search = "".join(s.describe() for s in searches if s is not None)
    other = diagnostics.extra.get("other_margins")  # both margins fitted (gmmmi._other_margins)
    if other:
        search += describe_reconsidered(other)
    maps = diagnostics.extra.get("block_maps")  # shears and twists tried (gmmmi._block_refit)
    if maps:
        search += describe_maps(maps)
    message = misfit_message(check, search, mapped=mapped, both_margins=bool(other))
    warnings.warn(message, MisfitWarning, stacklevel=user_stacklevel())
