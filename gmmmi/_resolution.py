"""Whether the fitted mixture resolves the sharpest relation in the data (a check after the fit).

A relation much thinner than the data's spread, such as y = sin 3x + 0.01
noise, is followed by a mixture of a few Gaussian components only as a
chain of ellipses, each as thick as the curve bends within it: the model's
spread of y given x is then many times the noise, and the MI falls short by
about the log of the ratio (1.8 nat against 3.75 there, with a bootstrap sd
of 0.03 that does not show it). The screen's nearest-neighbour fits
(`gmmmi._screening.local_residuals`) measure the noise directly; this module
compares it with the fitted components' conditional sd and warns when the
model is much coarser than the data. A curve that is a function of neither
column (a noisy circle) is not diagnosed here: its exact form is refused by
the screen, and the nearest-neighbour fit of one column from the other does
not see its noise.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._em.folds import copy_groups
from ._screening import DETERMINED_PREDICTORS, isolated_outliers, local_residuals
from ._stacklevel import user_stacklevel
from .exceptions import SharpRelationWarning

#: the fitted mixture's conditional sd of a column, given the other block (and z), may exceed
#: the local residual sd that the nearest-neighbour fits find by this factor before the
#: warning (the MI is then short by at least about ln 1.25 = 0.22 nat). Measured at N = 2000
#: (docs/trust.md): y = sin 3x + s noise gives 7.0, 1.49 and 1.39 for s = 0.01, 0.03, 0.1
#: (estimates -43, -14 and -8.6 sd from the truth), 0.91 and 0.87 for s = 0.3 and 0.5 (-1.4
#: and -0.9 sd); the 31 robustness-suite distributions and the paper's D1, D3, D5 at most 1.09
UNRESOLVED_RATIO = 1.25
#: ... times exp of this many standard errors of the log of the local residual sd, taken
#: from the median of m absolute residuals (1.17 / sqrt(m) for Gaussian noise): the allowed
#: ratio is 1.35 at 2000 rows, 1.60 at 200 and 2.05 at 50, so that the noise of a small
#: sample does not raise the warning (Gaussian data at 200 rows reached 1.26 without it)
UNRESOLVED_SE = 3.0

#: rows the check uses at most (a fixed random subset of the distinct rows): the median of
#: 2000 residuals is within about 3 % of the noise's, and the check costs a few ms
RESOLUTION_ROWS = 2_000

#: robust standard deviation per median absolute value, for Gaussian residuals
_MAD_TO_SD = 1.482602218505602


def resolution_ratios(
    Xs: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    blocks: dict,
    first: np.ndarray | None = None,
) -> list[tuple[str, int, float]]:
    """The model's conditional sd over the data's local residual sd, per column.

    For each column of x (of y) with at most `DETERMINED_PREDICTORS`
    columns in the other block and z: on at most `RESOLUTION_ROWS` distinct
    rows (a fixed random subset), the local residual sd is 1.4826 x the
    median of the nearest-neighbour residuals scaled by sqrt(1 + leverage),
    and the model's is the median over the rows of
    sqrt(sum_k r_k(row) var_k), where var_k is component k's variance of the
    column given the predictors and r_k its responsibility given them.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        The data the mixture was fitted to (standardised).
    weights : numpy.ndarray, shape (K,)
    means : numpy.ndarray, shape (K, d)
    covariances : numpy.ndarray, shape (K, d, d)
        One fitted mixture, in the units of ``Xs``.
    blocks : dict of str to list of int
    first : numpy.ndarray of int, optional
        The first row of each group of copies (`distinct_rows`), when known.

    Returns
    -------
    list of (block, column, ratio)
    """
    first = distinct_rows(Xs) if first is None else first
    order = np.random.default_rng(0).choice(
        first.size, min(first.size, RESOLUTION_ROWS), replace=False
    )
    rows = Xs[first[np.sort(order)]]
    keep = weights > 0
    weights, means, covariances = weights[keep], means[keep], covariances[keep]
    z = list(blocks.get("z", ()))
    out = []
    for key, other in (("x", "y"), ("y", "x")):
        predictors = list(blocks[other]) + z
        p = len(predictors)
        if p > DETERMINED_PREDICTORS or rows.shape[0] <= 4 * (1 + p + p * (p + 1) // 2):
            continue
        for j in blocks[key]:
            residuals, leverage = local_residuals(rows[:, j], rows[:, predictors])
            local = _MAD_TO_SD * float(np.median(np.abs(residuals) / np.sqrt(1.0 + leverage)))
            model = _conditional_sd(rows[:, predictors], weights, means, covariances, j, predictors)
            out.append((key, j, model / local if local > 0 else math.inf))
    return out


def distinct_rows(Xs: np.ndarray) -> np.ndarray:
    """Index of the first row of each group of exact copies in ``Xs``, in row order."""
    groups = copy_groups(Xs)
    if groups.size == 0 or groups[-1] == groups.size - 1:  # numbered in order: no copies
        return np.arange(groups.size)
    return np.unique(groups, return_index=True)[1]


def _conditional_sd(P, weights, means, covariances, j, predictors) -> float:
    """Median over rows of the mixture's responsibility-weighted conditional sd of column j."""
    S_pp = covariances[:, predictors][:, :, predictors]
    S_jp = covariances[:, j, predictors]
    gain = np.linalg.solve(S_pp, S_jp[:, :, None])[:, :, 0]
    variance = covariances[:, j, j] - np.einsum("kp,kp->k", gain, S_jp)
    if weights.size == 1:  # every row's responsibility is 1: the median of a constant
        return float(np.sqrt(max(variance[0], 0.0)))
    diff = P[:, None, :] - means[None, :, predictors]
    chol = np.linalg.cholesky(S_pp)
    # one small inverse per component, not one solve per row and component
    solved = np.einsum("kij,nkj->nki", np.linalg.inv(chol), diff)
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    log_r = np.log(weights) - 0.5 * log_det - 0.5 * (solved**2).sum(axis=2)
    log_r -= log_r.max(axis=1, keepdims=True)
    r = np.exp(log_r)
    r /= r.sum(axis=1, keepdims=True)
    return float(np.median(np.sqrt(r @ np.maximum(variance, 0.0))))


def allowed_ratio(m: int) -> float:
    """The largest ratio of `resolution_ratios` not warned about, for m distinct rows.

    `UNRESOLVED_RATIO` times exp(`UNRESOLVED_SE` x 1.17 / sqrt(m)).
    """
    return UNRESOLVED_RATIO * math.exp(UNRESOLVED_SE * 1.17 / math.sqrt(m))


def warn_unresolved(
    Xs: np.ndarray,
    fit,
    blocks: dict,
    labels: dict,
    isolated: bool | None = None,
    first: np.ndarray | None = None,
) -> None:
    """`SharpRelationWarning` when a ratio of `resolution_ratios` exceeds `allowed_ratio`.

    Nothing is checked when a column of ``Xs`` has an isolated far row
    (`gmmmi._screening.isolated_outliers`): a component stretched over it is
    broad without the relation being sharp, and the outlier is warned about.

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        The data the mixture was fitted to.
    fit : gmmmi.MixtureDraws
        The fit in the units of ``Xs`` (its first draw is used: the
        full-data fit of a bootstrap).
    blocks, labels : dict of str to list
        Column indices and names per block.
    isolated : bool, optional
        Whether a column of ``Xs`` has an isolated far row, when the caller
        has looked already (`gmmmi._screening.warn_outliers`); None: look.
    first : numpy.ndarray of int, optional
        The first row of each group of copies in ``Xs`` (`distinct_rows`),
        when the caller knows it (`gmmmi._screening.screen`; empty: no row is
        a copy); None: look.
    """
    # a component stretched over an isolated far row is broad for another reason, which
    # `gmmmi._screening.warn_outliers` names
    if isolated is None:
        isolated = any(isolated_outliers(column).size for column in Xs.T)
    if isolated:
        return
    if first is None:
        first = distinct_rows(Xs)
    elif first.size == 0:  # no row is a copy (the screen's answer)
        first = np.arange(Xs.shape[0])
    with np.errstate(all="ignore"):
        mixture = fit.weights[0], fit.means[0], fit.covariances[0]
        ratios = resolution_ratios(Xs, *mixture, blocks, first)
    allowed = allowed_ratio(min(first.size, RESOLUTION_ROWS))
    flagged = [(key, j, ratio) for key, j, ratio in ratios if ratio > allowed]
    if not flagged:
        return
    names = {j: name for key in blocks for j, name in zip(blocks[key], labels[key], strict=True)}
    worst = max(ratio for *_, ratio in flagged)
    other = {"x": "y", "y": "x"}
    given = " and z" if "z" in blocks else ""
    parts = ", ".join(
        f"{key} column {names[j]!r} given {other[key]}{given}: {ratio:.3g}x"
        for key, j, ratio in flagged
    )
    warnings.warn(
        "The relation is sharper than the fitted mixture resolves: its components' spread of "
        f"a column given the other block is larger than the spread of the data around their "
        f"nearest neighbours' local fit ({parts}; allowed {allowed:.3g}x). A mixture "
        "of a few Gaussian components follows a thin curve only as a chain of ellipses as "
        "thick as the curve bends within each, so the estimate is likely too low, by up to "
        f"about ln {worst:.3g} = {math.log(worst):.2f} nat, and the error bar does not show "
        "it. Allow more components (max_components), use more rows, or report the estimate "
        "as a lower bound.",
        SharpRelationWarning,
        stacklevel=user_stacklevel(),
    )
