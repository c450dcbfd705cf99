"""The trapezoidal rule in the whitened coordinates of each component, up to `rules.QUAD_MAX_DIM`.

See the ``"quad"`` method in `gmmmi.integrate`: a product trapezoidal rule for the standard
normal, truncated to a ball, with weights exact for quadratics; its error is the
difference from the nested rule of twice the step plus that from a smaller ball.
"""

from __future__ import annotations

import functools

import numpy as np

from gmmmi._kernels.integrands import quad_cross_entropy
from gmmmi._threads import run_split, thread_count
from gmmmi.mixture import MixtureDraws

from . import rules
from ._closed_form import safe_cholesky


@functools.cache
def quad_rule(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the quadrature rules for the d-dimensional standard normal.

    Parameters
    ----------
    d : int
        Dimension, 1 to `rules.QUAD_MAX_DIM`.

    Returns
    -------
    nodes : numpy.ndarray, shape (n, d)
        Points ``h * i`` (i integer vectors) with ``|z|^2 <= 2 tau``.
    weights : numpy.ndarray, shape (3, n)
        Three rules on these nodes, each exact for polynomials of degree <= 2:
        the step-``h`` rule (the result); the nested step-``2 h`` rule (zero
        off its nodes), whose difference estimates the discretisation error;
        and the step-``h`` rule on the smaller ball ``|z|^2 <= 2 tau -
        rules._INNER_BALL``, whose difference estimates the truncation error.
    """
    h, tau = rules._QUAD_RULES[d]
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
        r2 <= 2.0 * tau - rules._INNER_BALL,
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


def unresolved(p: MixtureDraws, q: MixtureDraws) -> np.ndarray:
    """Per draw, whether a component of q is too narrow for the trapezoidal rule. Shape (S,).

    In the whitened coordinates of every component k of p (where the rule's
    nodes are), component j of q has covariance ``B B^T``, ``B = L_k^-1 L_j``,
    and centre ``c = L_k^-1 (mu_j - mu_k)``. It is unresolved when its
    smallest standard deviation (smallest singular value of B) is below
    `_RESOLVED_STEPS` grid steps while it lies within the rule's ball.
    """
    h, tau = rules._QUAD_RULES[p.n_dim]
    inv_lp = np.linalg.inv(safe_cholesky(p))
    lq = safe_cholesky(q)
    b = inv_lp[:, :, None] @ lq[:, None]  # (S, Kp, Kq, d, d)
    largest, smallest = extreme_singular_values(b)
    diff = q.means[:, None, :, :] - p.means[:, :, None, :]
    centre = np.linalg.norm(np.einsum("skab,skjb->skja", inv_lp, diff), axis=3)
    narrow = (smallest < rules._RESOLVED_STEPS * h) & (centre < np.sqrt(2.0 * tau) + 3.0 * largest)
    used = (p.weights > 0)[:, :, None] & (q.weights > 0)[:, None, :]
    return np.any(narrow & used, axis=(1, 2))


def extreme_singular_values(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and smallest singular values of a stack of square matrices.

    Parameters
    ----------
    b : numpy.ndarray, shape (..., d, d)

    Returns
    -------
    largest, smallest : numpy.ndarray, shape (...)
        For d = 1 and 2 in closed form (a batched SVD of such small matrices
        costs as much as the 1-D quadrature itself): ``|b|``, and for d = 2
        ``s_max^2 = (a + sqrt(a^2 - 4 det^2)) / 2`` with ``a`` the sum of
        squares, ``s_min = |det| / s_max``; else `numpy.linalg.svd`.
    """
    d = b.shape[-1]
    if d == 1:
        s = np.abs(b[..., 0, 0])
        return s, s
    if d > 2:
        sigma = np.linalg.svd(b, compute_uv=False)
        return sigma[..., 0], sigma[..., -1]
    a = np.sum(b * b, axis=(-2, -1))
    det = np.abs(b[..., 0, 0] * b[..., 1, 1] - b[..., 0, 1] * b[..., 1, 0])
    largest = np.sqrt(0.5 * (a + np.sqrt(np.maximum(a * a - 4.0 * det * det, 0.0))))
    with np.errstate(invalid="ignore", divide="ignore"):
        smallest = np.where(largest > 0.0, det / largest, 0.0)
    return largest, smallest


def quad_term(p: MixtureDraws, q: MixtureDraws) -> tuple[np.ndarray, np.ndarray]:
    """E_p[log q] per draw, and its error estimate, by the rules of `quad_rule`."""
    nodes, weights = quad_rule(p.n_dim)
    draws = [p.log_weights(), p.means, p.cholesky(), q.log_weights(), q.means, q.cholesky()]
    draws = [np.ascontiguousarray(a, dtype=np.float64) for a in draws]  # one signature
    threads = thread_count(p.n_draws * p.n_components * q.n_components * nodes.shape[0])
    parts = run_split(
        lambda part: quad_cross_entropy(*(a[part] for a in draws), nodes, weights),
        p.n_draws,
        threads,
    )
    out = np.concatenate(parts, axis=1)  # (rules, draws)
    hi, lo, inner = out
    error = rules._QUAD_SAFETY * (np.abs(hi - lo) + np.abs(hi - inner))
    return hi, error + rules._ROUNDING * (1.0 + np.abs(hi))
