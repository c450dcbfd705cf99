"""Blocked log-densities of full-covariance Gaussian mixtures, compiled with Numba.

The inner loop shared by EM (`gmmmi._kernels.em`) and the information
integrands (`gmmmi._kernels.integrands`): ``BLOCK`` samples at a time, each
component's log-density ``log w_k N(x | mu_k, Sigma_k)`` is computed from an
inverse Cholesky factor (`prepare_mixture`), shifted by the per-sample
maximum and exponentiated by a vectorised polynomial, so that the caller gets
the densities, their sum and the shift in one pass without per-sample
allocation.
"""

import math

import numpy as np
from numba import njit

from .linalg import FASTMATH, NO_WRAPPERS, cholesky_lower, whiten_component


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
def prepare_mixture(weights, means, covs, L, P, consts):
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


@njit(cache=True, inline="always")
def block_scratch(K, d):
    """The scratch of `block_logpdf` for K components in d dimensions, allocated once.

    Returns
    -------
    ws : ndarray, shape (K + d + 4, BLOCK)
        Split by `block_views`.
    ibits : ndarray of int64, shape (BLOCK,)
    fbits : ndarray of float64, shape (BLOCK,)
        The same memory as ``ibits`` (the vectorised exponential's bit tricks).
    """
    ibits = np.empty(BLOCK, dtype=np.int64)
    return np.empty((K + d + 4, BLOCK)), ibits, ibits.view(np.float64)


@njit(cache=True, inline="always")
def block_views(ws, K, d):
    """The rows of ``ws`` (from `block_scratch`) that `block_logpdf` writes, as views.

    Returns
    -------
    lpb : ndarray, shape (K, BLOCK)
        Component densities, shifted by ``top``.
    xb : ndarray, shape (d, BLOCK)
        The block's samples, one row per coordinate.
    top, ssum, zt, q : ndarray, shape (BLOCK,)
        Per-sample shift, density sum, and two work rows.
    """
    return ws[:K], ws[K : K + d], ws[K + d], ws[K + d + 1], ws[K + d + 2], ws[K + d + 3]


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


#: bits of log_block's range reduction: mantissa field, 1.0, the mantissa of sqrt(2), 2^52
_MANT = 0x000FFFFFFFFFFFFF
_ONE = 0x3FF0000000000000
_SQRT2_MANT = 0x0006A09E667F3BCD
_TINY = 2.2250738585072014e-308  # smallest normal float64
_HUGE = 1.7976931348623157e308


# error_model="numpy": Python's model checks every division for zero, which keeps the
# loop from being vectorised
@njit(cache=True, fastmath=_EXP_MATH, error_model="numpy")
def log_block(x, out, nb, ibits, fbits):
    """``out[:nb] = log(x[:nb])``, written as loops the compiler vectorises.

    ``x = 2^e m`` with ``m`` in [sqrt(1/2), sqrt(2)) (from the bits), then
    ``log m = 2 atanh(f)``, ``f = (m - 1) / (m + 1)``, by its series to ``f^23``
    (``|f| <= 0.172``), and ``e log 2`` in two parts: within 2 ulp of
    ``math.log`` on normal numbers (tests/kernels/test_log_block.py); zero,
    subnormal, negative, infinite and NaN arguments get ``math.log``'s values
    (about 1 ns per value where ``math.log`` takes 3.5: the E-step's one logarithm
    per sample; the quadrature keeps ``math.log``, docs/scaling.md). ``ibits`` (int64) and ``fbits``
    (its float64 view) are scratch of length >= nb; ``out`` may not be ``x``.
    """
    bad = 0
    for t in range(nb):
        v = x[t]
        fbits[t] = v
        bad += 0 if (v >= _TINY and v <= _HUGE) else 1
    for t in range(nb):
        b = ibits[t]
        mant = b & _MANT
        big = np.int64(mant > _SQRT2_MANT)
        out[t] = float(((b >> 52) & 0x7FF) - 1023 + big)
        ibits[t] = (mant | _ONE) - (big << 52)
    for t in range(nb):
        m = fbits[t]
        e = out[t]
        f = (m - 1.0) / (m + 1.0)
        s = f * f
        p = 1.0 / 23.0
        p = p * s + 1.0 / 21.0
        p = p * s + 1.0 / 19.0
        p = p * s + 1.0 / 17.0
        p = p * s + 1.0 / 15.0
        p = p * s + 1.0 / 13.0
        p = p * s + 1.0 / 11.0
        p = p * s + 1.0 / 9.0
        p = p * s + 1.0 / 7.0
        p = p * s + 1.0 / 5.0
        p = p * s + 1.0 / 3.0
        out[t] = e * _LN2_HI + (2.0 * f + (2.0 * f * s * p + e * _LN2_LO))
    if bad:
        for t in range(nb):
            v = x[t]
            if not (v >= _TINY and v <= _HUGE):
                # compiled math.log gives -inf at 0 and nan below; Python's raises (JIT off)
                out[t] = math.log(v) if v > 0.0 else (-math.inf if v == 0.0 else math.nan)


@njit(cache=True, fastmath=FASTMATH, **NO_WRAPPERS)
def block_logpdf(X, rows, a0, nb, means, P, consts, lpb, xb, top, ssum, zt, q, ibits, fbits):
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
            quad_form(xb, means[k], P[k], nb, q, zt)
        c = consts[k]
        for t in range(nb):
            v = c - 0.5 * q[t]
            lk[t] = v
            top[t] = v if v > top[t] else top[t]
    for t in range(nb):
        ssum[t] = 0.0
    for k in range(K):
        _exp_block(lpb[k], top, ssum, nb, ibits, fbits)


@njit(cache=True, fastmath=FASTMATH, inline="always")
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


@njit(cache=True, fastmath=FASTMATH, inline="always")
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


@njit(cache=True, fastmath=FASTMATH, inline="always")
def quad_form(xb, mean, P, nb, q, zt):
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
