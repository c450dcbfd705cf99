"""The block bootstrap's options and its automatic block length (Politis–White).

`check_bootstrap` checks ``estimate(bootstrap=..., block_length=...)``;
`optimal_block_length` is the block length of the circular block bootstrap
chosen from the data by the rule of Politis & White (2004) with the
correction of Patton, Politis & White (2009), the rule the authors' own code
(``opt_block_length_REV_dec07.m``) implements (its ``b_CB``).

References
----------
D. N. Politis and H. White, "Automatic block-length selection for the
dependent bootstrap", *Econometric Reviews* 23(1), 53-70 (2004).

A. Patton, D. N. Politis and H. White, "Correction to 'Automatic block-length
selection for the dependent bootstrap' by D. Politis and H. White",
*Econometric Reviews* 28(4), 372-375 (2009).

D. N. Politis and J. P. Romano, "A circular block-resampling procedure for
stationary data", in *Exploring the Limits of Bootstrap*, Wiley, 263-270 (1992).

S. N. Lahiri, "Theoretical comparisons of block bootstrap methods", *Annals of
Statistics* 27(1), 386-404 (1999): at their optimal lengths the moving and
circular block bootstraps estimate a variance with a smaller mean squared
error than the stationary bootstrap.
"""

from __future__ import annotations

import math

import numpy as np

#: the kinds of bootstrap `gmmmi.estimate` offers
BOOTSTRAP_KINDS = ("iid", "block")


def check_bootstrap(bootstrap, block_length, n_samples: float) -> tuple[str, float | None]:
    """``estimate``'s ``bootstrap`` and ``block_length``, checked.

    Parameters
    ----------
    bootstrap : {"iid", "block"}
    block_length : float or None
        Block length in rows (``"block"`` only), rounded to whole rows by
        `gmmmi._resampling.resolve_bootstrap`; None chooses it.
    n_samples : int or float
        Rows of the data (``math.inf`` when not known yet).

    Returns
    -------
    kind : str
    block_length : float or None
        As given (None: to be chosen by `optimal_block_length`).

    Raises
    ------
    ValueError
        For an unknown kind, or a block length outside [1, n_samples], or
        given with ``bootstrap="iid"``.
    TypeError
        For a block length that is not a real number.
    """
    if not isinstance(bootstrap, str) or bootstrap not in BOOTSTRAP_KINDS:
        raise ValueError(
            f"bootstrap must be 'iid' (rows resampled one by one: independent rows) or 'block' "
            f"(the circular block bootstrap: blocks of consecutive rows, for time series); got "
            f"{bootstrap!r}."
        )
    if block_length is None:
        return bootstrap, None
    if bootstrap == "iid":
        raise ValueError(
            f"block_length={block_length!r} is only used with bootstrap='block'; pass "
            "bootstrap='block' or drop block_length."
        )
    if isinstance(block_length, (bool, np.bool_)) or not isinstance(
        block_length, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"block_length must be a number of rows (float) or None; got {block_length!r} "
            f"({type(block_length).__name__})."
        )
    length = float(block_length)
    if not (math.isfinite(length) and 1.0 <= length <= n_samples):
        raise ValueError(
            f"block_length must be a block length in rows between 1 and the number of "
            f"rows ({n_samples:g}); got {block_length!r}. None chooses it from the data "
            "(Politis-White)."
        )
    return bootstrap, length


def optimal_block_length(X: np.ndarray) -> float:
    """The circular block bootstrap's block length for the rows of ``X``.

    For each column, the rule of Politis & White (2004) as corrected by
    Patton, Politis & White (2009), with the constants of the authors' code:

    1. the autocorrelations ρ̂(k), k = 1..m_max, with
       m_max = ⌈√n⌉ + K_N and K_N = max(5, ⌊√log₁₀ n⌋);
    2. m̂ is the first lag from which K_N consecutive |ρ̂| are below
       2 √(log₁₀ n / n) (else the last lag above it), and M = min(2 m̂, m_max);
    3. with the flat-top window λ(s) = 1 for |s| < ½, 2(1 − |s|) for ½ ≤ |s| ≤ 1,
       Ĝ = Σ_{|k|≤M} λ(k/M) |k| R̂(k) and ĝ = Σ_{|k|≤M} λ(k/M) R̂(k)
       (R̂ the autocovariances), D̂_CB = (4/3) ĝ²;
    4. b̂ = (2 Ĝ² / D̂_CB)^{1/3} n^{1/3}, capped at ⌈min(3 √n, n / 3)⌉.

    This length minimises the mean squared error of the circular block
    bootstrap's variance (it is (3/2)^{1/3} = 1.14 times the stationary
    bootstrap's, whose D̂_SB = 2 ĝ²).

    The rows' block length is the largest over the columns (the most
    persistent column sets how long a run must be to keep its dependence),
    and at least 1.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d) or (n,)
        Rows in time order.

    Returns
    -------
    float
        Block length in rows (need not be an integer; the bootstrap rounds it).
    """
    X = np.asarray(X, dtype=np.float64)
    X = X[:, None] if X.ndim == 1 else X
    return max(1.0, max(_column_block_length(X[:, j]) for j in range(X.shape[1])))


def _column_block_length(x: np.ndarray) -> float:
    """Politis–White–Patton circular-block-bootstrap block length of one series."""
    n = x.size
    k_n = max(5, int(math.sqrt(math.log10(n))))
    m_max = min(int(math.ceil(math.sqrt(n))) + k_n, n // 2)
    b_max = math.ceil(min(3 * math.sqrt(n), n / 3))
    cov, var_a, var_b = _lagged_moments(x, m_max)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = cov[1:] / np.sqrt(var_a * var_b[1:])
    if not np.all(np.isfinite(rho)):
        return 1.0
    small = np.abs(rho) < 2 * math.sqrt(math.log10(n) / n)
    # the first lag j (1-based) with K_N small correlations from j on
    runs = np.convolve(small.astype(np.int64), np.ones(k_n, dtype=np.int64), mode="valid")
    starts = np.flatnonzero(runs == k_n)
    if starts.size:
        m_hat = int(starts[0]) + 1
    else:
        m_hat = int(np.flatnonzero(~small).max()) + 1
    M = min(2 * m_hat, m_max)
    acv = _lagged_moments(x, M)[0] / (n - M - 1)
    lags = np.arange(-M, M + 1)
    acv = np.concatenate((acv[:0:-1], acv))
    window = _flat_top(lags / M)
    g_hat = np.sum(window * np.abs(lags) * acv)
    d_cb = 4 / 3 * np.sum(window * acv) ** 2
    if d_cb <= 0:
        return 1.0
    return float(min((2 * g_hat**2 / d_cb) ** (1 / 3) * n ** (1 / 3), b_max))


def _lagged_moments(x: np.ndarray, skip: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Co-moments of a = x_t with b = x_{t-k} over t = skip, ..., n - 1, for k = 0..skip.

    As the authors' code, each of a and b is centred on its own mean over
    those times. One FFT correlation and cumulative sums (no loop over lags).

    Returns
    -------
    cov : numpy.ndarray, shape (skip + 1,)
        Σ (a - ā)(b - b̄) per lag k.
    var_a : float
        Σ (a - ā)².
    var_b : numpy.ndarray, shape (skip + 1,)
        Σ (b - b̄)² per lag k.
    """
    n = x.size
    x = x - x.mean()  # better conditioned sums; co-moments are shift invariant
    a = x[skip:]
    length = a.size
    # cross[j] = Σ_i a_i x_{j+i}; lag k is offset j = skip - k
    from scipy import signal  # ~0.5 s with scipy.stats: only for a serial bootstrap

    cross = signal.fftconvolve(x, a[::-1], mode="valid")[::-1]
    ends = np.arange(n, n - skip - 1, -1)  # b covers x[n - k - length : n - k]
    csum = np.concatenate(([0.0], np.cumsum(x)))
    csum2 = np.concatenate(([0.0], np.cumsum(x * x)))
    sum_b = csum[ends] - csum[ends - length]
    sum_b2 = csum2[ends] - csum2[ends - length]
    mean_a = a.sum() / length
    cov = cross - sum_b * mean_a
    var_a = float(np.sum((a - mean_a) ** 2))
    var_b = sum_b2 - sum_b**2 / length
    return cov, var_a, var_b


def _flat_top(s: np.ndarray) -> np.ndarray:
    """The trapezoidal flat-top lag window of Politis & Romano (1995)."""
    s = np.abs(s)
    return np.where(s < 0.5, 1.0, np.where(s <= 1.0, 2 * (1 - s), 0.0))
