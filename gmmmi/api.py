"""`estimate`: the one entry point. Validation → backend → integrators → Result."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from . import __version__
from . import integrate as _integrate
from ._interrupt import interruptible
from ._progress import progress_enabled
from ._stacklevel import user_stacklevel
from ._validation import (
    check_category_rows,
    check_choice,
    check_enough_rows,
    check_float,
    check_int,
    check_not_degenerate,
    standardise,
    validate_data,
    validate_options,
)
from .backends import get_backend
from .exceptions import ConvergenceWarning, DataUnitsWarning
from .mixture import MixtureDraws
from .result import Result

#: options read by estimate itself (the backend's own options come from ``backend.options``)
API_OPTIONS = {
    "integral_method": "quad",
    "MC_samples": 100_000,
    "fixed_components_number": 0,
}


@interruptible
def estimate(
    x,
    y=None,
    *,
    z=None,
    backend="numba",
    kl=False,
    base=math.e,
    random_state=None,
    progress=None,
    discrete_y=False,
    min_category_size=None,
    init=None,
    **options,
) -> Result:
    """Estimate mutual information (or conditional MI) with its uncertainty.

    Parameters
    ----------
    x : array_like or DataFrame, shape (n, dx)
        First block of variables. Alone, ``x`` of shape (n, 2) gives the MI
        between its two columns, and (n, 2 + k) the conditional MI
        I(X1; X2 | X3, ..., X(2+k)) (the original gmm-mi's conventions).
    y : array_like or DataFrame, shape (n, dy), optional
        Second block; with ``discrete_y=True`` a vector of category labels of
        any hashable type.
    z : array_like or DataFrame, shape (n, dz), optional
        Conditioning block: the result is I(x; y | z).

        Rows of x, y and z are paired by position. When two of them are
        pandas objects their indexes must be equal (same labels, same
        order), else a ValueError asks to align them (e.g.
        ``y.reindex(x.index)``): gmmmi never realigns silently. NaN, inf,
        pandas NA and masked entries (`numpy.ma.MaskedArray`) are missing
        values and refused; so are complex numbers, too few rows and
        (near-)linearly dependent columns (see ``docs/refusals.md``).
    backend : str or Backend, default "numba"
        ``"numba"`` (EM, cross-validated K, bootstrap) or ``"pymc"`` (Bayesian
        mixture; posterior draws replace the bootstrap), or a plugin's name.
    kl : bool, default False
        Also compute KL[p(x) || p(y)] and KL[p(y) || p(x)] between the two
        marginals of the joint fit (x and y must have the same dimension).
        KL is invariant only under one affine map applied to x and y alike,
        so it is computed with x and y sharing one centre and scale per
        coordinate: the value in data units.
    base : float, default e
        Logarithm base of the output: e gives nats, 2 gives bits.
    random_state : int, numpy.random.Generator or None
        Seed of every random draw (bootstrap indices, initialisations, MC
        points). The same seed gives the same result whatever the number of
        threads. With None a fresh seed is drawn and recorded in
        ``result.meta["random_state"]``.
    progress : bool or None
        Show a progress bar; None shows it in a terminal for long work.
    discrete_y : bool, default False
        Treat ``y`` as categories: the MI between continuous ``x`` and a
        discrete label, with one mixture per category. Low counts (e.g.
        spike counts) work as categories; every category needs enough rows
        for its own fit (a ValueError names those that have too few).
    min_category_size : int or None, default None
        With ``discrete_y``: pool the categories with fewer rows than this.
        Numbers such as counts are merged with their neighbours (labels
        like ``"5-7"``), other labels into one ``"other"`` category. None:
        no pooling.
    init : MixtureDraws or list of MixtureDraws, optional
        Warm start, in data units: a fitted mixture (S = 1, e.g. an earlier
        result's ``diagnostics.reference_fit``) from which the full-data fit
        and every bootstrap replica start; the choice of K is skipped (K is
        the number of components of ``init``). With ``discrete_y``, a list of
        one such mixture per category, in category order. Only for backends
        whose ``fit`` accepts ``init`` (numba).
    **options
        Hyperparameters, with the names and defaults of the original gmm-mi:
        the backend's (``gmmmi.get_backend("numba").options``: init_type,
        scale, threshold_fit, reg_covar, max_iter, n_inits, n_folds,
        metric_method, threshold_components, patience, max_components,
        n_bootstrap) and ``integral_method`` ("quad", default, or "mc"),
        ``MC_samples`` (1e5, MC points per draw), ``fixed_components_number``
        (0: choose K by cross-validation).

    Every integral is computed from the mixture in standardised units (MI
    and CMI are invariant under per-column affine maps), so data at any
    scale representable in float64 give the same estimate; ``result.mixture``
    is then mapped back to data units (a `DataUnitsWarning` says when its
    variances over- or underflow float64).

    Returns
    -------
    Result
        ``print(result)``, ``mean, sd = result``, ``result.summary()``,
        ``result.to_arviz()``, ``result.to_netcdf(path)``, ``result.plot()``.
    """
    data = validate_data(x, y, z, discrete_y=discrete_y, kl=kl, min_category_size=min_category_size)
    be = get_backend(backend)
    opts = validate_options(options, {**be.options, **API_OPTIONS})
    method = check_choice(
        "integral_method", str(opts["integral_method"]).lower(), _integrate.METHODS
    )
    mc_samples = check_int("MC_samples", opts["MC_samples"], minimum=1)
    fixed_k = check_int("fixed_components_number", opts["fixed_components_number"], minimum=0)
    base = check_float("base", base, minimum=0.0, strict=True)
    if base == 1.0:
        raise ValueError("base must be a positive number other than 1 (e for nats, 2 for bits).")
    seed, rng = _make_rng(random_state)
    show = progress_enabled(progress)
    fit_options = {k: opts[k] for k in be.options}
    n_components = fixed_k or None
    integrate_kw = {"method": method, "mc_samples": mc_samples, "rng": rng}

    column_names = [name for key in data.blocks for name in data.labels[key]]
    Xs, shift, scale = standardise(data.X, labels=column_names)
    n_folds = check_int("n_folds", opts["n_folds"], minimum=2) if "n_folds" in opts else 1
    _check_fittable(Xs, data, n_folds)
    inits = _standardised_inits(init, be, data, scale, shift)
    # MI and CMI are invariant under per-column affine maps, so every integral
    # is computed in standardised units, which cannot overflow; only the stored
    # mixtures are mapped back to data units
    kl_frame = _kl_frame(scale, shift, data.blocks) if kl else None
    if data.categories is not None:
        fits = _fit_categories(be, Xs, data.categories, n_components, rng, show, fit_options, inits)
        values, point, diagnostics, draws = _categorical(fits, data.categories, rng, integrate_kw)
        quantity = "mi"
    else:
        init_kw = {} if inits is None else {"init": inits[0]}
        draws, diagnostics = be.fit(
            Xs, n_components=n_components, rng=rng, progress=show, **init_kw, **fit_options
        )
        quantity = "cmi" if "z" in data.blocks else "mi"
        values, point = _integrate_all(draws, diagnostics, data.blocks, kl_frame, integrate_kw)
    mixture, diagnostics = _to_data_units(draws, diagnostics, scale, shift, column_names)

    chains = int(diagnostics.extra.get("chains", 1))
    log_base = math.log(base)
    draws_out = {k: v.values.reshape(chains, -1) / log_base for k, v in values.items()}
    errors_out = {k: v.errors.reshape(chains, -1) / log_base for k, v in values.items()}
    point_out = {k: float(v) / log_base for k, v in point.items()}
    _warn_backend(be, draws_out[quantity], diagnostics)

    meta = {
        "backend": be.name,
        "method": diagnostics.method,
        "quantity": quantity,
        "unit": {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}"),
        "base": base,
        "n_samples": int(data.X.shape[0]),
        "labels": data.labels,
        "blocks": data.blocks,
        "integral_method": next(iter(values.values())).method,
        "options": {**fit_options, **{k: opts[k] for k in API_OPTIONS}},
        "random_state": seed,
        "gmmmi_version": __version__,
    }
    if data.category_values is not None:
        meta["categories"] = [str(v) for v in data.category_values]
    return Result(
        draws=draws_out,
        point=point_out,
        integration_error=errors_out,
        mixture=mixture,
        diagnostics=diagnostics,
        meta=meta,
    )


def _make_rng(random_state):
    """A Generator from the user's seed, and the int seed to record (None for a Generator)."""
    if isinstance(random_state, np.random.Generator):
        return None, random_state
    if random_state is None:
        random_state = int(np.random.SeedSequence().entropy % (2**63))
    seed = check_int("random_state", random_state, minimum=0)
    return seed, np.random.default_rng(seed)


def _standardised_inits(init, be, data, scale, shift):
    """``init`` as a list of S = 1 mixtures in standardised units (None without init)."""
    if init is None:
        return None
    if "init" not in inspect.signature(be.fit).parameters:
        raise ValueError(
            f"The {be.name!r} backend does not accept init=; use backend='numba' or drop init."
        )
    n_expected = 1 if data.categories is None else int(data.categories.max()) + 1
    what = "a list of one MixtureDraws per category" if n_expected > 1 else "one MixtureDraws"
    if isinstance(init, MixtureDraws):
        inits = [init]
    elif isinstance(init, (list, tuple)):
        inits = list(init)
    else:
        raise TypeError(
            f"init must be {what} (e.g. result.diagnostics.reference_fit), or None; got "
            f"{type(init).__name__}."
        )
    if len(inits) != n_expected:
        raise ValueError(f"init must be {what} ({n_expected}); got {len(inits)} mixture(s).")
    d = data.X.shape[1]
    for m in inits:
        if not isinstance(m, MixtureDraws) or m.n_draws != 1 or m.n_dim != d:
            got = f"S={m.n_draws}, d={m.n_dim}" if isinstance(m, MixtureDraws) else type(m).__name__
            raise ValueError(
                f"init must be {what}, each with S=1 draw and d={d} coordinates (the data's "
                f"columns); got {got}. Pass e.g. result.diagnostics.reference_fit."
            )
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        inits = [m.affine(1.0 / scale, -shift / scale) for m in inits]
    for m in inits:
        try:
            finite = np.isfinite(m.means).all() and np.isfinite(m.cholesky()).all()
        except np.linalg.LinAlgError:
            finite = False
        if not finite:
            raise ValueError(
                "init has a covariance that is not finite and positive definite in standardised "
                "units, as a mixture stored in data units that over- or underflow float64 has "
                "(see DataUnitsWarning). Rescale the data (e.g. to unit standard deviation), "
                "refit, and pass that fit's reference_fit."
            )
    return inits


def _check_fittable(Xs, data, n_folds):
    """Refuse too few rows (per category with ``discrete_y``) and (near-)dependent columns."""
    d = Xs.shape[1]
    if data.categories is None:
        check_enough_rows(Xs.shape[0], d, n_folds)
    else:
        check_category_rows(data.categories, data.category_values, d, n_folds)
    check_not_degenerate(Xs, data.blocks, data.labels)


def _to_data_units(draws, diagnostics, scale, shift, column_names):
    """The draws and the diagnostics' reference fit mapped to data units.

    Warns (`DataUnitsWarning`) when a variance over- or underflows float64
    in data units: the reported integrals, computed in standardised units,
    are unaffected.
    """
    mixture, bad = _affine_checked(draws, scale, shift)
    if diagnostics.reference_fit is not None:
        diagnostics.reference_fit, bad_ref = _affine_checked(
            diagnostics.reference_fit, scale, shift
        )
        bad |= bad_ref
    if bad.any():
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
    return mixture, diagnostics


def _affine_checked(draws, scale, shift):
    """``draws.affine(scale, shift)`` and, per column, whether it left float64's normal range."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mixture = draws.affine(scale, shift)
    variances = np.diagonal(mixture.covariances, axis1=2, axis2=3)[mixture.weights > 0]
    bad = ~np.isfinite(variances) | (variances < np.finfo(np.float64).tiny)
    return mixture, bad.any(axis=0) | ~np.isfinite(mixture.means).all(axis=(0, 1))


def _kl_frame(scale, shift, blocks):
    """Affine maps from standardised units to a frame shared by x and y, for the KL.

    KL[p(x) || p(y)] is invariant only under one affine map applied to x and
    y alike, so both are taken to ``u = (v - c) / s`` with one centre c and
    scale s per coordinate (the mean of the two centres and the larger of the
    two standard deviations): the same KL as in data units, but with
    coordinates of order 1 that cannot overflow.

    Returns
    -------
    tuple of numpy.ndarray
        ``(scale_x, shift_x, scale_y, shift_y)``, each of shape (dx,): the
        x marginal in standardised units times ``scale_x`` plus ``shift_x``
        is x in the common frame, and likewise for y.
    """
    bx, by = blocks["x"], blocks["y"]
    s = np.maximum(scale[bx], scale[by])
    half_x, half_y = shift[bx] / s / 2, shift[by] / s / 2
    frame = scale[bx] / s, half_x - half_y, scale[by] / s, half_y - half_x
    # a variance ratio that underflows, or centres ~1e308 standard deviations apart, put
    # the KL itself beyond float64 (no common rescaling can help: KL is invariant under it)
    ratio = np.minimum(frame[0], frame[2])
    if (ratio**2 < np.finfo(np.float64).tiny).any() or not np.isfinite(frame[1]).all():
        j = int(np.argmin(ratio)) if (ratio**2 < np.finfo(np.float64).tiny).any() else 0
        raise ValueError(
            f"kl=True: x and y are too far apart in float64 for a KL divergence (coordinate "
            f"{j}: standard deviations {scale[bx][j]:.3g} and {scale[by][j]:.3g}, means "
            f"{shift[bx][j]:.3g} and {shift[by][j]:.3g}); KL is invariant only under a map "
            "applied to x and y alike, so no rescaling brings it into range. Drop kl=True, or "
            "compare variables in the same units."
        )
    return frame


def _integrate_all(mixture, diagnostics, blocks, kl_frame, integrate_kw):
    """Every requested integral over the draws and over the reference fit.

    ``mixture`` and the reference fit are in standardised units; the KL is
    computed in the common frame ``kl_frame`` of `_kl_frame` (None: no KL).

    Returns
    -------
    values : dict of IntegralResult, one value per draw
    point : dict of float, the reported centre (reference fit, else the draws' mean)
    """
    bx, by, bz = blocks["x"], blocks["y"], blocks.get("z")

    def integrals(mix):
        if bz is not None:
            out = {"cmi": _integrate.conditional_mi(mix, bx, by, bz, **integrate_kw)}
        else:
            out = {"mi": _integrate.mutual_information(mix, bx, by, **integrate_kw)}
        if kl_frame is not None:
            scale_x, shift_x, scale_y, shift_y = kl_frame
            px = mix.marginal(bx).affine(scale_x, shift_x)
            py = mix.marginal(by).affine(scale_y, shift_y)
            out["kl_xy"] = _integrate.kl_divergence(px, py, **integrate_kw)
            out["kl_yx"] = _integrate.kl_divergence(py, px, **integrate_kw)
        return out

    values = integrals(mixture)
    if diagnostics.reference_fit is None:
        point = {k: v.values.mean() for k, v in values.items()}
    else:
        point = {k: v.values[0] for k, v in integrals(diagnostics.reference_fit).items()}
    return values, point


def _fit_categories(be, Xs, codes, n_components, rng, show, fit_options, inits=None):
    """One backend fit per category; returns [(draws, diagnostics)] in code order."""
    fits = []
    for c in range(codes.max() + 1):
        init_kw = {} if inits is None else {"init": inits[c]}
        try:
            fits.append(
                be.fit(
                    np.ascontiguousarray(Xs[codes == c]),
                    n_components=n_components,
                    rng=rng,
                    progress=show,
                    **init_kw,
                    **fit_options,
                )
            )
        except ValueError as err:
            raise ValueError(f"Category {c} could not be fitted: {err}") from err
    return fits


def _categorical(fits, codes, rng, integrate_kw):
    """MI between x and a category label from per-category mixtures.

    The category frequencies are resampled with the draws: multinomially for
    a bootstrap, from their Dirichlet posterior (flat prior) for posterior
    draws, and kept fixed for a single fit.
    """
    counts = np.bincount(codes).astype(float)
    n = counts.sum()
    mixtures = [d for d, _ in fits]
    S = mixtures[0].n_draws
    method = fits[0][1].method
    if method == "bootstrap":
        pis = rng.multinomial(int(n), counts / n, size=S) / n
    elif method == "single fit":
        pis = np.tile(counts / n, (S, 1))
    else:
        pis = rng.dirichlet(counts + 1.0, size=S)
    values = {"mi": _integrate.categorical_mi(mixtures, pis, **integrate_kw)}
    references = [g.reference_fit for _, g in fits]
    diagnostics = fits[0][1]
    if all(r is not None for r in references):
        ref = _integrate.categorical_mi(references, (counts / n)[None], **integrate_kw)
        point = {"mi": ref.values[0]}
        # the full-data p(x), components grouped by category as in the draws
        diagnostics.reference_fit = _joint_marginal(references, (counts / n)[None])
    else:
        point = {"mi": values["mi"].values.mean()}
    diagnostics.extra["per_category"] = [
        {"n_components": g.n_components, "n_samples": int(c)}
        for (_, g), c in zip(fits, counts, strict=True)
    ]
    diagnostics.extra["class_weights"] = pis
    diagnostics.extra["component_category"] = [
        c for c, m in enumerate(mixtures) for _ in range(m.n_components)
    ]
    return values, point, diagnostics, _joint_marginal(mixtures, pis)


def _joint_marginal(mixtures, pis):
    """p(x) = sum_c pi_c p(x | c) as one mixture per draw, components grouped by category."""
    return MixtureDraws(
        np.concatenate([m.weights * pis[:, [c]] for c, m in enumerate(mixtures)], axis=1),
        np.concatenate([m.means for m in mixtures], axis=1),
        np.concatenate([m.covariances for m in mixtures], axis=1),
    )


def _warn_backend(be, main_draws, diagnostics):
    """Turn the backend's own checks of the draws into warnings."""
    check = getattr(be, "check", None)
    if check is None:
        return
    for message in check(main_draws, diagnostics):
        warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())
