"""The default backend: the EM procedure of GMM-MI, compiled with Numba.

``NumbaBackend().fit`` reproduces the GMM-MI procedure: K is chosen by
k-fold cross-validation, the best cross-validated mixture starts a fit to the
full data (the reference fit) and one fit per bootstrap replica. The
procedure lives in the EM wing (``gmmmi._em``, run by
``gmmmi._em.procedure.fit_procedure``); this module is its adapter to the
backend interface: the option table, the checks of options and inputs, and
the `FitDiagnostics` built from what the wing returns. With
``reselect_components=True`` each replica chooses its own K again (the
uncertainty of choosing K then enters the error bar; about ten times slower).
"""

from __future__ import annotations

import os

import numpy as np

from gmmmi._checks import check_int, validate_options
from gmmmi._em.fit import BatchFit
from gmmmi._em.options import ESTIMATE_DEFAULTS, check_options
from gmmmi._em.procedure import (
    NOT_CONVERGED,
    EMOutcome,
    SearchMemo,
    fit_procedure,
    heldout_score,
    heldout_search,
)
from gmmmi._em.select import Selection
from gmmmi.mixture import MixtureDraws

from .base import BaseBackend, DrawKind, FitDiagnostics


class NumbaBackend(BaseBackend):
    """EM + cross-validated number of components + bootstrap, compiled with Numba.

    Options (``fit(**options)``): GMM-MI's names, with the defaults of
    `gmmmi.estimate` (``gmmmi._em.options.ESTIMATE_DEFAULTS``), which depart
    from GMM-MI's (``ORIGINAL_DEFAULTS``, kept by `gmmmi.EstimateMI` and the
    parameter holders) in ``init_type``, ``n_inits`` and ``scale_mixtures``:

    init_type : {'random', 'minmax', 'kmeans', 'randomized_kmeans', \
'random_sklearn', 'kmeans_sklearn'}, default 'kmeans'
        Initialisation of each cross-validation fit (``gmmmi._em.init.initialise``);
        GMM-MI's default is 'random_sklearn'.
    scale : float or None, default None
        Scale of the 'random', 'minmax' and 'randomized_kmeans' schemes, in
        standardised units.
    threshold_fit : float, default 1e-5
        EM stops when the mean log-likelihood per sample changes by less.
    reg_covar : float, default 1e-15
        Added to the covariance diagonals at every M-step.
    max_iter : int, default 10000
        Iteration cap of every EM fit (a ConvergenceWarning if reached).
    n_inits : int, default 1
        Initialisations tried per K (GMM-MI's default: 3).
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
    scale_mixtures : bool, default True
        Not in GMM-MI (False in `gmmmi.EstimateMI`). Where Mardia's kurtosis
        says the joint tails are heavy, also cross-validate a scale mixture
        on the search's folds and keep it if it scores higher
        (``gmmmi._em.scale_mixture``).
    """

    name: str = "numba"
    #: the defaults of `gmmmi.estimate` (``gmmmi._em.options.ESTIMATE_DEFAULTS``)
    options: dict = ESTIMATE_DEFAULTS
    supports_init = True
    supports_block_bootstrap = True
    supports_sample_weight = True

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
        block_length: float | None = None,
        sample_weight: np.ndarray | None = None,
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
        block_length : float, optional
            Rows per block of a circular block bootstrap
            (``gmmmi._em.bootstrap.draw_rows``), for rows in time order; None
            (the default): the IID bootstrap.
        sample_weight : ndarray, shape (n,), optional
            Row weights of mean 1 (``gmmmi._weights``): a weighted EM, weighted
            cross-validation scores and replicas that keep each drawn row's
            weight. None: unweighted.
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
        outcome = fit_procedure(
            X,
            n_components=n_components,
            rng=rng,
            options=opts,
            init=None if init is None else _check_init(init, X.shape[1]),
            progress=progress,
            block_length=block_length,
            sample_weight=sample_weight,
            searches=self.__dict__.get("_searches"),
        )
        reference = _as_draws(outcome.selection.full_fit)
        draws = _as_draws(outcome.draws) if outcome.bootstrapped else reference
        return draws, _diagnostics(outcome, reference, opts, block_length)

    def heldout_loglik(
        self,
        X: np.ndarray,
        *,
        n_components: int | None = None,
        rng: np.random.Generator,
        **options,
    ) -> float:
        """Held-out log-likelihood per row of the component search ``fit`` runs.

        The search alone (``gmmmi._em.procedure.heldout_score``: IID folds, no
        bootstrap), kept on this instance for the ``fit`` of the same data,
        K, options and generator state that follows, which takes it instead
        of searching again (with the generator moved past it).

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Validated, float64, standardised per column.
        n_components : int or None
            Fixed K; None or 0 chooses K by cross-validation.
        rng : numpy.random.Generator
            Source of the folds and initialisations (advanced).
        **options
            See the class docstring (``n_bootstrap`` and
            ``reselect_components`` are not used).

        Returns
        -------
        float
            Nats per row, in the units of ``X``.
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        opts = self.check_options(options, X.shape[1])
        if n_components is not None:
            n_components = check_int("n_components", n_components, minimum=0) or None
        # on the instance (one per estimate unless the caller shares one): dict.setdefault is
        # atomic, and the memo's keys make sharing it between threads safe
        searches = self.__dict__.setdefault("_searches", SearchMemo())
        return heldout_score(X, n_components=n_components, rng=rng, options=opts, searches=searches)

    def heldout_fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None = None,
        rng: np.random.Generator,
        **options,
    ) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """`heldout_loglik`, and the full-data fit of its search.

        ``transform="auto"`` reads the raw data's fit (its margins,
        `gmmmi.margins.raw_margins_suffice`) before it fits any map. The
        search is kept for the ``fit`` that follows, as by `heldout_loglik`.

        Parameters
        ----------
        X, n_components, rng, **options
            As for `heldout_loglik`.

        Returns
        -------
        score : float
            As `heldout_loglik` returns.
        fit : tuple or None
            Weights (K,), means (K, d) and covariances (K, d, d) of the
            search's fit to all of ``X``, in the units of ``X``; None when a
            scale mixture won the search (``score`` is then the scale
            mixture's, and the Gaussian fit is not the model scored).
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        opts = self.check_options(options, X.shape[1])
        if n_components is not None:
            n_components = check_int("n_components", n_components, minimum=0) or None
        key = SearchMemo.key(X, n_components, rng, opts)
        # the search from a memo of its own, so that no other thread's search sharing this
        # backend can push it out of the backend's memo before it is read here
        own = SearchMemo()
        score, scale_mixture = heldout_search(
            X, n_components=n_components, rng=rng, options=opts, searches=own
        )
        selection = own.take(key, rng)
        self.__dict__.setdefault("_searches", SearchMemo()).keep(key, selection, rng)
        if scale_mixture:
            return score, None
        full = selection.full_fit
        return score, (full.weights[0], full.means[0], full.covariances[0])


def _diagnostics(
    outcome: EMOutcome, reference: MixtureDraws, opts: dict, block_length: float | None
) -> FitDiagnostics:
    """The backend's diagnostics of one run of the EM procedure."""
    sel = outcome.selection
    return FitDiagnostics(
        kind=DrawKind.BOOTSTRAP if outcome.bootstrapped else DrawKind.SINGLE_FIT,
        n_components=sel.n_components,
        sample_shape=(1, outcome.draws.weights.shape[0]),
        reference_fit=reference,
        n_iter=outcome.draws.n_iter.copy(),
        converged=(outcome.draws.status & NOT_CONVERGED) == 0,
        extra={
            **_extra(sel, outcome.status, opts),
            "replica_n_components": outcome.replica_n_components,
            "bootstrap": "iid" if block_length is None else "block",
            "block_length": block_length,
        },
        selection=sel.diagnostics(opts["metric_method"]),
        fit_check=outcome.fit_check,
        search=outcome.search,
    )


def _as_draws(fit: BatchFit) -> MixtureDraws:
    return MixtureDraws(fit.weights, fit.means, fit.covariances)


def _check_options(options: dict) -> dict:
    """Fill defaults and validate every option; unknown names raise TypeError."""
    opts = validate_options(options, NumbaBackend.options)
    opts.update(check_options(opts))
    return opts


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
        "n_inits * n_folds": "a few initialisations per K are enough (default 1; GMM-MI's 3)",
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
        "scale_mixture": getattr(sel, "record", None),  # gmmmi._em.scale_mixture chose it
    }
