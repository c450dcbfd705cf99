"""The backend conformance suite, for authors of backends (and for gmmmi's own tests).

``check_backend(MyBackend())`` fits small seeded Gaussian data sets with the
backend and raises ``AssertionError``, with a message naming the broken rule,
unless the backend keeps the contract of `gmmmi.backends.Backend`:

* it has ``name``, ``options``, ``supports_init``, ``fit``, ``check`` and
  ``check_options``, and ``check_options`` fills in defaults and rejects an
  unknown option in gmmmi's one format (``Unknown option 'x'; valid options
  are ...``);
* ``fit`` returns ``(MixtureDraws, FitDiagnostics)``: valid mixtures (weights
  summing to 1, symmetric positive definite covariances) in standardised units,
  of the data's dimension, with the K asked for, and frozen diagnostics whose
  ``kind`` and ``sample_shape`` match the draws;
* all randomness comes from ``rng`` (the same seed gives the same draws, and a
  bootstrap or posterior changes with the seed), and ``X`` is not changed;
* ``check`` returns a list of messages and changes nothing;
* with ``supports_init``, ``fit(init=...)`` keeps the warm start's K;
* where the backend has the optional ``heldout_loglik``, it returns None or
  a finite held-out log-likelihood per row close to the Gaussian's, the same
  for the same seed, without changing ``X``, and a ``fit`` after it gives
  the draws of a fresh ``fit`` (a search kept for the fit is the one it runs);
* the MI of the draws agrees with the analytic MI of the data's Gaussian, and
  `gmmmi.estimate` runs with the backend on data in any units.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from typing import Any

import numpy as np

from .backends import Backend, get_backend
from .diagnostics import DrawKind, FitDiagnostics
from .mixture import MixtureDraws

__all__ = ["check_backend"]

#: correlation of the test data: MI = -log(1 - 0.6^2) / 2 = 0.2231 nat
_RHO = 0.6
_N = 300
_UNKNOWN = "gmmmi_no_such_option"


def check_backend(backend: str | Backend, *, options: dict | None = None) -> None:
    """Check that a backend keeps the contract of `gmmmi.backends.Backend`.

    Parameters
    ----------
    backend : str or Backend
        A registered name or a backend object.
    options : dict, optional
        Options passed to every ``fit`` (and to `gmmmi.estimate`), e.g. to
        keep the run small (``{"n_bootstrap": 20}``).

    Raises
    ------
    AssertionError
        At the first broken rule, with a message that names it.

    Examples
    --------
    >>> from gmmmi.testing import check_backend
    >>> check_backend("numba", options={"n_bootstrap": 10})
    """
    be = get_backend(backend) if isinstance(backend, str) else backend
    options = dict(options or {})
    _check_members(be)
    label = f"check_backend({be.name!r})"
    _check_option_checks(be, options, label)
    X = _gaussian_data(0, np.array([[1.0, _RHO], [_RHO, 1.0]]))
    draws, diag = _fit_checked(be, X, 0, options, label)
    _check_heldout_hook(be, X, options, label)
    _check_reproducible(be, X, draws, diag, options, label)
    _check_check_hook(be, diag, label)
    _check_mi(draws, diag, label)
    X3 = _gaussian_data(1, np.eye(3) + 0.3)
    _fit_checked(be, X3, 1, options, label)
    if be.supports_init:
        _check_init(be, X, draws, diag, options, label)
    _check_estimate(be, options, label)


def _gaussian_data(seed: int, cov: np.ndarray) -> np.ndarray:
    """``_N`` Gaussian rows, standardised per column as `gmmmi.estimate` passes them."""
    X = np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, _N)
    return np.ascontiguousarray((X - X.mean(0)) / X.std(0))


def _check_members(be: Any) -> None:
    missing = [
        m
        for m in ("name", "options", "supports_init", "fit", "check", "check_options")
        if not hasattr(be, m)
    ]
    assert not missing, (
        f"check_backend: {type(be).__name__} lacks {', '.join(missing)}; subclass "
        "gmmmi.backends.BaseBackend for the defaults of supports_init, check and check_options."
    )
    assert isinstance(be, Backend), f"check_backend: {type(be).__name__} is not a Backend."
    assert isinstance(be.name, str) and be.name, "check_backend: name must be a non-empty str."
    assert isinstance(be.options, dict), f"check_backend({be.name!r}): options must be a dict."
    assert isinstance(be.supports_init, bool), (
        f"check_backend({be.name!r}): supports_init must be True or False."
    )


def _check_option_checks(be, options: dict, label: str) -> None:
    filled = be.check_options(dict(options))
    assert isinstance(filled, dict) and set(be.options) <= set(filled), (
        f"{label}: check_options must return every option with its default filled in; "
        f"got {filled!r}."
    )
    try:
        be.check_options({**options, _UNKNOWN: 1})
    except TypeError as err:
        pattern = rf"^Unknown option '{_UNKNOWN}'.*; valid options are "
        assert re.match(pattern, str(err)), (
            f"{label}: an unknown option must be refused in gmmmi's format ('Unknown option "
            f"'name'; valid options are ...', as gmmmi.backends.BaseBackend.check_options "
            f"gives); got {str(err)!r}."
        )
    else:
        raise AssertionError(f"{label}: check_options accepted the unknown option {_UNKNOWN!r}.")


def _fit(be, X, seed, options, **kwargs):
    return be.fit(X, rng=np.random.default_rng(seed), progress=False, **kwargs, **options)


def _fit_checked(be, X, seed, options, label, **kwargs):
    """``fit`` with K = 1 (unless ``kwargs`` say otherwise), its output checked."""
    kwargs.setdefault("n_components", 1)
    before = X.copy()
    out = _fit(be, X, seed, options, **kwargs)
    assert np.array_equal(X, before), f"{label}: fit changed its input X."
    assert isinstance(out, tuple) and len(out) == 2, (
        f"{label}: fit must return (MixtureDraws, FitDiagnostics); got {type(out).__name__}."
    )
    draws, diag = out
    assert isinstance(draws, MixtureDraws), (
        f"{label}: fit's draws must be a gmmmi.MixtureDraws; got {type(draws).__name__}."
    )
    assert isinstance(diag, FitDiagnostics), (
        f"{label}: fit's diagnostics must be a (frozen) gmmmi.diagnostics.FitDiagnostics; got "
        f"{type(diag).__name__}."
    )
    assert dataclasses.is_dataclass(diag) and type(diag).__dataclass_params__.frozen, (
        f"{label}: the diagnostics must be frozen."
    )
    assert isinstance(diag.kind, DrawKind), f"{label}: diagnostics.kind must be a DrawKind."
    S, d = draws.n_draws, X.shape[1]
    assert diag.n_draws == S, (
        f"{label}: diagnostics.sample_shape {diag.sample_shape} holds {diag.n_draws} draws but "
        f"fit returned {S} mixtures; chains * draws must equal the number of mixtures."
    )
    _check_kind(diag, S, label)
    assert draws.n_dim == d, f"{label}: draws have dimension {draws.n_dim}, the data {d}."
    if kwargs["n_components"] is not None:
        K = kwargs["n_components"]
        assert diag.n_components == K and draws.n_components == K, (
            f"{label}: n_components={K} was asked for; got diagnostics.n_components="
            f"{diag.n_components} and draws with {draws.n_components} components."
        )
    for name in ("n_iter", "converged"):
        assert np.shape(getattr(diag, name)) == (S,), (
            f"{label}: diagnostics.{name} must have shape (S,) = ({S},); got "
            f"{np.shape(getattr(diag, name))}."
        )
    _check_mixtures(draws, label, "draws")
    if diag.reference_fit is not None:
        ref = diag.reference_fit
        assert isinstance(ref, MixtureDraws) and ref.n_draws == 1 and ref.n_dim == d, (
            f"{label}: diagnostics.reference_fit must be None or a MixtureDraws with S=1 and d={d}."
        )
        _check_mixtures(ref, label, "reference_fit")
    _check_standardised(draws, label)
    return draws, diag


def _check_kind(diag: FitDiagnostics, S: int, label: str) -> None:
    chains = diag.sample_shape[0]
    if diag.kind is DrawKind.SINGLE_FIT:
        assert S == 1, f"{label}: a SINGLE_FIT has S = 1 draw; got {S}."
    elif diag.kind is DrawKind.BOOTSTRAP:
        assert chains == 1 and S > 1, (
            f"{label}: a BOOTSTRAP has one chain of S > 1 replicas; got sample_shape "
            f"{diag.sample_shape}."
        )
        assert diag.reference_fit is not None, (
            f"{label}: a BOOTSTRAP needs the full-data reference_fit (the reported centre)."
        )
    else:
        assert S > 1, f"{label}: a POSTERIOR has S > 1 draws; got {S}."


def _check_mixtures(mix: MixtureDraws, label: str, what: str) -> None:
    w = mix.weights
    assert np.all(w >= 0) and np.allclose(w.sum(axis=1), 1.0, rtol=1e-8), (
        f"{label}: the {what}' weights must be non-negative and sum to 1."
    )
    assert np.isfinite(mix.means).all(), f"{label}: the {what}' means must be finite."
    cov = mix.covariances
    assert np.allclose(cov, np.swapaxes(cov, -1, -2)), (
        f"{label}: the {what}' covariances must be symmetric."
    )
    assert np.all(np.linalg.eigvalsh(cov[w > 0]) > 0), (
        f"{label}: the {what}' covariances must be positive definite."
    )


def _check_standardised(draws: MixtureDraws, label: str) -> None:
    """The mixtures' mean and variance per column near those of the data: 0 and 1."""
    w = draws.weights[..., None]
    mean = (w * draws.means).sum(axis=1)
    var = (w * (np.diagonal(draws.covariances, axis1=2, axis2=3) + draws.means**2)).sum(axis=1)
    var -= mean**2
    assert np.all(np.abs(mean.mean(axis=0)) < 0.25) and np.all(
        (var.mean(axis=0) > 0.6) & (var.mean(axis=0) < 1.6)
    ), (
        f"{label}: the draws must be in the standardised units of X (mean 0, variance 1 per "
        f"column); their mixtures have mean {mean.mean(axis=0)} and variance "
        f"{var.mean(axis=0)}. gmmmi.estimate maps them back to data units itself."
    )


def _same_draws(a: MixtureDraws, b: MixtureDraws) -> bool:
    return all(
        x.shape == y.shape and np.array_equal(x, y)
        for x, y in zip(
            (a.weights, a.means, a.covariances), (b.weights, b.means, b.covariances), strict=True
        )
    )


def _check_heldout_hook(be, X, options, label) -> None:
    """The optional ``heldout_loglik``: None, or a reproducible score near the truth."""
    hook = getattr(be, "heldout_loglik", None)
    if hook is None:
        return
    before = X.copy()
    scores = [hook(X, n_components=1, rng=np.random.default_rng(0), **options) for _ in range(2)]
    assert np.array_equal(X, before), f"{label}: heldout_loglik changed its input X."
    if scores[0] is None:
        assert scores[1] is None, f"{label}: heldout_loglik gave None, then {scores[1]!r}."
        return
    assert all(isinstance(s, (float, np.floating)) and math.isfinite(s) for s in scores), (
        f"{label}: heldout_loglik must return None or a finite float; got {scores!r}."
    )
    assert scores[0] == scores[1], (
        f"{label}: heldout_loglik gave {scores[0]!r}, then {scores[1]!r} for the same seed; all "
        "randomness must come from rng."
    )
    # a standardised Gaussian with correlation rho: E log p = -log(2 pi) - log(1 - rho^2) / 2 - 1
    truth = -math.log(2 * math.pi) - 0.5 * math.log(1 - _RHO**2) - 1.0
    assert abs(scores[0] - truth) < 0.3, (
        f"{label}: heldout_loglik gave {scores[0]:.4f} nat per row for standardised Gaussian data "
        f"whose log-likelihood per row is {truth:.4f} (tolerance 0.3, about 5 sd at n={_N}): "
        "it must be a mean per row, in the units of the standardised X."
    )


def _check_reproducible(be, X, draws, diag, options, label) -> None:
    again, _ = _fit(be, X, 0, options, n_components=1)  # after heldout_loglik, if it has one
    assert _same_draws(draws, again), (
        f"{label}: the same seed gave different draws; all randomness must come from rng, and "
        "a search that heldout_loglik keeps for the fit must be the one the fit would run."
    )
    if diag.kind is not DrawKind.SINGLE_FIT:
        other, _ = _fit(be, X, 12345, options, n_components=1)
        assert not _same_draws(draws, other), (
            f"{label}: another seed gave the same {diag.kind.name} draws; the draws must come "
            "from rng."
        )


def _check_check_hook(be, diag, label) -> None:
    before = copy.deepcopy(dataclasses.asdict(diag))
    messages = be.check(diag)
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages), (
        f"{label}: check must return a list of str; got {messages!r}."
    )
    after = dataclasses.asdict(diag)
    assert _equal(before, after), f"{label}: check changed the diagnostics it was given."


def _equal(a, b) -> bool:
    """Deep equality of nested dicts, lists and arrays (NaN equal to NaN)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(
            np.asarray(a), np.asarray(b), equal_nan=np.asarray(a).dtype.kind == "f"
        )
    if hasattr(a, "identical"):  # an xarray object
        return a.identical(b)
    if hasattr(a, "equals") and hasattr(a, "columns"):  # a pandas DataFrame (a fit check's table)
        return type(a) is type(b) and a.equals(b)
    if isinstance(a, MixtureDraws):
        return isinstance(b, MixtureDraws) and _same_draws(a, b)
    try:
        return bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        return a is b


def _check_mi(draws: MixtureDraws, diag: FitDiagnostics, label: str) -> None:
    from .integrate import mutual_information

    truth = -0.5 * math.log(1 - _RHO**2)
    mi = mutual_information(draws, [0], [1]).values
    assert np.all(np.isfinite(mi)), f"{label}: the MI of some draws is not finite."
    if diag.reference_fit is not None:
        centre = float(mutual_information(diag.reference_fit, [0], [1]).values[0])
    else:
        centre = float(mi.mean())
    tolerance = 4 * float(mi.std(ddof=1)) if mi.size > 1 else 0.1
    assert abs(centre - truth) < max(tolerance, 0.02), (
        f"{label}: MI of a Gaussian with correlation {_RHO} is {truth:.4f} nat; the fit gives "
        f"{centre:.4f} (tolerance {tolerance:.4f})."
    )


def _check_init(be, X, draws, diag, options, label) -> None:
    init = diag.reference_fit if diag.reference_fit is not None else draws.select(0)
    _, warm = _fit_checked(be, X, 2, options, label, n_components=None, init=init)
    assert warm.n_components == init.n_components, (
        f"{label}: fit(init=...) must keep the warm start's K = {init.n_components}; got "
        f"{warm.n_components}."
    )


def _check_estimate(be, options, label) -> None:
    from .api import estimate

    rng = np.random.default_rng(3)
    X = rng.multivariate_normal([5.0, -2.0], [[4.0, 0.6 * 6.0], [0.6 * 6.0, 9.0]], _N)
    result = estimate(X, backend=be, random_state=0, progress=False, **options)
    assert np.isfinite(result.value), f"{label}: gmmmi.estimate gave MI = {result.value}."
    assert result.diagnostics.sample_shape == result.draws["mi"].shape, (
        f"{label}: gmmmi.estimate's draws do not have the backend's sample_shape."
    )
