"""Plain Monte Carlo: points drawn from each draw's mixture inside a compiled kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gmmmi._kernels.integrands import mc_sum_logpdf
from gmmmi._threads import threads_for

if TYPE_CHECKING:
    from ._terms import Group


def mc_group(group: Group, draws: np.ndarray, seeds: np.ndarray, mc_samples: int):
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
