"""The wider component search, run when the first fit fails its goodness-of-fit check.

The cross-validated search of `gmmmi._em.select.select_components` stops at
the first plateau of the held-out score, from one kind of start. On data a
few Gaussians cannot bend to (a noisy sine, a spiral, bmi's "waves") that
plateau is a local one: more components, started elsewhere, score better.
When the fit to all the data fails `gmmmi.fit_check.automatic_check`,
`widen_search` goes on past the plateau, on the same folds:

* for K = K0 + 1, K0 + 2, ... every candidate start in `CANDIDATES` is
  fitted on the folds and scored by its mean held-out log-likelihood per
  sample, like every other choice of K;
* it stops when the best score has not improved by more than
  ``threshold_components`` for `PATIENCE` successive K, or after
  `MAX_STEPS` values of K, or at ``max_components`` (or n // n_folds);
* the best candidate, if it beats the first search's K0, starts a new fit
  to all the data, from which the bootstrap then starts.

What was tried is returned as a frozen `gmmmi.diagnostics.WidenedSearch`.

Adding a candidate family
-------------------------
A candidate is a function ``(X, folds, K, previous, rng, settings) ->
Trial | None`` in `CANDIDATES`: given the data, the fold of every row, the K
to try and the best parameters found at K - 1, it returns its held-out score
and the parameters (weights, means, covariances) that start the full-data fit,
or None when it has nothing to offer at this K. A constrained family (e.g.
components that share a mean and a shape and differ in scale) returns the
full-covariance mixture its fit stands for; it is then compared, and kept or
not, by the same held-out score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from gmmmi.diagnostics import WidenedSearch

from .fit import EMSettings, count_status
from .init import initialise
from .select import Selection, _best, _fit_folds, full_data_fit

#: successive K without a better held-out score before the wider search stops. bmi's galaxy
#: (N=5000, docs/robustness.md) stopped at K=19 with 2, still failing its check (0.433, truth
#: 0.494); with 3 (and 5) it reaches K=35, passes, 0.503. bmi's waves still fails with 5
PATIENCE = 3
#: values of K the wider search tries at most beyond the first search's K
MAX_STEPS = 24
#: k-means starts per K (each from its own k-means++ seeding)
KMEANS_STARTS = 2


@dataclass
class Trial:
    """One candidate at one K: how it was started, its held-out score and its parameters."""

    label: str
    n_components: int
    score: float
    parameters: tuple  # weights (K,), means (K, d), covariances (K, d, d)
    status: np.ndarray  # EM status flags of its fold fits


def _scored(label, X, folds, start, settings) -> Trial:
    """Fit ``start`` on every fold's training rows; its mean held-out score."""
    n_folds = int(folds.max()) + 1
    init = tuple(np.repeat(np.asarray(a)[None], n_folds, axis=0) for a in start)
    fits = _fit_folds(X, folds, init, settings, record_curves=False)
    scores, _, best_fold = _best(fits, 1, n_folds)
    params = (fits.weights[best_fold], fits.means[best_fold], fits.covariances[best_fold])
    return Trial(label, len(start[0]), float(scores.mean()), params, fits.status)


def kmeans_starts(X, folds, K, previous, rng, settings) -> list[Trial]:
    """`KMEANS_STARTS` k-means starts at K, each from its own seeding."""
    return [
        _scored(
            "k-means", X, folds, initialise(X, K, init_type="kmeans", scale=None, rng=rng), settings
        )
        for _ in range(KMEANS_STARTS)
    ]


def split_worst(X, folds, K, previous, rng, settings) -> list[Trial]:
    """The best mixture at K - 1 with its worst-fitting component split in two.

    The worst-fitting component is the one whose rows (by responsibility)
    have the lowest mean log-density under the mixture; it is split along its
    longest axis, each half keeping the component's shape narrowed along it.
    """
    if previous is None:
        return []
    from scipy import stats  # ~0.5 s to import: only when a search is widened

    w, mu, cov = (np.array(a, dtype=np.float64) for a in previous)
    try:
        log_joint = np.column_stack(
            [
                np.log(w[j]) + stats.multivariate_normal(mu[j], cov[j]).logpdf(X)
                for j in range(len(w))
            ]
        ).reshape(X.shape[0], len(w))
    except np.linalg.LinAlgError:
        return []  # a collapsed component: nothing to split from this mixture
    log_density = logsumexp(log_joint, axis=1)
    resp = np.exp(log_joint - log_density[:, None])
    mass = resp.sum(axis=0)
    fit_per_component = (resp * log_density[:, None]).sum(axis=0) / np.maximum(mass, 1e-300)
    k = int(np.argmin(np.where(mass > X.shape[1] + 1, fit_per_component, np.inf)))
    if not np.isfinite(fit_per_component[k]) or mass[k] <= X.shape[1] + 1:
        return []
    values, vectors = np.linalg.eigh(cov[k])
    step = np.sqrt(values[-1]) * vectors[:, -1]
    narrowed = cov[k] - 0.75 * values[-1] * np.outer(vectors[:, -1], vectors[:, -1])
    weights = np.concatenate([np.delete(w, k), [w[k] / 2, w[k] / 2]])
    means = np.concatenate([np.delete(mu, k, axis=0), [mu[k] - 0.5 * step, mu[k] + 0.5 * step]])
    covs = np.concatenate([np.delete(cov, k, axis=0), [narrowed, narrowed]])
    return [_scored("split", X, folds, (weights, means, covs), settings)]


#: candidate starts tried at every K, in order (see "Adding a candidate family")
CANDIDATES: tuple[Callable, ...] = (kmeans_starts, split_worst)


def widen_search(
    X: np.ndarray,
    sel: Selection,
    *,
    reason: str,
    rng: np.random.Generator,
    settings: EMSettings,
    threshold: float,
    max_components: int,
) -> tuple[Selection, WidenedSearch]:
    """Search more K and more starts than ``sel`` did; keep the best held-out score.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Standardised data.
    sel : Selection
        The first search (with its cross-validation and folds).
    reason : str
        The failed check, recorded.
    rng : numpy.random.Generator
        Source of the starts.
    settings : EMSettings
    threshold : float
        Improvement of the mean held-out log-likelihood per sample that
        counts (``threshold_components``).
    max_components : int
        Largest K tried (also capped at n // n_folds).

    Returns
    -------
    Selection
        ``sel`` itself when no candidate scored better, else a new selection
        whose full-data fit starts from the best candidate.
    WidenedSearch
    """
    folds = sel.folds
    n_folds = int(folds.max()) + 1
    start_score = float(sel.cv.val_scores[sel.cv.best_init].mean())
    best: Trial | None = None
    best_score, waited, tried = start_score, 0, []
    status = dict(sel.status)
    previous = sel.cv.best_parameters()
    k_cap = min(max_components, X.shape[0] // n_folds, sel.n_components + MAX_STEPS)
    stopped = f"reached K={k_cap}, the most allowed"
    for K in range(sel.n_components + 1, k_cap + 1):
        trials = [
            t for candidate in CANDIDATES for t in candidate(X, folds, K, previous, rng, settings)
        ]
        for t in trials:
            count_status(status, t.status)
            tried.append((t.label, t.n_components, t.score))
        top = max(trials, key=lambda t: t.score)
        previous = top.parameters
        if top.score - best_score > threshold:
            best, best_score, waited = top, top.score, 0
        else:
            waited += 1
            if waited >= PATIENCE:
                stopped = f"no better held-out score for {PATIENCE} successive K"
                break
    record = WidenedSearch(
        reason=reason,
        start_n_components=sel.n_components,
        start_score=start_score,
        tried=tuple(tried),
        n_components=sel.n_components if best is None else best.n_components,
        score=best_score,
        stopped=stopped,
    )
    if best is None:
        return sel, record  # the fits tried are dropped, and so are their status counts
    full = full_data_fit(X, best.parameters, settings)
    count_status(status, full.status, full.repaired)
    widened = Selection(
        best.n_components,
        best.parameters,
        sel.cv,
        full,
        sel.metric_per_k,
        False,
        folds,
        status,
        sel.all_cv_fits_short,
    )
    return widened, record
