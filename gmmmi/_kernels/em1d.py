"""EM for 1-D Gaussian mixtures, compiled with Numba (the margins' maps, `gmmmi.margins`).

The algorithm of `gmmmi._kernels.em.em_fit_batch` for one column and rows of
weight 1: the same start, M-step, stopping rule, status flags and K = 1 closed
form, so it converges to the same fixed point. It is written for d = 1: a
fit's rows are gathered once into a contiguous buffer, and each iteration is
three vectorised passes per block of rows (log-densities and their maximum; the
shifted exponentials, by `gmmmi._kernels.logdensity`'s polynomial; the
statistics), with scalar parameters: no Cholesky factor, no blocked views, and
one log per `LOG_CHUNK` rows instead of one per row.
Sums run in another order than the general kernel's, so the fits agree with it
to rounding, not bit for bit (tests/kernels/test_em1d.py compares them).
"""

import math

import numpy as np
from numba import njit

from .em import (
    EMPTY_COMPONENT,
    NK_EPS,
    NO_STATS,
    STATS,
    STATUS_BAD_INIT,
    STATUS_MAX_ITER,
    STATUS_NAN,
    STATUS_OK,
    STATUS_SINGULAR,
)
from .linalg import FASTMATH, LOG_2PI, NO_WRAPPERS
from .logdensity import BLOCK, _exp_block

#: rows whose density sums (each in [1, K]) are multiplied before one log is taken
LOG_CHUNK = 32


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
def _prepare(weights, variances, p, consts):
    """``p[k] = 1 / sd_k``, ``consts[k] = log w_k - log(2 pi)/2 - log sd_k``.

    Returns False if a variance is not positive.
    """
    K = weights.shape[0]
    for k in range(K):
        v = variances[k]
        if not v > 0.0:
            return False
        sd = math.sqrt(v)
        p[k] = 1.0 / sd
        if weights[k] > 0.0:
            consts[k] = math.log(weights[k]) - 0.5 * LOG_2PI - math.log(sd)
        else:
            consts[k] = -np.inf
    return True


# error_model="numpy": Python's model checks every division for zero, which keeps the loop
# of 1 / ssum from being vectorised (ssum >= 1, so it never divides by zero)
@njit(cache=True, fastmath=FASTMATH, error_model="numpy", **NO_WRAPPERS)
def _e_step_1d(xs, means, p, consts, lpb, top, ssum, ibits, fbits, Nk, S1, S2, update):
    """Sum of log p(x) over ``xs``; with ``update``, the statistics about the current means.

    ``Nk``, ``S1``, ``S2`` (K,) get sum r, sum r (x - mu), sum r (x - mu)^2.
    ``lpb`` (K, BLOCK), ``top``, ``ssum`` (BLOCK,) are scratch.
    """
    K = means.shape[0]
    n = xs.shape[0]
    if update:
        for k in range(K):
            Nk[k] = 0.0
            S1[k] = 0.0
            S2[k] = 0.0
    total = 0.0
    for a0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - a0)
        xb = xs[a0 : a0 + nb]
        for t in range(nb):
            top[t] = -np.inf
            ssum[t] = 0.0
        for k in range(K):
            lk = lpb[k]
            c = consts[k]
            if c == -np.inf:
                for t in range(nb):
                    lk[t] = -np.inf
                continue
            m = means[k]
            pk = p[k]
            for t in range(nb):
                z = (xb[t] - m) * pk
                v = c - 0.5 * (z * z)
                lk[t] = v
                top[t] = v if v > top[t] else top[t]
        for k in range(K):
            _exp_block(lpb[k], top, ssum, nb, ibits, fbits)
        # sum of log ssum[t] as logs of products of LOG_CHUNK rows: 1 <= ssum[t] <= K, so
        # a product cannot overflow, and the product loop vectorises where a log does not
        for t in range(nb):
            total += top[t]
        for c0 in range(0, nb, LOG_CHUNK):
            prod = 1.0
            for t in range(c0, min(c0 + LOG_CHUNK, nb)):
                prod *= ssum[t]
            total += math.log(prod)
        if not update:
            continue
        for t in range(nb):
            ssum[t] = 1.0 / ssum[t]
        for k in range(K):
            lk = lpb[k]
            m = means[k]
            nk = s1 = s2 = 0.0
            for t in range(nb):
                r = lk[t] * ssum[t]
                e = xb[t] - m
                re = r * e
                nk += r
                s1 += re
                s2 += re * e
            Nk[k] += nk
            S1[k] += s1
            S2[k] += s2
    return total


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
def _m_step_1d(Nk, S1, S2, reg_covar, weights, means, variances):
    """`gmmmi._kernels.em._m_step` for d = 1; True if a variance was rejected."""
    K = means.shape[0]
    singular = False
    wsum = 0.0
    for k in range(K):
        nk = Nk[k] + NK_EPS
        weights[k] = nk
        wsum += nk
        if Nk[k] < EMPTY_COMPONENT:
            continue
        means[k] += S1[k] / nk
        d = S1[k] / nk
        c = S2[k] / nk - d * d + reg_covar
        if c > 0.0:
            variances[k] = c
        else:
            singular = True
    for k in range(K):
        weights[k] /= wsum
    return singular


@njit(cache=True, fastmath=FASTMATH, nogil=True)
def em1d_fit_batch(
    x, rows, set_ptr, fit_set, vrows, vset_ptr, fit_vset, init_w, init_m, init_v, reg_covar, tol,
    max_iter,
):  # fmt: skip
    """Run F independent 1-D EM fits, one after the other, without the GIL.

    Fit ``f`` trains on ``x[rows[set_ptr[s]:set_ptr[s + 1]]]``, ``s =
    fit_set[f]`` (every row of weight 1), and is scored on the rows of
    validation set ``fit_vset[f]`` of ``vrows`` / ``vset_ptr`` (an empty set
    gives a NaN score).

    Parameters
    ----------
    x : ndarray, shape (n,)
    rows : ndarray of int64, shape (m,)
    set_ptr : ndarray of int64, shape (n_sets + 1,)
    fit_set : ndarray of int64, shape (F,)
    vrows : ndarray of int64, shape (mv,)
    vset_ptr : ndarray of int64, shape (n_vsets + 1,)
    fit_vset : ndarray of int64, shape (F,)
    init_w, init_m, init_v : ndarray, shape (F, K)
        Starting weights, means and variances.
    reg_covar : float
        Added to the variances at every M-step.
    tol : float
        Stop when the mean log-likelihood per row changes by less.
    max_iter : int

    Returns
    -------
    weights, means, variances : ndarray, shape (F, K)
    n_iter, status : ndarray of int64, shape (F,)
        Iterations run; bit flags of `gmmmi._kernels.em`.
    train_ll, valid_ll : ndarray, shape (F,)
        Final mean log-likelihood per training and per validation row.
    """
    F, K = init_w.shape
    weights = init_w.copy()
    means = init_m.copy()
    variances = init_v.copy()
    n_iter = np.zeros(F, dtype=np.int64)
    status = np.zeros(F, dtype=np.int64)
    train_ll = np.full(F, np.nan)
    valid_ll = np.full(F, np.nan)
    lpb = np.empty((K, BLOCK))
    top = np.empty(BLOCK)
    ssum = np.empty(BLOCK)
    ibits = np.empty(BLOCK, dtype=np.int64)
    fbits = ibits.view(np.float64)
    p = np.empty(K)
    consts = np.empty(K)
    Nk = np.empty(K)
    S1 = np.empty(K)
    S2 = np.empty(K)
    for f in range(F):
        a, b = set_ptr[fit_set[f]], set_ptr[fit_set[f] + 1]
        xs = np.empty(b - a)
        for i in range(b - a):
            xs[i] = x[rows[a + i]]
        va, vb = vset_ptr[fit_vset[f]], vset_ptr[fit_vset[f] + 1]
        xv = np.empty(vb - va)
        for i in range(vb - va):
            xv[i] = x[vrows[va + i]]
        w, m, v = weights[f], means[f], variances[f]
        st = STATUS_OK
        if K == 1:  # the closed form EM converges to, counted as one iteration
            Nk[0] = 0.0
            S1[0] = 0.0
            S2[0] = 0.0
            for i in range(xs.shape[0]):
                e = xs[i] - m[0]
                Nk[0] += 1.0
                S1[0] += e
                S2[0] += e * e
            if _m_step_1d(Nk, S1, S2, reg_covar, w, m, v):
                st |= STATUS_SINGULAR
            n_iter[f] = 1
            if not _prepare(w, v, p, consts):
                status[f] = st | STATUS_BAD_INIT
                continue
        else:
            if not _prepare(w, v, p, consts):
                status[f] = STATUS_BAD_INIT
                continue
            lower_bound = -np.inf
            converged = False
            for it in range(1, max_iter + 1):
                new_bound = (
                    _e_step_1d(xs, m, p, consts, lpb, top, ssum, ibits, fbits, Nk, S1, S2, STATS)
                    / xs.shape[0]
                )
                n_iter[f] = it
                if not math.isfinite(new_bound):
                    st |= STATUS_NAN
                    break
                if _m_step_1d(Nk, S1, S2, reg_covar, w, m, v):
                    st |= STATUS_SINGULAR
                _prepare(w, v, p, consts)
                change = new_bound - lower_bound
                lower_bound = new_bound
                if abs(change) < tol:
                    converged = True
                    break
            if not converged and st & STATUS_NAN == 0:
                st |= STATUS_MAX_ITER
        status[f] = st
        for part in range(2):  # the final scores; one call site compiles the E-step once
            rows_of = xs if part == 0 else xv
            if rows_of.shape[0] == 0:
                continue
            ll = _e_step_1d(
                rows_of, m, p, consts, lpb, top, ssum, ibits, fbits, Nk, S1, S2, NO_STATS
            )
            if part == 0:
                train_ll[f] = ll / rows_of.shape[0]
            else:
                valid_ll[f] = ll / rows_of.shape[0]
    return weights, means, variances, n_iter, status, train_ll, valid_ll
