"""Closed forms: ``E_p[log q]`` where q is one Gaussian, and the per-component cross entropies.

``E_{p_k}[log w_j N_j]`` between every component k of p and j of q is a Gaussian
integral; the quadrature and QMC rules start from the same factors.
"""

from __future__ import annotations

import numpy as np

from gmmmi.mixture import MixtureDraws


def safe_cholesky(m: MixtureDraws) -> np.ndarray:
    """Cholesky factors with the identity in place of every empty component's."""
    chols = m.cholesky()
    empty = m.weights == 0
    if empty.any():
        chols = chols.copy()
        chols[empty] = np.eye(m.n_dim)
    return chols


def component_cross_entropies(p: MixtureDraws, q: MixtureDraws):
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
    lp, lq = safe_cholesky(p), safe_cholesky(q)
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


def closed_form(p: MixtureDraws, q: MixtureDraws) -> tuple[np.ndarray, np.ndarray]:
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
        ce = component_cross_entropies(sub_p, one)[0][:, :, 0]
        values[exact] = np.where(sub_p.weights > 0, sub_p.weights * ce, 0.0).sum(axis=1)
    return exact, values
