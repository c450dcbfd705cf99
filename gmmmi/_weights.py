"""``sample_weight=``: the check of the weights, and of what cannot honour them.

A weighted estimate fits the mixture that maximises the weighted
log-likelihood sum_i w_i log q(x_i): the EM's sufficient statistics are sums
weighted by w (the compiled kernels take a weight per row already), the
cross-validation score that chooses K is the weighted mean validation
log-likelihood, and a bootstrap replica draws rows uniformly and keeps their
weights (count x weight), which is the sampling variability of the weighted
estimate. The integrators need nothing: they integrate the fitted mixture,
which now models the weighted law. Weights are rescaled to mean 1, so that
"a component's weight in rows" keeps its meaning in the collapse checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: what cannot honour sample weights, and why (checked by `check_sample_weight`)
REFUSED = {
    "discrete_y": (
        "discrete_y=True: the class weights of an MI with a category are counts of rows (their "
        "bootstrap and posterior are those of counts), which weighted rows do not give"
    ),
    "reselect_components": (
        "reselect_components=True: the bootstrap replicas then choose K again by an unweighted "
        "search"
    ),
    "mixed": (
        "discrete columns or point masses (discrete=): they are split off by the chain rule, "
        "whose cell probabilities are counts of rows; pass discrete=None to fit every column "
        "as continuous"
    ),
    "metric_method": (
        "metric_method='aic'/'bic': the criteria count parameters against n rows, which "
        "weighted rows do not define; use metric_method='valid'"
    ),
}


def check_sample_weight(
    sample_weight: Any, n: int, backend, options: dict, *, discrete_y: bool
) -> np.ndarray:
    """The weights as float64 of mean 1, or the error that says why they cannot be used.

    Parameters
    ----------
    sample_weight : array_like, shape (n,)
        Non-negative finite weights, not all 0.
    n : int
        Rows of the data.
    backend : Backend
        Must declare ``supports_sample_weight``.
    options : dict
        The checked options (``reselect_components``, ``metric_method``).
    discrete_y : bool

    Returns
    -------
    numpy.ndarray, shape (n,)

    Raises
    ------
    ValueError
        Weights of the wrong shape, negative, non-finite or all 0; a backend
        or option that cannot honour them.
    """
    w = weight_vector(sample_weight, n)
    if not getattr(backend, "supports_sample_weight", False):
        raise ValueError(
            f"The {backend.name!r} backend cannot honour sample_weight (its likelihood has no "
            "weight per row); use backend='numba'."
        )
    reason = None
    if discrete_y:
        reason = REFUSED["discrete_y"]
    elif options.get("reselect_components"):
        reason = REFUSED["reselect_components"]
    elif options.get("metric_method", "valid") != "valid":
        reason = REFUSED["metric_method"]
    if reason is not None:
        raise ValueError(f"sample_weight cannot be used with {reason}.")
    return w / w.mean()


def weight_vector(sample_weight: Any, n: int) -> np.ndarray:
    """The weights as float64, shape (n,), or a ValueError for a wrong shape or value.

    Parameters
    ----------
    sample_weight : array_like
    n : int
        Rows of the data.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"sample_weight must be a vector of one weight per row ({n}); got shape {w.shape}."
        )
    if not np.isfinite(w).all():
        raise ValueError("sample_weight holds NaN or inf; every weight must be a finite number.")
    if (w < 0).any():
        first = int(np.flatnonzero(w < 0)[0])
        raise ValueError(
            f"sample_weight must be non-negative; row {first} has weight {w[first]:g}."
        )
    if not w.any():
        raise ValueError(
            "sample_weight is zero for every row; at least one weight must be positive."
        )
    return w


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective number of rows, (sum w)^2 / sum w^2.

    Parameters
    ----------
    w : numpy.ndarray, shape (n,)

    Returns
    -------
    float
    """
    return float(w.sum() ** 2 / np.dot(w, w))
