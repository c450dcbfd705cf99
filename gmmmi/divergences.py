"""`divergence`: KL or Jensen–Shannon divergence between the laws of two samples.

A mixture is fitted to each sample by the backend (each with its own
bootstrap, so that draw b pairs replica b of p with replica b of q: the two
samples are resampled independently), and the divergence of every pair of
draws is integrated by `gmmmi.integrate`:

* ``kind="kl"``: KL[p || q] = E_p[log p - log q];
* ``kind="js"``: JS = (KL[p || m] + KL[q || m]) / 2 with m = (p + q) / 2,
  bounded by log 2.

Both samples are standardised with one shift and scale per column (KL is
invariant only under one affine map applied to both). KL is unbounded where
q's tails are thinner than p's: there the estimate is driven by how the
fits model the tails, and a `gmmmi.DataWarning` says so when more
than half the estimate comes from where q's sample has (almost) no rows. This is
not ``estimate(kl=True)``, which compares the two marginals of one joint fit
(GMM-MI's quantity).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from . import __version__
from . import integrate as _integrate
from ._checks import check_choice
from ._data import _as_samples
from ._estimate_options import resolve_options
from ._interrupt import interruptible
from ._progress import progress_enabled
from ._rows import check_enough_rows
from ._seeds import resolve_generator
from ._stacklevel import user_stacklevel
from .api import _check_fit_output
from .backends import Backend, get_backend
from .exceptions import ConvergenceWarning, DataWarning
from .mixture import MixtureDraws
from .result import Result

KINDS = ("kl", "js")

#: KL is "dominated by q's thin tails" when more than this share of it comes from where
#: q's fit is below its density at all but `TAIL_QUANTILE` of q's own rows
TAIL_SHARE = 0.5
TAIL_QUANTILE = 0.001
#: points of p's fit (fixed seed) that estimate that share
TAIL_POINTS = 20_000


@interruptible
def divergence(
    p_sample: Any,
    q_sample: Any,
    *,
    kind: str = "kl",
    backend: str | Backend = "numba",
    base: float = math.e,
    random_state: int | np.random.Generator | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Result:
    """Divergence between the distributions of two samples, with its uncertainty.

    Parameters
    ----------
    p_sample, q_sample : array_like or DataFrame, shape (n_p, d) and (n_q, d)
        Samples of p and q, with the same columns (the numbers of rows may
        differ). A 1-d array is one variable.
    kind : {"kl", "js"}, default "kl"
        ``"kl"``: KL[p || q]. ``"js"``: the Jensen–Shannon divergence.
    backend : str or Backend, default "numba"
    base : float, default math.e
        Logarithm base: e gives nats, 2 bits.
    random_state : int, Generator or None
    progress : bool or None
    **options
        The backend's options and ``integral_method``, ``MC_samples``,
        ``fixed_components_number``, as in `gmmmi.estimate`.

    Returns
    -------
    Result
        ``result.quantity`` is ``"kl"`` or ``"js"``; one value per pair of
        bootstrap replicas in ``result.draws``; ``diagnostics.per_category``
        holds p's and q's fits, ``result.mixture`` the mixture (p + q) / 2.

    Raises
    ------
    ValueError
        Samples with different numbers of columns, an unknown ``kind``, and
        the input errors of `gmmmi.estimate`.

    Warns
    -----
    DataWarning
        KL of which more than half comes from where q's sample has no rows.
    """
    kind = check_choice("kind", kind, KINDS)
    p_values, p_names = _as_samples("p_sample", p_sample)
    q_values, q_names = _as_samples("q_sample", q_sample)
    dp, dq = p_values.shape[1], q_values.shape[1]
    if dp != dq:
        raise ValueError(
            f"A divergence compares two distributions on the same space; p_sample has {dp} "
            f"column(s) and q_sample {dq}. Pass samples of the same variables."
        )
    names = p_names or q_names or [f"x{i}" for i in range(dp)]
    resolved = resolve_options(backend=backend, base=base, **options)
    be, base, opts = get_backend(resolved.backend), resolved.base, resolved.options
    seed, rng = resolve_generator(random_state)
    fit_options, n_folds = resolved.fit_options, resolved.n_folds
    for values in (p_values, q_values):
        check_enough_rows(values.shape[0], dp, n_folds)
    both = np.vstack([p_values, q_values])
    shift, scale = both.mean(axis=0), both.std(axis=0)
    if not np.all(scale > 0):
        raise ValueError("A column is constant in both samples; drop it.")
    show = progress_enabled(progress)
    fits = []
    for values in (p_values, q_values):
        draws, diag = be.fit(
            np.ascontiguousarray((values - shift) / scale),
            n_components=resolved.n_components,
            rng=rng,
            progress=show,
            **fit_options,
        )
        _check_fit_output(be, draws, diag)
        fits.append((draws, diag))
    (p, p_diag), (q, q_diag) = fits
    if p.n_draws != q.n_draws:
        raise ValueError("The backend returned different numbers of draws for p and q.")
    integrate_kw = resolved.integrate_kw(rng)
    values = _divergence(p, q, kind, integrate_kw)
    if p_diag.reference_fit is not None and q_diag.reference_fit is not None:
        point = float(
            _divergence(p_diag.reference_fit, q_diag.reference_fit, kind, integrate_kw).values[0]
        )
        reference = (p_diag.reference_fit, q_diag.reference_fit)
    else:
        point, reference = float(values.values.mean()), (p.select(0), q.select(0))
    if kind == "kl":
        _warn_tails(*reference, np.ascontiguousarray((q_values - shift) / scale))
    for label, (_, diag) in zip(("p", "q"), fits, strict=False):
        for message in be.check(diag):
            warnings.warn(
                f"Sample {label}: {message}", ConvergenceWarning, stacklevel=user_stacklevel()
            )
    return _result(
        kind,
        values,
        point,
        fits,
        reference,
        names,
        scale,
        shift,
        be,
        opts,
        seed,
        base,
        (p_values.shape[0], q_values.shape[0]),
    )


def _divergence(p: MixtureDraws, q: MixtureDraws, kind: str, integrate_kw: dict):
    """KL[p || q] or JS(p, q) of every pair of draws (standardised units)."""
    if kind == "kl":
        return _integrate.kl_divergence(p, q, **integrate_kw)
    half = np.full((p.n_draws, 2), 0.5)
    m = MixtureDraws.pool([p, q], half)
    idx = list(range(p.n_dim))
    terms = [[(1.0, idx, p), (-1.0, idx, m)], [(1.0, idx, q), (-1.0, idx, m)]]
    return _integrate.expected_log_densities([p, q], half, terms, **integrate_kw)


def _warn_tails(p: MixtureDraws, q: MixtureDraws, q_rows: np.ndarray) -> None:
    """DataWarning when most of KL[p || q] comes from where q's sample has no rows.

    The region is where q's fit is below its density at all but
    `TAIL_QUANTILE` of q's own rows; the share is estimated from
    `TAIL_POINTS` points of p's fit drawn with a fixed seed (the estimate's
    generator is not used).
    """
    points = p.sample(TAIL_POINTS, np.random.default_rng(0))[0]
    log_p, log_q = p.logpdf(points)[0], q.logpdf(points)[0]
    floor = np.quantile(q.logpdf(q_rows)[0], TAIL_QUANTILE)
    ratio = log_p - log_q
    total = ratio.mean()
    share = ratio[log_q < floor].sum() / TAIL_POINTS / total if total > 0 else 0.0
    if share > TAIL_SHARE:
        warnings.warn(
            f"KL[p || q]: {share:.0%} of the estimate comes from where q's fit is below its "
            f"density at all but {TAIL_QUANTILE:.1%} of q's rows, a region q's sample does not "
            "cover. KL is unbounded where q's tails are thinner than p's, so there the estimate "
            "follows how the fits extrapolate their tails rather than the data; compare "
            "KL[q || p] or the bounded kind='js'.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def _result(
    kind, values, point, fits, reference, names, scale, shift, be, opts, seed, base, sizes
) -> Result:
    """The `Result` of a divergence (mixtures back in data units)."""
    (p, p_diag), (q, q_diag) = fits
    shape = p_diag.sample_shape
    half = np.full((p.n_draws, 2), 0.5)
    mixture = MixtureDraws.pool([p, q], half).affine(scale, shift)
    ref_mix = MixtureDraws.pool(list(reference), np.full((1, 2), 0.5)).affine(scale, shift)
    diagnostics = replace(
        p_diag,
        n_components=max(p_diag.n_components, q_diag.n_components),
        reference_fit=ref_mix,
        n_iter=np.maximum(p_diag.n_iter, q_diag.n_iter),
        converged=p_diag.converged & q_diag.converged,
        sample_stats=None,
        selection=None,
        extra={"component_sample": [0] * p.n_components + [1] * q.n_components},
        per_category=(p_diag, q_diag),
    )
    log_base = math.log(base)
    meta = {
        "backend": be.name,
        "method": diagnostics.method,
        "quantity": kind,
        "unit": {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}"),
        "base": base,
        "n_samples": int(sum(sizes)),
        "samples": {"p": int(sizes[0]), "q": int(sizes[1])},
        "labels": {"x": names},
        "blocks": {"x": list(range(len(names)))},
        "variables": "p || q" if kind == "kl" else "p, q",
        "integral_method": values.method,
        "options": {k: opts[k] for k in opts},
        "random_state": seed,
        "gmmmi_version": __version__,
    }
    return Result(
        draws={kind: values.values.reshape(shape) / log_base},
        point={kind: point / log_base},
        integration_error={kind: values.errors.reshape(shape) / log_base},
        mixture=mixture,
        diagnostics=diagnostics,
        meta=meta,
    )
