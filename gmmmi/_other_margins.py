"""The other margins, when the fit ``transform="auto"`` chose fails its check.

`gmmmi.margins.choose_margins` chooses between the raw and the mapped data
by the held-out log-likelihood of two *first* component searches (on at most
`gmmmi.margins.COMPARE_ROWS` rows), before the fit check and the wider
search (`gmmmi._em.widen`). On data neither first search describes, that
comparison can pick the option whose fit then fails its check while the
other would pass: bmi's concentric rings (docs/robustness.md, the hard
suite) are exactly a mixture of the raw data, yet the first searches
prefer the maps, whose fit fails.

`reconsider` runs when the first choice was made by that comparison (or by its
pre-test, which keeps the raw data without fitting the maps: they are fitted
here, as the comparison would have), K was
searched (as for the wider search) and the kept fit failed its check. It
fits the other option the same way (its own search, fit check, wider search
and bootstrap, from the generator state the first fit started from, so the
result is that of ``transform=`` the other
option) and keeps

1. the fit that passes its check, if exactly one does;
2. else the one with the higher held-out log-likelihood per row *on the
   data scale* (the maps' log-Jacobian added to the mapped fit's, as in
   `choose_margins`), each fit's score being that of its full search (the
   wider search's when it replaced the first).

The result's `gmmmi.margins.MarginChoice` then has reason ``FIT_CHECK`` and
both scores in its criterion, and ``diagnostics.extra["other_margins"]``
records both fits (K, check verdict, score). Where the first fit passes its
check nothing here runs, and no answer changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ._misfit import check_estimate
from ._prepare import Prepared
from ._rows import standardise
from .diagnostics import FitDiagnostics
from .margins import MarginReason, fit_maps, jacobian_term, other_choice, reconsidered
from .mixture import MixtureDraws

#: what a fit's held-out score is, in the criterion of a reconsidered choice
CRITERION_KIND = "held-out log-likelihood per row of the searched fits, after the fit check"


def heldout_score(diagnostics: FitDiagnostics) -> float | None:
    """Held-out log-likelihood per row (standardised units) of the fit that was kept.

    The wider search's best score when it replaced the first fit, the scale
    mixture's when one was chosen, else the cross-validated score at the
    chosen K; None without a cross-validation table (K fixed, other backends).

    Parameters
    ----------
    diagnostics : FitDiagnostics

    Returns
    -------
    float or None
    """
    search = diagnostics.search
    if search is not None and search.accepted:
        return float(search.score)
    record = diagnostics.extra.get("scale_mixture")
    if record:
        return float(record["heldout"])
    table = diagnostics.metric_per_k
    ks = list(table.get("n_components", []))
    if not table.get("valid") or diagnostics.n_components not in ks:
        return None
    return float(table["valid"][ks.index(diagnostics.n_components)])


def data_score(diagnostics: FitDiagnostics, scale: np.ndarray, jacobian: float) -> float | None:
    """`heldout_score` on the data scale: per row, in the units of the columns before mapping.

    Parameters
    ----------
    diagnostics : FitDiagnostics
    scale : ndarray, shape (d,)
        The standard deviations that standardised the fitted columns.
    jacobian : float
        Mean log-Jacobian per row of the maps from the data to the fitted columns (0 without).

    Returns
    -------
    float or None
        None without a held-out score.
    """
    score = heldout_score(diagnostics)
    return None if score is None else score - float(np.log(scale).sum()) + jacobian


def reconsider(
    prepared: Prepared,
    raw: object,
    draws: MixtureDraws,
    diagnostics: FitDiagnostics,
    *,
    fit: Callable,
    rng: np.random.Generator,
    start_state: dict,
    names: list[str],
) -> tuple[Prepared, MixtureDraws, FitDiagnostics]:
    """Fit the other margins when the first choice's fit failed its check; keep the better.

    Parameters
    ----------
    prepared : gmmmi._prepare.Prepared
        What the first fit was given (``margins.reason`` must be ``HELDOUT`` or
        ``RAW_MARGINS``; for the latter the maps are fitted here, from
        ``start_state``, as `gmmmi.margins.choose_margins` would have).
    raw : object
        The validated data in data units, before any map (``Prepared.data``'s
        type).
    draws, diagnostics
        The first fit's, in standardised units (``diagnostics.fit_check``
        may be None: it is computed here).
    fit : callable
        ``fit(Xs) -> (draws, diagnostics)``: the backend's fit of the
        estimate, drawing from ``rng``.
    rng : numpy.random.Generator
        The estimate's generator, in the state the first fit left it.
    start_state : dict
        ``rng.bit_generator.state`` before the first fit: the other fit
        starts from it, so it is the fit of ``transform=`` that option.
    names : list of str
        Column names (for the check).

    Returns
    -------
    prepared, draws, diagnostics
        Those of the fit kept, the diagnostics as the backend made them
        plus ``extra["other_margins"]`` recording both fits (``diagnostics``
        itself when the first fit passes its check).
    """
    # checked copies, for the decision and the record only: `gmmmi.estimate` checks (and
    # names) the kept fit's diagnostics itself, once
    first = check_estimate(diagnostics, draws, prepared.X, names)
    if first.fit_check is None or first.fit_check.ok:
        return prepared, draws, diagnostics
    choice = prepared.margins
    if not choice.maps:  # raw kept without maps (RAW_MARGINS): fit them as choose_margins would
        seeds = copy.deepcopy(rng)
        seeds.bit_generator.state = start_state
        choice = replace(choice, maps=fit_maps(raw, seeds))
        if all(m.affine for m in choice.maps):  # choose_margins would have kept raw (AFFINE)
            return prepared, draws, diagnostics
    after_first = rng.bit_generator.state
    rng.bit_generator.state = start_state
    other = other_choice(choice)
    if other == "none":
        data = raw
    else:
        mapped = replace(choice, chosen="gaussianize").apply(raw.X)
        data = replace(raw, X=np.ascontiguousarray(mapped))
    Xs, shift, scale = standardise(data.X, labels=names)
    other_draws, other_diag = fit(Xs)
    second = check_estimate(other_diag, other_draws, Xs, names)
    jacobian = jacobian_term(choice.maps, raw.X)
    scores = {
        option: data_score(diag, sds, jacobian if option == "gaussianize" else 0.0)
        for option, diag, sds in ((choice.chosen, first, prepared.scale), (other, second, scale))
    }
    passed = [o for o, d in ((choice.chosen, first), (other, second)) if d.fit_check.ok]
    if len(passed) == 1:
        keep_other = passed[0] == other
    else:
        a, b = scores[choice.chosen], scores[other]
        keep_other = a is not None and b is not None and b > a
    criterion = {
        "none": scores["none"],
        "gaussianize": scores["gaussianize"],
        "kind": CRITERION_KIND,
        "first": choice.chosen,
        "passed": passed,
    }
    kept = other if keep_other else choice.chosen
    record = {
        option: {
            "n_components": int(d.n_components),
            "check": d.fit_check.verdict(),
            "score": scores[option],
        }
        for option, d in ((choice.chosen, first), (other, second))
    }
    record["kept"] = kept
    margins = reconsidered(choice, kept, criterion)
    if keep_other:
        prepared = replace(prepared, data=data, X=Xs, shift=shift, scale=scale, margins=margins)
        draws, diagnostics = other_draws, other_diag
    else:
        rng.bit_generator.state = after_first
        prepared = replace(prepared, margins=margins)
    diagnostics = replace(diagnostics, extra={**diagnostics.extra, "other_margins": record})
    return prepared, draws, diagnostics


def applies(prepared: Prepared, n_components: int | None) -> bool:
    """Whether a failed check of this fit sends `reconsider` to the other margins.

    Only where ``"auto"`` chose by its comparison or its pre-test (not for ``init=``,
    ``sample_weight=``, ``kl=True``, categories or affine maps) and K is
    searched, as the wider search (`gmmmi._em.widen`) is: a fixed K is the
    caller's model.
    """
    return n_components is None and prepared.margins.reason in (
        MarginReason.HELDOUT,
        MarginReason.RAW_MARGINS,
    )
