"""The default backend: EM fits, cross-validated K, bootstrap replicas (Numba).

``NumbaBackend().fit`` reproduces the GMM-MI procedure: K is chosen by
k-fold cross-validation (`gmmmi.selection.select_components`), the best
cross-validated mixture starts a fit to the full data (the reference fit)
and one fit per bootstrap replica. A replica is a vector of counts (how
often each row was drawn), so the data are never copied; replicas are fitted
in parallel, in chunks that bound the memory used. With
``reselect_components=True`` each replica chooses its own K again (the
uncertainty of choosing K then enters the error bar; about ten times slower).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .._kernels.em import STATUS_BAD_INIT, STATUS_MAX_ITER, STATUS_NAN, resample_sets
from .._progress import progress_bar
from .._stacklevel import user_stacklevel
from .._validation import check_choice, check_float, check_int
from ..exceptions import ConvergenceWarning
from ..mixture import MixtureDraws
from ..selection import (
    COLLAPSE_EIGENVALUE,
    INIT_TYPES,
    METRIC_METHODS,
    EMSettings,
    Selection,
    copy_groups,
    count_status,
    fit_batch,
    make_folds,
    repair_collapsed,
    select_components,
    warm_start,
)
from .base import FitDiagnostics

_NOT_CONVERGED = STATUS_MAX_ITER | STATUS_NAN | STATUS_BAD_INIT

#: the defaults of `gmmmi.estimate` that differ from GMM-MI's (`NumbaBackend.options`, which
#: `gmmmi.EstimateMI` and the parameter holders keep, for reproduction). Measured in
#: benchmarks/bench_search.py: GMM-MI's random responsibilities start every component at
#: the global mean, and on large data EM stops there (the paper's D3 at N = 1e5 gave K = 1,
#: 0.044 +- 0.001 against a truth of 0.132; k-means starts give 0.131 +- 0.001)
ESTIMATE_OVERRIDES = {"init_type": "kmeans", "n_inits": 1}
#: bytes of row indices and counts held at once for bootstrap replicas
_BOOTSTRAP_MEMORY = 256 * 2**20


class NumbaBackend:
    """EM + cross-validated number of components + bootstrap, compiled with Numba.

    Options (``fit(**options)``; names and defaults as in GMM-MI):

    init_type : {'random', 'minmax', 'kmeans', 'randomized_kmeans', \
'random_sklearn', 'kmeans_sklearn'}, default 'random_sklearn'
        Initialisation of each cross-validation fit (``gmmmi.selection.initialise``).
    scale : float or None, default None
        Scale of the 'random', 'minmax' and 'randomized_kmeans' schemes, in
        standardised units.
    threshold_fit : float, default 1e-5
        EM stops when the mean log-likelihood per sample changes by less.
    reg_covar : float, default 1e-15
        Added to the covariance diagonals at every M-step.
    max_iter : int, default 10000
        Iteration cap of every EM fit (a ConvergenceWarning if reached).
    n_inits : int, default 3
        Initialisations tried per K.
    n_folds : int, default 2
        Cross-validation folds (at least 2).
    metric_method : {'valid', 'aic', 'bic'}, default 'valid'
        Metric that chooses K. With 'valid', the AIC/BIC of
        ``diagnostics.metric_per_k`` are computed from each K's best
        cross-validated mixture on all the data; with 'aic'/'bic', from a
        full-data fit at each K (as GMM-MI does for every metric).
    threshold_components : float, default 1e-5
        Minimum metric improvement for a larger K to count.
    patience : int, default 1
        Consecutive K without improvement before stopping.
    max_components : int, default 50
        Largest K tried.
    n_bootstrap : int, default 50
        Bootstrap replicas; below 1, the draws are the single full-data fit.
    reselect_components : bool, default False
        Not in GMM-MI. Choose K again inside every bootstrap replica, by the
        same cross-validation and patience, searching from
        max(1, K - 2) upward (K chosen on the full data), so that the
        uncertainty of choosing K enters the error bar
        (``reselected_bootstrap_fits``). Ignored when K is fixed or with
        ``init``. See docs/uncertainty.md for its measured calibration and cost.
    """

    name = "numba"
    #: defaults of `gmmmi.estimate` that replace those of ``options`` (GMM-MI's)
    estimate_overrides = ESTIMATE_OVERRIDES
    options = {
        "init_type": "random_sklearn",
        "scale": None,
        "threshold_fit": 1e-5,
        "reg_covar": 1e-15,
        "max_iter": 10000,
        "n_inits": 3,
        "n_folds": 2,
        "metric_method": "valid",
        "threshold_components": 1e-5,
        "patience": 1,
        "max_components": 50,
        "n_bootstrap": 50,
        "reselect_components": False,
    }

    @staticmethod
    def check_options(options: dict, n_dim: int = 1) -> dict:
        """Every option with its default filled in, checked before any work.

        Parameters
        ----------
        options : dict
            Options of this backend (see the class docstring).
        n_dim : int, default 1
            Columns of the data (the memory check is a lower bound for it).

        Returns
        -------
        dict

        Raises
        ------
        TypeError
            For an unknown option name or a value of the wrong type.
        ValueError
            For an out-of-range value, or counts (``n_bootstrap``, ``n_inits``
            x ``n_folds``) whose fitted mixtures alone exceed this machine's
            physical memory.
        """
        opts = _check_options(options)
        _check_memory(opts, n_dim)
        return opts

    def fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None = None,
        rng: np.random.Generator,
        progress: bool = False,
        init: MixtureDraws | None = None,
        **options,
    ) -> tuple[MixtureDraws, FitDiagnostics]:
        """Fit mixtures to standardised data.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Validated, float64, standardised per column.
        n_components : int or None
            Fixed K (GMM-MI's ``fixed_components_number``); None or 0 chooses
            K by cross-validation.
        rng : numpy.random.Generator
            Source of all randomness (folds, initialisations, replicas).
        progress : bool
            Progress bars over K and over bootstrap chunks.
        init : MixtureDraws, optional
            Warm start (S = 1, standardised units): the full-data fit and every
            bootstrap fit start from it, and the choice of K is skipped (K is
            its number of components of non-zero weight).
        **options
            See the class docstring.

        Returns
        -------
        draws : MixtureDraws
            One mixture per bootstrap replica (S = n_bootstrap), or the
            full-data fit (S = 1) when ``n_bootstrap < 1``; standardised units.
        diagnostics : FitDiagnostics
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D array (n, d); got shape {X.shape}.")
        opts = self.check_options(options, X.shape[1])
        if n_components is not None:
            n_components = check_int("n_components", n_components, minimum=0) or None
        settings = EMSettings(opts["reg_covar"], opts["threshold_fit"], opts["max_iter"])
        if init is not None:
            sel = warm_start(X, _check_init(init, X.shape[1]), settings)
        else:
            sel = self._select(X, n_components, rng, opts, settings, progress)
        reference = _as_draws(sel.full_fit)
        status = dict(sel.status)
        replica_k = None
        if opts["n_bootstrap"] >= 1:
            boot, replica_k = _bootstrap(
                X, sel, n_components is None, rng, opts, settings, status, progress
            )
            draws, method = _as_draws(boot), "bootstrap"
            n_iter, draw_status = boot.n_iter, boot.status
        else:
            draws, method = reference, "single fit"
            n_iter, draw_status = sel.full_fit.n_iter, sel.full_fit.status
        _warn(sel, status, opts)
        cv_fits = sel.cv.fits if sel.cv is not None else None
        diagnostics = FitDiagnostics(
            method=method,
            n_components=sel.n_components,
            reference_fit=reference,
            metric_per_k=sel.metric_per_k,
            metric_method=opts["metric_method"] if sel.metric_per_k else None,
            n_iter=n_iter.copy(),
            converged=(draw_status & _NOT_CONVERGED) == 0,
            loss_curves={
                "train": cv_fits.curves_train if cv_fits else [],
                "valid": cv_fits.curves_valid if cv_fits else [],
            },
            reached_max_components=sel.reached_max_components,
            extra={**_extra(sel, status, opts), "replica_n_components": replica_k},
        )
        return draws, diagnostics

    @staticmethod
    def _select(X, n_components, rng, opts, settings, progress) -> Selection:
        return select_components(
            X,
            rng=rng,
            n_components=n_components,
            settings=settings,
            progress=progress,
            **_selection_options(opts),
        )


def _bootstrap(X, sel, k_chosen, rng, opts, settings, status, progress):
    """The bootstrap fits and each replica's K (None unless K is re-selected).

    K is re-selected per replica only if asked and K was chosen by
    cross-validation here (not fixed, no warm start). ``status`` counts are
    updated in place.
    """
    if opts["reselect_components"] and k_chosen and sel.cv is not None:
        boot, replica_k, boot_status = reselected_bootstrap_fits(
            X,
            sel.n_components,
            opts["n_bootstrap"],
            rng=rng,
            opts=opts,
            settings=settings,
            progress=progress,
        )
        for key, value in boot_status.items():
            status[key] = status.get(key, 0) + value
        return boot, replica_k
    boot = bootstrap_fits(
        X, sel.start, opts["n_bootstrap"], rng=rng, settings=settings, progress=progress
    )
    count_status(status, boot.status, boot.repaired)
    return boot, None


def _selection_options(opts: dict) -> dict:
    """The options of `select_components` among the backend's options."""
    names = ("init_type", "scale", "n_inits", "n_folds", "metric_method")
    names += ("threshold_components", "patience", "max_components")
    return {k: opts[k] for k in names}


def reselected_bootstrap_fits(
    X: np.ndarray,
    n_components: int,
    n_bootstrap: int,
    *,
    rng: np.random.Generator,
    opts: dict,
    settings: EMSettings,
    progress: bool = False,
):
    """Bootstrap replicas that each choose their number of components again.

    Replica b draws n rows with replacement, splits them into folds so that
    all copies of a row (drawn twice, or equal rows of ``X``) share a fold
    (a copy in both the training and the
    validation part would reward over-fitting), and runs
    `gmmmi.selection.select_components` on them with the backend's options,
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

    Returns
    -------
    fits : gmmmi.selection.BatchFit
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
    kwargs = _selection_options(opts)
    groups = copy_groups(X)
    with progress_bar(n_bootstrap, "bootstrap (choosing K)", progress, unit="fit") as bar:
        for _ in range(n_bootstrap):
            rows = rng.integers(0, n, size=n)
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
    return _concat(_pad(fits)), np.array(replica_k, dtype=np.int64), status


def _pad(fits: list) -> list:
    """BatchFits padded to a common K with empty components (weight 0, identity covariance)."""
    K = max(f.weights.shape[1] for f in fits)
    for f in fits:
        pad = K - f.weights.shape[1]
        if pad:
            F, d = f.means.shape[0], f.means.shape[2]
            f.weights = np.pad(f.weights, ((0, 0), (0, pad)))
            f.means = np.pad(f.means, ((0, 0), (0, pad), (0, 0)))
            eye = np.broadcast_to(np.eye(d), (F, pad, d, d))
            f.covariances = np.concatenate([f.covariances, eye], axis=1)
    return fits


def bootstrap_fits(
    X: np.ndarray,
    init: tuple,
    n_bootstrap: int,
    *,
    rng: np.random.Generator,
    settings: EMSettings,
    progress: bool = False,
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

    Returns
    -------
    gmmmi.selection.BatchFit
        F = n_bootstrap fits.
    """
    n = X.shape[0]
    # per replica: n drawn indices (8 bytes each), then about 0.632 n distinct
    # rows with their counts (16 bytes each)
    chunk = int(max(1, min(n_bootstrap, _BOOTSTRAP_MEMORY // (19 * n))))
    parts = []
    with progress_bar(n_bootstrap, "bootstrap", progress, unit="fit") as bar:
        for start in range(0, n_bootstrap, chunk):
            size = min(chunk, n_bootstrap - start)
            sets = _replica_sets(rng.integers(0, n, size=(size, n)), n, len(init[0]))
            batch_init = tuple(np.repeat(a[None], size, axis=0) for a in init)
            fit_set = np.arange(size)
            fit = fit_batch(X, sets, fit_set, batch_init, settings, score_final=False)
            parts.append(repair_collapsed(X, sets, fit_set, fit, settings, score_final=False))
            del sets
            bar.update(size)
    return _concat(parts)


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


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    fields = ("weights", "means", "covariances", "n_iter", "status", "train_ll", "valid_ll")
    out = type(first)(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
    out.repaired = sum(p.repaired for p in parts)
    return out


def _as_draws(fit) -> MixtureDraws:
    return MixtureDraws(fit.weights, fit.means, fit.covariances)


def _check_options(options: dict) -> dict:
    """Fill defaults and validate every option; unknown names raise TypeError."""
    unknown = sorted(set(options) - set(NumbaBackend.options))
    if unknown:
        raise TypeError(
            f"Unknown option(s) {', '.join(map(repr, unknown))} for the numba backend; "
            f"valid options are {', '.join(NumbaBackend.options)}."
        )
    o = {**NumbaBackend.options, **options}
    o["init_type"] = check_choice("init_type", o["init_type"], INIT_TYPES)
    o["metric_method"] = check_choice("metric_method", o["metric_method"], METRIC_METHODS)
    if o["scale"] is not None:
        o["scale"] = check_float("scale", o["scale"], minimum=0.0, strict=True)
    o["threshold_fit"] = check_float("threshold_fit", o["threshold_fit"], minimum=0.0)
    o["reg_covar"] = check_float("reg_covar", o["reg_covar"], minimum=0.0)
    o["threshold_components"] = check_float(
        "threshold_components", o["threshold_components"], minimum=0.0
    )
    for name in ("max_iter", "n_inits", "patience", "max_components"):
        o[name] = check_int(name, o[name], minimum=1)
    o["n_folds"] = check_int("n_folds", o["n_folds"], minimum=2)
    o["n_bootstrap"] = check_int("n_bootstrap", o["n_bootstrap"])
    if not isinstance(o["reselect_components"], (bool, np.bool_)):
        raise TypeError(
            "reselect_components must be True or False; "
            f"got {o['reselect_components']!r} ({type(o['reselect_components']).__name__})."
        )
    o["reselect_components"] = bool(o["reselect_components"])
    return o


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(opts: dict, n_dim: int) -> None:
    """ValueError, before any work, for counts whose results cannot fit in memory.

    A lower bound: every bootstrap replica, and every cross-validation fit at
    one K (``n_inits`` x ``n_folds``), keeps at least one component's weight,
    mean and covariance twice (fitted, and its start or data-unit copy) and
    a few numbers of diagnostics, whatever K turns out to be.
    """
    total = physical_memory()
    if total is None:
        return
    per_fit = 2 * 8 * (1 + n_dim + n_dim * n_dim) + 48
    counts = {
        "n_bootstrap": max(opts["n_bootstrap"], 0),
        "n_inits * n_folds": opts["n_inits"] * opts["n_folds"],
    }
    advice = {
        "n_bootstrap": "a few hundred replicas give a stable sd",
        "n_inits * n_folds": "a few initialisations per K are enough (default 3)",
    }
    for name, count in counts.items():
        need = count * per_fit
        if need > total:
            value = (
                f"n_bootstrap={count}"
                if name == "n_bootstrap"
                else f"n_inits={opts['n_inits']} with n_folds={opts['n_folds']}"
            )
            raise ValueError(
                f"{value} needs at least {need / 2**30:.3g} GiB of memory for the fitted "
                f"mixtures alone ({per_fit} bytes per fit with {n_dim} column(s)), more than "
                f"this machine's {total / 2**30:.3g} GiB; {advice[name]}."
            )


def _warn(sel: Selection, status: dict, opts: dict) -> None:
    """ConvergenceWarnings for capped fits, singular covariances and the K search."""
    if status.get("max_iter", 0):
        warnings.warn(
            f"{status['max_iter']} of {status['fits']} EM fits stopped at max_iter="
            f"{opts['max_iter']} before the log-likelihood changed by less than "
            f"threshold_fit={opts['threshold_fit']}; increase max_iter or threshold_fit.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    bad = status.get("singular", 0) + status.get("bad_init", 0) + status.get("nan", 0)
    if bad:
        warnings.warn(
            f"{bad} of {status['fits']} EM fits met a covariance that is not positive "
            "definite (kept the previous one) or a non-finite likelihood; the data may be "
            "degenerate (repeated or collinear points): increase reg_covar.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if status.get("repaired", 0):
        warnings.warn(
            f"{status['repaired']} of {status['fits']} EM fits had a collapsed component "
            "(fewer than d + 1 points' weight, or a covariance eigenvalue below "
            f"{COLLAPSE_EIGENVALUE:g} in standardised units, as repeated or collinear rows of "
            f"a bootstrap replica give at reg_covar={opts['reg_covar']:g}); each was refitted "
            "without it. To regularise instead, increase reg_covar (e.g. 1e-6).",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if sel.reached_max_components:
        warnings.warn(
            f"The number of components did not converge up to K={sel.n_components} "
            f"(max_components={opts['max_components']}, and at most n_samples // n_folds); "
            "increase max_components or threshold_components, or decrease patience.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if sel.all_cv_fits_short:
        warnings.warn(
            "Every cross-validation fit stopped within 2 EM iterations, which usually "
            "signals a poor fit; plot the loss curves and try a smaller threshold_fit or "
            "another init_type.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )


def _check_init(init: MixtureDraws, n_features: int) -> tuple:
    if not isinstance(init, MixtureDraws) or init.n_draws != 1 or init.n_dim != n_features:
        raise ValueError(
            f"init must be a MixtureDraws with S=1 draw and d={n_features}; got {init!r}."
        )
    return init.weights[0], init.means[0], init.covariances[0]


def _extra(sel: Selection, status: dict, opts: dict) -> dict:
    cv = sel.cv
    return {
        "warm_start": cv is None,
        "best_init": cv.best_init if cv else None,
        "best_fold": cv.best_fold if cv else None,
        "cv_scores": cv.val_scores if cv else None,
        # one byte per sample: results travel back from workers in estimate_many
        "fold_assignment": sel.folds.astype(np.min_scalar_type(int(sel.folds.max(initial=0)))),
        "cv_n_iter": cv.fits.n_iter.reshape(cv.val_scores.shape) if cv else None,
        "reference_n_iter": int(sel.full_fit.n_iter[0]),
        "reference_converged": bool(sel.full_fit.status[0] == 0),
        "reference_mean_loglik": float(sel.full_fit.train_ll[0]),
        "fit_status_counts": status,
        "repaired_fits": status.get("repaired", 0),
        "init_type": opts["init_type"],
        "scale": opts["scale"],
    }
