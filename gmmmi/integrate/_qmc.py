"""Randomised quasi-Monte Carlo: scrambled Sobol points per component, refined where needed.

See the ``"qmc"`` method in `gmmmi.integrate`: only the excess of ``log q`` over its
largest single-component term (whose mean is known in closed form) is integrated.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import ndtri

from gmmmi._kernels.integrands import qmc_cross_entropy
from gmmmi._threads import threads_for
from gmmmi.mixture import MixtureDraws

from . import rules
from ._closed_form import component_cross_entropies, safe_cholesky


@functools.lru_cache(maxsize=16)
def qmc_nodes(d: int, log2_n: int) -> np.ndarray:
    """`rules.QMC_SCRAMBLES` scrambled Sobol sets of ``2**log2_n`` standard-normal points.

    Parameters
    ----------
    d : int
        Dimension.
    log2_n : int
        log2 of the points per scramble.

    Returns
    -------
    numpy.ndarray, shape (rules.QMC_SCRAMBLES * 2**log2_n, d)
        The scrambles one after another; fixed seeds, so the rule is deterministic.
    """
    from scipy.stats import qmc  # ~0.5 s to import: only when a QMC rule is first built

    children = np.random.SeedSequence([rules._QMC_SEED, d]).spawn(rules.QMC_SCRAMBLES)
    sets = [
        qmc.Sobol(d, scramble=True, seed=np.random.default_rng(c)).random_base2(log2_n)
        for c in children
    ]
    u = np.clip(np.concatenate(sets), 2.0**-60, 1.0 - 2.0**-53)
    nodes = np.ascontiguousarray(ndtri(u))
    nodes.setflags(write=False)
    return nodes


def qmc_term(p: MixtureDraws, q: MixtureDraws, log2_n: int) -> tuple[np.ndarray, np.ndarray]:
    """E_p[log q] of every draw by QMC, and a bound on what the points may have missed.

    Returns
    -------
    values : numpy.ndarray, shape (S, rules.QMC_SCRAMBLES)
        The integral for every scramble, in nats.
    excess_bound : numpy.ndarray, shape (S,)
        ``max(estimated excess, analytic upper bound of the excess)``: the
        excess ``log q - g`` lies between 0 and the bound, so the QMC estimate
        of it is off by at most this much (inf where the bound does not exist).
    """
    ce = component_cross_entropies(p, q)[0]
    cv_comp = np.argmax(ce, axis=2)
    cv_mean = np.take_along_axis(ce, cv_comp[:, :, None], axis=2)[:, :, 0]
    known = np.where(p.weights > 0, p.weights * cv_mean, 0.0).sum(axis=1)
    nodes = qmc_nodes(p.n_dim, log2_n)
    with threads_for(p.n_draws * p.n_components * q.n_components * nodes.shape[0]):
        excess = qmc_cross_entropy(
            p.log_weights(),
            p.means,
            active_first(p, q),
            q.log_weights(),
            q.means,
            q.cholesky(),
            np.ascontiguousarray(cv_comp, dtype=np.int64),
            nodes,
            rules.QMC_SCRAMBLES,
        )
    bound = np.maximum(excess.mean(axis=1), excess_bound(p, q, cv_comp))
    return known[:, None] + excess, bound


def active_first(p: MixtureDraws, q: MixtureDraws) -> np.ndarray:
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
    lp = safe_cholesky(p)
    inv_lp = np.linalg.inv(lp)
    inv_lq = np.linalg.inv(safe_cholesky(q))
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


def excess_bound(p: MixtureDraws, q: MixtureDraws, cv_comp: np.ndarray) -> np.ndarray:
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


def qmc_integrate(groups, draws: np.ndarray, exact) -> tuple[np.ndarray, np.ndarray]:
    """Values and error bounds of the draws ``draws`` by QMC, refined where needed."""
    values = np.empty(draws.size)
    errors = np.empty(draws.size)
    todo = np.arange(draws.size)
    for level in rules._QMC_LEVELS:
        sel = draws[todo]
        total = np.zeros((sel.size, rules.QMC_SCRAMBLES))
        missed = np.zeros(sel.size)
        for g, group in enumerate(groups):
            for t, (coef, idx, q) in enumerate(group.terms):
                ex_val = exact[g][t][1][sel]
                term = np.repeat(ex_val[:, None], rules.QMC_SCRAMBLES, axis=1)
                numeric = np.flatnonzero(~exact[g][t][0][sel])
                if numeric.size:
                    rows = sel[numeric]
                    term[numeric], bound = qmc_term(
                        group.p.marginal(idx).select(rows), q.select(rows), level
                    )
                    # capped first, so that a zero class weight times an infinite bound is 0
                    capped = np.minimum(bound, rules._QMC_MISSED_CAP)
                    missed[numeric] += np.abs(group.scale[rows] * coef) * capped
                total += (group.scale[sel] * coef)[:, None] * term
        values[todo] = total.mean(axis=1)
        # The spread of the scrambles misses contributions from regions that the points
        # rarely reach; the analytic bound of the excess covers them where it is small.
        spread = rules.QMC_ERROR_FACTOR * total.std(axis=1, ddof=1) / np.sqrt(rules.QMC_SCRAMBLES)
        errors[todo] = spread + np.minimum(missed, rules._QMC_MISSED_CAP)
        todo = todo[errors[todo] > rules.TOLERANCE]
        if todo.size == 0:
            break
    return values, errors
