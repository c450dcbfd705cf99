"""Integrals of fitted mixtures: MI, conditional MI, KL divergence and categorical MI.

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
    Deterministic; the best rule for the dimension. Up to `QUAD_MAX_DIM`
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
    whose error exceeds `TOLERANCE`, are integrated by ``"qmc"`` instead (the
    result's method is then ``"quad+qmc"``). Above `QUAD_MAX_DIM` dimensions
    ``"quad"`` is ``"qmc"``.
``"qmc"``
    Randomised quasi-Monte Carlo, for any dimension: per component of p,
    `QMC_SCRAMBLES` independently scrambled Sobol sets (fixed seeds, so the
    rule is deterministic) mapped to ``x = mu_k + L_k z``. Only the excess of
    ``log q`` over its largest single-component term ``log w_j N_j`` (a
    lower bound whose mean is known in closed form) is integrated, which
    removes most of the variance. The error is `QMC_ERROR_FACTOR` standard
    errors of the mean over the scrambles; draws whose error exceeds
    `TOLERANCE` are recomputed with more points, up to ``2**14`` per scramble.
``"mc"`` (the original's ``"MC"``)
    Monte Carlo with ``mc_samples`` points per draw sampled from the draw's
    mixture inside a compiled kernel, from a seed per draw taken from ``rng``
    (independent points for every draw; results independent of the number
    of threads; memory independent of ``mc_samples``). The error is the
    standard error of the mean (one standard deviation, not a bound).

The errors of ``"quad"`` and ``"qmc"`` are meant as bounds: on a randomised
set of mixtures (tests/integrate/test_integrate.py) the true error is below them in
more than 99 % of cases. An `~gmmmi.IntegrationWarning` is raised when one of them is
still above `TOLERANCE` after refinement.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from ._kernels.integrands import mc_sum_logpdf, qmc_cross_entropy, quad_cross_entropy
from ._stacklevel import user_stacklevel
from ._threads import threads_for
from ._validation import check_int
from .exceptions import IntegrationWarning
from .mixture import MixtureDraws

METHODS = ("quad", "qmc", "mc")

#: Largest total dimension integrated by the trapezoidal rule; above it "quad" is "qmc".
QUAD_MAX_DIM = 6

#: Trapezoidal rule per dimension d: (step h, truncation tau with |z|^2 <= 2 tau).
#: Chosen by measuring against high-precision references (see tests/integrate/test_integrate.py).
_QUAD_RULES = {
    1: (0.1, 22.0),
    2: (0.22, 20.0),
    3: (0.45, 14.0),
    4: (0.7, 11.0),
    5: (1.0, 9.0),
    6: (1.2, 8.0),
}

#: The truncation error is estimated with the rule on a ball smaller by this much in |z|^2.
_INNER_BALL = 4.0
#: Factor on the two error estimates: calibrated on random mixtures
#: (tests/integrate/test_integrate.py), where the plain estimates fell short in about 1 % of the
#: cases, by up to 4 times.
_QUAD_SAFETY = 4.0
#: Relative rounding error added to every quadrature error estimate.
_ROUNDING = 1e-11

#: A component of q whose smallest standard deviation, in the whitened coordinates of a
#: component of p, is below this many grid steps is not resolved by the trapezoidal rule.
_RESOLVED_STEPS = 0.15

#: Error (nats) above which a draw's integral is refined, and then warned about.
TOLERANCE = 1e-3

#: Independent scrambles of the QMC rule; its error is QMC_ERROR_FACTOR standard errors.
QMC_SCRAMBLES = 16
#: Standard errors (over the scrambles) reported as the QMC rule's error bound.
QMC_ERROR_FACTOR = 3.5
#: log2 of the points per scramble at each refinement level of the QMC rule.
_QMC_LEVELS = (10, 12, 14)
_QMC_SEED = 0x6D6D69
#: Largest share of the analytic excess bound added to the QMC error (nats).
_QMC_MISSED_CAP = 0.1 * TOLERANCE


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
class _Group:
    """Terms ``scale * coef * E_p[log q(x[idx])]`` sharing the sampling mixture p.

    ``scale`` has shape (S,) (class weights for categorical MI, else ones);
    ``terms`` is a list of ``(coef, idx, q)`` with q over the coordinates idx of p.
    """

    p: MixtureDraws
    scale: np.ndarray
    terms: list


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


def _warn(message: str) -> None:
    """An `IntegrationWarning` pointing at the first caller outside gmmmi."""
    warnings.warn(message, IntegrationWarning, stacklevel=user_stacklevel())


# ------------------------------------------------------------ closed forms
def _safe_cholesky(m: MixtureDraws) -> np.ndarray:
    """Cholesky factors with the identity in place of every empty component's."""
    chols = m.cholesky()
    empty = m.weights == 0
    if empty.any():
        chols = chols.copy()
        chols[empty] = np.eye(m.n_dim)
    return chols


def _component_cross_entropies(p: MixtureDraws, q: MixtureDraws):
    """``E_{p_k}[log w_j N_j]`` for every pair, and the factors used to get it.

    Returns
    -------
    ce : numpy.ndarray, shape (S, Kp, Kq)
        In nats; -inf where q's component is empty.
    inv_lp : numpy.ndarray, shape (S, Kp, d, d)
        Inverse Cholesky factors of p's components.
    lq : numpy.ndarray, shape (S, Kq, d, d)
        Cholesky factors of q's components.
    """
    d = p.n_dim
    lp, lq = _safe_cholesky(p), _safe_cholesky(q)
    inv_lq = np.linalg.inv(lq)
    a = inv_lq[:, None] @ lp[:, :, None]  # (S, Kp, Kq, d, d)
    diff = p.means[:, :, None, :] - q.means[:, None, :, :]
    b = np.einsum("sjab,skjb->skja", inv_lq, diff)
    logdet = 2.0 * np.log(np.diagonal(lq, axis1=2, axis2=3)).sum(axis=2)
    with np.errstate(divide="ignore"):
        logw = np.log(q.weights)
    ce = logw[:, None, :] - 0.5 * (
        d * np.log(2.0 * np.pi) + logdet[:, None, :] + (a**2).sum(axis=(3, 4)) + (b**2).sum(axis=3)
    )
    return ce, np.linalg.inv(lp), lq


def _single_gaussian(q: MixtureDraws) -> np.ndarray:
    """Per draw, whether every non-empty component of q is the same Gaussian. Shape (S,)."""
    full = q.weights > 0
    first = np.argmax(full, axis=1)
    rows = np.arange(q.n_draws)
    same = np.all(q.means == q.means[rows, first][:, None], axis=2) & np.all(
        q.covariances == q.covariances[rows, first][:, None], axis=(2, 3)
    )
    return np.all(same | ~full, axis=1)


def _closed_form(p: MixtureDraws, q: MixtureDraws) -> tuple[np.ndarray, np.ndarray]:
    """``E_p[log q]`` where q is one Gaussian, per draw.

    Returns
    -------
    exact : numpy.ndarray of bool, shape (S,)
        Draws where q is one Gaussian.
    values : numpy.ndarray, shape (S,)
        ``sum_k w_k E_{p_k}[log N(x | mu, Sigma)]`` there (NaN elsewhere), in nats.
    """
    exact = _single_gaussian(q)
    values = np.full(p.n_draws, np.nan)
    if exact.any():
        sub_p, sub_q = p.select(np.flatnonzero(exact)), q.select(np.flatnonzero(exact))
        first = np.argmax(sub_q.weights > 0, axis=1)
        rows = np.arange(sub_q.n_draws)
        one = MixtureDraws(
            np.ones((sub_q.n_draws, 1)),
            sub_q.means[rows, first][:, None],
            sub_q.covariances[rows, first][:, None],
        )
        ce = _component_cross_entropies(sub_p, one)[0][:, :, 0]
        values[exact] = np.where(sub_p.weights > 0, sub_p.weights * ce, 0.0).sum(axis=1)
    return exact, values


# -------------------------------------------------------------- quadrature
@functools.cache
def quad_rule(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the quadrature rules for the d-dimensional standard normal.

    Parameters
    ----------
    d : int
        Dimension, 1 to `QUAD_MAX_DIM`.

    Returns
    -------
    nodes : numpy.ndarray, shape (n, d)
        Points ``h * i`` (i integer vectors) with ``|z|^2 <= 2 tau``.
    weights : numpy.ndarray, shape (3, n)
        Three rules on these nodes, each exact for polynomials of degree <= 2:
        the step-``h`` rule (the result); the nested step-``2 h`` rule (zero
        off its nodes), whose difference estimates the discretisation error;
        and the step-``h`` rule on the smaller ball ``|z|^2 <= 2 tau -
        _INNER_BALL``, whose difference estimates the truncation error.
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
    weights = np.zeros((3, nodes.shape[0]))
    subsets = (
        np.ones(r2.size, dtype=bool),
        np.all(grid % 2 == 0, axis=1),
        r2 <= 2.0 * tau - _INNER_BALL,
    )
    for rule, keep in zip(weights, subsets, strict=True):
        rule[keep] = _exact_for_quadratics(np.exp(-0.5 * r2[keep]), r2[keep], d)
    for a in (nodes, weights):
        a.setflags(write=False)
    return nodes, weights


def _exact_for_quadratics(w: np.ndarray, r2: np.ndarray, d: int) -> np.ndarray:
    """Weights ``w (a + b r2)`` with sum 1 and sum of ``r2`` equal to d.

    On a grid symmetric under sign flips and coordinate permutations, this
    makes the rule exact for every polynomial of degree <= 2 under N(0, I_d).
    """
    m0, m2, m4 = w.sum(), w @ r2, w @ r2**2
    a, b = np.linalg.solve([[m0, m2], [m2, m4]], [1.0, float(d)])
    return w * (a + b * r2)


def _unresolved(p: MixtureDraws, q: MixtureDraws) -> np.ndarray:
    """Per draw, whether a component of q is too narrow for the trapezoidal rule. Shape (S,).

    In the whitened coordinates of every component k of p (where the rule's
    nodes are), component j of q has covariance ``B B^T``, ``B = L_k^-1 L_j``,
    and centre ``c = L_k^-1 (mu_j - mu_k)``. It is unresolved when its
    smallest standard deviation (smallest singular value of B) is below
    `_RESOLVED_STEPS` grid steps while it lies within the rule's ball.
    """
    h, tau = _QUAD_RULES[p.n_dim]
    inv_lp = np.linalg.inv(_safe_cholesky(p))
    lq = _safe_cholesky(q)
    b = inv_lp[:, :, None] @ lq[:, None]  # (S, Kp, Kq, d, d)
    sigma = np.linalg.svd(b, compute_uv=False)
    diff = q.means[:, None, :, :] - p.means[:, :, None, :]
    centre = np.linalg.norm(np.einsum("skab,skjb->skja", inv_lp, diff), axis=3)
    narrow = (sigma[..., -1] < _RESOLVED_STEPS * h) & (
        centre < np.sqrt(2.0 * tau) + 3.0 * sigma[..., 0]
    )
    used = (p.weights > 0)[:, :, None] & (q.weights > 0)[:, None, :]
    return np.any(narrow & used, axis=(1, 2))


def _quad_term(p: MixtureDraws, q: MixtureDraws) -> tuple[np.ndarray, np.ndarray]:
    """E_p[log q] per draw, and its error estimate, by the rules of `quad_rule`."""
    nodes, weights = quad_rule(p.n_dim)
    with threads_for(p.n_draws * p.n_components * q.n_components * nodes.shape[0]):
        out = quad_cross_entropy(
            p.log_weights(),
            p.means,
            p.cholesky(),
            q.log_weights(),
            q.means,
            q.cholesky(),
            nodes,
            weights,
        )
    hi, lo, inner = out
    error = _QUAD_SAFETY * (np.abs(hi - lo) + np.abs(hi - inner))
    return hi, error + _ROUNDING * (1.0 + np.abs(hi))


# --------------------------------------------------- randomised quasi-MC
@functools.lru_cache(maxsize=16)
def qmc_nodes(d: int, log2_n: int) -> np.ndarray:
    """`QMC_SCRAMBLES` scrambled Sobol sets of ``2**log2_n`` standard-normal points.

    Parameters
    ----------
    d : int
        Dimension.
    log2_n : int
        log2 of the points per scramble.

    Returns
    -------
    numpy.ndarray, shape (QMC_SCRAMBLES * 2**log2_n, d)
        The scrambles one after another; fixed seeds, so the rule is deterministic.
    """
    children = np.random.SeedSequence([_QMC_SEED, d]).spawn(QMC_SCRAMBLES)
    sets = [
        qmc.Sobol(d, scramble=True, seed=np.random.default_rng(c)).random_base2(log2_n)
        for c in children
    ]
    u = np.clip(np.concatenate(sets), 2.0**-60, 1.0 - 2.0**-53)
    nodes = np.ascontiguousarray(ndtri(u))
    nodes.setflags(write=False)
    return nodes


def _qmc_term(p: MixtureDraws, q: MixtureDraws, log2_n: int) -> tuple[np.ndarray, np.ndarray]:
    """E_p[log q] of every draw by QMC, and a bound on what the points may have missed.

    Returns
    -------
    values : numpy.ndarray, shape (S, QMC_SCRAMBLES)
        The integral for every scramble, in nats.
    excess_bound : numpy.ndarray, shape (S,)
        ``max(estimated excess, analytic upper bound of the excess)``: the
        excess ``log q - g`` lies between 0 and the bound, so the QMC estimate
        of it is off by at most this much (inf where the bound does not exist).
    """
    ce = _component_cross_entropies(p, q)[0]
    cv_comp = np.argmax(ce, axis=2)
    cv_mean = np.take_along_axis(ce, cv_comp[:, :, None], axis=2)[:, :, 0]
    known = np.where(p.weights > 0, p.weights * cv_mean, 0.0).sum(axis=1)
    nodes = qmc_nodes(p.n_dim, log2_n)
    with threads_for(p.n_draws * p.n_components * q.n_components * nodes.shape[0]):
        excess = qmc_cross_entropy(
            p.log_weights(),
            p.means,
            _active_first(p, q),
            q.log_weights(),
            q.means,
            q.cholesky(),
            np.ascontiguousarray(cv_comp, dtype=np.int64),
            nodes,
            QMC_SCRAMBLES,
        )
    bound = np.maximum(excess.mean(axis=1), _excess_bound(p, q, cv_comp))
    return known[:, None] + excess, bound


def _active_first(p: MixtureDraws, q: MixtureDraws) -> np.ndarray:
    """Square roots ``L_k V_k`` of p's covariances whose first axes are where log q varies.

    In the whitened coordinates of component k of p, component j of q has
    centre ``c_j`` and precision ``T_j``; ``log q`` varies along the ``c_j``
    and the eigenvectors of ``T_j - I``. ``V_k`` holds the eigenvectors of
    ``sum_j c_j c_j^T + (T_j - I)^2`` by decreasing eigenvalue, so the first,
    best distributed coordinates of the Sobol points carry the variation
    (exactly so when the components differ only in a few directions).

    Returns
    -------
    numpy.ndarray, shape (S, Kp, d, d)
    """
    d = p.n_dim
    lp = _safe_cholesky(p)
    inv_lp = np.linalg.inv(lp)
    inv_lq = np.linalg.inv(_safe_cholesky(q))
    # T_j = (L_p^-1 Sigma_j L_p^-T)^-1 = a^T a with a = L_j^-1 L_p: no inverse of a matrix
    # that a component of q much narrower than p's makes (numerically) singular
    a = inv_lq[:, None] @ lp[:, :, None]  # (S, Kp, Kq, d, d)
    t = np.swapaxes(a, -1, -2) @ a - np.eye(d)
    c = np.einsum("skab,skjb->skja", inv_lp, q.means[:, None] - p.means[:, :, None])
    used = (q.weights > 0)[:, None, :, None, None]
    m = np.where(used, c[..., :, None] * c[..., None, :] + t @ t, 0.0).sum(axis=2)
    # only the directions matter: rescale each matrix so that huge ratios cannot overflow
    m = m / np.maximum(np.abs(m).max(axis=(-1, -2), keepdims=True), np.finfo(float).tiny)
    m = np.where(np.isfinite(m), m, 0.0)
    _, v = np.linalg.eigh(m)
    return np.ascontiguousarray(lp @ v[..., ::-1])


def _excess_bound(p: MixtureDraws, q: MixtureDraws, cv_comp: np.ndarray) -> np.ndarray:
    """Upper bound of ``sum_k w_k E_{p_k}[log q - log w_c N_c]``, c = cv_comp[k], per draw.

    ``log(1 + x) <= x`` with ``x = sum_{j != c} w_j N_j / (w_c N_c)``, and
    ``E_{p_k}[N_j / N_c]`` is a Gaussian integral, finite when
    ``A = Sigma_k^-1 + Sigma_j^-1 - Sigma_c^-1`` is positive definite.
    """
    lam = np.linalg.inv(p.covariances.copy() + (p.weights == 0)[..., None, None] * np.eye(p.n_dim))
    q_cov = q.covariances + (q.weights == 0)[..., None, None] * np.eye(q.n_dim)
    lam_q = np.linalg.inv(q_cov)
    logdet_p = np.linalg.slogdet(
        p.covariances + (p.weights == 0)[..., None, None] * np.eye(p.n_dim)
    )[1]
    logdet_q = np.linalg.slogdet(q_cov)[1]
    take = cv_comp[:, :, None, None]
    lam_c = np.take_along_axis(lam_q, take, axis=1)  # (S, Kp, d, d)
    mu_c = np.take_along_axis(q.means, cv_comp[:, :, None], axis=1)  # (S, Kp, d)
    logdet_c = np.take_along_axis(logdet_q, cv_comp, axis=1)  # (S, Kp)
    with np.errstate(divide="ignore"):
        logw_q = np.log(q.weights)
    logw_c = np.take_along_axis(logw_q, cv_comp, axis=1)
    A = lam[:, :, None] + lam_q[:, None] - lam_c[:, :, None]  # (S, Kp, Kq, d, d)
    b = (
        np.einsum("skab,skb->ska", lam, p.means)[:, :, None]
        + np.einsum("sjab,sjb->sja", lam_q, q.means)[:, None]
        - np.einsum("skab,skb->ska", lam_c, mu_c)[:, :, None]
    )
    c = (
        np.einsum("ska,skab,skb->sk", p.means, lam, p.means)[:, :, None]
        + np.einsum("sja,sjab,sjb->sj", q.means, lam_q, q.means)[:, None]
        - np.einsum("ska,skab,skb->sk", mu_c, lam_c, mu_c)[:, :, None]
    )
    finite = np.linalg.eigvalsh(A)[..., 0] > 0
    A = np.where(finite[..., None, None], A, np.eye(p.n_dim))
    log_int = 0.5 * (
        logdet_c[:, :, None]
        - logdet_p[:, :, None]
        - logdet_q[:, None]
        - np.linalg.slogdet(A)[1]
        + np.einsum("skja,skja->skj", b, np.linalg.solve(A, b[..., None])[..., 0])
        - c
    )
    ratio = np.exp(np.minimum(logw_q[:, None] - logw_c[:, :, None] + log_int, 700.0))
    ratio = np.where(finite, ratio, np.inf)
    others = (q.weights > 0)[:, None, :] & (np.arange(q.n_components) != cv_comp[:, :, None])
    per_k = np.where(others, ratio, 0.0).sum(axis=2)
    return (p.weights * np.where(p.weights > 0, per_k, 0.0)).sum(axis=1)


def _qmc(groups, draws: np.ndarray, exact) -> tuple[np.ndarray, np.ndarray]:
    """Values and error bounds of the draws ``draws`` by QMC, refined where needed."""
    values = np.empty(draws.size)
    errors = np.empty(draws.size)
    todo = np.arange(draws.size)
    for level in _QMC_LEVELS:
        sel = draws[todo]
        total = np.zeros((sel.size, QMC_SCRAMBLES))
        missed = np.zeros(sel.size)
        for g, group in enumerate(groups):
            for t, (coef, idx, q) in enumerate(group.terms):
                ex_val = exact[g][t][1][sel]
                term = np.repeat(ex_val[:, None], QMC_SCRAMBLES, axis=1)
                numeric = np.flatnonzero(~exact[g][t][0][sel])
                if numeric.size:
                    rows = sel[numeric]
                    term[numeric], bound = _qmc_term(
                        group.p.marginal(idx).select(rows), q.select(rows), level
                    )
                    # capped first, so that a zero class weight times an infinite bound is 0
                    capped = np.minimum(bound, _QMC_MISSED_CAP)
                    missed[numeric] += np.abs(group.scale[rows] * coef) * capped
                total += (group.scale[sel] * coef)[:, None] * term
        values[todo] = total.mean(axis=1)
        # The spread of the scrambles misses contributions from regions that the points
        # rarely reach; the analytic bound of the excess covers them where it is small.
        spread = QMC_ERROR_FACTOR * total.std(axis=1, ddof=1) / np.sqrt(QMC_SCRAMBLES)
        errors[todo] = spread + np.minimum(missed, _QMC_MISSED_CAP)
        todo = todo[errors[todo] > TOLERANCE]
        if todo.size == 0:
            break
    return values, errors


# ------------------------------------------------------------ integration
def _integrate(groups: list[_Group], method: str, mc_samples: int, rng) -> IntegralResult:
    """The signed sum of every group's terms, per draw, by `method`."""
    S = groups[0].p.n_draws
    exact = [[_closed_form(g.p.marginal(idx), q) for _, idx, q in g.terms] for g in groups]
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
                mean, sem = _mc_group(group, rest, group_seeds[rest], mc_samples)
                values[rest] += group.scale[rest] * mean
                var[rest] += (group.scale[rest] * sem) ** 2
        return IntegralResult(values, np.sqrt(var), "mc")

    dim = max(group.p.n_dim for group in groups)
    if method == "qmc" or dim > QUAD_MAX_DIM:
        values[rest], errors[rest] = _qmc(groups, rest, exact)
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
                    term[numeric], err[numeric] = _quad_term(p_sub, q_sub)
                    fallback[numeric] |= _unresolved(p_sub, q_sub)
                values += np.where(all_exact, 0.0, group.scale * coef * term)
                errors += np.abs(group.scale * coef) * err
        fallback = (fallback | (errors > TOLERANCE)) & ~all_exact
        used = "quad"
        if fallback.any():
            redo = np.flatnonzero(fallback)
            q_values, q_errors = _qmc(groups, redo, exact)
            better = q_errors < errors[redo]
            values[redo[better]], errors[redo[better]] = q_values[better], q_errors[better]
            used = "quad+qmc" if better.any() else "quad"
    large = errors > TOLERANCE
    if large.any():
        _warn(
            f"The numerical error of the integral is above {TOLERANCE:g} nat in "
            f"{large.sum()} of {S} mixture draws (largest {errors.max():.2g} nat, method "
            f"{used!r}), even after refinement. The mixture has components of very "
            "different scales; the reported integration_error bounds the error."
        )
    return IntegralResult(values, errors, used)


def _mc_group(group: _Group, draws: np.ndarray, seeds: np.ndarray, mc_samples: int):
    """Monte Carlo mean and standard error of one group's terms at the draws ``draws``."""
    p = group.p.select(draws)
    S, d = p.n_draws, p.n_dim
    T = len(group.terms)
    Kq = max(q.n_components for _, _, q in group.terms)
    q_logw = np.full((T, S, Kq), -np.inf)
    q_means = np.zeros((T, S, Kq, d))
    q_chols = np.tile(np.eye(d), (T, S, Kq, 1, 1))
    idx = np.zeros((T, d), dtype=np.int64)
    dims = np.zeros(T, dtype=np.int64)
    coefs = np.zeros(T)
    for t, (coef, term_idx, q) in enumerate(group.terms):
        q = q.select(draws)
        dq, K = q.n_dim, q.n_components
        q_logw[t, :, :K] = q.log_weights()
        q_means[t, :, :K, :dq] = q.means
        q_chols[t, :, :K, :dq, :dq] = q.cholesky()
        idx[t, :dq] = term_idx
        dims[t] = dq
        coefs[t] = coef
    with threads_for(S * mc_samples * T * Kq):
        return mc_sum_logpdf(
            np.ascontiguousarray(seeds, dtype=np.int64),
            mc_samples,
            p.weights,
            p.means,
            p.cholesky(),
            coefs,
            idx,
            dims,
            q_logw,
            q_means,
            q_chols,
        )


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
    return _integrate([_Group(joint, np.ones(joint.n_draws), terms)], method, mc_samples, rng)


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
    return _integrate([_Group(joint, np.ones(joint.n_draws), terms)], method, mc_samples, rng)


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
    group = _Group(p, np.ones(p.n_draws), [(1.0, idx, p), (-1.0, idx, q)])
    return _integrate([group], method, mc_samples, rng)


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
    method, mc_samples = _resolve(method, mc_samples, rng)
    pooled = MixtureDraws.pool(mixtures, pi)
    idx = list(range(pooled.n_dim))
    groups = [
        _Group(pc, pi[:, c], [(1.0, idx, pc), (-1.0, idx, pooled)]) for c, pc in enumerate(mixtures)
    ]
    return _integrate(groups, method, mc_samples, rng)


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
        _Group(p, w[:, s], terms)
        for s, (p, terms) in enumerate(zip(cell_mixtures, cell_terms, strict=True))
        if terms
    ]
    if not groups:
        return IntegralResult(np.zeros(w.shape[0]), np.zeros(w.shape[0]), "none")
    return _integrate(groups, method, mc_samples, rng)
