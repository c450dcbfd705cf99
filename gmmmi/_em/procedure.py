"""One fit of the GMM-MI procedure: choose K, fit all the data, fit bootstrap replicas.

`fit_procedure` is what the numba backend runs (`gmmmi.backends.numba`
builds the backend's diagnostics from its `EMOutcome`):

1. `gmmmi._em.select.select_components` chooses K by cross-validation
   (`gmmmi._em.init` starts, `gmmmi._em.fit` batched fits), or
   `gmmmi._em.select.warm_start` takes a given start, and fits the full data
   (with `gmmmi._em.repair`);
2. the full-data fit of a searched K is checked (`gmmmi.fit_check.automatic_check`);
   if it fails, `gmmmi._em.widen.widen_search` searches further;
3. `gmmmi._em.bootstrap` fits one replica per bootstrap draw from the chosen
   start (or lets each replica choose K again);
4. `warn_fits` turns the fits' status counts into ConvergenceWarnings.

`heldout_score` runs step 1's search alone, for ``transform="auto"``'s
comparison of raw and mapped data (``Backend.heldout_loglik``), and keeps it
in the backend's `SearchMemo` for the fit that follows.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from gmmmi._kernels.em import STATUS_BAD_INIT, STATUS_MAX_ITER, STATUS_NAN
from gmmmi._stacklevel import user_stacklevel
from gmmmi.exceptions import ConvergenceWarning

from . import scale_mixture
from .bootstrap import bootstrap_fits, reselected_bootstrap_fits
from .fit import BatchFit, EMSettings, count_status
from .folds import contiguous_folds
from .options import selection_options
from .repair import COLLAPSE_EIGENVALUE
from .select import Selection, lazy_curves, select_components, warm_start
from .widen import widen_search

#: status flags of a fit that did not converge
NOT_CONVERGED = STATUS_MAX_ITER | STATUS_NAN | STATUS_BAD_INIT


@dataclass(frozen=True)
class EMOutcome:
    """Everything one run of `fit_procedure` made.

    Attributes
    ----------
    selection : Selection
        The choice of K (or the warm start) and the full-data fit.
    draws : BatchFit
        The bootstrap fits (F = n_bootstrap), or ``selection.full_fit`` (F = 1)
        when ``bootstrapped`` is False.
    bootstrapped : bool
        True when ``n_bootstrap >= 1``.
    replica_n_components : numpy.ndarray of int64, shape (n_bootstrap,), or None
        K chosen by each replica (None unless K was chosen again per replica).
    status : dict
        Counts of fits per status flag over every fit made (see `count_status`).
    fit_check : gmmmi.fit_check.FitCheck or None
        The check of ``selection.full_fit`` (`gmmmi.fit_check.automatic_check`,
        rows weighted by ``sample_weight``).
    search : gmmmi.diagnostics.WidenedSearch or None
        The wider search run because the first fit failed its check.
    """

    selection: Selection
    draws: BatchFit
    bootstrapped: bool
    replica_n_components: np.ndarray | None
    status: dict
    fit_check: object = None
    search: object = None


def fit_procedure(
    X: np.ndarray,
    *,
    n_components: int | None,
    rng: np.random.Generator,
    options: dict,
    init: tuple | None = None,
    progress: bool = False,
    block_length: float | None = None,
    sample_weight: np.ndarray | None = None,
    searches: SearchMemo | None = None,
) -> EMOutcome:
    """Choose K (or take ``n_components``, or start from ``init``), then bootstrap.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Standardised data, float64, C-contiguous.
    n_components : int or None
        A fixed K, or None to choose K by cross-validation.
    rng : numpy.random.Generator
        Source of all randomness (folds, initialisations, replicas), drawn in
        that order.
    options : dict
        Checked options, every name of `gmmmi._em.options.ESTIMATE_DEFAULTS`.
    init : tuple of numpy.ndarray, optional
        Warm start: weights (K,), means (K, d), covariances (K, d, d); the
        choice of K is then skipped.
    progress : bool
        Progress bars over K and over bootstrap chunks.
    block_length : float or None
        Rows per block of a circular block bootstrap; None: IID rows.
        With blocks, the rows are in time order, and K is chosen by
        cross-validation on consecutive segments (`contiguous_folds`).
    sample_weight : numpy.ndarray, shape (n,), optional
        Row weights of mean 1 (checked by `gmmmi._weights.check_sample_weight`);
        None: every row counts once.
    searches : SearchMemo, optional
        Searches run by `heldout_score` for this fit (IID rows, no ``init``):
        one of the same data, K, options and generator state is taken
        instead of searching again.

    Returns
    -------
    EMOutcome

    Warns
    -----
    ConvergenceWarning
        See `warn_fits`.
    """
    settings = EMSettings(
        options["reg_covar"], options["threshold_fit"], options["max_iter"], sample_weight
    )
    if init is not None:
        sel = warm_start(X, init, settings)
    elif block_length is not None:
        sel = select_components(
            X,
            rng=rng,
            n_components=n_components,
            settings=settings,
            progress=progress,
            folds=contiguous_folds(X.shape[0], options["n_folds"]),
            **selection_options(options),
        )
    else:
        key = searches.key(X, n_components, rng, options) if searches else None
        sel = None if key is None else searches.take(key, rng)
        if sel is not None and sel.cv is not None:  # kept without curves: the chosen K's
            sel = replace(sel, cv=lazy_curves(X, sel.cv, sel.folds, settings))
        if sel is None:
            sel = select_components(
                X,
                rng=rng,
                n_components=n_components,
                settings=settings,
                progress=progress,
                **selection_options(options),
            )
        if n_components is None and options.get("scale_mixtures", False):
            # a scale mixture where the joint tails ask for one (and fit it better)
            sel = scale_mixture.consider(X, sel, settings)
    check = _check(X, sel, sample_weight)
    search = None
    searched = init is None and n_components is None and sel.cv is not None
    if check is not None and not check.ok and searched:
        wider, search = widen_search(
            X,
            sel,
            reason=check.verdict(),
            rng=rng,
            settings=settings,
            threshold=options["threshold_components"],
            max_components=options["max_components"],
        )
        if wider is not sel:
            wider_check = _check(X, wider, sample_weight)
            accepted = _closer(wider_check, check)
            search = replace(search, best_check=wider_check.verdict(), accepted=accepted)
            if accepted:
                sel, check = wider, wider_check
    status = dict(sel.status)
    replica_k = None
    bootstrapped = options["n_bootstrap"] >= 1
    if bootstrapped and isinstance(sel, scale_mixture.ScaleSelection):
        draws = scale_mixture.bootstrap(X, sel, options["n_bootstrap"], rng, options["reg_covar"])
    elif bootstrapped:
        draws, replica_k = _bootstrap(
            X, sel, n_components is None, rng, options, settings, status, progress, block_length
        )
    else:
        draws = sel.full_fit
    warn_fits(sel, status, options)
    return EMOutcome(sel, draws, bootstrapped, replica_k, status, check, search)


#: a wider fit that still fails its check replaces the first only if it cuts the worst z by
#: this factor: bmi's waves (z 106 -> 22) is kept, saturating tanh margins (z 18 -> 11, more
#: components fitted to the pile-up at the bounds, the MI further off) are not
ACCEPT_Z_RATIO = 0.5


def _closer(wider, first) -> bool:
    """Whether the wider search's fit replaces the first (see `WidenedSearch.accepted`)."""
    return wider.ok or wider.worst()[2] <= ACCEPT_Z_RATIO * first.worst()[2]


def _check(X: np.ndarray, sel: Selection, sample_weight: np.ndarray | None = None):
    """The goodness-of-fit check of the selection's fit to all the data (rows weighted)."""
    from gmmmi.fit_check import automatic_check
    from gmmmi.mixture import MixtureDraws

    full = sel.full_fit
    mixture = MixtureDraws(full.weights, full.means, full.covariances)
    return automatic_check(mixture, X, weights=sample_weight)


class SearchMemo:
    """Component searches a backend ran for a comparison, kept for the fit that follows.

    ``transform="auto"`` (`gmmmi.margins`) asks the backend for the held-out
    log-likelihood of the raw and of the mapped data
    (``Backend.heldout_loglik``); the numba and PyMC backends run the search
    of the fit that follows (`heldout_score`) and keep it here, on the
    backend instance, so that the fit takes it instead of repeating it. A
    search is reused once, only for the same data (bytes), K, options and
    generator state, and the generator is left in the state the search left
    it, so results are bit-identical to running it again. The key makes a
    memo shared between threads safe (a backend object given to
    `gmmmi.estimate_many`): a search is a function of its key, whichever
    thread ran it. At most `size` searches are kept; a copy or pickle of the
    memo is empty.
    """

    size = 2

    def __init__(self) -> None:
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def __deepcopy__(self, memo: dict) -> SearchMemo:
        return SearchMemo()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(X: np.ndarray, n_components, rng: np.random.Generator, options: dict) -> tuple:
        """What makes two searches equal: data bytes, K, options and generator state."""
        digest = hashlib.blake2b(np.ascontiguousarray(X).data, digest_size=16).hexdigest()
        chosen = sorted(selection_options(options).items())
        settings = (options["reg_covar"], options["threshold_fit"], options["max_iter"])
        state = repr(rng.bit_generator.state)
        return (digest, X.shape, n_components, repr(chosen), settings, state)

    def take(self, key: tuple, rng: np.random.Generator) -> Selection | None:
        """The search made under ``key`` (removed; ``rng`` moved past it), or None."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is None:
            return None
        selection, state = entry
        rng.bit_generator.state = state
        return selection

    def keep(self, key: tuple, selection: Selection, rng: np.random.Generator) -> None:
        """Keep a copy of a search made under ``key``; ``rng`` is in the state it left."""
        with self._lock:
            self._entries[key] = (copy.deepcopy(selection), rng.bit_generator.state)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def heldout_score(
    X: np.ndarray,
    *,
    n_components: int | None,
    rng: np.random.Generator,
    options: dict,
    searches: SearchMemo | None = None,
) -> float:
    """Held-out log-likelihood per row of the search `fit_procedure` runs on ``X``.

    Parameters
    ----------
    X, n_components, rng, options, searches
        As for `heldout_search`.

    Returns
    -------
    float
        `heldout_search`'s score: nats per row, in the units of ``X``.
    """
    return heldout_search(
        X, n_components=n_components, rng=rng, options=options, searches=searches
    )[0]


def heldout_search(
    X: np.ndarray,
    *,
    n_components: int | None,
    rng: np.random.Generator,
    options: dict,
    searches: SearchMemo | None = None,
) -> tuple[float, bool]:
    """Held-out log-likelihood per row of the search `fit_procedure` runs on ``X``.

    The component search only (IID folds; no fit check, wider search or
    bootstrap): its cross-validated log-likelihood at the chosen K, or the
    scale mixture's when it wins (`gmmmi._em.scale_mixture.consider`). With a
    fixed K (no cross-validation table) the full-data log-likelihood minus
    AIC's correction (parameters / n) stands in. The search is kept in
    ``searches`` for the fit that follows.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
        Standardised data, float64, C-contiguous.
    n_components : int or None
        A fixed K, or None to choose K by cross-validation.
    rng : numpy.random.Generator
        Source of the folds and initialisations (advanced).
    options : dict
        Checked options, every name of `gmmmi._em.options.ESTIMATE_DEFAULTS`.
    searches : SearchMemo, optional
        Where the search is kept (None: not kept).

    Returns
    -------
    score : float
        Nats per row, in the units of ``X``.
    scale_mixture : bool
        Whether a scale mixture won the search (the score is then its own,
        not that of the Gaussian search's full-data fit kept in ``searches``).
    """
    from gmmmi.mixture import MixtureDraws

    from .select import n_parameters

    settings = EMSettings(options["reg_covar"], options["threshold_fit"], options["max_iter"])
    key = None if searches is None else searches.key(X, n_components, rng, options)
    # no loss curves: a search is compared, and only the one the fit takes records them
    sel = select_components(
        X,
        rng=rng,
        n_components=n_components,
        settings=settings,
        curves=False,
        **selection_options(options),
    )
    if searches is not None:
        searches.keep(key, sel, rng)
    if n_components is None and options.get("scale_mixtures", False):
        sel = scale_mixture.consider(X, sel, settings)
    record = getattr(sel, "record", None)
    if record:  # a scale mixture won the search
        return float(record["heldout"]), True
    table = sel.metric_per_k
    if table.get("valid"):
        return float(table["valid"][table["n_components"].index(sel.n_components)]), False
    full = sel.full_fit
    fit = MixtureDraws(full.weights, full.means, full.covariances)
    aic = n_parameters(sel.n_components, X.shape[1]) / len(X)
    return float(fit.logpdf(X)[0].mean()) - aic, False


def _bootstrap(X, sel, k_chosen, rng, opts, settings, status, progress, block_length):
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
            block_length=block_length,
        )
        for key, value in boot_status.items():
            status[key] = status.get(key, 0) + value
        return boot, replica_k
    boot = bootstrap_fits(
        X,
        sel.start,
        opts["n_bootstrap"],
        rng=rng,
        settings=settings,
        progress=progress,
        block_length=block_length,
    )
    count_status(status, boot.status, boot.repaired)
    return boot, None


def warn_fits(sel: Selection, status: dict, opts: dict) -> None:
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
