"""EM for full-covariance Gaussian mixtures, compiled with Numba.

One EM iteration is a single pass over the samples: each sample's component
log-densities are computed from inverse Cholesky factors
(`gmmmi._kernels.logdensity`), normalised, and
immediately accumulated into per-component sufficient statistics taken about
the current means (so the covariance update does not lose precision). The
M-step then needs only those statistics. No per-iteration allocation, no BLAS.

Training sets are given as row indices into ``X`` with a weight per row: the
cross-validation folds use weights of 1 and bootstrap replicas use the number
of times each row was drawn, so a replica never copies the data. Many fits
run in one call, one after the other and without the GIL, so that the caller
can run batches of fits in threads; every fit is a sequential loop and its
result does not depend on the number of threads.

Status codes (bit flags, per fit): ``STATUS_MAX_ITER`` the fit stopped at
``max_iter``; ``STATUS_SINGULAR`` an M-step gave a covariance that is not
positive definite, and the component kept its previous covariance;
``STATUS_BAD_INIT`` an initial covariance is not positive definite (no
iteration run); ``STATUS_NAN`` the log-likelihood became non-finite.
"""

import math

import numpy as np
from numba import njit

from .linalg import FASTMATH, NO_WRAPPERS, cholesky_lower
from .logdensity import (
    BLOCK,
    block_logpdf,
    block_views,
    log_block,
    prepare_mixture,
)
from .moments import sum_moments

STATUS_OK = 0
STATUS_MAX_ITER = 1
STATUS_SINGULAR = 2
STATUS_BAD_INIT = 4
STATUS_NAN = 8

#: the ``update`` flag of `_e_step`: numpy booleans are run-time values to Numba, so the
#: E-step compiles once for both uses (a literal True/False would compile it twice)
STATS = np.bool_(True)
NO_STATS = np.bool_(False)

#: effective sample count below which a component is empty and keeps its parameters
EMPTY_COMPONENT = 1e-10
#: added to every component's effective count, as scikit-learn does, against 0/0
NK_EPS = 10.0 * np.finfo(np.float64).eps


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", **NO_WRAPPERS)
def _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, update):
    """Sum of w log p(x) over ``rows``; with ``update``, also the M-step statistics.

    ``Nk`` (K,), ``S1`` (K, d) and ``S2`` (K, d, d, lower triangle) are zeroed
    and filled with sum r, sum r (x - mu) and sum r (x - mu)(x - mu)^T about
    the current means, where r = w * responsibility. ``ws`` is the scratch of
    shape (K + d + 4, BLOCK).
    """
    K, d = means.shape
    lpb, xb, top, ssum, zt, q = block_views(ws, K, d)
    if update:
        Nk[:] = 0.0
        S1[:] = 0.0
        S2[:] = 0.0
    total = 0.0
    n = rows.shape[0]
    for a0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - a0)
        block_logpdf(X, rows, a0, nb, means, P, consts, lpb, xb, top, ssum, zt, q, ibits, fbits)
        w = row_w[a0 : a0 + nb]
        log_block(ssum, zt, nb, ibits, fbits)  # zt[t] = log(ssum[t])
        for t in range(nb):
            total += w[t] * (top[t] + zt[t])
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


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
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


def _scratch(K: int, d: int) -> tuple:
    """Every scratch array of the fits of one batch (allocated once, not per fit or iteration).

    Allocated here, not in the compiled kernels: each allocation compiled into a kernel
    costs compile time (docstring of `gmmmi._kernels`). Every fit writes each scratch
    array before reading it, so fits sharing it are independent. The E-step's rows
    (``ws``, ``ibits``, ``fbits``: `logdensity.block_scratch`'s) start on 64-byte
    boundaries, as its vectorised loops need: with numpy's 16-byte alignment the EM kernel
    ran 8-13 % slower (benchmarks/compile_profile.py warm, K > 1).
    """
    rows = _aligned(K + d + 5, BLOCK)  # ws, then fbits; each row 2 KB, so each aligned
    fbits = rows[K + d + 4]
    return (
        np.empty((d, d)),  # L: a Cholesky factor
        np.empty((d, d)),  # C: a candidate covariance
        np.empty((K, d, d)),  # P: inverse Cholesky factors
        np.empty(K),  # consts: log-normalisers with log-weights
        rows[: K + d + 4],  # ws: the blocked E-step's rows (block_views)
        fbits.view(np.int64),  # ibits: the same memory as fbits (the vectorised exp's bits)
        fbits,
        np.empty(K),  # Nk
        np.empty((K, d)),  # S1
        np.empty((K, d, d)),  # S2
    )


#: the alignment of the E-step's scratch rows: a cache line, a multiple of any vector width
ALIGN = 64


def _aligned(n_rows: int, n_columns: int) -> np.ndarray:
    """An uninitialised C-contiguous float64 array whose data starts on `ALIGN` bytes."""
    size = n_rows * n_columns * 8
    buffer = np.empty(size + ALIGN, dtype=np.uint8)
    start = -buffer.__array_interface__["data"][0] % ALIGN
    return buffer[start : start + size].view(np.float64).reshape(n_rows, n_columns)


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
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
            for i in range(d):  # not covs[k] = C: see gmmmi._kernels, compile time
                for j in range(d):
                    covs[k, i, j] = C[i, j]
        else:
            singular = True
    for k in range(K):
        weights[k] /= wsum
    return singular


def em_fit_batch(
    X,
    rows,
    row_w,
    set_ptr,
    fit_set,
    vrows,
    vrow_w,
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
) -> tuple:
    """Run F independent EM fits, one after the other, without the GIL.

    The caller runs batches of fits in threads (`gmmmi._em.fit.fit_batch`):
    a serial kernel compiles several times faster than a ``prange`` one.

    Training set ``s`` is ``rows[set_ptr[s]:set_ptr[s + 1]]`` with weights
    ``row_w[...]`` (the same slice); fit ``f`` trains on set ``fit_set[f]``
    and is validated on set ``fit_vset[f]`` of ``vrows`` / ``vset_ptr``
    with weights ``vrow_w`` (1, or sample weights; an empty set gives NaN
    scores).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    rows : ndarray of int64, shape (m,)
    row_w : ndarray, shape (m,)
        Weight of each row (1, or a bootstrap count).
    set_ptr : ndarray of int64, shape (n_sets + 1,)
    fit_set : ndarray of int64, shape (F,)
    vrows : ndarray of int64, shape (mv,)
    vrow_w : ndarray, shape (mv,)
        Weight of each validation row.
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
    F, K, d = init_means.shape
    out = (
        np.array(init_weights, dtype=np.float64, order="C"),  # copies, updated in place
        np.array(init_means, dtype=np.float64, order="C"),
        np.array(init_covs, dtype=np.float64, order="C"),
        np.zeros(F, dtype=np.int64),  # n_iter
        np.zeros(F, dtype=np.int64),  # status
        np.empty(F),  # train_ll
        np.empty(F),  # valid_ll
        np.full((F, curve_len), np.nan),  # curves_train
        np.full((F, curve_len), np.nan),  # curves_valid
    )
    _em_fit_batch(
        X,
        rows,
        row_w,
        set_ptr,
        fit_set,
        vrows,
        vrow_w,
        vset_ptr,
        fit_vset,
        reg_covar,
        tol,
        max_iter,
        score_final,
        out,
        _scratch(K, d),
    )
    return out


@njit(cache=True, fastmath=FASTMATH, nogil=True)
def _em_fit_batch(
    X,
    all_rows,
    all_row_w,
    set_ptr,
    fit_set,
    all_vrows,
    all_vrow_w,
    vset_ptr,
    fit_vset,
    reg_covar,
    tol,
    max_iter,
    score_final,
    out,
    sc,
):
    """`em_fit_batch`'s fits, into its outputs ``out`` with the scratch ``sc`` (`_scratch`).

    The arrays are allocated by the caller, in Python: every allocation compiled into
    this kernel would cost compile time in a fresh environment. Each fit runs EM from
    its parameters in ``out`` (updated in place) until the change of the mean
    per-sample training log-likelihood is below ``tol`` in absolute value, or
    ``max_iter`` iterations. When the curves have length > 0, the training and
    validation mean log-likelihoods after each iteration are written there, for as
    many iterations as they hold (recording never changes the fit). With ``max_iter``
    0 (for any K) the start is only scored: `mean_loglik`.

    One component (K = 1, ``max_iter`` > 0) is fitted in closed form, what EM
    converges to: the weighted sample mean and covariance (plus ``reg_covar`` on
    the diagonal) of the training rows, accumulated about the initial mean as the
    E-step does, counted as one iteration; if that covariance is not positive
    definite the initial one is kept (``STATUS_SINGULAR``). Both cases share the
    scoring below (one call site per use of the E-step: each is compiled code).
    The fit's body is written here, not in an inlined function: Numba's inlining
    cost 0.3-0.5 s of a cold start's compilation (docs/scaling.md).
    """
    weights_, means_, covs_, n_iters, statuses, train_lls, valid_lls, cts, cvs = out
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = sc
    for f in range(weights_.shape[0]):
        rows = all_rows[set_ptr[fit_set[f]] : set_ptr[fit_set[f] + 1]]
        row_w = all_row_w[set_ptr[fit_set[f]] : set_ptr[fit_set[f] + 1]]
        vrows = all_vrows[vset_ptr[fit_vset[f]] : vset_ptr[fit_vset[f] + 1]]
        vrow_w = all_vrow_w[vset_ptr[fit_vset[f]] : vset_ptr[fit_vset[f] + 1]]
        weights, means, covs = weights_[f], means_[f], covs_[f]
        ct, cv = cts[f], cvs[f]
        K = means.shape[0]
        W = 0.0
        for a in range(row_w.shape[0]):
            W += row_w[a]
        VW = 0.0
        for a in range(vrow_w.shape[0]):
            VW += vrow_w[a]
        record = ct.shape[0] > 0
        status = STATUS_OK
        n_iter = 0
        single = K == 1 and max_iter > 0
        if single:  # the closed form: the statistics about the initial mean, one M-step
            sum_moments(X, rows, row_w, means[0], Nk, S1, S2)  # in row order
            if _m_step(Nk, S1, S2, reg_covar, weights, means, covs, C, L):
                status |= STATUS_SINGULAR
            n_iter = 1
            W = Nk[0]  # the same sum, accumulated in sum_moments' order
        if not prepare_mixture(weights, means, covs, L, P, consts):
            n_iters[f], statuses[f] = n_iter, status | STATUS_BAD_INIT
            train_lls[f] = valid_lls[f] = np.nan
            continue
        lower_bound = -np.inf
        converged = single
        for it in range(1, 0 if single else max_iter + 1):
            new_bound = (
                _e_step(X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, STATS) / W
            )
            if record and 2 <= it <= ct.shape[0] + 1:
                # the curves hold the log-likelihood *after* each iteration's M-step
                ct[it - 2] = new_bound
                if VW > 0.0:
                    score = _e_step(
                        X, vrows, vrow_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, NO_STATS
                    )
                    cv[it - 2] = score / VW
            n_iter = it
            if not math.isfinite(new_bound):
                status |= STATUS_NAN
                break
            if _m_step(Nk, S1, S2, reg_covar, weights, means, covs, C, L):
                status |= STATUS_SINGULAR
            prepare_mixture(weights, means, covs, L, P, consts)
            change = new_bound - lower_bound
            lower_bound = new_bound
            if abs(change) < tol:
                converged = True
                break
        if not converged and status & STATUS_NAN == 0:
            status |= STATUS_MAX_ITER
        train_ll = np.nan
        if score_final or record:
            score = _e_step(
                X, rows, row_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, NO_STATS
            )
            train_ll = score / W
        valid_ll = np.nan
        if VW > 0.0 or (single and vrows.shape[0] > 0):  # (K = 1 scored weights of 0 too)
            score = _e_step(
                X, vrows, vrow_w, means, P, consts, ws, ibits, fbits, Nk, S1, S2, NO_STATS
            )
            valid_ll = score / VW
        if record and n_iter <= ct.shape[0]:
            ct[n_iter - 1] = train_ll
            cv[n_iter - 1] = valid_ll
        n_iters[f], statuses[f], train_lls[f], valid_lls[f] = n_iter, status, train_ll, valid_ll


def em_step(X, sample_weight, weights, means, covs, reg_covar) -> tuple:
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
    w, m, c = (np.array(a, dtype=np.float64) for a in (weights, means, covs))
    X = np.ascontiguousarray(X, dtype=np.float64)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    rows = np.arange(X.shape[0], dtype=np.int64)
    total, status = _em_step(X, rows, sample_weight, w, m, c, reg_covar, _scratch(K, d))
    return total / sample_weight.sum(), w, m, c, status


@njit(cache=True, fastmath=FASTMATH)
def _em_step(X, rows, sample_weight, w, m, c, reg_covar, sc):
    """`em_step` on its copies ``w``, ``m``, ``c`` (updated in place): (total, status)."""
    L, C, P, consts, ws, ibits, fbits, Nk, S1, S2 = sc
    if not prepare_mixture(w, m, c, L, P, consts):
        return np.nan, STATUS_BAD_INIT
    total = _e_step(X, rows, sample_weight, m, P, consts, ws, ibits, fbits, Nk, S1, S2, STATS)
    status = STATUS_OK
    if _m_step(Nk, S1, S2, reg_covar, w, m, c, C, L):
        status = STATUS_SINGULAR
    return total, status


def mean_loglik(X, weights, means, covs):
    """Mean log-likelihood per sample of all rows of ``X`` under one mixture.

    Computed by `em_fit_batch` with ``max_iter`` 0 (the start scored, no
    iteration), so that the E-step is compiled into one kernel only, not
    linked and compiled again into a second one (docs/scaling.md, "The first
    call in a fresh environment").

    Parameters
    ----------
    X : ndarray, shape (n, d)
    weights, means, covs : ndarray, shapes (K,), (K, d), (K, d, d)

    Returns
    -------
    float
        In nats; NaN if a covariance is not positive definite.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)  # the one signature of em_fit_batch
    n = X.shape[0]
    one = np.zeros(1, dtype=np.int64)
    no_rows = np.zeros(0, dtype=np.int64)
    fit = em_fit_batch(
        X,
        np.arange(n, dtype=np.int64),
        np.ones(n),
        np.array([0, n], dtype=np.int64),
        one,
        no_rows,
        np.zeros(0),
        np.zeros(2, dtype=np.int64),
        one,
        np.ascontiguousarray(weights, dtype=np.float64)[None],
        np.ascontiguousarray(means, dtype=np.float64)[None],
        np.ascontiguousarray(covs, dtype=np.float64)[None],
        0.0,
        0.0,
        0,
        0,
        True,
    )
    return float(fit[5][0])


def moments_from_responsibilities(X: np.ndarray, resp: np.ndarray) -> tuple:
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
    nk, means, covs = np.full(K, NK_EPS), np.zeros((K, d)), np.zeros((K, d, d))
    _moments(X, resp, nk, means, covs)
    return nk * (1.0 / n), means, covs  # as compiled with "arcp" before: the same bits


@njit(cache=True, fastmath=FASTMATH)
def _moments(X, resp, nk, means, covs):
    """`moments_from_responsibilities` added into ``nk`` (counts), ``means`` and ``covs``.

    The arrays are allocated by the caller, in Python (docstring of `gmmmi._kernels`).
    """
    n, d = X.shape
    K = resp.shape[1]
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
