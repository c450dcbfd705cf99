"""MI between continuous x and a category label: one backend fit per category.

``gmmmi.estimate(x, labels, discrete_y=True)`` fits p(x | c) for every
category c with the backend, draws the class weights p(c) alongside the
backend's draws (how, depends on the draws' `~gmmmi.diagnostics.DrawKind`) and
integrates I(X; C) = H(X) - sum_c p(c) H(X | c) with
`gmmmi.integrate.class_mi`. Each category's diagnostics are kept, in
category order, in ``FitDiagnostics.per_category``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import integrate as _integrate
from .diagnostics import DrawKind, EMSelection, FitDiagnostics
from .mixture import MixtureDraws


def fit_categories(
    backend: Any,
    Xs: np.ndarray,
    codes: np.ndarray,
    *,
    n_components: int | None,
    rng: np.random.Generator,
    progress: bool,
    fit_options: dict,
    inits: Sequence[MixtureDraws] | None = None,
) -> list[tuple[MixtureDraws, FitDiagnostics]]:
    """One backend fit per category, in code order.

    Parameters
    ----------
    backend : gmmmi.backends.Backend
    Xs : numpy.ndarray, shape (n, d)
        Standardised x.
    codes : numpy.ndarray of int, shape (n,)
        Category code of each row, 0 to C - 1.
    n_components : int or None
        Fixed K of every category's fit; None lets the backend choose.
    rng : numpy.random.Generator
        Used by the fits one after the other, in code order.
    progress : bool
    fit_options : dict
        The backend's options.
    inits : sequence of MixtureDraws, optional
        One warm start per category (standardised units).

    Returns
    -------
    list of (MixtureDraws, FitDiagnostics)

    Raises
    ------
    ValueError
        When a category cannot be fitted (the message names it).
    """
    fits = []
    for c in range(codes.max() + 1):
        init_kw = {} if inits is None else {"init": inits[c]}
        try:
            fits.append(
                backend.fit(
                    np.ascontiguousarray(Xs[codes == c]),
                    n_components=n_components,
                    rng=rng,
                    progress=progress,
                    **init_kw,
                    **fit_options,
                )
            )
        except ValueError as err:
            raise ValueError(f"Category {c} could not be fitted: {err}") from err
    return fits


def class_weight_draws(
    kind: DrawKind, counts: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """The class weights p(c) of each draw, drawn as the kind of draws asks.

    A bootstrap resamples the rows, so its class counts are multinomial; a
    posterior draws p(c) from its Dirichlet posterior (flat prior); a single
    fit keeps the observed frequencies.

    Parameters
    ----------
    kind : DrawKind
    counts : numpy.ndarray, shape (C,)
        Rows per category.
    n_draws : int
        S, the draws per category.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (S, C)
        Rows sum to 1.

    Raises
    ------
    TypeError
        For a ``kind`` that is not a `DrawKind`.
    """
    n = counts.sum()
    if kind is DrawKind.BOOTSTRAP:
        return rng.multinomial(int(n), counts / n, size=n_draws) / n
    if kind is DrawKind.SINGLE_FIT:
        return np.tile(counts / n, (n_draws, 1))
    if kind is DrawKind.POSTERIOR:
        return rng.dirichlet(counts + 1.0, size=n_draws)
    raise TypeError(f"kind must be a DrawKind; got {kind!r}.")


def integrate_categories(
    fits: Sequence[tuple[MixtureDraws, FitDiagnostics]],
    codes: np.ndarray,
    rng: np.random.Generator,
    integrate_kw: dict,
) -> tuple[dict, dict, FitDiagnostics, MixtureDraws]:
    """MI between x and a category label from per-category fits.

    Parameters
    ----------
    fits : sequence of (MixtureDraws, FitDiagnostics)
        `fit_categories`' output, standardised units.
    codes : numpy.ndarray of int, shape (n,)
    rng : numpy.random.Generator
        Draws the class weights.
    integrate_kw : dict
        ``method``, ``mc_samples`` and ``rng`` of the integrals.

    Returns
    -------
    values : dict
        ``{"mi": IntegralResult}``, one value per draw.
    point : dict
        ``{"mi": float}``: the MI of the reference fits with the observed
        frequencies, else the mean of the draws.
    diagnostics : FitDiagnostics
        The categories' diagnostics combined (`combine_diagnostics`).
    mixture : MixtureDraws
        p(x) per draw, components grouped by category.
    """
    counts = np.bincount(codes).astype(float)
    n = counts.sum()
    mixtures = [m for m, _ in fits]
    diagnostics = [g for _, g in fits]
    kind, _ = _common_kind_and_shape(diagnostics)
    pis = class_weight_draws(kind, counts, mixtures[0].n_draws, rng)
    values = {"mi": _integrate.class_mi(mixtures, pis, **integrate_kw)}
    references = [g.reference_fit for g in diagnostics]
    reference = None
    if all(r is not None for r in references):
        ref = _integrate.class_mi(references, (counts / n)[None], **integrate_kw)
        point = {"mi": ref.values[0]}
        # the full-data p(x), components grouped by category as in the draws
        reference = MixtureDraws.pool(references, (counts / n)[None])
    else:
        point = {"mi": values["mi"].values.mean()}
    combined = combine_diagnostics(diagnostics, counts, pis, reference)
    return values, point, combined, MixtureDraws.pool(mixtures, pis)


def _common_kind_and_shape(diagnostics: Sequence[FitDiagnostics]) -> tuple[DrawKind, tuple]:
    """The kind and sample shape shared by every category (ValueError if they differ)."""
    kinds = {g.kind for g in diagnostics}
    shapes = {g.sample_shape for g in diagnostics}
    if len(kinds) > 1 or len(shapes) > 1:
        raise ValueError(
            "The backend returned draws of different kinds or shapes for different categories "
            f"(kinds {sorted(k.value for k in kinds)}, shapes {sorted(shapes)}); every category "
            "needs the same number of draws of the same kind."
        )
    return kinds.pop(), shapes.pop()


def combine_diagnostics(
    diagnostics: Sequence[FitDiagnostics],
    counts: np.ndarray,
    class_weights: np.ndarray,
    reference_fit: MixtureDraws | None,
) -> FitDiagnostics:
    """One FitDiagnostics for a categorical fit, keeping each category's in ``per_category``.

    A draw converged only if it converged in every category, and its
    ``n_iter`` is the largest over the categories; K is the largest any
    category needed. The EM selection details stay with each category (the
    combined ``selection`` only says whether any category reached
    ``max_components``).

    Parameters
    ----------
    diagnostics : sequence of FitDiagnostics
        One per category, in category order, of one kind and sample shape.
    counts : numpy.ndarray, shape (C,)
        Rows per category.
    class_weights : numpy.ndarray, shape (S, C)
        The class weights of each draw.
    reference_fit : MixtureDraws or None
        The full-data p(x) (components grouped by category), or None.

    Returns
    -------
    FitDiagnostics
    """
    first = diagnostics[0]
    sizes = [g.n_components for g in diagnostics]
    selections = [g.selection for g in diagnostics]
    selection = None
    if any(s is not None for s in selections):
        selection = EMSelection(
            reached_max_components=any(g.reached_max_components for g in diagnostics)
        )
    extra = {
        "per_category": [
            {"n_components": int(k), "n_samples": int(c)}
            for k, c in zip(sizes, counts, strict=True)
        ],
        "class_weights": class_weights,
        "component_category": [c for c, k in enumerate(sizes) for _ in range(k)],
    }
    return replace(
        first,
        n_components=max(sizes),
        reference_fit=reference_fit,
        n_iter=np.max([g.n_iter for g in diagnostics], axis=0),
        converged=np.all([g.converged for g in diagnostics], axis=0),
        sample_stats=None,
        extra=extra,
        selection=selection,
        per_category=tuple(diagnostics),
    )
