"""Batched EM: many fits of full-covariance mixtures in one compiled call.

A fit is given by its training rows (indices into the data, with weights:
1 for cross-validation folds, draw counts for bootstrap replicas), optional
validation rows and a start; `fit_batch` runs any number of them in parallel
over fits (`gmmmi._kernels.em.em_fit_batch` on slices of the fits, in threads:
`gmmmi._threads.run_split`), so results do not depend on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gmmmi._kernels.em import (
    STATUS_BAD_INIT,
    STATUS_MAX_ITER,
    STATUS_NAN,
    STATUS_SINGULAR,
    em_fit_batch,
)
from gmmmi._threads import run_split, thread_count
from gmmmi.mixture import MixtureDraws

from .options import ESTIMATE_DEFAULTS

_EMPTY_ROWS = np.zeros(0, dtype=np.int64)
_EMPTY_PTR = np.zeros(2, dtype=np.int64)


@dataclass
class EMSettings:
    """Settings shared by every EM fit (names as in GMM-MI), and the rows' sample weights.

    ``row_weight`` (shape (n,), mean 1; None: every row 1) multiplies the
    weight of every row of ``X`` in the cross-validation fits and their
    validation scores, the full-data fit and the bootstrap replicas
    (`gmmmi._weights`).
    """

    reg_covar: float = ESTIMATE_DEFAULTS["reg_covar"]
    threshold_fit: float = ESTIMATE_DEFAULTS["threshold_fit"]
    max_iter: int = ESTIMATE_DEFAULTS["max_iter"]
    row_weight: np.ndarray | None = None

    def weights_of(self, rows: np.ndarray) -> np.ndarray:
        """The sample weights of ``rows`` (indices into ``X``): ones without weights."""
        if self.row_weight is None:
            return np.ones(len(rows))
        return self.row_weight[rows]


@dataclass
class BatchFit:
    """F fitted mixtures and their EM diagnostics (arrays over fits)."""

    weights: np.ndarray  # (F, K)
    means: np.ndarray  # (F, K, d)
    covariances: np.ndarray  # (F, K, d, d)
    n_iter: np.ndarray  # (F,)
    status: np.ndarray  # (F,) bit flags of gmmmi._kernels.em
    train_ll: np.ndarray  # (F,) final mean log-likelihood per training sample (or NaN)
    valid_ll: np.ndarray  # (F,) same on the validation rows (NaN without)
    curves_train: list = field(default_factory=list)
    curves_valid: list = field(default_factory=list)
    repaired: int = 0  # fits refitted without a collapsed component (`repair_collapsed`)


def _csr(sets):
    """Concatenate (rows, weights) pairs into rows, weights and offsets arrays."""
    ptr = np.zeros(len(sets) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r, _ in sets])
    rows = np.concatenate([np.asarray(r, dtype=np.int64) for r, _ in sets])
    weights = np.concatenate([np.asarray(w, dtype=np.float64) for _, w in sets])
    return rows, weights, ptr


#: EM iterations assumed when estimating the work of a batch of K > 1 fits
_TYPICAL_ITERATIONS = 100
#: a K = 1 fit's closed-form pass per row, in E-step evaluations (1.5 ns a row against
#: about 7 ns, `gmmmi._kernels.moments`); its scores are E-step passes
_SINGLE_FIT_PASS = 0.25


def _em_work(rows, vrows, fit_set, ptr, vptr, n_components, score_final) -> float:
    """Estimated sample x component evaluations of a batch of EM fits.

    A K = 1 fit is one closed-form pass over its training rows (`_SINGLE_FIT_PASS`),
    plus one E-step pass to score them (``score_final``) and one over its validation
    rows; bench_core's rho=0.6 N=10^4 bootstrap (50 x 10^4 rows, 0.75 ms of fits) stays on
    one thread, where two threads cost more CPU and no less wall time (docs/scaling.md).
    """
    train = float(np.diff(ptr)[fit_set].sum())
    valid = float(np.diff(vptr)[fit_set].sum()) if vrows.size else 0.0
    if n_components == 1:
        return train * (_SINGLE_FIT_PASS + float(score_final)) + valid
    return (train + valid) * n_components * _TYPICAL_ITERATIONS


def fit_batch(
    X: np.ndarray,
    train_sets,
    fit_set: np.ndarray,
    init: tuple,
    settings: EMSettings,
    *,
    valid_sets: list | None = None,
    record_curves: bool = False,
    score_final: bool = True,
    valid_weights: list | None = None,
) -> BatchFit:
    """Run F EM fits in parallel (one compiled call per thread).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    train_sets : list of (rows, weights), or a tuple (rows, weights, ptr)
        Row indices into ``X`` (int) and their weights (1 or bootstrap
        counts), per set or already concatenated with offsets ``ptr``.
    fit_set : ndarray of int, shape (F,)
        Index into ``train_sets`` (and ``valid_sets``) of each fit.
    init : tuple of ndarray
        Initial weights (F, K), means (F, K, d), covariances (F, K, d, d).
    settings : EMSettings
    valid_sets : list of ndarray, optional
        Validation row indices per set.
    record_curves : bool
        Keep per-iteration training and validation mean log-likelihoods.
    score_final : bool
        Compute ``train_ll`` of the final parameters (one more data pass).
    valid_weights : list of ndarray, optional
        Weights of the validation rows per set (default 1: sample weights).
    """
    rows, row_w, ptr = train_sets if isinstance(train_sets, tuple) else _csr(train_sets)
    fit_set = np.ascontiguousarray(fit_set, dtype=np.int64)
    if valid_sets is None:
        vrows, vrow_w, vptr = _EMPTY_ROWS, np.zeros(0), _EMPTY_PTR
        fit_vset = np.zeros_like(fit_set)
    else:
        vw = valid_weights or [np.ones(len(v)) for v in valid_sets]
        vrows, vrow_w, vptr = _csr(list(zip(valid_sets, vw, strict=True)))
        fit_vset = fit_set
    w0, m0, c0 = (np.ascontiguousarray(a, dtype=np.float64) for a in init)
    curve_len = min(int(settings.max_iter), CURVE_BUFFER) if record_curves else 0

    def run(which, length):
        return em_fit_batch(
            X,
            rows,
            row_w,
            ptr,
            fit_set[which],
            vrows,
            vrow_w,
            vptr,
            fit_vset[which],
            w0[which],
            m0[which],
            c0[which],
            float(settings.reg_covar),
            float(settings.threshold_fit),
            int(settings.max_iter),
            length,
            bool(score_final),
        )

    threads = thread_count(_em_work(rows, vrows, fit_set, ptr, vptr, w0.shape[1], score_final))
    parts = run_split(lambda part: run(part, curve_len), len(fit_set), threads)
    out = parts[0] if len(parts) == 1 else [np.concatenate(a) for a in zip(*parts, strict=True)]
    weights, means, covs, n_iter, status, train_ll, valid_ll, ct, cv = out
    fit = BatchFit(weights, means, covs, n_iter, status, train_ll, valid_ll)
    if record_curves:
        fit.curves_train, fit.curves_valid = _curves(n_iter, ct, cv, curve_len, run)
    return fit


#: iterations of loss curve recorded per fit in the first pass; fits that run longer are
#: re-run (EM is deterministic) with buffers as long as they ran, so memory follows the
#: iterations actually made, never max_iter
CURVE_BUFFER = 1000


def _curves(n_iter, ct, cv, curve_len, run):
    """Each fit's training and validation curves, length n_iter; long fits re-run to record."""
    train = [ct[f, : n_iter[f]].copy() for f in range(len(n_iter))]
    valid = [cv[f, : n_iter[f]].copy() for f in range(len(n_iter))]
    long = np.flatnonzero(n_iter > curve_len)
    if long.size:
        *_, ct_long, cv_long = run(long, int(n_iter[long].max()))
        for j, f in enumerate(long):
            train[f] = ct_long[j, : n_iter[f]].copy()
            valid[f] = cv_long[j, : n_iter[f]].copy()
    return train, valid


def concatenate(parts: list) -> BatchFit:
    """BatchFits stacked along the fit axis (``curves_*`` are dropped, ``repaired`` summed).

    Fits with fewer components are padded with empty ones (weight 0, mean 0,
    identity covariance) as `MixtureDraws.concatenate` does. One part is
    returned as it is.
    """
    if len(parts) == 1:
        return parts[0]
    mixtures = MixtureDraws.concatenate(
        MixtureDraws(p.weights, p.means, p.covariances) for p in parts
    )
    fields = ("n_iter", "status", "train_ll", "valid_ll")
    out = BatchFit(
        mixtures.weights,
        mixtures.means,
        mixtures.covariances,
        *(np.concatenate([getattr(p, f) for p in parts]) for f in fields),
    )
    out.repaired = sum(p.repaired for p in parts)
    return out


def count_status(counts: dict, status: np.ndarray, repaired: int = 0, stalled: int = 0) -> None:
    """Add the number of fits per status flag, ``"fits"``, ``"repaired"``, ``"stalled"``.

    ``repaired`` is the number of those fits refitted without a collapsed
    component (`repair_collapsed`), ``stalled`` the number restarted from
    k-means because they stopped at their start (`stalled_at_start`).
    """
    for name, flag in (
        ("max_iter", STATUS_MAX_ITER),
        ("singular", STATUS_SINGULAR),
        ("bad_init", STATUS_BAD_INIT),
        ("nan", STATUS_NAN),
    ):
        counts[name] = counts.get(name, 0) + int(np.count_nonzero(status & flag))
    counts["fits"] = counts.get("fits", 0) + int(status.size)
    counts["repaired"] = counts.get("repaired", 0) + int(repaired)
    counts["stalled"] = counts.get("stalled", 0) + int(stalled)
