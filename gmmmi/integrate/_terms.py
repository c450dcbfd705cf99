"""The signed sum of terms ``E_p[log q]`` per draw: closed forms first, then one method.

Every quantity of `gmmmi.integrate` is such a sum; `integrate_groups` takes the terms
grouped by the mixture p they are taken over, uses the closed form wherever q is one
Gaussian, and hands the rest to the quadrature (with QMC where it cannot vouch for its
error), to QMC or to Monte Carlo.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gmmmi._stacklevel import user_stacklevel
from gmmmi.exceptions import IntegrationWarning
from gmmmi.mixture import MixtureDraws

from . import rules
from ._closed_form import closed_form
from ._mc import mc_group
from ._qmc import qmc_integrate
from ._quadrature import quad_term, unresolved


@dataclass(frozen=True)
class IntegralResult:
    """One integral per mixture draw.

    Attributes
    ----------
    values : numpy.ndarray, shape (S,)
        The integral of every draw, in nats.
    errors : numpy.ndarray, shape (S,)
        The integral's own numerical error per draw, in nats: a bound for
        ``"quad"`` and ``"qmc"``, one standard error for ``"mc"``, 0 where
        the closed form was used.
    method : str
        ``"quad"``, ``"qmc"``, ``"quad+qmc"`` (some draws fell back to QMC)
        or ``"mc"``: what was used.
    """

    values: np.ndarray
    errors: np.ndarray
    method: str


@dataclass(frozen=True)
class Group:
    """Terms ``scale * coef * E_p[log q(x[idx])]`` sharing the sampling mixture p.

    ``scale`` has shape (S,) (class weights for categorical MI, else ones);
    ``terms`` is a list of ``(coef, idx, q)`` with q over the coordinates idx of p.
    """

    p: MixtureDraws
    scale: np.ndarray
    terms: list


def _warn(message: str) -> None:
    """An `IntegrationWarning` pointing at the first caller outside gmmmi."""
    warnings.warn(message, IntegrationWarning, stacklevel=user_stacklevel())


def integrate_groups(groups: list[Group], method: str, mc_samples: int, rng) -> IntegralResult:
    """The signed sum of every group's terms, per draw, by `method`."""
    S = groups[0].p.n_draws
    exact = [[closed_form(g.p.marginal(idx), q) for _, idx, q in g.terms] for g in groups]
    all_exact = np.all([e[0] for ge in exact for e in ge], axis=0)
    values = np.zeros(S)
    for g, group in zip(exact, groups, strict=True):
        for (coef, _, _), (ok, val) in zip(group.terms, g, strict=True):
            values += np.where(all_exact, group.scale * coef * np.where(ok, val, 0.0), 0.0)
    errors = np.zeros(S)
    rest = np.flatnonzero(~all_exact)
    if method == "mc":
        seeds = rng.integers(0, 2**63, size=(len(groups), S))
        var = np.zeros(S)
        for group, group_seeds in zip(groups, seeds, strict=True):
            if rest.size:
                mean, sem = mc_group(group, rest, group_seeds[rest], mc_samples)
                values[rest] += group.scale[rest] * mean
                var[rest] += (group.scale[rest] * sem) ** 2
        return IntegralResult(values, np.sqrt(var), "mc")

    dim = max(group.p.n_dim for group in groups)
    if method == "qmc" or dim > rules.QUAD_MAX_DIM:
        values[rest], errors[rest] = qmc_integrate(groups, rest, exact)
        used = "qmc"
    else:
        fallback = np.zeros(S, dtype=bool)
        for g, group in zip(exact, groups, strict=True):
            for (coef, idx, q), (ok, val) in zip(group.terms, g, strict=True):
                numeric = np.flatnonzero(~ok)
                term = np.where(ok, val, 0.0)
                err = np.zeros(S)
                if numeric.size:
                    p_sub, q_sub = group.p.marginal(idx).select(numeric), q.select(numeric)
                    term[numeric], err[numeric] = quad_term(p_sub, q_sub)
                    fallback[numeric] |= unresolved(p_sub, q_sub)
                values += np.where(all_exact, 0.0, group.scale * coef * term)
                errors += np.abs(group.scale * coef) * err
        fallback = (fallback | (errors > rules.TOLERANCE)) & ~all_exact
        used = "quad"
        if fallback.any():
            redo = np.flatnonzero(fallback)
            q_values, q_errors = qmc_integrate(groups, redo, exact)
            better = q_errors < errors[redo]
            values[redo[better]], errors[redo[better]] = q_values[better], q_errors[better]
            used = "quad+qmc" if better.any() else "quad"
    large = errors > rules.TOLERANCE
    if large.any():
        _warn(
            f"The numerical error of the integral is above {rules.TOLERANCE:g} nat in "
            f"{large.sum()} of {S} mixture draws (largest {errors.max():.2g} nat, method "
            f"{used!r}), even after refinement. The mixture has components of very "
            "different scales; the reported integration_error bounds the error."
        )
    return IntegralResult(values, errors, used)
