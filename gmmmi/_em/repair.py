"""Collapse repair: refit, without them, fits with a component collapsed onto a few rows."""

from __future__ import annotations

import numpy as np

from .fit import BatchFit, EMSettings, fit_batch

#: smallest covariance eigenvalue, in standardised units (data variance 1), of a component
#: that has not collapsed; collapsed components sit near 1e-15 (reg_covar), genuine ones
#: above 1e-3 in the calibration data sets
COLLAPSE_EIGENVALUE = 1e-8


def collapsed_components(
    weights: np.ndarray, covariances: np.ndarray, n_samples: np.ndarray | float
) -> np.ndarray:
    """Which components of F fits have collapsed onto too few points.

    A component of non-zero weight has collapsed if its covariance is not
    finite, or its smallest eigenvalue is below `COLLAPSE_EIGENVALUE`
    (standardised units; this includes covariances that are not positive
    definite), or its effective count ``w_k * n`` is below ``d + 1`` (fewer
    points than a full-rank covariance needs). Bootstrap replicas cause it:
    a row drawn several times, or two or three collinear rows, is a
    maximum-likelihood singularity that EM finds at a small ``reg_covar``.

    Parameters
    ----------
    weights : ndarray, shape (F, K)
    covariances : ndarray, shape (F, K, d, d)
    n_samples : float or ndarray, shape (F,)
        Total (weighted) number of training samples of each fit.

    Returns
    -------
    ndarray of bool, shape (F, K)
    """
    d = covariances.shape[-1]
    finite = np.isfinite(covariances).all(axis=(-2, -1))
    safe = np.where(finite[..., None, None], covariances, np.eye(d))
    smallest = np.linalg.eigvalsh(safe)[..., 0]
    count = weights * np.reshape(n_samples, (-1, 1))
    thin = ~finite | ~(smallest >= COLLAPSE_EIGENVALUE) | (count < d + 1)
    return (weights > 0) & thin


def repair_collapsed(
    X: np.ndarray,
    train_sets: tuple,
    fit_set: np.ndarray,
    fit: BatchFit,
    settings: EMSettings,
    *,
    score_final: bool = True,
) -> BatchFit:
    """Refit, without their collapsed components, the fits that have some (in place).

    A collapsed component (`collapsed_components`) makes the fit's
    information integrals meaningless (a near point mass or line adds up to
    ``-w log w`` nat or more) and can fail the integrators' Cholesky
    factorisation. Such a fit is run again by EM from its own final
    parameters with the collapsed components removed (weights renormalised):
    the other components are already near their optimum, so the refit is
    short, and it is a maximum-likelihood fit with K' < K components of the
    same data. The result is padded back to K with empty components (weight
    0, mean 0, identity covariance), as `MixtureDraws.concatenate` does.
    This is preferred to refitting with a larger ``reg_covar``: a
    regularised spike keeps a weight of a few points and still shifts the
    MI by several bootstrap standard deviations unless ``reg_covar`` is so
    large that it also biases the genuine components. Dropping repeats until
    no component has collapsed; a fit whose components have all collapsed
    (degenerate data) is left as it is.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    train_sets : tuple
        (rows, weights, ptr) as for `fit_batch`.
    fit_set : ndarray of int, shape (F,)
        Training set of each fit.
    fit : BatchFit
        The F fits; arrays updated in place, ``n_iter`` accumulated over
        refits, ``repaired`` incremented by the number of fits refitted.
    settings : EMSettings
    score_final : bool
        Compute ``train_ll`` of the refits.

    Returns
    -------
    BatchFit
        ``fit`` itself.
    """
    rows, row_w, ptr = train_sets
    fit_set = np.asarray(fit_set, dtype=np.int64)
    n_samples = np.add.reduceat(row_w, ptr[:-1])[fit_set] if row_w.size else 0.0
    repaired = set()
    for _ in range(fit.weights.shape[1]):  # every pass drops at least one component
        bad = collapsed_components(fit.weights, fit.covariances, n_samples)
        keep = (fit.weights > 0) & ~bad
        todo = np.flatnonzero(bad.any(axis=1) & keep.any(axis=1))
        if todo.size == 0:
            break
        for f in todo:
            _refit_without(
                X, (rows, row_w, ptr), int(fit_set[f]), fit, int(f), keep[f], settings, score_final
            )
            repaired.add(int(f))
    fit.repaired += len(repaired)
    return fit


def _refit_without(X, train_sets, set_index, fit, f, keep, settings, score_final):
    """Refit fit ``f`` on its set from its components ``keep``; write it back padded."""
    rows, row_w, ptr = train_sets
    a, b = ptr[set_index], ptr[set_index + 1]
    w = fit.weights[f, keep]
    init = (w / w.sum(), fit.means[f, keep], fit.covariances[f, keep])
    one = fit_batch(
        X,
        (rows[a:b], row_w[a:b], np.array([0, b - a], dtype=np.int64)),
        np.zeros(1, dtype=np.int64),
        tuple(x[None] for x in init),
        settings,
        score_final=score_final,
    )
    k, d = int(keep.sum()), X.shape[1]
    fit.weights[f] = 0.0
    fit.weights[f, :k] = one.weights[0]
    fit.means[f] = 0.0
    fit.means[f, :k] = one.means[0]
    fit.covariances[f] = np.eye(d)
    fit.covariances[f, :k] = one.covariances[0]
    fit.n_iter[f] += one.n_iter[0]
    fit.status[f] = one.status[0]
    fit.train_ll[f] = one.train_ll[0]
