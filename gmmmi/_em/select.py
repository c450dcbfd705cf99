"""Cross-validation and the choice of K (the number of components).

The procedure is that of GMM-MI (Piras et al. 2023): for K = 1, 2, ...,
``n_inits`` initialisations (computed on the full data) are each fitted on
the training part of ``n_folds`` folds, and scored by the mean validation
log-likelihood per sample. The initialisation with the highest mean score
across folds wins, and its best fold's fitted mixture starts a fit to the
full data. K stops growing when the chosen metric has not improved by more
than ``threshold_components`` for ``patience`` consecutive values of K.

AIC and BIC per K: with ``metric_method='aic'`` or ``'bic'`` they are those
of the full-data fit at each K, as in GMM-MI. With ``'valid'`` (the default)
they are only reported, and are computed from the cross-validation's best
mixture evaluated on all the data (one pass, no full-data EM fit per K); the
full-data fit is then run once, at the chosen K. Loss curves are recorded
only for the chosen K (its cross-validation fits are re-run with recording,
which reproduces them exactly).

Not in GMM-MI: a K whose best cross-validation fits stopped at a start of
identical components (which uniform random responsibilities give on large
data) is not scored as such; those fits are started again from k-means
(`stalled_at_start`).

All randomness comes from the caller's ``numpy.random.Generator``; the fits
themselves run in `gmmmi._em.fit.fit_batch`, in parallel over fits.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from gmmmi._kernels.em import mean_loglik
from gmmmi._progress import progress_bar
from gmmmi.diagnostics import EMSelection

from .fit import BatchFit, EMSettings, count_status, fit_batch
from .folds import copy_groups, make_folds
from .init import initialise
from .options import ORIGINAL_DEFAULTS as GMM_MI
from .repair import repair_collapsed


@dataclass
class CVResult:
    """The n_inits x n_folds cross-validation fits at one K.

    ``fits`` arrays are ordered init-major: fit ``i * n_folds + j`` is
    initialisation ``i`` trained without fold ``j``.
    """

    n_components: int
    fits: BatchFit
    val_scores: np.ndarray  # (n_inits, n_folds) mean validation log-likelihood per sample
    best_init: int
    best_fold: int
    init: tuple = ()  # (weights, means, covariances) of every fit, init-major
    #: (F,) bool: fits restarted from k-means, as they stopped at their start (`stalled_at_start`)
    restarted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: the fits' loss curves, ``{"train": [...], "valid": [...]}`` (`LossCurves`, recorded when
    #: first read), or None when they were not asked for
    loss_curves: Mapping | None = None

    @property
    def stalled(self) -> int:
        """Number of fits restarted from k-means because they stopped at their start."""
        return int(np.count_nonzero(self.restarted))

    def stopped_early(self) -> bool:
        """Every fit stopped within 2 EM iterations (GMM-MI's sign of a poor fit).

        A fit restarted from k-means counts if its restart stopped within
        `STALL_ITERATIONS`: ``threshold_fit`` is then too loose for EM to move.
        """
        early = self.fits.n_iter <= 2
        if self.restarted.size:
            early |= self.restarted & (self.fits.n_iter <= STALL_ITERATIONS)
        return bool(np.all(early))

    @property
    def best_score(self) -> float:
        """Mean validation score across folds of the best initialisation."""
        return float(np.mean(self.val_scores[self.best_init]))

    def best_parameters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fitted weights (K,), means (K, d), covariances (K, d, d) of the best fold."""
        f = self.best_init * self.val_scores.shape[1] + self.best_fold
        return self.fits.weights[f], self.fits.means[f], self.fits.covariances[f]


def cross_validate(
    X: np.ndarray,
    n_components: int,
    folds: np.ndarray,
    *,
    n_inits: int,
    init_type: str,
    scale: float | None,
    settings: EMSettings,
    rng: np.random.Generator,
    record_curves: bool = True,
) -> CVResult:
    """Fit ``n_inits`` initialisations on each of the folds' training parts.

    Initialisations are computed on the full ``X`` (as in GMM-MI) and drawn
    from ``rng`` in order; the n_inits x n_folds fits run in parallel. The
    best initialisation has the highest mean validation score across folds
    (a NaN score counts as -inf); within it, the best fold has the highest
    score. Without ``record_curves`` (which costs one validation pass per EM
    iteration) the curves can be added later by `with_curves`.

    If the best initialisation stopped at its start (`stalled_at_start`: a
    single Gaussian in disguise, whose score is not that of K components),
    every stalled initialisation is replaced by a k-means start, drawn from
    ``rng``, and its fits are run again (``CVResult.restarted``).
    """
    n_folds = int(folds.max()) + 1

    def fit(init, which):
        return _fit_folds(X, folds, init, settings, record_curves, which)

    return cross_validate_with(X, n_components, n_folds, n_inits, init_type, scale, rng, fit)


def cross_validate_with(
    X: np.ndarray,
    n_components: int,
    n_folds: int,
    n_inits: int,
    init_type: str,
    scale: float | None,
    rng: np.random.Generator,
    fit: Callable[[tuple, np.ndarray | None], BatchFit],
) -> CVResult:
    """`cross_validate`'s rule with the fits run by ``fit(init, which)``.

    ``init`` holds the starts of the n_inits x n_folds fits (start ``i`` on
    fold ``i % n_folds``); ``which`` is None (every fit) or the indices of the
    fits to run. The margins' 1-D search (`gmmmi._em.search1d`) passes its
    own kernel; the starts and their random numbers are the same.
    """
    inits = [
        initialise(X, n_components, init_type=init_type, scale=scale, rng=rng)
        for _ in range(n_inits)
    ]
    init = tuple(np.repeat(np.stack(a), n_folds, axis=0) for a in zip(*inits, strict=True))
    fits = fit(init, None)
    scores, best_init, best_fold = _best(fits, n_inits, n_folds)
    stalled = stalled_at_start(fits).reshape(n_inits, n_folds).any(axis=1)
    if not stalled[best_init]:
        return CVResult(n_components, fits, scores, best_init, best_fold, init)
    # the best score is that of a single Gaussian in disguise: K was not tried. Start the
    # stalled initialisations again from k-means, whose clusters are distinct
    again = np.flatnonzero(np.repeat(stalled, n_folds))
    for i in np.flatnonzero(stalled):
        restart = initialise(X, n_components, init_type="kmeans", scale=None, rng=rng)
        for a, b in zip(init, restart, strict=True):
            a[i * n_folds : (i + 1) * n_folds] = b
    _replace_fits(fits, again, fit(init, again))
    scores, best_init, best_fold = _best(fits, n_inits, n_folds)
    restarted = np.zeros(n_inits * n_folds, dtype=bool)
    restarted[again] = True
    return CVResult(n_components, fits, scores, best_init, best_fold, init, restarted)


def _best(fits: BatchFit, n_inits: int, n_folds: int) -> tuple[np.ndarray, int, int]:
    """Validation scores (n_inits, n_folds), NaN as -inf; the best init and its best fold."""
    scores = np.where(np.isfinite(fits.valid_ll), fits.valid_ll, -np.inf)
    scores = scores.reshape(n_inits, n_folds)
    best_init = int(np.argmax(scores.mean(axis=1)))
    return scores, best_init, int(np.argmax(scores[best_init]))


#: EM iterations within which a fit that stops has not had a chance to move: the first
#: log-likelihood change is measured at iteration 2 (stalled fits stop at 2 or 3)
STALL_ITERATIONS = 3
#: largest distance, in standardised units (data sd 1), between two components' means or
#: covariance entries of a mixture that is a single Gaussian in disguise; stalled
#: 'random_sklearn' starts of the paper's D3 and D5 at N = 1e4-1e6 lie within 0.03,
#: fits that left their start 0.86 or more apart
STALL_SEPARATION = 0.1


def stalled_at_start(fits: BatchFit) -> np.ndarray:
    """Which fits of K > 1 components stopped at a start that is one Gaussian in disguise.

    A start whose components are all (nearly) the same Gaussian, as uniform
    random responsibilities give on large data, is a saddle point of the
    likelihood: EM's first steps change the log-likelihood by less than
    ``threshold_fit`` and it stops there, with the score of a single
    Gaussian. Such a fit has not converged to a K-component mixture. A fit
    is stalled if it stopped within `STALL_ITERATIONS` iterations and every
    component's mean and covariance lie within `STALL_SEPARATION` of the
    weighted average ones.

    Parameters
    ----------
    fits : BatchFit
        F fits of K components to standardised data.

    Returns
    -------
    numpy.ndarray of bool, shape (F,)
    """
    weights, means, covs = fits.weights, fits.means, fits.covariances
    short = fits.n_iter <= STALL_ITERATIONS
    if weights.shape[1] < 2 or not short.any():  # most searches: no fit stopped that early
        return np.zeros(weights.shape[0], dtype=bool)
    w = weights[:, :, None]
    mean_spread = np.abs(means - np.sum(w * means, axis=1, keepdims=True)).max(axis=(1, 2))
    pooled = np.sum(w[..., None] * covs, axis=1, keepdims=True)
    cov_spread = np.abs(covs - pooled).max(axis=(1, 2, 3))
    close = (mean_spread < STALL_SEPARATION) & (cov_spread < STALL_SEPARATION)
    return short & close


def _replace_fits(fits: BatchFit, which: np.ndarray, new: BatchFit) -> None:
    """Put the fits ``new`` in place of ``fits``' fits ``which`` (in place)."""
    for name in ("weights", "means", "covariances", "n_iter", "status", "train_ll", "valid_ll"):
        getattr(fits, name)[which] = getattr(new, name)
    for curves, new_curves in (
        (fits.curves_train, new.curves_train),
        (fits.curves_valid, new.curves_valid),
    ):
        for j, f in enumerate(which if curves else ()):
            curves[f] = new_curves[j]


def _fit_folds(X, folds, init, settings, record_curves, which=None) -> BatchFit:
    """The init-major n_inits x n_folds cross-validation fits from ``init`` (or fits ``which``)."""
    n_folds = int(folds.max()) + 1
    train = [np.flatnonzero(folds != j) for j in range(n_folds)]
    valid = [np.flatnonzero(folds == j) for j in range(n_folds)]
    valid_w = None if settings.row_weight is None else list(map(settings.weights_of, valid))
    which = np.arange(len(init[0])) if which is None else which
    return fit_batch(
        X,
        [(r, settings.weights_of(r)) for r in train],
        which % n_folds,
        tuple(a[which] for a in init),
        settings,
        valid_sets=valid,
        record_curves=record_curves,
        valid_weights=valid_w,
    )


def with_curves(X: np.ndarray, cv: CVResult, folds: np.ndarray, settings: EMSettings) -> CVResult:
    """``cv`` with loss curves: its fits re-run from the same starts, recording.

    The fits are deterministic, so the re-run reproduces them exactly; only
    ``fits`` is replaced (with curves).
    """
    if cv.fits.curves_train:
        return cv
    return replace(cv, fits=_fit_folds(X, folds, cv.init, settings, record_curves=True))


def lazy_curves(X: np.ndarray, cv: CVResult, folds: np.ndarray, settings: EMSettings) -> CVResult:
    """``cv`` with its `LossCurves` (recorded when first read, or now for large data)."""
    return replace(cv, loss_curves=LossCurves(X, cv, folds, settings))


#: data of at most this many bytes (32 768 rows of 2 columns) is copied and kept by
#: `LossCurves`, which records the curves when they are first read, so that a result kept
#: holds at most this much more; larger data has them recorded at once
LAZY_CURVES_BYTES = 2**19


class LossCurves(Mapping):
    """The loss curves of a `CVResult`'s fits, ``{"train": [...], "valid": [...]}``.

    Recording them re-runs the fits with one validation pass per EM
    iteration (`with_curves`): 1.8 and 4.3 ms of the K search's 13 and 25 ms
    on the paper's D3 and D5 at N = 2000, for curves that most estimates
    never read. So they are recorded on the first read, from a copy of the
    data and the fits' starts; EM is deterministic, so they are the curves a
    re-run at once gives. Data of more than `LAZY_CURVES_BYTES` is not
    copied: its curves are recorded at once. A pickle or copy is a plain dict.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        The data the fits were made on (copied if kept).
    cv : CVResult
    folds : numpy.ndarray of int64, shape (n,)
    settings : EMSettings
    """

    def __init__(self, X: np.ndarray, cv: CVResult, folds: np.ndarray, settings: EMSettings):
        self._curves: dict | None = None
        self._lock = threading.Lock()
        self._source: tuple | None = None
        if cv.fits.curves_train or X.nbytes > LAZY_CURVES_BYTES:
            self._keep(with_curves(X, cv, folds, settings).fits)
        else:
            weight = settings.row_weight
            settings = replace(settings, row_weight=None if weight is None else weight.copy())
            self._source = (X.copy(), cv, folds, settings)

    def _keep(self, fits: BatchFit) -> None:
        self._curves = {"train": fits.curves_train, "valid": fits.curves_valid}

    def _recorded(self) -> dict:
        with self._lock:
            if self._curves is None:
                self._keep(with_curves(*self._source).fits)
                self._source = None
            return self._curves

    def __getitem__(self, name: str) -> list:
        return self._recorded()[name]

    def __iter__(self):
        return iter(("train", "valid"))

    def __len__(self) -> int:
        return 2

    def __reduce__(self):
        return dict, (self._recorded(),)

    def __repr__(self) -> str:
        return repr(self._recorded())


def n_parameters(n_components: int, n_features: int) -> int:
    """Free parameters of a full-covariance mixture: K-1 weights, K d means, K d(d+1)/2."""
    K, d = n_components, n_features
    return K - 1 + K * d + K * d * (d + 1) // 2


def information_criteria(mean_ll: float, n_samples: int, n_components: int, n_features: int):
    """(AIC, BIC) of a fit whose mean log-likelihood per sample is ``mean_ll``."""
    p = n_parameters(n_components, n_features)
    deviance = -2.0 * mean_ll * n_samples
    return deviance + 2.0 * p, deviance + p * math.log(n_samples)


def full_data_fit(X: np.ndarray, init: tuple, settings: EMSettings) -> BatchFit:
    """One EM fit to every row of ``X`` from ``init`` = (weights, means, covariances).

    A fit with collapsed components is refitted without them
    (`repair_collapsed`; ``repaired`` is then 1).
    """
    n = X.shape[0]
    rows = np.arange(n, dtype=np.int64)
    train = (rows, settings.weights_of(rows), np.array([0, n], dtype=np.int64))
    fit_set = np.zeros(1, dtype=np.int64)
    fit = fit_batch(X, train, fit_set, tuple(a[None] for a in init), settings)
    return repair_collapsed(X, train, fit_set, fit, settings)


@dataclass
class Selection:
    """Outcome of `select_components`.

    Attributes
    ----------
    n_components : int
        The chosen K.
    start : tuple of ndarray
        Weights (K,), means (K, d), covariances (K, d, d) that start the
        full-data fit and every bootstrap fit (``cv.best_parameters()``).
    cv : CVResult or None
        Cross-validation fits at the chosen K (None for a warm start).
    full_fit : BatchFit
        The fit to all the data (F = 1) at the chosen K.
    metric_per_k : dict
        ``{"n_components", "valid", "aic", "bic"}`` lists (empty if K was fixed).
        AIC/BIC are of the full-data fit at each K with ``metric_method``
        'aic'/'bic', and of the best cross-validated mixture evaluated on all
        the data with 'valid'.
    reached_max_components : bool
    folds : ndarray of int64, shape (n,)
    status : dict
        Counts of EM fits per status flag, over every fit made.
    all_cv_fits_short : bool
        Every cross-validation fit with 2 <= K <= the chosen K stopped within 2
        iterations (GMM-MI's sign of a poor fit), or within 3 after a restart
        from k-means (`CVResult.stopped_early`).
    """

    n_components: int
    start: tuple
    cv: CVResult | None
    full_fit: BatchFit
    metric_per_k: dict
    reached_max_components: bool
    folds: np.ndarray
    status: dict
    all_cv_fits_short: bool

    def diagnostics(self, metric_method: str) -> EMSelection:
        """What the choice of K tells a backend's diagnostics (curves of the chosen K's fits)."""
        cv_fits = self.cv.fits if self.cv is not None else None
        curves = None if self.cv is None else self.cv.loss_curves
        return EMSelection(
            metric_per_k=self.metric_per_k,
            metric_method=metric_method if self.metric_per_k else None,
            loss_curves=curves
            or {
                "train": cv_fits.curves_train if cv_fits else [],
                "valid": cv_fits.curves_valid if cv_fits else [],
            },
            reached_max_components=self.reached_max_components,
        )


def check_sample_size(n_samples: int, n_folds: int, n_components: int) -> None:
    """Raise ValueError unless n_samples >= n_folds * n_components."""
    needed = n_folds * n_components
    if n_samples < needed:
        raise ValueError(
            f"Too few samples: fitting {n_components} component(s) with {n_folds}-fold "
            f"cross-validation needs at least n_folds x n_components = {needed} samples; "
            f"got {n_samples}. Provide more data, or lower n_folds or the number of components."
        )


def select_components(
    X: np.ndarray,
    *,
    rng: np.random.Generator,
    n_components: int | None = None,
    init_type: str = GMM_MI["init_type"],
    scale: float | None = GMM_MI["scale"],
    n_inits: int = GMM_MI["n_inits"],
    n_folds: int = GMM_MI["n_folds"],
    metric_method: str = GMM_MI["metric_method"],
    threshold_components: float = GMM_MI["threshold_components"],
    patience: int = GMM_MI["patience"],
    max_components: int = GMM_MI["max_components"],
    settings: EMSettings | None = None,
    progress: bool = False,
    k_min: int = 1,
    folds: np.ndarray | None = None,
    curves: bool = True,
) -> Selection:
    """Choose K by cross-validation (or use a fixed K) and fit the full data.

    Options not given take GMM-MI 0.8.2's defaults (`gmmmi._em.options.ORIGINAL_DEFAULTS`).

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Standardised data.
    rng : numpy.random.Generator
        Source of the fold split and of every initialisation.
    n_components : int or None
        A fixed K (cross-validation then only picks the best initialisation),
        or None to search K = 1, 2, ...
    init_type, scale, n_inits, n_folds : see `initialise` and `cross_validate`.
    metric_method : {'valid', 'aic', 'bic'}
        'valid': maximise the best mean validation log-likelihood per sample;
        'aic' / 'bic': minimise the criterion of the full-data fit at each K.
        With 'valid', the AIC and BIC reported in ``metric_per_k`` are those
        of the best cross-validated mixture on all the data (no full-data fit
        per K).
    threshold_components : float
        Minimum improvement of the metric that counts.
    patience : int
        Stop after this many consecutive K without improvement; the chosen K
        is the last one that improved.
    max_components : int
        Largest K tried (also capped at n // n_folds); reaching it sets
        ``reached_max_components`` and K = the largest K tried.
    settings : EMSettings
    progress : bool
        Show a progress bar over K.
    k_min : int, default 1
        Smallest K of the search (capped at n // n_folds); K never goes below.
    folds : ndarray of int64, shape (n,), optional
        Fold of every row (0 .. n_folds-1), e.g. the same fold for every
        copy of a row in a bootstrap replica; default `make_folds` with
        `copy_groups`, which keeps exact copies of a row in one fold.
    curves : bool, default True
        Record the loss curves of the chosen K's cross-validation fits.
    """
    settings = settings or EMSettings()
    n, d = X.shape
    folds = make_folds(n, n_folds, rng, copy_groups(X)) if folds is None else folds
    status: dict = {}
    cv_kw = dict(n_inits=n_inits, init_type=init_type, scale=scale, settings=settings, rng=rng)
    per_k_full_fit = metric_method != "valid"

    def run(K, curves):
        cv = cross_validate(X, K, folds, record_curves=curves, **cv_kw)
        count_status(status, cv.fits.status, stalled=cv.stalled)
        if not per_k_full_fit:
            return cv, None, mean_loglik(X, *cv.best_parameters())
        full = full_data_fit(X, cv.best_parameters(), settings)
        count_status(status, full.status, full.repaired)
        return cv, full, float(full.train_ll[0])

    def finish(cv, full):
        """The chosen K's curves and, unless already made, its full-data fit."""
        if curves:
            cv = lazy_curves(X, cv, folds, settings)
        if full is None:
            full = full_data_fit(X, cv.best_parameters(), settings)
            count_status(status, full.status, full.repaired)
        return cv, full

    if n_components is not None:
        check_sample_size(n, n_folds, n_components)
        cv = cross_validate(X, n_components, folds, **cv_kw)
        count_status(status, cv.fits.status, stalled=cv.stalled)
        cv, full = finish(cv, None)
        short = n_components > 1 and cv.stopped_early()
        return Selection(
            n_components, cv.best_parameters(), cv, full, {}, False, folds, status, short
        )

    check_sample_size(n, n_folds, 1)
    k_cap = min(max_components, n // n_folds)
    k_min = min(k_min, k_cap)
    table = {"n_components": [], "valid": [], "aic": [], "bic": []}
    results, short = {}, {}
    best_metric, best_k, waited = -np.inf, k_min, 0
    converged = False
    with progress_bar(k_cap - k_min + 1, "choosing K", progress, unit="K") as bar:
        for K in range(k_min, k_cap + 1):
            cv, full, full_ll = run(K, False)
            results[K] = (cv, full)
            short[K] = cv.stopped_early()
            aic, bic = information_criteria(full_ll, n, K, d)
            for key, value in zip(table, (K, cv.best_score, aic, bic), strict=True):
                table[key].append(value)
            metric = {"valid": cv.best_score, "aic": -aic, "bic": -bic}[metric_method]
            bar.update(1)
            if metric - best_metric > threshold_components:
                best_metric, best_k, waited = metric, K, 0
            else:
                waited += 1
                if waited >= patience:
                    converged = True
                    break
            for old in [k for k in results if k < K - patience]:
                del results[old]  # only the last patience + 1 K can still be chosen
    chosen = best_k if converged else k_cap
    cv, full = finish(*results[chosen])
    # one-component fits from an M-step start are exact after 2 iterations: not suspicious
    all_short = chosen > 1 and all(v for K, v in short.items() if 2 <= K <= chosen)
    start = cv.best_parameters()
    return Selection(chosen, start, cv, full, table, not converged, folds, status, all_short)


def warm_start(X: np.ndarray, init: tuple, settings: EMSettings) -> Selection:
    """Skip the choice of K: fit the full data from given parameters.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    init : tuple of ndarray
        Weights (K,), means (K, d), covariances (K, d, d); components of
        weight 0 are dropped.
    settings : EMSettings
    """
    weights, means, covs = (np.asarray(a, dtype=np.float64) for a in init)
    keep = weights > 0
    start = (weights[keep] / weights[keep].sum(), means[keep], covs[keep])
    full = full_data_fit(X, start, settings)
    status: dict = {}
    count_status(status, full.status, full.repaired)
    folds = np.zeros(0, dtype=np.int64)
    return Selection(int(keep.sum()), start, None, full, {}, False, folds, status, False)
