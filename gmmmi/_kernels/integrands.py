"""Integrands of the MI / CMI / KL integrators: quadrature sums and Monte Carlo terms.

Every integral gmmmi computes is a signed sum of terms ``E_p[log q(x_idx)]``
where ``p`` is one draw's mixture and ``q`` a mixture over a subset ``idx``
of its coordinates (a marginal of ``p``, or another mixture).

* Quadrature (`quad_cross_entropy`): per component k of ``p``, the nodes of a
  fixed rule for the standard normal, mapped to ``x = mu_k + L_k z``; the sum
  is weighted by ``w_k`` times the node weights. Several weight vectors are
  summed over the same function values: the chosen rule, and rules whose
  differences from it estimate its error.
* Randomised quasi-Monte Carlo (`qmc_cross_entropy`): given standard-normal
  points mapped by any square root of each component's covariance, one sum
  per scramble, with a single-component control variate subtracted.
* Monte Carlo (`mc_sum_logpdf`): points are drawn from ``p`` inside the kernel
  (one seed per draw, a block of points at a time) and the signed
  log-densities of every term are accumulated per point.

Each draw is computed independently, so the results never depend on the
number of threads: the QMC and MC kernels loop over draws with ``prange``;
`quad_cross_entropy`, which every K > 1 estimate runs by default, is serial
without the GIL and is run on slices of the draws in threads (it compiles
several times faster than a ``prange`` loop; `gmmmi._kernels`, compile time).
"""

import math

import numpy as np
from numba import njit, prange

from .linalg import FASTMATH, whiten_component
from .logdensity import BLOCK, block_logpdf, block_scratch, block_views, quad_form


@njit(cache=True, fastmath=FASTMATH)
def _map_nodes(nodes, mean, L, X):
    """X[t] = mean + L @ nodes[t] for every node (L lower triangular)."""
    n, d = nodes.shape
    for t in range(n):
        for i in range(d):
            s = mean[i]
            for j in range(i + 1):
                s += L[i, j] * nodes[t, j]
            X[t, i] = s


@njit(cache=True, fastmath=FASTMATH)
def _map_nodes_full(nodes, mean, A, X):
    """X[t] = mean + A @ nodes[t] for every node (any square A)."""
    n, d = nodes.shape
    for t in range(n):
        for i in range(d):
            s = mean[i]
            for j in range(d):
                s += A[i, j] * nodes[t, j]
            X[t, i] = s


@njit(cache=True, fastmath=FASTMATH)
def _whitening(logw, chols, P, consts):
    """Inverse Cholesky factors ``P`` (K, d, d) and ``consts`` (K,) from log weights and factors.

    ``log w_k N(x | mu_k, L_k L_k^T) = consts[k] - |P_k (x - mu_k)|^2 / 2``;
    ``consts[k] = -inf`` for an empty component.
    """
    for k in range(chols.shape[0]):
        consts[k] = whiten_component(chols[k], P[k], logw[k])


@njit(cache=True, fastmath=FASTMATH)
def _weighted_logpdf_sums(X, means, P, consts, weights, sums, ws, ibits, fbits):
    """``sums[r] = sum_t weights[r, t] log q(X[t])`` for every weight vector r.

    The mixture q is given by its means (K, d) and `_whitening` output; ``ws``
    (K + d + 4, BLOCK), ``ibits`` and ``fbits`` are the scratch of the EM E-step
    (`gmmmi._kernels.logdensity.block_scratch`), whose blocked log-density this reuses.
    """
    K, d = means.shape
    n = X.shape[0]
    m = weights.shape[0]
    lpb, xb, top, ssum, zt, q = block_views(ws, K, d)
    rows = np.arange(n)
    for r in range(m):
        sums[r] = 0.0
    for a0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - a0)
        block_logpdf(X, rows, a0, nb, means, P, consts, lpb, xb, top, ssum, zt, q, ibits, fbits)
        for t in range(nb):
            f = top[t] + math.log(ssum[t])
            for r in range(m):
                sums[r] += weights[r, a0 + t] * f


@njit(cache=True, fastmath=FASTMATH, nogil=True)
def quad_cross_entropy(p_logw, p_means, p_chols, q_logw, q_means, q_chols, nodes, weights):
    """E_p[log q] of every draw by rules in the whitened coordinates of p's components.

    Parameters
    ----------
    p_logw : numpy.ndarray, shape (S, Kp)
        Log weights of p; -inf marks an empty component (skipped).
    p_means : numpy.ndarray, shape (S, Kp, d)
    p_chols : numpy.ndarray, shape (S, Kp, d, d)
        Lower Cholesky factors of p's covariances.
    q_logw, q_means, q_chols : numpy.ndarray, shapes (S, Kq), (S, Kq, d), (S, Kq, d, d)
        The mixture whose log-density is integrated (same d as p).
    nodes : numpy.ndarray, shape (n, d)
        Nodes of rules for the d-dimensional standard normal.
    weights : numpy.ndarray, shape (m, n)
        Weights of m rules on the same nodes (zero where a node is not part of a rule).

    Returns
    -------
    numpy.ndarray, shape (m, S)
        The integral in nats by every rule.
    """
    S, Kp = p_logw.shape
    n, d = nodes.shape
    m = weights.shape[0]
    Kq = q_logw.shape[1]
    out = np.zeros((m, S))
    for s in range(S):
        X = np.empty((n, d))
        P = np.empty((Kq, d, d))
        consts = np.empty(Kq)
        ws, ibits, fbits = block_scratch(Kq, d)
        sums = np.empty(m)
        acc = np.zeros(m)
        _whitening(q_logw[s], q_chols[s], P, consts)
        for k in range(Kp):
            if p_logw[s, k] == -np.inf:
                continue
            _map_nodes(nodes, p_means[s, k], p_chols[s, k], X)
            _weighted_logpdf_sums(X, q_means[s], P, consts, weights, sums, ws, ibits, fbits)
            wk = np.exp(p_logw[s, k])
            for r in range(m):
                acc[r] += wk * sums[r]
        for r in range(m):
            out[r, s] = acc[r]
    return out


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def qmc_cross_entropy(p_logw, p_means, p_maps, q_logw, q_means, q_chols, cv_comp, nodes, n_rep):
    """Randomised-QMC estimates of ``E_p[log q] - E_p[g]`` per draw and per scramble.

    For component k of p, ``g_k(x) = log w_j N(x | mu_j, Sigma_j)`` with
    ``j = cv_comp[s, k]`` a component of q: a control variate whose mean the
    caller knows in closed form, and a lower bound of ``log q``, so that only
    the (small, smooth) excess ``log q - g_k`` is integrated numerically.

    Parameters
    ----------
    p_logw, p_means : ndarray, shapes (S, Kp), (S, Kp, d)
        The mixture the expectation is taken over; -inf log weight = empty component.
    p_maps : ndarray, shape (S, Kp, d, d)
        Square roots ``A`` of p's covariances (``A A^T = Sigma``; any rotation of
        the Cholesky factor): the points of component k are ``mu_k + A_k z``.
    q_logw, q_means, q_chols : ndarray, shapes (S, Kq), (S, Kq, d), (S, Kq, d, d)
        The mixture whose log-density is integrated.
    cv_comp : ndarray of int64, shape (S, Kp)
        Component of q used as the control variate of every component of p.
    nodes : ndarray, shape (n_rep * n, d)
        ``n_rep`` independent scrambles of n standard-normal QMC points, one after another.
    n_rep : int

    Returns
    -------
    ndarray, shape (S, n_rep)
        ``sum_k w_k mean_t [log q(x_kt) - g_k(x_kt)]`` for every scramble, in nats.
    """
    S, Kp = p_logw.shape
    n_all, d = nodes.shape
    n = n_all // n_rep
    Kq = q_logw.shape[1]
    out = np.zeros((S, n_rep))
    for s in prange(S):
        X = np.empty((n, d))
        P = np.empty((Kq, d, d))
        consts = np.empty(Kq)
        ws, ibits, fbits = block_scratch(Kq, d)
        rows = np.arange(n)
        _whitening(q_logw[s], q_chols[s], P, consts)
        lpb, xb, top, ssum, zt, q = block_views(ws, Kq, d)
        for k in range(Kp):
            if p_logw[s, k] == -np.inf:
                continue
            wk = math.exp(p_logw[s, k])
            j = cv_comp[s, k]
            for r in range(n_rep):
                _map_nodes_full(nodes[r * n : (r + 1) * n], p_means[s, k], p_maps[s, k], X)
                acc = 0.0
                for a0 in range(0, n, BLOCK):
                    nb = min(BLOCK, n - a0)
                    block_logpdf(
                        X,
                        rows,
                        a0,
                        nb,
                        q_means[s],
                        P,
                        consts,
                        lpb,
                        xb,
                        top,
                        ssum,
                        zt,
                        q,
                        ibits,
                        fbits,
                    )
                    for t in range(nb):
                        lpb[0, t] = top[t] + math.log(ssum[t])
                    quad_form(xb, q_means[s, j], P[j], nb, q, zt)
                    cj = consts[j]
                    for t in range(nb):
                        acc += lpb[0, t] - (cj - 0.5 * q[t])
                out[s, r] += wk * acc / n
    return out


# ------------------------------------------------------------ random numbers
# SplitMix64 (Steele, Lea & Flood 2014; passes BigCrush) as the uniform generator, and
# Doornik's (2005) 128-layer ziggurat for standard normals: a few nanoseconds per number,
# with the whole state in one uint64 per draw, so every draw has its own reproducible stream.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
_ZIG_LAYERS = 128
_ZIG_R = 3.442619855899
_ZIG_V = 9.91256303526217e-3


def _ziggurat_tables():
    """Layer edges ``x`` (129,) and ratios ``x[i + 1] / x[i]`` (128,) of the ziggurat."""
    x = np.zeros(_ZIG_LAYERS + 1)
    f = math.exp(-0.5 * _ZIG_R * _ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = _ZIG_R
    for i in range(2, _ZIG_LAYERS):
        x[i] = math.sqrt(-2.0 * math.log(_ZIG_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()


@njit(cache=True)
def _next_u64(state):
    """The next 64 random bits of the SplitMix64 stream ``state`` (uint64 array of length 1)."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _uniform(state):
    """A uniform double in [0, 1) with 53 random bits."""
    return np.float64(_next_u64(state) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def _standard_normal(state):
    """One standard normal by the ziggurat (Doornik 2005, with its exact tail)."""
    while True:
        bits = _next_u64(state)
        u = 2.0 * (np.float64(bits >> np.uint64(11)) * _TO_UNIT) - 1.0
        i = np.int64(bits & np.uint64(_ZIG_LAYERS - 1))
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        if i == 0:  # the tail beyond R, by Marsaglia's method
            while True:
                x = math.log(1.0 - _uniform(state)) / _ZIG_R
                y = math.log(1.0 - _uniform(state))
                if -2.0 * y >= x * x:
                    return x - _ZIG_R if u < 0.0 else _ZIG_R - x
        x = u * _ZIG_X[i]
        f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - x * x))
        f1 = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - x * x))
        if f1 + _uniform(state) * (f0 - f1) < 1.0:
            return x


@njit(cache=True, fastmath=FASTMATH)
def mc_draw_block(state, nb, cum, last, means, chols, Xb, z):
    """``nb`` points of one mixture into ``Xb[:nb]`` from the stream ``state``.

    Parameters
    ----------
    state : numpy.ndarray of uint64, shape (1,)
        SplitMix64 state, advanced in place.
    nb : int
    cum : numpy.ndarray, shape (K,)
        Cumulative mixture weights (empty components have weight 0).
    last : int
        The last non-empty component (picked when rounding leaves the target past ``cum``).
    means : numpy.ndarray, shape (K, d)
    chols : numpy.ndarray, shape (K, d, d)
    Xb : numpy.ndarray, shape (>= nb, d), written in place
    z : numpy.ndarray, shape (d,), scratch
    """
    K, d = means.shape
    total = cum[K - 1]
    for t in range(nb):
        target = _uniform(state) * total
        k = last
        for j in range(K):
            if target < cum[j]:
                k = j
                break
        for i in range(d):
            z[i] = _standard_normal(state)
        for i in range(d):
            v = means[k, i]
            for j in range(i + 1):
                v += chols[k, i, j] * z[j]
            Xb[t, i] = v


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def mc_sum_logpdf(
    seeds, n_points, weights, means, chols, coefs, idx, dims, q_logw, q_means, q_chols
):
    """Monte Carlo mean and standard error of ``sum_t coefs[t] log q_t(x[idx_t])`` per draw.

    Points are drawn and evaluated inside the kernel, ``BLOCK`` at a time, so
    memory does not depend on `n_points`. Draw s has its own random stream,
    started from ``seeds[s]``, so results do not depend on the number of
    threads, and every draw has its own points.

    Parameters
    ----------
    seeds : ndarray of int64, shape (S,)
        One non-negative seed per draw.
    n_points : int
        Points per draw.
    weights, means, chols : ndarray, shapes (S, K), (S, K, d), (S, K, d, d)
        The mixture the points are drawn from (weight 0 = empty component).
    coefs : ndarray, shape (T,)
        Coefficient of every term.
    idx : ndarray of int64, shape (T, d)
        Coordinates of term t are ``idx[t, :dims[t]]``.
    dims : ndarray of int64, shape (T,)
    q_logw, q_means, q_chols : ndarray, shapes (T, S, Kq), (T, S, Kq, d), (T, S, Kq, d, d)
        Mixture of term t, in its first ``dims[t]`` coordinates (padding: -inf log weight).

    Returns
    -------
    mean, sem : ndarray, shape (S,)
        Sample mean in nats and its standard error (inf for a single point).
    """
    S, K, d = means.shape
    T, _, Kq = q_logw.shape
    mean = np.zeros(S)
    sem = np.zeros(S)
    for s in prange(S):
        state = np.empty(1, dtype=np.uint64)
        state[0] = np.uint64(seeds[s])
        cum = np.cumsum(weights[s])
        last = 0
        for k in range(K):
            if weights[s, k] > 0.0:
                last = k
        P = np.zeros((T, Kq, d, d))
        consts = np.empty((T, Kq))
        for t in range(T):
            dq = dims[t]
            for k in range(Kq):
                consts[t, k] = whiten_component(
                    q_chols[t, s, k, :dq, :dq], P[t, k, :dq, :dq], q_logw[t, s, k]
                )
        Xb = np.empty((BLOCK, d))
        Y = np.empty((BLOCK, d))
        z = np.empty(d)
        f = np.empty(BLOCK)
        ratio = np.empty(BLOCK)
        ws, ibits, fbits = block_scratch(Kq, d)
        rows = np.arange(BLOCK)
        lpb, xb, top, ssum, zt, q = block_views(ws, Kq, d)
        count = 0
        run_mean = 0.0
        run_m2 = 0.0
        for a0 in range(0, n_points, BLOCK):
            nb = min(BLOCK, n_points - a0)
            mc_draw_block(state, nb, cum, last, means[s], chols[s], Xb, z)
            for t in range(nb):
                f[t] = 0.0
                ratio[t] = 1.0
            for term in range(T):
                dq = dims[term]
                for t in range(nb):
                    for i in range(dq):
                        Y[t, i] = Xb[t, idx[term, i]]
                block_logpdf(
                    Y[:, :dq],
                    rows,
                    0,
                    nb,
                    q_means[term, s, :, :dq],
                    P[term, :, :dq, :dq],
                    consts[term],
                    lpb,
                    xb[:dq],
                    top,
                    ssum,
                    zt,
                    q,
                    ibits,
                    fbits,
                )
                c = coefs[term]
                if c == 1.0:  # one logarithm per point for all the +-1 terms together
                    for t in range(nb):
                        f[t] += top[t]
                        ratio[t] *= ssum[t]
                elif c == -1.0:
                    for t in range(nb):
                        f[t] -= top[t]
                        ratio[t] /= ssum[t]
                else:
                    for t in range(nb):
                        f[t] += c * (top[t] + math.log(ssum[t]))
            for t in range(nb):
                f[t] += math.log(ratio[t])
            # merge the block's mean and sum of squares into the running ones (Chan et al.)
            bm = 0.0
            for t in range(nb):
                bm += f[t]
            bm /= nb
            b2 = 0.0
            for t in range(nb):
                b2 += (f[t] - bm) ** 2
            total = count + nb
            delta = bm - run_mean
            run_mean += delta * nb / total
            run_m2 += b2 + delta * delta * count * nb / total
            count = total
        mean[s] = run_mean
        sem[s] = math.sqrt(run_m2 / (count - 1) / count) if count > 1 else np.inf
    return mean, sem
