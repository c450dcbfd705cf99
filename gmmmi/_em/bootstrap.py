"""Bootstrap: resample the rows, fit every replica from one start (or choose K again).

A replica is a vector of counts (how often each row was drawn), so the data
are never copied; replicas are drawn in order from the caller's
`numpy.random.Generator` and fitted in parallel, in chunks that bound the
memory used, so results do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np

from gmmmi._kernels.resample import circular_indices, resample_sets, single_gaussian_replicas
from gmmmi._progress import progress_bar
from gmmmi._threads import run_split, thread_count

from .fit import BatchFit, EMSettings, concatenate, fit_batch
from .folds import copy_groups, make_folds
from .options import selection_options
from .repair import repair_collapsed
from .select import select_components

#: bytes of row indices and counts held at once for bootstrap replicas
_BOOTSTRAP_MEMORY = 256 * 2**20
#: drawn rows (n x n_bootstrap) from which K = 1 replicas are fitted by
#: `gmmmi._kernels.resample.single_gaussian_replicas` (twice as fast at 10^7 rows,
#: no weight array) rather than by the EM kernel, which the search has compiled
#: already: below, compiling a second kernel would cost more than it saves
_CLOSED_FORM_ROWS = 2**24


def draw_rows(rng: np.random.Generator, size: int, n: int, block_length: int | None) -> np.ndarray:
    """Row indices of ``size`` bootstrap replicas of n rows, drawn from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int
        Replicas.
    n : int
        Rows of the data (and of every replica).
    block_length : int or None
        None: rows drawn independently (``rng.integers``, the IID bootstrap).
        Else the circular block bootstrap (Politis & Romano 1992): blocks of
        ``block_length`` consecutive rows, wrapping around, starting at
        uniform random rows (`gmmmi._kernels.resample.circular_indices`).

    Returns
    -------
    numpy.ndarray of int64, shape (size, n)
    """
    if block_length is None:
        return rng.integers(0, n, size=(size, n))
    starts = rng.integers(0, n, size=(size, -(-n // block_length)))
    return circular_indices(starts, block_length, n)


def reselected_bootstrap_fits(
    X: np.ndarray,
    n_components: int,
    n_bootstrap: int,
    *,
    rng: np.random.Generator,
    opts: dict,
    settings: EMSettings,
    progress: bool = False,
    block_length: float | None = None,
):
    """Bootstrap replicas that each choose their number of components again.

    Replica b draws n rows with replacement, splits them into folds so that
    all copies of a row (drawn twice, or equal rows of ``X``) share a fold
    (a copy in both the training and the
    validation part would reward over-fitting), and runs
    `gmmmi._em.select.select_components` on them with the backend's options,
    searching K from ``max(1, n_components - 2)`` upward (same metric,
    threshold and patience; no loss curves). Its draw is its own full-data
    fit at its chosen K. Replicas run one after the other, each drawing from
    ``rng`` in turn, so results do not depend on the number of threads.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    n_components : int
        K chosen on the full data.
    n_bootstrap : int
    rng : numpy.random.Generator
    opts : dict
        Checked backend options.
    settings : EMSettings
    progress : bool
    block_length : float or None
        Rows per block of a circular block bootstrap (`draw_rows`); None: IID.

    Returns
    -------
    fits : gmmmi._em.fit.BatchFit
        F = n_bootstrap fits, padded to the largest K with empty components
        (weight 0, mean 0, identity covariance).
    replica_k : ndarray of int64, shape (n_bootstrap,)
        K chosen by each replica.
    status : dict
        Status counts over every fit made (cross-validation and full).
    """
    n = X.shape[0]
    k_min = max(1, n_components - 2)
    fits, replica_k, status = [], [], {}
    kwargs = selection_options(opts)
    groups = copy_groups(X)
    with progress_bar(n_bootstrap, "bootstrap (choosing K)", progress, unit="fit") as bar:
        for _ in range(n_bootstrap):
            rows = draw_rows(rng, 1, n, block_length)[0]
            folds = make_folds(n, opts["n_folds"], rng, groups)[rows]
            sel = select_components(
                np.ascontiguousarray(X[rows]),
                rng=rng,
                settings=settings,
                k_min=k_min,
                folds=folds,
                curves=False,
                **kwargs,
            )
            fits.append(sel.full_fit)
            replica_k.append(sel.n_components)
            for key, value in sel.status.items():
                status[key] = status.get(key, 0) + value
            bar.update(1)
    return concatenate(fits), np.array(replica_k, dtype=np.int64), status


def bootstrap_fits(
    X: np.ndarray,
    init: tuple,
    n_bootstrap: int,
    *,
    rng: np.random.Generator,
    settings: EMSettings,
    progress: bool = False,
    block_length: float | None = None,
):
    """EM fits to ``n_bootstrap`` resamples of the rows of ``X``, all from ``init``.

    A replica draws n row indices with replacement (``rng.integers``) and is
    fitted as the distinct rows weighted by their counts, which is the same
    likelihood as the resampled data without copying it (``train_ll`` is not
    computed: NaN). Replicas are drawn
    in order and fitted in chunks whose size depends only on n (memory), so
    the result does not depend on the number of threads.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    init : tuple
        Weights (K,), means (K, d), covariances (K, d, d).
    n_bootstrap : int
    rng : numpy.random.Generator
    settings : EMSettings
    progress : bool
    block_length : float or None
        Rows per block of a circular block bootstrap (`draw_rows`); None (the
        default): rows drawn independently.

    Returns
    -------
    gmmmi._em.fit.BatchFit
        F = n_bootstrap fits.
    """
    n = X.shape[0]
    if len(init[0]) == 1 and settings.row_weight is None and n * n_bootstrap >= _CLOSED_FORM_ROWS:
        return _single_gaussian_fits(X, init, n_bootstrap, rng, settings, progress, block_length)
    # per replica: n drawn indices (8 bytes each), then about 0.632 n distinct
    # rows with their counts (16 bytes each); a block bootstrap's n / L block
    # starts add at most 8 bytes a row
    per_row = 19 if block_length is None else 27
    chunk = int(max(1, min(n_bootstrap, _BOOTSTRAP_MEMORY // (per_row * n))))
    parts = []
    with progress_bar(n_bootstrap, "bootstrap", progress, unit="fit") as bar:
        for start in range(0, n_bootstrap, chunk):
            size = min(chunk, n_bootstrap - start)
            sets = _replica_sets(draw_rows(rng, size, n, block_length), n, len(init[0]))
            if settings.row_weight is not None:  # a drawn row keeps its weight: count x weight
                sets = (sets[0], sets[1] * settings.row_weight[sets[0]], sets[2])
            batch_init = tuple(np.repeat(a[None], size, axis=0) for a in init)
            fit_set = np.arange(size)
            fit = fit_batch(X, sets, fit_set, batch_init, settings, score_final=False)
            if len(init[0]) > 1:  # one component has nothing to drop (`repair_collapsed`)
                fit = repair_collapsed(X, sets, fit_set, fit, settings, score_final=False)
            parts.append(fit)
            del sets
            bar.update(size)
    return concatenate(parts)


def _replica_sets(draws: np.ndarray, n: int, n_components: int) -> tuple:
    """Training sets (rows, weights, ptr) of bootstrap replicas drawn as row indices.

    For K > 1 the distinct rows with their counts (about 0.63 n rows per
    replica, so each EM pass is shorter); for K = 1, fitted in one closed-form
    pass, the drawn rows themselves with weight 1 (the same likelihood, and no
    compaction pass).
    """
    if n_components > 1:
        return resample_sets(draws, n)
    size, m = draws.shape
    return draws.reshape(-1), np.ones(size * m), np.arange(0, size * m + 1, m, dtype=np.int64)


def _single_gaussian_fits(X, init, n_bootstrap, rng, settings, progress, block_length) -> BatchFit:
    """`bootstrap_fits` of one Gaussian without weights: the same fits, bit for bit, faster.

    Replicas are drawn in the same order and chunks of at most `_BOOTSTRAP_MEMORY`
    bytes of row indices (no weights), each chunk's fits split over threads (a
    multiple of their number when it fits: 3 replicas on 2 threads take as long as 4).
    """
    n = X.shape[0]
    chunk = int(max(1, min(n_bootstrap, _BOOTSTRAP_MEMORY // (8 * n))))
    threads = thread_count(float(n) * chunk)
    chunk = threads * (chunk // threads) or chunk
    parts = []
    with progress_bar(n_bootstrap, "bootstrap", progress, unit="fit") as bar:
        for start in range(0, n_bootstrap, chunk):
            size = min(chunk, n_bootstrap - start)
            draws = draw_rows(rng, size, n, block_length)
            means = np.repeat(init[1][None], size, axis=0)
            covs = np.repeat(init[2][None], size, axis=0)

            def fit(part, draws=draws, means=means, covs=covs):
                return single_gaussian_replicas(
                    X, draws[part], means[part], covs[part], float(settings.reg_covar)
                )

            # slices of the fits' arrays are views: the kernel writes means and covs in place
            out = run_split(fit, size, threads)
            weights = np.concatenate([w for w, _ in out])
            status = np.concatenate([st for _, st in out])
            nan = np.full(size, np.nan)
            parts.append(BatchFit(weights, means, covs, np.ones(size, np.int64), status, nan, nan))
            del draws
            bar.update(size)
    return concatenate(parts)
