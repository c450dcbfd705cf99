"""Integrals of fitted mixtures: MI, conditional MI, KL divergence and MI with a class label.

Every function takes `~gmmmi.MixtureDraws` (S mixtures) and returns one value per
draw, in nats, with the integral's own numerical error per draw. Each
quantity is a signed sum of terms ``E_p[log q(x_idx)]``:

* ``I(x; y)     = E[log p(x, y)] - E[log p(x)] - E[log p(y)]``
* ``I(x; y | z) = E[log p(x, y, z)] + E[log p(z)] - E[log p(x, z)] - E[log p(y, z)]``
* ``KL[p || q]  = E_p[log p] - E_p[log q]``
* ``I(x; c)     = sum_c pi_c E_{p_c}[log p_c] - E_{p}[log p]``, ``p = sum_c pi_c p_c``

Closed forms
------------
Whenever the mixture q of a term is one Gaussian in a draw (K = 1, or all its
non-empty components identical), ``E_p[log q]`` is computed in closed form,
whatever p is, by every method. With ``"mc"``, a draw whose terms are all in
closed form is exact (error 0); its Monte Carlo points are not drawn.

Methods
-------
``"quad"`` (default)
    Deterministic; the best rule for the dimension. Up to `rules.QUAD_MAX_DIM`
    total dimensions: every term is integrated per component of the mixture
    it is taken over, in that component's whitened coordinates
    ``x = mu_k + L_k z``, with a product trapezoidal rule of step ``h`` for
    the standard normal, truncated to the ball ``|z|^2 <= 2 tau`` and with
    weights corrected so the rule is exact for every quadratic in ``z``.
    The trapezoidal rule converges exponentially in ``1/h`` for these
    integrands; Gauss-Hermite rules of the same size were measured to be
    10-1000 times less accurate on the paper's mixtures. The error is the
    difference from the nested rule of step ``2 h`` on the same function
    values, plus the difference from the rule truncated to a smaller ball
    (the truncation error). That estimate is not a bound when a component of q is narrower
    than about a grid step in the whitened coordinates of a component of p
    (both rules then miss or hit its peak alike), so such draws, and draws
    whose error exceeds `rules.TOLERANCE`, are integrated by ``"qmc"`` instead (the
    result's method is then ``"quad+qmc"``). Above `rules.QUAD_MAX_DIM` dimensions
    ``"quad"`` is ``"qmc"``.
``"qmc"``
    Randomised quasi-Monte Carlo, for any dimension: per component of p,
    `rules.QMC_SCRAMBLES` independently scrambled Sobol sets (fixed seeds, so the
    rule is deterministic) mapped to ``x = mu_k + L_k z``. Only the excess of
    ``log q`` over its largest single-component term ``log w_j N_j`` (a
    lower bound whose mean is known in closed form) is integrated, which
    removes most of the variance. The error is `rules.QMC_ERROR_FACTOR` standard
    errors of the mean over the scrambles; draws whose error exceeds
    `rules.TOLERANCE` are recomputed with more points, up to ``2**14`` per scramble.
``"mc"`` (the original's ``"MC"``)
    Monte Carlo with ``mc_samples`` points per draw sampled from the draw's
    mixture inside a compiled kernel, from a seed per draw taken from ``rng``
    (independent points for every draw; results independent of the number
    of threads; memory independent of ``mc_samples``). The error is the
    standard error of the mean (one standard deviation, not a bound).

The errors of ``"quad"`` and ``"qmc"`` are meant as bounds: on a randomised
set of mixtures (tests/integrate/test_integrate.py) the true error is below them in
more than 99 % of cases. An `~gmmmi.IntegrationWarning` is raised when one of them is
still above `rules.TOLERANCE` after refinement.

The package
-----------
The functions below check their arguments and write each quantity as its terms;
``_terms`` sums them, closed forms first (``_closed_form``), then by one method:
``_quadrature``, ``_qmc`` or ``_mc``. Every number the rules use is in `rules`.
"""

from __future__ import annotations

import numpy as np

from gmmmi._checks import check_int
from gmmmi.mixture import MixtureDraws

from . import rules  # noqa: F401  (gmmmi.integrate.rules: the rules' numbers, documented)
from ._qmc import qmc_nodes
from ._quadrature import quad_rule
from ._terms import Group, IntegralResult, integrate_groups
from .rules import METHODS, QMC_ERROR_FACTOR, QMC_SCRAMBLES, QUAD_MAX_DIM, TOLERANCE

__all__ = [
    "IntegralResult",
    "mutual_information",
    "conditional_mi",
    "kl_divergence",
    "class_mi",
    "expected_log_densities",
    "quad_rule",
    "qmc_nodes",
    "METHODS",
    "QUAD_MAX_DIM",
    "TOLERANCE",
    "QMC_SCRAMBLES",
    "QMC_ERROR_FACTOR",
]


# ----------------------------------------------------------------- options
def _check_method(method) -> str:
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(
            f"Unknown integral method {method!r}; valid values are 'quad', 'qmc', 'mc' (or 'MC')."
        )
    return method.lower()


def _resolve(method, mc_samples, rng) -> tuple[str, int]:
    """Validate the options."""
    method = _check_method(method)
    mc_samples = check_int("mc_samples", mc_samples, minimum=1)
    if method == "mc" and not isinstance(rng, np.random.Generator):
        raise TypeError(
            "Monte Carlo integration needs a numpy.random.Generator as rng; got "
            f"{type(rng).__name__}. Pass rng=np.random.default_rng(seed)."
        )
    return method, mc_samples


def _check_indices(name: str, idx, d: int) -> list[int]:
    idx = [int(i) for i in np.atleast_1d(idx)]
    if not idx or min(idx) < 0 or max(idx) >= d or len(set(idx)) != len(idx):
        raise ValueError(f"{name} must be distinct coordinate indices in [0, {d}); got {idx}.")
    return idx


def _check_disjoint(**blocks) -> None:
    seen: dict[int, str] = {}
    for name, idx in blocks.items():
        for i in idx:
            if i in seen:
                raise ValueError(
                    f"Coordinate {i} is in both {seen[i]} and {name}; the blocks must be disjoint."
                )
            seen[i] = name


# ------------------------------------------------------------ public API
def mutual_information(
    draws: MixtureDraws, x_idx, y_idx, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """I(x; y) of every mixture draw, in nats.

    Parameters
    ----------
    draws : MixtureDraws
        S mixtures over d dimensions.
    x_idx, y_idx : int or sequence of int
        Disjoint coordinate blocks of x and y.
    method : {"quad", "qmc", "mc", "MC"}, default "quad"
        Integration method (case-insensitive); see the module docstring.
    mc_samples : int, default 100_000
        Monte Carlo points per draw (``1e5`` accepted).
    rng : numpy.random.Generator, optional
        Required for ``"mc"``.

    Returns
    -------
    IntegralResult
    """
    x_idx = _check_indices("x_idx", x_idx, draws.n_dim)
    y_idx = _check_indices("y_idx", y_idx, draws.n_dim)
    _check_disjoint(x_idx=x_idx, y_idx=y_idx)
    method, mc_samples = _resolve(method, mc_samples, rng)
    joint = draws.marginal(x_idx + y_idx)
    ix, iy = list(range(len(x_idx))), list(range(len(x_idx), joint.n_dim))
    terms = [(1.0, ix + iy, joint), (-1.0, ix, joint.marginal(ix)), (-1.0, iy, joint.marginal(iy))]
    return integrate_groups([Group(joint, np.ones(joint.n_draws), terms)], method, mc_samples, rng)


def conditional_mi(
    draws: MixtureDraws, x_idx, y_idx, z_idx, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """I(x; y | z) of every mixture draw, in nats.

    Parameters
    ----------
    draws : MixtureDraws
    x_idx, y_idx, z_idx : int or sequence of int
        Disjoint coordinate blocks.
    method, mc_samples, rng
        As in `mutual_information`.

    Returns
    -------
    IntegralResult
    """
    d = draws.n_dim
    x_idx, y_idx, z_idx = (
        _check_indices(n, i, d) for n, i in (("x_idx", x_idx), ("y_idx", y_idx), ("z_idx", z_idx))
    )
    _check_disjoint(x_idx=x_idx, y_idx=y_idx, z_idx=z_idx)
    method, mc_samples = _resolve(method, mc_samples, rng)
    joint = draws.marginal(x_idx + y_idx + z_idx)
    dx, dy = len(x_idx), len(y_idx)
    ix = list(range(dx))
    iy = list(range(dx, dx + dy))
    iz = list(range(dx + dy, joint.n_dim))
    blocks = [(1.0, ix + iy + iz), (1.0, iz), (-1.0, ix + iz), (-1.0, iy + iz)]
    terms = [(c, b, joint.marginal(b)) for c, b in blocks]
    return integrate_groups([Group(joint, np.ones(joint.n_draws), terms)], method, mc_samples, rng)


def kl_divergence(
    p: MixtureDraws, q: MixtureDraws, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """KL[p || q] draw by draw, in nats.

    Parameters
    ----------
    p, q : MixtureDraws
        The same number of draws S and dimension d (K may differ).
    method, mc_samples, rng
        As in `mutual_information`.

    Returns
    -------
    IntegralResult
    """
    if p.n_draws != q.n_draws or p.n_dim != q.n_dim:
        raise ValueError(
            "p and q must have the same number of draws and dimension; got "
            f"S={p.n_draws}, d={p.n_dim} and S={q.n_draws}, d={q.n_dim}."
        )
    method, mc_samples = _resolve(method, mc_samples, rng)
    idx = list(range(p.n_dim))
    group = Group(p, np.ones(p.n_draws), [(1.0, idx, p), (-1.0, idx, q)])
    return integrate_groups([group], method, mc_samples, rng)


def class_mi(
    class_mixtures, class_weights, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """I(x; c) between a continuous x and a class label c, per draw, in nats.

    The integral behind the estimand `gmmmi.categorical_mi`, which fits the
    class mixtures and calls this.

    ``I = sum_c pi_c E_{p(x|c)}[log p(x|c) - log sum_c' pi_c' p(x|c')]``.

    Parameters
    ----------
    class_mixtures : list of MixtureDraws
        p(x | c) for every class c; each with S draws and the same d (K may differ).
    class_weights : array_like, shape (S, C)
        Class probabilities pi_c per draw; rows sum to 1.
    method, mc_samples, rng
        As in `mutual_information`; MC draws ``mc_samples`` points per class and draw.

    Returns
    -------
    IntegralResult
    """
    mixtures = list(class_mixtures)
    pi = _check_class_weights(mixtures, class_weights)
    method, mc_samples = _resolve(method, mc_samples, rng)
    pooled = MixtureDraws.pool(mixtures, pi)
    idx = list(range(pooled.n_dim))
    groups = [
        Group(pc, pi[:, c], [(1.0, idx, pc), (-1.0, idx, pooled)]) for c, pc in enumerate(mixtures)
    ]
    return integrate_groups(groups, method, mc_samples, rng)


def _check_class_weights(mixtures, class_weights) -> np.ndarray:
    if not mixtures:
        raise ValueError("class_mixtures must hold at least one MixtureDraws; got none.")
    S, d = mixtures[0].n_draws, mixtures[0].n_dim
    for c, m in enumerate(mixtures):
        if m.n_draws != S or m.n_dim != d:
            raise ValueError(
                f"Every class mixture must have S={S} draws and d={d}; class {c} has "
                f"S={m.n_draws}, d={m.n_dim}."
            )
    pi = np.asarray(class_weights, dtype=np.float64)
    if pi.shape != (S, len(mixtures)):
        raise ValueError(
            f"class_weights must have shape (S, C) = ({S}, {len(mixtures)}); got {pi.shape}."
        )
    if np.any(pi < 0) or not np.allclose(pi.sum(axis=1), 1.0):
        raise ValueError("class_weights must be non-negative with rows summing to 1.")
    return pi


def expected_log_densities(
    cell_mixtures, cell_weights, cell_terms, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """``sum_s w_s sum_t coef_t E_{p_s}[log q_st(x[idx_t])]`` per draw, in nats.

    The continuous part of the chain rule over the cells of discrete columns
    (`gmmmi.mixed`): cell s has the mixture p_s of its continuous columns and
    the weight w_s; each of its terms integrates the log-density of a mixture
    q over some of p_s's coordinates.

    Parameters
    ----------
    cell_mixtures : list of MixtureDraws
        p_s for every cell, each with S draws (d may differ between cells).
    cell_weights : array_like, shape (S, C)
        w_s per draw.
    cell_terms : list of list of (float, list of int, MixtureDraws)
        ``(coef, idx, q)`` per cell; q has S draws over the coordinates idx
        of p_s. A cell without terms adds nothing.
    method, mc_samples, rng
        As in `mutual_information`.

    Returns
    -------
    IntegralResult
    """
    w = np.asarray(cell_weights, dtype=np.float64)
    method, mc_samples = _resolve(method, mc_samples, rng)
    groups = [
        Group(p, w[:, s], terms)
        for s, (p, terms) in enumerate(zip(cell_mixtures, cell_terms, strict=True))
        if terms
    ]
    if not groups:
        return IntegralResult(np.zeros(w.shape[0]), np.zeros(w.shape[0]), "none")
    return integrate_groups(groups, method, mc_samples, rng)


def __getattr__(name):
    if name == "categorical_mi":
        raise AttributeError(
            "gmmmi.integrate.categorical_mi was renamed gmmmi.integrate.class_mi (the integral); "
            "gmmmi.categorical_mi is the estimand that fits the data and calls it."
        )
    raise AttributeError(f"module 'gmmmi.integrate' has no attribute {name!r}")
