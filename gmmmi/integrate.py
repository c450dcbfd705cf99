"""Integrals of fitted mixtures: MI, conditional MI, KL divergence and categorical MI.

Every function takes `~gmmmi.MixtureDraws` (S mixtures) and returns one value per
draw, in nats, with the integral's own numerical error per draw. Each
quantity is a signed sum of terms ``E_p[log q(x_idx)]``:

* ``I(x; y)     = E[log p(x, y)] - E[log p(x)] - E[log p(y)]``
* ``I(x; y | z) = E[log p(x, y, z)] + E[log p(z)] - E[log p(x, z)] - E[log p(y, z)]``
* ``KL[p || q]  = E_p[log p] - E_p[log q]``
* ``I(x; c)     = sum_c pi_c E_{p_c}[log p_c] - E_{p}[log p]``, ``p = sum_c pi_c p_c``

Methods
-------
``"quad"`` (default)
    Deterministic. Every term is integrated per component of the mixture it
    is taken over, in that component's whitened coordinates
    ``x = mu_k + L_k z``, with a product trapezoidal rule of step ``h`` for
    the standard normal, truncated to the ball ``|z|^2 <= 2 tau`` and with
    weights corrected so the rule is exact for every quadratic in ``z``
    (hence exact for a single Gaussian). The trapezoidal rule converges
    exponentially in ``1/h`` for these integrands; Gauss-Hermite rules of the
    same size were measured to be 10-1000 times less accurate on the paper's
    mixtures, because ``log q`` has sharp (but smooth) transitions between
    components. The error is the difference from the nested rule of step
    ``2 h`` on the same function values, a conservative bound (typically
    100-1000 times the actual error). Used up to `QUAD_MAX_DIM` dimensions;
    above that it falls back to ``"mc"`` with an `~gmmmi.IntegrationWarning`.
``"mc"`` (the original's ``"MC"``)
    Monte Carlo with ``mc_samples`` points per draw sampled from the draw's
    mixture with fresh random numbers from ``rng`` (independent noise across
    draws). The error is the standard error of the mean.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ._kernels.em import threads_for
from ._kernels.integrands import mc_add_logpdf, mc_points, quad_cross_entropy
from ._validation import check_int
from .exceptions import IntegrationWarning
from .mixture import MixtureDraws

METHODS = ("quad", "mc")

#: Largest total dimension integrated by quadrature; above it "quad" falls back to "mc".
QUAD_MAX_DIM = 6

#: Trapezoidal rule per dimension d: (step h, truncation tau with |z|^2 <= 2 tau).
#: Chosen by measuring against high-precision references (see tests/test_integrate.py).
_QUAD_RULES = {
    1: (0.1, 22.0),
    2: (0.22, 20.0),
    3: (0.45, 14.0),
    4: (0.7, 11.0),
    5: (1.0, 9.0),
    6: (1.2, 8.0),
}

#: Cap on the doubles held by the Monte Carlo points of one chunk of draws.
_MC_CHUNK_DOUBLES = 1 << 22


@dataclass(frozen=True)
class IntegralResult:
    """One integral per mixture draw.

    Attributes
    ----------
    values : ndarray, shape (S,)
        The integral of every draw, in nats.
    errors : ndarray, shape (S,)
        The integral's own numerical error per draw, in nats: the Monte Carlo
        standard error, or the quadrature error estimate.
    method : str
        ``"mc"`` or ``"quad"``: what was used, after any fallback.
    """

    values: np.ndarray
    errors: np.ndarray
    method: str


# ----------------------------------------------------------------- options
def _check_method(method) -> str:
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(
            f"Unknown integral method {method!r}; valid values are 'quad', 'mc' (or 'MC')."
        )
    return method.lower()


def _resolve(method, dim: int, mc_samples, rng) -> tuple[str, int]:
    """Validate the options; fall back to MC above `QUAD_MAX_DIM` with a warning."""
    method = _check_method(method)
    mc_samples = check_int("mc_samples", mc_samples, minimum=1)
    if method == "quad" and dim > QUAD_MAX_DIM:
        warnings.warn(
            f"Quadrature is available up to {QUAD_MAX_DIM} dimensions; this integral has "
            f"{dim}. Falling back to Monte Carlo with {mc_samples} samples per draw.",
            IntegrationWarning,
            stacklevel=3,
        )
        method = "mc"
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


# -------------------------------------------------------------- quadrature
@functools.cache
def quad_rule(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and weights of the quadrature rule for the d-dimensional standard normal.

    Parameters
    ----------
    d : int
        Dimension, 1 to `QUAD_MAX_DIM`.

    Returns
    -------
    nodes : ndarray, shape (n, d)
        Points ``h * i`` (i integer vectors) with ``|z|^2 <= 2 tau``.
    w_hi : ndarray, shape (n,)
        Weights of the step-``h`` rule; exact for polynomials of degree <= 2.
    w_lo : ndarray, shape (n,)
        Weights of the nested step-``2 h`` rule (zero off its nodes); also
        exact for degree <= 2.
    """
    h, tau = _QUAD_RULES[d]
    radius = np.sqrt(2.0 * tau)
    ticks = np.arange(-int(radius / h), int(radius / h) + 1)
    grid = np.zeros((1, 0), dtype=np.int64)
    for _ in range(d):  # grow the grid one axis at a time, pruning to the ball
        grid = np.concatenate(
            [np.repeat(grid, ticks.size, axis=0), np.tile(ticks, grid.shape[0])[:, None]], axis=1
        )
        grid = grid[((grid * h) ** 2).sum(axis=1) <= 2.0 * tau]
    nodes = np.ascontiguousarray(grid * h, dtype=np.float64)
    r2 = (nodes**2).sum(axis=1)
    w_hi = _exact_for_quadratics(np.exp(-0.5 * r2), r2, d)
    coarse = np.all(grid % 2 == 0, axis=1)
    w_lo = np.zeros_like(w_hi)
    w_lo[coarse] = _exact_for_quadratics(np.exp(-0.5 * r2[coarse]), r2[coarse], d)
    for a in (nodes, w_hi, w_lo):
        a.setflags(write=False)
    return nodes, w_hi, w_lo


def _exact_for_quadratics(w: np.ndarray, r2: np.ndarray, d: int) -> np.ndarray:
    """Weights ``w (a + b r2)`` with sum 1 and sum of ``r2`` equal to d.

    On a grid symmetric under sign flips and coordinate permutations, this
    makes the rule exact for every polynomial of degree <= 2 under N(0, I_d).
    """
    m0, m2, m4 = w.sum(), w @ r2, w @ r2**2
    a, b = np.linalg.solve([[m0, m2], [m2, m4]], [1.0, float(d)])
    return w * (a + b * r2)


def _quad_term(p: MixtureDraws, q: MixtureDraws) -> tuple[np.ndarray, np.ndarray]:
    """E_p[log q] per draw by the chosen rule and the nested lower-order rule."""
    nodes, w_hi, w_lo = quad_rule(p.n_dim)
    with threads_for(p.n_draws * p.n_components * q.n_components * nodes.shape[0]):
        return quad_cross_entropy(
            p.log_weights(),
            p.means,
            p.cholesky(),
            q.log_weights(),
            q.means,
            q.cholesky(),
            nodes,
            w_hi,
            w_lo,
        )


def _quad_sum(terms) -> IntegralResult:
    """Signed sum of quadrature terms ``(coef, p, q)`` -> E_p[log q]."""
    hi = lo = 0.0
    for coef, p, q in terms:
        t_hi, t_lo = _quad_term(p, q)
        hi = hi + coef * t_hi
        lo = lo + coef * t_lo
    return IntegralResult(np.asarray(hi), np.abs(hi - lo), "quad")


# ------------------------------------------------------------- Monte Carlo
def _mc_integrand(p: MixtureDraws, terms, mc_samples: int, rng) -> np.ndarray:
    """Mean and standard error per draw of a signed sum of log-densities at points of p.

    Parameters
    ----------
    p : MixtureDraws
        The mixtures the points are drawn from (S draws, d dims).
    terms : list of (coef, idx, q)
        ``coef * log q(x[idx])`` is added per point; q has S draws and len(idx) dims.
    mc_samples : int
    rng : numpy.random.Generator
        Per draw, in order: ``mc_samples`` uniforms, then ``mc_samples * d`` normals.

    Returns
    -------
    mean, sem : ndarray, shape (S,)
    """
    S, d = p.n_draws, p.n_dim
    chols = p.cholesky()
    prepared = [
        (float(c), np.asarray(idx, dtype=np.int64), q.log_weights(), q.means, q.cholesky())
        for c, idx, q in terms
    ]
    chunk = max(1, min(S, _MC_CHUNK_DOUBLES // (mc_samples * (d + 2))))
    mean = np.empty(S)
    sem = np.empty(S)
    for start in range(0, S, chunk):
        sl = slice(start, min(S, start + chunk))
        n = sl.stop - sl.start
        u = np.empty((n, mc_samples))
        z = np.empty((n, mc_samples, d))
        for i in range(n):  # draw by draw, so results do not depend on the chunk size
            u[i] = rng.random(mc_samples)
            z[i] = rng.standard_normal((mc_samples, d))
        work = n * mc_samples * sum(t[2].shape[1] for t in prepared)
        with threads_for(work):
            X = mc_points(u, z, p.weights[sl], p.means[sl], chols[sl])
            f = np.zeros((n, mc_samples))
            for c, idx, lw, m, ch in prepared:
                mc_add_logpdf(X, idx, c, lw[sl], m[sl], ch[sl], f)
        mean[sl] = f.mean(axis=1)
        sem[sl] = f.std(axis=1, ddof=1) / np.sqrt(mc_samples) if mc_samples > 1 else np.inf
    return mean, sem


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
    method : {"quad", "mc", "MC"}, default "quad"
        Integration method (case-insensitive); see the module docstring.
    mc_samples : int, default 100_000
        Monte Carlo points per draw (``1e5`` accepted).
    rng : numpy.random.Generator, optional
        Required for ``"mc"`` (and for a fallback from ``"quad"`` above
        `QUAD_MAX_DIM` dimensions).

    Returns
    -------
    IntegralResult
    """
    x_idx = _check_indices("x_idx", x_idx, draws.n_dim)
    y_idx = _check_indices("y_idx", y_idx, draws.n_dim)
    _check_disjoint(x_idx=x_idx, y_idx=y_idx)
    joint = draws.marginal(x_idx + y_idx)
    method, mc_samples = _resolve(method, joint.n_dim, mc_samples, rng)
    px, py = draws.marginal(x_idx), draws.marginal(y_idx)
    if method == "quad":
        return _quad_sum([(1.0, joint, joint), (-1.0, px, px), (-1.0, py, py)])
    dx = len(x_idx)
    ix, iy = np.arange(dx), np.arange(dx, joint.n_dim)
    terms = [(1.0, np.arange(joint.n_dim), joint), (-1.0, ix, px), (-1.0, iy, py)]
    return IntegralResult(*_mc_integrand(joint, terms, mc_samples, rng), "mc")


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
    joint = draws.marginal(x_idx + y_idx + z_idx)
    method, mc_samples = _resolve(method, joint.n_dim, mc_samples, rng)
    dx, dy = len(x_idx), len(y_idx)
    ix = list(range(dx))
    iy = list(range(dx, dx + dy))
    iz = list(range(dx + dy, joint.n_dim))
    blocks = [(1.0, ix + iy + iz), (1.0, iz), (-1.0, ix + iz), (-1.0, iy + iz)]
    if method == "quad":
        return _quad_sum([(c, joint.marginal(b), joint.marginal(b)) for c, b in blocks])
    terms = [(c, np.array(b), joint.marginal(b)) for c, b in blocks]
    return IntegralResult(*_mc_integrand(joint, terms, mc_samples, rng), "mc")


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
    method, mc_samples = _resolve(method, p.n_dim, mc_samples, rng)
    if method == "quad":
        return _quad_sum([(1.0, p, p), (-1.0, p, q)])
    idx = np.arange(p.n_dim)
    terms = [(1.0, idx, p), (-1.0, idx, q)]
    return IntegralResult(*_mc_integrand(p, terms, mc_samples, rng), "mc")


def categorical_mi(
    class_mixtures, class_weights, *, method="quad", mc_samples=100_000, rng=None
) -> IntegralResult:
    """I(x; c) between a continuous x and a class label c, per draw, in nats.

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
    method, mc_samples = _resolve(method, mixtures[0].n_dim, mc_samples, rng)
    pooled = _pool(mixtures, pi)
    if method == "quad":
        terms = []
        for c, pc in enumerate(mixtures):
            terms += [(pi[:, c], pc, pc), (-pi[:, c], pc, pooled)]
        return _quad_sum(terms)
    idx = np.arange(pooled.n_dim)
    value = np.zeros(pooled.n_draws)
    var = np.zeros(pooled.n_draws)
    for c, pc in enumerate(mixtures):
        mean, sem = _mc_integrand(pc, [(1.0, idx, pc), (-1.0, idx, pooled)], mc_samples, rng)
        value += pi[:, c] * mean
        var += (pi[:, c] * sem) ** 2
    return IntegralResult(value, np.sqrt(var), "mc")


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


def _pool(mixtures, pi: np.ndarray) -> MixtureDraws:
    """The mixture sum_c pi_c p(x | c) as one MixtureDraws per draw."""
    return MixtureDraws(
        np.concatenate([pi[:, [c]] * m.weights for c, m in enumerate(mixtures)], axis=1),
        np.concatenate([m.means for m in mixtures], axis=1),
        np.concatenate([m.covariances for m in mixtures], axis=1),
    )
