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
from ._validation import (
    check_choice,
    check_float,
    check_int,
    standardise,
    validate_data,
    validate_options,
)
from .backends import get_backend
from .exceptions import ConvergenceWarning
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
    backend : str or Backend, default "numba"
        ``"numba"`` (EM, cross-validated K, bootstrap) or ``"pymc"`` (Bayesian
        mixture; posterior draws replace the bootstrap), or a plugin's name.
    kl : bool, default False
        Also compute KL[p(x) || p(y)] and KL[p(y) || p(x)] between the two
        marginals of the joint fit (x and y must have the same dimension), in
        data units.
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
        discrete label, with one mixture per category.
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

    Returns
    -------
    Result
        ``print(result)``, ``mean, sd = result``, ``result.summary()``,
        ``result.to_arviz()``, ``result.to_netcdf(path)``, ``result.plot()``.
    """
    data = validate_data(x, y, z, discrete_y=discrete_y, kl=kl)
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
    inits = _standardised_inits(init, be, data, scale, shift)
    if data.categories is not None:
        fits = _fit_categories(be, Xs, data.categories, n_components, rng, show, fit_options, inits)
        fits = [(d.affine(scale, shift), _to_data_units(g, scale, shift)) for d, g in fits]
        values, point, diagnostics, mixture = _categorical(fits, data.categories, rng, integrate_kw)
        quantity = "mi"
    else:
        init_kw = {} if inits is None else {"init": inits[0]}
        draws, diagnostics = be.fit(
            Xs, n_components=n_components, rng=rng, progress=show, **init_kw, **fit_options
        )
        mixture = draws.affine(scale, shift)
        diagnostics = _to_data_units(diagnostics, scale, shift)
        quantity = "cmi" if "z" in data.blocks else "mi"
        values, point = _integrate_all(mixture, diagnostics, data.blocks, kl, integrate_kw)

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
    inits = [init] if isinstance(init, MixtureDraws) else list(init)
    what = "a list of one MixtureDraws per category" if n_expected > 1 else "one MixtureDraws"
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
    return [m.affine(1.0 / scale, -shift / scale) for m in inits]


def _to_data_units(diagnostics, scale, shift):
    """Map the diagnostics' reference fit from standardised to data units."""
    if diagnostics.reference_fit is not None:
        diagnostics.reference_fit = diagnostics.reference_fit.affine(scale, shift)
    return diagnostics


def _integrate_all(mixture, diagnostics, blocks, kl, integrate_kw):
    """Every requested integral over the draws and over the reference fit.

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
        if kl:
            px, py = mix.marginal(bx), mix.marginal(by)
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
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
