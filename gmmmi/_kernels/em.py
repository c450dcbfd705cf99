"""EM for full-covariance Gaussian mixtures, and Lloyd's k-means, compiled with Numba.

One EM iteration is a single pass over the samples: each sample's component
log-densities are computed from inverse Cholesky factors, normalised, and
immediately accumulated into per-component sufficient statistics taken about
the current means (so the covariance update does not lose precision). The
M-step then needs only those statistics. No per-iteration allocation, no BLAS.

Training sets are given as row indices into ``X`` with a weight per row: the
cross-validation folds use weights of 1 and bootstrap replicas use the number
of times each row was drawn, so a replica never copies the data. Many fits
run in one call, in parallel over fits only (``prange``), so every fit is a
sequential loop and its result does not depend on the number of threads.

Status codes (bit flags, per fit): ``STATUS_MAX_ITER`` the fit stopped at
``max_iter``; ``STATUS_SINGULAR`` an M-step gave a covariance that is not
positive definite, and the component kept its previous covariance;
``STATUS_BAD_INIT`` an initial covariance is not positive definite (no
iteration run); ``STATUS_NAN`` the log-likelihood became non-finite.
"""

import math
from contextlib import contextmanager

import numba
import numpy as np
from numba import njit, prange

from .linalg import FASTMATH, cholesky_lower, whiten_component

#: Estimated work (sample x component evaluations) below which a parallel kernel is run
#: on the calling thread only: waking Numba's worker threads costs more than tiny batches
#: gain. Measured on 2 cores at load <= 2 (warm, D3/D5 at N=2000, about 1e7): 2 threads
#: took 94/81 ms against 170/146 ms on one thread. Under heavy oversubscription (load 5-8)
#: the idle worker's spin-wait made 2 threads slower instead; that is the machine's
#: problem to solve (NUMBA_NUM_THREADS=1), not a reason to give up both cores.
PARALLEL_MIN_WORK = 1e6


@contextmanager
def threads_for(work: float):
    """Context in which parallel kernels use one thread when ``work`` is small.

    Parameters
    ----------
    work : float
        Estimated sample x component evaluations of the enclosed compiled calls;
        below `PARALLEL_MIN_WORK` Numba's thread count is set to 1 (for the
        calling thread only) and restored on exit. Results never depend on it.
    """
    if work >= PARALLEL_MIN_WORK:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


STATUS_OK = 0
STATUS_MAX_ITER = 1
STATUS_SINGULAR = 2
STATUS_BAD_INIT = 4
STATUS_NAN = 8

#: effective sample count below which a component is empty and keeps its parameters
EMPTY_COMPONENT = 1e-10
#: added to every component's effective count, as scikit-learn does, against 0/0
NK_EPS = 10.0 * np.finfo(np.float64).eps


@njit(cache=True, fastmath=FASTMATH)
def _prepare(weights, means, covs, L, P, consts):
    """Inverse Cholesky factors ``P`` (K, d, d) and ``consts`` (K,) of a mixture.

    ``consts[k] = log w_k - d/2 log(2 pi) - 1/2 log|Sigma_k|``, so that
    ``log w_k N(x | mu_k, Sigma_k) = consts[k] - |P_k (x - mu_k)|^2 / 2``.
    ``L`` (d, d) is scratch. Returns False if a covariance is not positive
    definite.
    """
    K, d = means.shape
    for k in range(K):
        if not cholesky_lower(covs[k], L):
            return False
        log_weight = math.log(weights[k]) if weights[k] > 0.0 else -np.inf
        consts[k] = whiten_component(L, P[k], log_weight)
    return True


#: samples per block: the loops over a block's samples are vectorised
BLOCK = 256

# exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln(2) / 2, Cody-Waite split of ln 2
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
# no ``reassoc`` here: it would fold the two-part reduction x - n*hi - n*lo
_EXP_MATH = {"nsz", "arcp", "contract"}


@njit(cache=True, fastmath=_EXP_MATH)
def _exp_block(a, shift, total, nb, ibits, fbits):
    """In place ``a[:nb] = exp(a[:nb] - shift[:nb])``, and ``total[:nb] += a[:nb]``.

    Written as loops the compiler vectorises: range reduction and a degree-13
    Taylor polynomial (relative error below 2e-16 on the reduced range).
    Results below exp(-680) are flushed to 0 (no subnormal arithmetic later);
    arguments above 709 are clamped. ``ibits`` (int64) and ``fbits`` (its
    float64 view) are scratch of length >= nb.
    """
    for t in range(nb):
        x0 = a[t] - shift[t]
        x = x0 if x0 > -700.0 else -700.0
        x = x if x < 709.0 else 709.0
        n = math.floor(x * _LOG2E + 0.5)
        r = (x - n * _LN2_HI) - n * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        a[t] = p if x0 > -680.0 else 0.0
        ibits[t] = (np.int64(n) + 1023) << 52
    for t in range(nb):
        a[t] *= fbits[t]
        total[t] += a[t]


@njit(cache=True, fastmath=FASTMATH)
def _block_logpdf(X, rows, a0, nb, means, P, consts, lpb, xb, top, ssum, zt, q, ibits, fbits):
    """Component densities of samples ``rows[a0:a0 + nb]`` (nb <= BLOCK).

    On return ``xb[:, t]`` holds sample t, ``lpb[k, t] = exp(log w_k N(x_t|k) - top[t])``,
    ``ssum[t] = sum_k lpb[k, t]`` and ``top[t] = log p(x_t) - log ssum[t]``.
    """
    K, d = means.shape
    for t in range(nb):
        r = rows[a0 + t]
        for i in range(d):
            xb[i, t] = X[r, i]
    for t in range(nb):
        top[t] = -np.inf
    for k in range(K):
        lk = lpb[k]
        if consts[k] == -np.inf:
            for t in range(nb):
                lk[t] = -np.inf
            continue
        if d == 2:
            _quad_form_2(xb, means[k], P[k], nb, q)
        elif d == 3:
            _quad_form_3(xb, means[k], P[k], nb, q)
        else:
            _quad_form(xb, means[k], P[k], nb, q, zt)
        c = consts[k]
        for t in range(nb):
            v = c - 0.5 * q[t]
            lk[t] = v
            top[t] = v if v > top[t] else top[t]
    for t in range(nb):
        ssum[t] = 0.0
    for k in range(K):
        _exp_block(lpb[k], top, ssum, nb, ibits, fbits)


@njit(cache=True, fastmath=FASTMATH)
def _quad_form_2(xb, mean, P, nb, q):
    """q[t] = |P (x_t - mean)|^2 for d = 2, in one vectorised pass."""
    m0, m1 = mean[0], mean[1]
    p00, p10, p11 = P[0, 0], P[1, 0], P[1, 1]
    x0, x1 = xb[0], xb[1]
    for t in range(nb):
        e0 = x0[t] - m0
        e1 = x1[t] - m1
        z0 = p00 * e0
        z1 = p10 * e0 + p11 * e1
        q[t] = z0 * z0 + z1 * z1


@njit(cache=True, fastmath=FASTMATH)
def _quad_form_3(xb, mean, P, nb, q):
    """q[t] = |P (x_t - mean)|^2 for d = 3, in one vectorised pass."""
    m0, m1, m2 = mean[0], mean[1], mean[2]
    p00, p10, p11, p20, p21, p22 = P[0, 0], P[1, 0], P[1, 1], P[2, 0], P[2, 1], P[2, 2]
    x0, x1, x2 = xb[0], xb[1], xb[2]
    for t in range(nb):
        e0 = x0[t] - m0
        e1 = x1[t] - m1
        e2 = x2[t] - m2
        z0 = p00 * e0
        z1 = p10 * e0 + p11 * e1
        z2 = p20 * e0 + p21 * e1 + p22 * e2
        q[t] = z0 * z0 + z1 * z1 + z2 * z2


@njit(cache=True, fastmath=FASTMATH)
def _quad_form(xb, mean, P, nb, q, zt):
    """q[t] = |P (x_t - mean)|^2 for any d (``zt`` is scratch)."""
    d = mean.shape[0]
    for t in range(nb):
        q[t] = 0.0
    for i in range(d):
        for t in range(nb):
            zt[t] = 0.0
        for j in range(i + 1):
            p = P[i, j]
            m = mean[j]
            xj = xb[j]
            for t in range(nb):
                zt[t] += p * (xj[t] - m)
        for t in range(nb):
            q[t] += zt[t] * zt[t]


@njit(cache=True, fastmath=FASTMATH)
def _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, update):
    """Sum of w log p(x) over ``rows``; with ``update``, also the M-step statistics.

    ``Nk`` (K,), ``S1`` (K, d) and ``S2`` (K, d, d, lower triangle) are zeroed
    and filled with sum r, sum r (x - mu) and sum r (x - mu)(x - mu)^T about
    the current means, where r = w * responsibility. ``ws`` is the scratch of
    shape (K + d + 4, BLOCK).
    """
    K, d = means.shape
    lpb = ws[:K]
    xb = ws[K : K + d]
    top = ws[K + d]
    ssum = ws[K + d + 1]
    zt = ws[K + d + 2]
    q = ws[K + d + 3]
    if update:
        Nk[:] = 0.0
        S1[:] = 0.0
        S2[:] = 0.0
    total = 0.0
    n = rows.shape[0]
    for a0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - a0)
        _block_logpdf(X, rows, a0, nb, means, P, consts, lpb, xb, top, ssum, zt, q, ibits, fbits)
        w = row_w[a0 : a0 + nb]
        for t in range(nb):
            total += w[t] * (top[t] + math.log(ssum[t]))
        if not update:
            continue
        for t in range(nb):
            q[t] = w[t] / ssum[t]  # responsibility = lpb[k, t] / ssum[t]
        for k in range(K):
            lk = lpb[k]
            if d == 2:
                _stats_2(lk, q, xb, means[k], nb, Nk, S1[k], S2[k], k)
                continue
            nk = 0.0
            for t in range(nb):
                lk[t] *= q[t]
                nk += lk[t]
            Nk[k] += nk
            for i in range(d):
                mi = means[k, i]
                xi = xb[i]
                s1 = 0.0
                for t in range(nb):
                    s1 += lk[t] * (xi[t] - mi)
                S1[k, i] += s1
                for j in range(i + 1):
                    mj = means[k, j]
                    xj = xb[j]
                    s2 = 0.0
                    for t in range(nb):
                        s2 += lk[t] * (xi[t] - mi) * (xj[t] - mj)
                    S2[k, i, j] += s2
    return total


@njit(cache=True, fastmath=FASTMATH)
def _stats_2(lk, q, xb, mean, nb, Nk, S1k, S2k, k):
    """The d = 2 M-step statistics of one component and block, in one fused pass.

    ``lk[t]`` becomes the responsibility ``lk[t] * q[t]``; its sum and its
    first and second moments about ``mean`` are added to ``Nk[k]``, ``S1k``
    (2,) and the lower triangle of ``S2k`` (2, 2).
    """
    m0, m1 = mean[0], mean[1]
    x0, x1 = xb[0], xb[1]
    n0 = s0 = s1 = s00 = s10 = s11 = 0.0
    for t in range(nb):
        r = lk[t] * q[t]
        lk[t] = r
        e0 = x0[t] - m0
        e1 = x1[t] - m1
        re0 = r * e0
        re1 = r * e1
        n0 += r
        s0 += re0
        s1 += re1
        s00 += re0 * e0
        s10 += re1 * e0
        s11 += re1 * e1
    Nk[k] += n0
    S1k[0] += s0
    S1k[1] += s1
    S2k[0, 0] += s00
    S2k[1, 0] += s10
    S2k[1, 1] += s11


@njit(cache=True)
def _scratch(K, d):
    """Every scratch array of one fit (allocated once per fit, not per iteration)."""
    ibits = np.empty(BLOCK, dtype=np.int64)
    return (
        np.empty((d, d)),  # L: a Cholesky factor
        np.empty((d, d)),  # C: a candidate covariance
        np.empty((K, d, d)),  # P: inverse Cholesky factors
        np.empty(K),  # consts: log-normalisers with log-weights
        np.empty((K + d + 4, BLOCK)),  # ws: blocked E-step
        ibits,
        ibits.view(np.float64),
        np.empty(K),  # Nk
        np.empty((K, d)),  # S1
        np.empty((K, d, d)),  # S2
    )


@njit(cache=True, fastmath=FASTMATH)
def _m_step(Nk, S1, S2, reg_covar, weights, means, covs, C, L):
    """Update ``weights``, ``means``, ``covs`` in place from the E-step statistics.

    Empty components (effective count below ``EMPTY_COMPONENT``) keep their
    mean and covariance. A covariance that is not positive definite is not
    accepted (the previous one is kept). ``C`` and ``L`` (d, d) are scratch.

    Returns
    -------
    singular : bool
        True if some covariance was rejected.
    """
    K, d = means.shape
    singular = False
    wsum = 0.0
    for k in range(K):
        nk = Nk[k] + NK_EPS
        weights[k] = nk
        wsum += nk
        if Nk[k] < EMPTY_COMPONENT:
            continue
        for i in range(d):
            means[k, i] += S1[k, i] / nk
        for i in range(d):
            di = S1[k, i] / nk
            for j in range(i + 1):
                C[i, j] = S2[k, i, j] / nk - di * (S1[k, j] / nk)
                C[j, i] = C[i, j]
            C[i, i] += reg_covar
        if cholesky_lower(C, L):
            covs[k, :, :] = C
        else:
            singular = True
    for k in range(K):
        weights[k] /= wsum
    return singular


@njit(cache=True, fastmath=FASTMATH)
def _fit_one(
    X, rows, row_w, vrows, vrow_w, weights, means, covs, reg_covar, tol, max_iter, ct, cv, score
):
    """EM from the parameters in ``weights``, ``means``, ``covs`` (updated in place).

    Iterates until the change of the mean per-sample training log-likelihood
    is below ``tol`` in absolute value, or ``max_iter`` iterations. When
    ``ct`` and ``cv`` have length > 0, the training and validation mean
    log-likelihoods after each iteration are written there, for as many
    iterations as they hold (recording never changes the fit).

    Returns
    -------
    n_iter, status, train_ll, valid_ll
        Iterations run, status bit flags, and the final mean log-likelihood
        per sample on the training rows (NaN unless ``score`` or curves) and
        on the validation rows (NaN when there are none).
    """
    K, d = means.shape
    if K == 1:
        return _fit_single(
            X, rows, row_w, vrows, vrow_w, weights, means, covs, reg_covar, ct, cv, score
        )
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = _scratch(K, d)
    if not _prepare(weights, means, covs, L, P, consts):
        return 0, STATUS_BAD_INIT, np.nan, np.nan
    W = 0.0
    for a in range(row_w.shape[0]):
        W += row_w[a]
    VW = 0.0
    for a in range(vrow_w.shape[0]):
        VW += vrow_w[a]
    record = ct.shape[0] > 0
    status = STATUS_OK
    lower_bound = -np.inf
    n_iter = 0
    converged = False
    for it in range(1, max_iter + 1):
        new_bound = (
            _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, True) / W
        )
        if record and 2 <= it <= ct.shape[0] + 1:
            # the curves hold the log-likelihood *after* each iteration's M-step
            ct[it - 2] = new_bound
            if VW > 0.0:
                cv[it - 2] = (
                    _e_step(X, vrows, vrow_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, False)
                    / VW
                )
        n_iter = it
        if not math.isfinite(new_bound):
            status |= STATUS_NAN
            break
        if _m_step(Nk, S1, S2, reg_covar, weights, means, covs, C, L):
            status |= STATUS_SINGULAR
        _prepare(weights, means, covs, L, P, consts)
        change = new_bound - lower_bound
        lower_bound = new_bound
        if abs(change) < tol:
            converged = True
            break
    if not converged and status & STATUS_NAN == 0:
        status |= STATUS_MAX_ITER
    train_ll = np.nan
    if score or record:
        train_ll = (
            _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, False) / W
        )
    valid_ll = np.nan
    if VW > 0.0:
        valid_ll = (
            _e_step(X, vrows, vrow_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, False) / VW
        )
    if record and n_iter <= ct.shape[0]:
        ct[n_iter - 1] = train_ll
        cv[n_iter - 1] = valid_ll
    return n_iter, status, train_ll, valid_ll


@njit(cache=True, fastmath=FASTMATH)
def _fit_single(X, rows, row_w, vrows, vrow_w, weights, means, covs, reg_covar, ct, cv, score):
    """The K = 1 maximum-likelihood fit in closed form (what EM converges to).

    The weighted sample mean and covariance (plus ``reg_covar`` on the
    diagonal) of the training rows, accumulated about the initial mean as the
    E-step does. Counted as one iteration; the arguments and return values are
    those of `_fit_one`. If the covariance is not positive definite the
    initial one is kept (``STATUS_SINGULAR``).
    """
    d = means.shape[1]
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = _scratch(1, d)
    Nk[:] = 0.0
    S1[:] = 0.0
    S2[:] = 0.0
    for a in range(rows.shape[0]):
        r = rows[a]
        w = row_w[a]
        Nk[0] += w
        for i in range(d):
            ei = X[r, i] - means[0, i]
            S1[0, i] += w * ei
            for j in range(i + 1):
                S2[0, i, j] += w * ei * (X[r, j] - means[0, j])
    status = STATUS_OK
    if _m_step(Nk, S1, S2, reg_covar, weights, means, covs, C, L):
        status |= STATUS_SINGULAR
    if not _prepare(weights, means, covs, L, P, consts):
        return 1, status | STATUS_BAD_INIT, np.nan, np.nan
    train_ll = np.nan
    if score or ct.shape[0] > 0:
        train_ll = (
            _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, False) / Nk[0]
        )
    valid_ll = np.nan
    if vrows.shape[0] > 0:
        VW = 0.0
        for a in range(vrow_w.shape[0]):
            VW += vrow_w[a]
        valid_ll = (
            _e_step(X, vrows, vrow_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, False) / VW
        )
    if ct.shape[0] > 0:
        ct[0] = train_ll
        cv[0] = valid_ll
    return 1, status, train_ll, valid_ll


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def em_fit_batch(
    X,
    rows,
    row_w,
    set_ptr,
    fit_set,
    vrows,
    vset_ptr,
    fit_vset,
    init_weights,
    init_means,
    init_covs,
    reg_covar,
    tol,
    max_iter,
    curve_len,
    score_final,
):
    """Run F independent EM fits, in parallel over fits.

    Training set ``s`` is ``rows[set_ptr[s]:set_ptr[s + 1]]`` with weights
    ``row_w[...]`` (the same slice); fit ``f`` trains on set ``fit_set[f]``
    and is validated on set ``fit_vset[f]`` of ``vrows`` / ``vset_ptr``
    (validation rows have weight 1; an empty set gives NaN scores).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    rows : ndarray of int64, shape (m,)
    row_w : ndarray, shape (m,)
        Weight of each row (1, or a bootstrap count).
    set_ptr : ndarray of int64, shape (n_sets + 1,)
    fit_set : ndarray of int64, shape (F,)
    vrows : ndarray of int64, shape (mv,)
    vset_ptr : ndarray of int64, shape (n_vsets + 1,)
    fit_vset : ndarray of int64, shape (F,)
    init_weights : ndarray, shape (F, K)
    init_means : ndarray, shape (F, K, d)
    init_covs : ndarray, shape (F, K, d, d)
    reg_covar : float
        Added to the covariance diagonals at every M-step.
    tol : float
        Stop when the mean per-sample log-likelihood changes by less.
    max_iter : int
    curve_len : int
        0 for no loss curves; else the iterations recorded per fit (a fit
        that runs longer has its curve cut at ``curve_len``, and is otherwise
        the same).
    score_final : bool
        Compute the final training log-likelihood (else NaN unless curves
        are recorded; saves one pass over the data per fit).

    Returns
    -------
    weights, means, covs : ndarray, shapes (F, K), (F, K, d), (F, K, d, d)
    n_iter, status : ndarray of int64, shape (F,)
    train_ll, valid_ll : ndarray, shape (F,)
        Final mean log-likelihood per (weighted) sample.
    curves_train, curves_valid : ndarray, shape (F, curve_len)
        Per-iteration mean log-likelihoods (NaN beyond each fit's n_iter;
        complete only for fits with n_iter <= curve_len).
    """
    F = init_weights.shape[0]
    weights = init_weights.copy()
    means = init_means.copy()
    covs = init_covs.copy()
    n_iter = np.zeros(F, dtype=np.int64)
    status = np.zeros(F, dtype=np.int64)
    train_ll = np.empty(F)
    valid_ll = np.empty(F)
    curves_train = np.full((F, curve_len), np.nan)
    curves_valid = np.full((F, curve_len), np.nan)
    vrow_w = np.ones(vrows.shape[0])
    for f in prange(F):
        a = set_ptr[fit_set[f]]
        b = set_ptr[fit_set[f] + 1]
        va = vset_ptr[fit_vset[f]]
        vb = vset_ptr[fit_vset[f] + 1]
        it, st, tl, vl = _fit_one(
            X,
            rows[a:b],
            row_w[a:b],
            vrows[va:vb],
            vrow_w[va:vb],
            weights[f],
            means[f],
            covs[f],
            reg_covar,
            tol,
            max_iter,
            curves_train[f],
            curves_valid[f],
            score_final,
        )
        n_iter[f] = it
        status[f] = st
        train_ll[f] = tl
        valid_ll[f] = vl
    return weights, means, covs, n_iter, status, train_ll, valid_ll, curves_train, curves_valid


@njit(cache=True, fastmath=FASTMATH)
def em_step(X, sample_weight, weights, means, covs, reg_covar):
    """One EM iteration on weighted samples (for tests and diagnostics).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    sample_weight : ndarray, shape (n,)
    weights, means, covs : ndarray, shapes (K,), (K, d), (K, d, d)
        Current parameters (not modified).
    reg_covar : float

    Returns
    -------
    mean_ll : float
        Weighted mean log-likelihood per sample under the current parameters.
    new_weights, new_means, new_covs : ndarray
    status : int
        ``STATUS_BAD_INIT`` / ``STATUS_SINGULAR`` bits, else 0.
    """
    K, d = means.shape
    w = weights.copy()
    m = means.copy()
    c = covs.copy()
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = _scratch(K, d)
    if not _prepare(w, m, c, L, P, consts):
        return np.nan, w, m, c, STATUS_BAD_INIT
    rows = np.arange(X.shape[0])
    total = _e_step(X, rows, sample_weight, m, P, consts, ws, ibits, fbits, Nk, S1, S2, True)
    status = STATUS_OK
    if _m_step(Nk, S1, S2, reg_covar, w, m, c, C, L):
        status = STATUS_SINGULAR
    return total / sample_weight.sum(), w, m, c, status


@njit(cache=True, fastmath=FASTMATH)
def mean_loglik(X, weights, means, covs):
    """Mean log-likelihood per sample of all rows of ``X`` under one mixture.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    weights, means, covs : ndarray, shapes (K,), (K, d), (K, d, d)

    Returns
    -------
    float
        In nats; NaN if a covariance is not positive definite.
    """
    K, d = means.shape
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = _scratch(K, d)
    if not _prepare(weights, means, covs, L, P, consts):
        return np.nan
    n = X.shape[0]
    total = _e_step(
        X, np.arange(n), np.ones(n), means, P, consts, ws, ibits, fbits, Nk, S1, S2, False
    )
    return total / n


@njit(cache=True, fastmath=FASTMATH)
def moments_from_responsibilities(X, resp):
    """Weights, means and covariances of an M-step on given responsibilities.

    No regularisation is added. As in scikit-learn, ``10 * eps`` is added to
    each component's effective count.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    resp : ndarray, shape (n, K)
        Non-negative; rows usually sum to 1.

    Returns
    -------
    weights : ndarray, shape (K,)
        Effective counts divided by n.
    means : ndarray, shape (K, d)
    covs : ndarray, shape (K, d, d)
    """
    n, d = X.shape
    K = resp.shape[1]
    nk = np.full(K, NK_EPS)
    means = np.zeros((K, d))
    covs = np.zeros((K, d, d))
    for t in range(n):
        for k in range(K):
            r = resp[t, k]
            nk[k] += r
            for i in range(d):
                means[k, i] += r * X[t, i]
    for k in range(K):
        for i in range(d):
            means[k, i] /= nk[k]
    for t in range(n):
        for k in range(K):
            r = resp[t, k]
            if r == 0.0:
                continue
            for i in range(d):
                ri = r * (X[t, i] - means[k, i])
                for j in range(i + 1):
                    covs[k, i, j] += ri * (X[t, j] - means[k, j])
    for k in range(K):
        for i in range(d):
            for j in range(i + 1):
                covs[k, i, j] /= nk[k]
                covs[k, j, i] = covs[k, i, j]
    return nk / n, means, covs


@njit(cache=True, fastmath=FASTMATH)
def kmeans_step(X, centers, labels, new_centers):
    """One Lloyd iteration: assign to the nearest centre, then recompute centres.

    Ties go to the lowest index. A cluster left empty keeps its centre.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    centers : ndarray, shape (K, d)
    labels : ndarray of int64, shape (n,), written in place
    new_centers : ndarray, shape (K, d), written in place

    Returns
    -------
    inertia : float
        Sum of squared distances to the nearest of ``centers`` (before the update).
    """
    n, d = X.shape
    K = centers.shape[0]
    counts = np.zeros(K)
    new_centers[:] = 0.0
    inertia = 0.0
    for t in range(n):
        best = np.inf
        lab = 0
        for k in range(K):
            s = 0.0
            for i in range(d):
                e = X[t, i] - centers[k, i]
                s += e * e
            if s < best:
                best = s
                lab = k
        labels[t] = lab
        inertia += best
        counts[lab] += 1.0
        for i in range(d):
            new_centers[lab, i] += X[t, i]
    for k in range(K):
        for i in range(d):
            if counts[k] > 0.0:
                new_centers[k, i] /= counts[k]
            else:
                new_centers[k, i] = centers[k, i]
    return inertia


@njit(cache=True, fastmath=FASTMATH)
def kmeans_lloyd(X, centers, max_iter, tol):
    """Lloyd's algorithm from ``centers`` until the squared centre shift is <= ``tol``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    centers : ndarray, shape (K, d)
        Starting centres (not modified).
    max_iter : int
    tol : float
        Absolute tolerance on the sum of squared centre moves.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Nearest final centre of each sample.
    centers : ndarray, shape (K, d)
    n_iter : int
    """
    n = X.shape[0]
    cur = centers.copy()
    new = np.empty_like(cur)
    labels = np.empty(n, dtype=np.int64)
    n_iter = 0
    for it in range(max_iter):
        kmeans_step(X, cur, labels, new)
        shift = 0.0
        for k in range(cur.shape[0]):
            for i in range(cur.shape[1]):
                e = new[k, i] - cur[k, i]
                shift += e * e
        cur[:] = new
        n_iter = it + 1
        if shift <= tol:
            break
    kmeans_step(X, cur, labels, new)
    return labels, cur, n_iter


@njit(cache=True)
def resample_sets(draws, n):
    """Bootstrap replicas as training sets: distinct rows and their counts.

    Parameters
    ----------
    draws : ndarray of int64, shape (B, m)
        Row indices drawn with replacement, one row of ``draws`` per replica.
    n : int
        Number of rows of the data.

    Returns
    -------
    rows : ndarray of int64
        Distinct drawn rows of every replica, ascending within a replica.
    counts : ndarray of float64
        How often each of those rows was drawn.
    ptr : ndarray of int64, shape (B + 1,)
        Replica b is ``rows[ptr[b]:ptr[b + 1]]``.
    """
    B, m = draws.shape
    tally = np.zeros(n, dtype=np.int64)
    rows = np.empty(B * min(m, n), dtype=np.int64)
    counts = np.empty(B * min(m, n))
    ptr = np.zeros(B + 1, dtype=np.int64)
    pos = 0
    for b in range(B):
        for a in range(m):
            tally[draws[b, a]] += 1
        for t in range(n):
            if tally[t] > 0:
                rows[pos] = t
                counts[pos] = tally[t]
                tally[t] = 0
                pos += 1
        ptr[b + 1] = pos
    return rows[:pos].copy(), counts[:pos].copy(), ptr
