"""The component search of one column's 1-D mixture (the margins' maps, `gmmmi.margins`).

The same search as `gmmmi._em.select.select_components` with ``metric_method="valid"``
and k-means starts: for K = 1, 2, ..., ``n_inits`` k-means starts on the whole
column, each fitted on both folds' training rows and scored on the other
fold; K stops growing after ``patience`` values of K without a gain above
``threshold``; the chosen K's best start is fitted to the whole column. The
random numbers are drawn in the same order, so the choice is the same (to
rounding: see below). What differs is the cost:

* two k-means starts of one column can converge to the same clusters (4 of the
  40 fits of D3's first column): each distinct start is fitted once (EM is
  deterministic, so the copy is what a second fit would give);
* the fits run in the 1-D kernel `gmmmi._kernels.em1d` (the general one's
  algorithm without its d x d algebra), which agrees with the general kernel to
  rounding, not bit for bit; large batches run in threads, as `fit_batch`'s do;
* nothing the margins do not read is computed (no AIC/BIC per K, no loss
  curves, no status counts).
"""

from __future__ import annotations

import numpy as np

from gmmmi._kernels.em1d import em1d_fit_batch
from gmmmi._threads import run_split, thread_count

from .fit import BatchFit, EMSettings
from .folds import copy_groups, make_folds
from .repair import collapsed_components
from .select import CVResult, check_sample_size, cross_validate_with

#: folds of the search (as `select_components`'s default)
N_FOLDS = 2
#: EM iterations assumed when estimating the work of a batch (as `gmmmi._em.fit` does)
_TYPICAL_ITERATIONS = 100


def search_1d(
    column: np.ndarray,
    *,
    rng: np.random.Generator,
    n_inits: int,
    patience: int,
    threshold: float,
    max_components: int,
    settings: EMSettings,
):
    """Choose K of a 1-D mixture by 2-fold cross-validation and fit the whole column.

    Parameters
    ----------
    column : numpy.ndarray, shape (n, 1)
        The column, standardised, float64, C-contiguous.
    rng : numpy.random.Generator
        Source of the folds and the k-means starts (advanced).
    n_inits, patience, threshold, max_components : int, int, float, int
        As `gmmmi._em.select.select_components`'s ``n_inits``, ``patience``,
        ``threshold_components`` and ``max_components``.
    settings : EMSettings

    Returns
    -------
    n_components : int
        The chosen K.
    heldout : float
        Its mean validation log-likelihood per row (nats, units of ``column``).
    weights, means, variances : numpy.ndarray, shape (K',)
        The fit to the whole column (K' <= K: a component collapsed onto
        fewer than 2 rows is dropped and the rest refitted, as
        `gmmmi._em.repair.repair_collapsed` does).

    Raises
    ------
    ValueError
        Fewer than 2 rows (`check_sample_size`).
    """
    n = column.shape[0]
    folds = make_folds(n, N_FOLDS, rng, copy_groups(column))
    check_sample_size(n, N_FOLDS, 1)
    x = column[:, 0]
    # the training and validation rows of both folds, concatenated once for the kernel
    train = [np.flatnonzero(folds != j) for j in range(N_FOLDS)]
    valid = [np.flatnonzero(folds == j) for j in range(N_FOLDS)]
    sets = (*_concatenated(train), *_concatenated(valid))
    k_cap = min(max_components, n // N_FOLDS)
    results = {}
    best_metric, best_k, waited = -np.inf, 1, 0
    converged = False
    for K in range(1, k_cap + 1):
        cv = _cross_validate(column, x, K, sets, n_inits, settings, rng)
        results[K] = cv
        if cv.best_score - best_metric > threshold:
            best_metric, best_k, waited = cv.best_score, K, 0
        else:
            waited += 1
            if waited >= patience:
                converged = True
                break
        for old in [k for k in results if k < K - patience]:
            del results[old]
    chosen = best_k if converged else k_cap
    cv = results[chosen]
    return (chosen, cv.best_score, *_full_fit(x, cv.best_parameters(), settings))


def _concatenated(sets):
    """Row indices of several sets, concatenated, and their offsets."""
    ptr = np.zeros(len(sets) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in sets])
    return np.concatenate(sets).astype(np.int64), ptr


def _full_fit(x, start, settings):
    """The fit to every row from ``start``, refitted without collapsed components."""
    n = x.shape[0]
    rows, ptr = np.arange(n, dtype=np.int64), np.array([0, n], dtype=np.int64)
    sets = (rows, ptr, rows[:0], np.zeros(2, dtype=np.int64))
    weights, means, variances = start[0], start[1][:, 0], start[2][:, 0, 0]
    for _ in range(weights.size):
        init = (weights[None], means[None], variances[None])
        weights, means, variances, *_ = _run(x, sets, np.zeros(1, np.int64), init, settings)
        weights, means, variances = weights[0], means[0], variances[0]
        bad = collapsed_components(weights[None], variances[None, :, None, None], n)[0]
        keep = (weights > 0) & ~bad
        if not bad.any() or not keep.any():
            break
        weights, means, variances = (
            weights[keep] / weights[keep].sum(),
            means[keep],
            variances[keep],
        )
    return weights, means, variances


def _run(x, sets, fit_set, init, settings):
    """`em1d_fit_batch` of the fits on sets ``fit_set`` (validated on the same-numbered set).

    Large batches are split over threads (`gmmmi._threads.run_split`); the fits
    are independent, so the result does not depend on the number of threads.
    """
    rows, ptr, vrows, vptr = sets
    fit_set = np.ascontiguousarray(fit_set, dtype=np.int64)
    w0, m0, v0 = (np.ascontiguousarray(a, dtype=np.float64) for a in init)

    def run(part):
        return em1d_fit_batch(
            x,
            rows,
            ptr,
            fit_set[part],
            vrows,
            vptr,
            fit_set[part],
            w0[part],
            m0[part],
            v0[part],
            float(settings.reg_covar),
            float(settings.threshold_fit),
            int(settings.max_iter),
        )

    work = float(np.diff(ptr)[fit_set].sum()) * w0.shape[1] * _TYPICAL_ITERATIONS
    parts = run_split(run, len(fit_set), thread_count(work))
    return parts[0] if len(parts) == 1 else [np.concatenate(a) for a in zip(*parts, strict=True)]


def _cross_validate(X, x, K, sets, n_inits, settings, rng) -> CVResult:
    """`gmmmi._em.select.cross_validate` with k-means starts, each distinct start fitted once."""

    def fit(init, which):
        which = np.arange(n_inits * N_FOLDS) if which is None else which
        return _fit_distinct(x, sets, init, settings, which)

    return cross_validate_with(X, K, N_FOLDS, n_inits, "kmeans", None, rng, fit)


def _fit_distinct(x, sets, init, settings, which):
    """The fits ``which`` (start ``i`` on fold ``i % N_FOLDS``), each distinct one run once."""
    first = {}  # (start bytes, fold) -> number of the distinct fit
    source = np.empty(len(which), dtype=np.int64)
    for j, f in enumerate(which):
        key = (b"".join(a[f].tobytes() for a in init), int(f) % N_FOLDS)
        source[j] = first.setdefault(key, len(first))
    unique = which[np.unique(source, return_index=True)[1]]
    w0, m0, c0 = (a[unique] for a in init)
    out = _run(x, sets, unique % N_FOLDS, (w0, m0[:, :, 0], c0[:, :, 0, 0]), settings)
    weights, means, variances, *rest = (a[source] for a in out)
    return BatchFit(weights, means[:, :, None], variances[:, :, None, None], *rest)
