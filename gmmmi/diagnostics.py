"""What a backend reports about its fit: the kind of draws and frozen diagnostics.

This module is the neutral half of the backend contract: `gmmmi.estimate`,
`gmmmi.Result` and the backends all import it, and it imports none of them.

* `DrawKind` says how the draws were obtained; it alone decides how they are
  treated downstream (the reported centre's text, the class weights of a
  categorical estimate, the R-hat/ESS checks of a posterior).
* `FitDiagnostics` is frozen: nothing changes it after the backend returns
  (`gmmmi.estimate` makes changed copies with ``dataclasses.replace``). Its core
  is generic; the details of an EM choice of K live in the optional
  `EMSelection`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._intervals import HDI_PROB
from .mixture import MixtureDraws


class DrawKind(enum.Enum):
    """How the S draws of a fit were obtained.

    ``BOOTSTRAP``
        One fit per resample of the rows (one chain); the reported centre is
        the full-data ``reference_fit``.
    ``POSTERIOR``
        Draws from a posterior (one or more chains); the centre is the
        reference fit if the backend gives one, else the mean of the draws.
    ``SINGLE_FIT``
        One fit to all the data (S = 1): no uncertainty.
    """

    BOOTSTRAP = "bootstrap"
    POSTERIOR = "posterior"
    SINGLE_FIT = "single fit"


@dataclass(frozen=True)
class EMSelection:
    """How an EM backend chose the number of components K.

    Attributes
    ----------
    metric_per_k : dict
        Component selection table: ``{"n_components": [...], "valid": [...],
        "aic": [...], "bic": [...]}`` (lists of equal length; empty when K was
        fixed). With ``metric_method="valid"`` the numba backend's AIC/BIC per K
        score the best cross-validated mixture on all the data (no extra fit);
        with "aic"/"bic" they come from full-data fits.
    metric_method : str or None
        The metric that chose K (``"valid"``, ``"aic"``, ``"bic"``); None when
        K was not chosen.
    loss_curves : Mapping
        Named loss curves, e.g. ``{"train": [arrays], "valid": [arrays]}``
        from the cross-validation fits at the chosen K, one array per fit
        (length n_iter). The numba backend's records them when first read
        (``gmmmi._em.select.LossCurves``; a pickle or copy is a dict).
    reached_max_components : bool
        True when K hit its upper bound without the metric converging.
    """

    metric_per_k: Mapping = field(default_factory=dict)
    metric_method: str | None = None
    loss_curves: Mapping = field(default_factory=dict)
    reached_max_components: bool = False


@dataclass(frozen=True)
class WidenedSearch:
    """The wider component search run when the first fit failed its fit check.

    Attributes
    ----------
    reason : str
        The failed check that started it (`gmmmi.fit_check.FitCheck.verdict`).
    start_n_components : int
        K of the first search.
    start_score : float
        Its mean held-out log-likelihood per sample.
    tried : tuple of (str, int, float)
        Every candidate: (how it was started, K, mean held-out
        log-likelihood per sample), in the order tried.
    n_components : int
        K of the best candidate (``start_n_components`` when none scored better).
    score : float
        The best candidate's held-out score.
    stopped : str
        Why the search stopped (no improvement, or the budget).
    best_check : str
        The fit check's verdict on the best candidate's fit to all the data
        (empty when no candidate scored better).
    accepted : bool
        True when the best candidate replaced the first fit: it scored
        better, and it passed the fit check or at least halved the worst z
        of the first fit. A candidate that scores better but barely changes
        the check is not kept: more components on data they cannot describe
        (saturated margins) raise the held-out score by fitting local
        detail, and can move the MI further from the truth.
    """

    reason: str
    start_n_components: int
    start_score: float
    tried: tuple = ()
    n_components: int = 0
    score: float = float("nan")
    stopped: str = ""
    best_check: str = ""
    accepted: bool = False

    def describe(self) -> str:
        """One sentence on what was tried and what came of it."""
        ks = sorted({k for _, k, _ in self.tried})
        span = f"K={ks[0]}..{ks[-1]}" if ks else "no K"
        if self.accepted:
            outcome = (
                f"kept K={self.n_components} (held-out log-likelihood/row {self.start_score:.4f} "
                f"-> {self.score:.4f}; check: {self.best_check})"
            )
        elif self.best_check:
            outcome = (
                f"found K={self.n_components} scoring better, but it fails the check almost as "
                f"badly ({self.best_check}), so K={self.start_n_components} was kept"
            )
        else:
            outcome = f"found nothing better than K={self.start_n_components}"
        return (
            f"A wider component search ({len(self.tried)} candidates, {span}; {self.stopped}) "
            f"{outcome}. "
        )

    def relabel(self, names: Sequence[str]) -> WidenedSearch:
        """The same record with the columns in its verdicts (the fit's x0, x1, ...) named ``names``.

        The search runs on the backend's array, whose columns are x0, x1, ...;
        `gmmmi.estimate` names them with the user's labels once it has the fit.
        """

        def named(verdict: str) -> str:
            return _WORST.sub(
                lambda m: m[1] + _GENERIC.sub(lambda g: str(names[int(g[1])]), m[2]) + m[3],
                verdict,
            )

        return replace(self, reason=named(self.reason), best_check=named(self.best_check))


#: the worst test's column(s) in a `gmmmi.fit_check.FitCheck.verdict`, and a generic name in it
_WORST, _GENERIC = re.compile(r"(\(worst: \w+ )(.+?)(, z = )"), re.compile(r"\bx(\d+)\b")


@dataclass(frozen=True)
class FitDiagnostics:
    """What a backend knows about its fit (frozen).

    Attributes
    ----------
    kind : DrawKind
        How the draws were obtained.
    n_components : int
        K used for every draw.
    sample_shape : tuple of int
        ``(chains, draws)`` with ``chains * draws = S``, the number of
        mixtures returned (chain-major); a bootstrap and a single fit are one
        chain.
    method : str
        How the draws are named in text, e.g. ``"bootstrap"``, ``"single fit"``,
        ``"NUTS"``; default the kind's value.
    reference_fit : MixtureDraws or None
        A fit to the full data set (S = 1), whose integral is the reported
        centre of the estimate; None when the centre is the mean of the draws.
    n_iter : numpy.ndarray, shape (S,)
        EM iterations (or sampler steps) per draw (read-only).
    converged : numpy.ndarray of bool, shape (S,)
        Whether each draw's fit converged (read-only).
    sample_stats : Any
        Backend-specific sampler statistics (e.g. an xarray Dataset from PyMC).
    extra : dict
        Anything else worth keeping (initialisation used, timings, ...).
    selection : EMSelection or None
        How K was chosen, for backends that choose it by EM fits.
    per_category : tuple of FitDiagnostics
        With ``discrete_y``: each category's own diagnostics, in category
        order (empty otherwise). The core fields then summarise them: a draw
        converged only if it converged in every category.
    fit_check : gmmmi.fit_check.FitCheck or None
        The goodness-of-fit check of the fit to all the data
        (`gmmmi.fit_check.automatic_check`); `gmmmi.estimate` fills it in
        when the backend does not.
    search : WidenedSearch or None
        The wider component search run because the first fit failed its
        check (None when it was not run).
    """

    kind: DrawKind
    n_components: int
    sample_shape: tuple[int, int]
    method: str = ""
    reference_fit: MixtureDraws | None = None
    n_iter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    converged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    sample_stats: Any = None
    extra: dict = field(default_factory=dict)
    selection: EMSelection | None = None
    per_category: tuple[FitDiagnostics, ...] = ()
    fit_check: Any = None
    search: WidenedSearch | None = None

    def __post_init__(self):
        if not isinstance(self.kind, DrawKind):
            raise TypeError(
                "FitDiagnostics.kind must be a gmmmi.diagnostics.DrawKind (BOOTSTRAP, "
                f"POSTERIOR or SINGLE_FIT); got {self.kind!r}."
            )
        shape = tuple(self.sample_shape)
        if len(shape) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in shape):
            raise ValueError(
                "FitDiagnostics.sample_shape must be (chains, draws), two positive integers; "
                f"got {self.sample_shape!r}."
            )
        object.__setattr__(self, "sample_shape", (int(shape[0]), int(shape[1])))
        object.__setattr__(self, "n_components", int(self.n_components))
        object.__setattr__(self, "method", self.method or self.kind.value)
        object.__setattr__(self, "n_iter", _read_only(self.n_iter, None))
        object.__setattr__(self, "converged", _read_only(self.converged, bool))
        object.__setattr__(self, "per_category", tuple(self.per_category))

    @property
    def n_draws(self) -> int:
        """S, the number of mixtures (``chains * draws``)."""
        return self.sample_shape[0] * self.sample_shape[1]

    # the EM selection's fields, read through (empty when there is none)
    @property
    def metric_per_k(self) -> Mapping:
        """``selection.metric_per_k``, or an empty dict without a selection."""
        return {} if self.selection is None else self.selection.metric_per_k

    @property
    def metric_method(self) -> str | None:
        """``selection.metric_method``, or None without a selection."""
        return None if self.selection is None else self.selection.metric_method

    @property
    def loss_curves(self) -> Mapping:
        """``selection.loss_curves``, or an empty dict without a selection."""
        return {} if self.selection is None else self.selection.loss_curves

    @property
    def reached_max_components(self) -> bool:
        """``selection.reached_max_components`` (False without a selection)."""
        return self.selection is not None and bool(self.selection.reached_max_components)


def _read_only(values, dtype) -> np.ndarray:
    """A read-only copy of ``values`` (diagnostics do not change once made)."""
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


#: R-hat above this on the draws of a posterior means the chains disagree
RHAT_MAX = 1.01
#: bulk ESS per chain below this is too few draws to trust the sd
ESS_PER_CHAIN_MIN = 100


def mixing_messages(draws: np.ndarray) -> list[str]:
    """Messages about the R-hat and bulk ESS of a posterior quantity's draws.

    MI is invariant to relabelling the components, so R-hat and ESS are
    computed on the MI draws, not on the (label-switching) mixture parameters.

    Parameters
    ----------
    draws : numpy.ndarray, shape (chain, draw)
        The main quantity (MI or CMI) per posterior draw.

    Returns
    -------
    list of str
        Empty when the chains mix well (or there are fewer than 4 draws per
        chain, or a non-finite draw).
    """
    from . import _arviz

    draws = np.asarray(draws, dtype=np.float64)
    n_chains, n_draws = draws.shape
    if n_draws < 4 or not np.all(np.isfinite(draws)):
        return []
    import xarray as xr

    posterior = xr.Dataset({"mi": (("chain", "draw"), draws)})
    table = _arviz.summary(posterior, var_names=["mi"], hdi_prob=HDI_PROB)
    rhat, ess = float(table.loc["mi", "r_hat"]), float(table.loc["mi", "ess_bulk"])
    messages = []
    if n_chains > 1 and rhat > RHAT_MAX:
        messages.append(
            f"R-hat of MI across chains is {rhat:.3f} (> {RHAT_MAX}): the chains disagree, "
            "possibly sitting in different modes of the mixture posterior. Use more tuning "
            "steps and draws (tune, draws), fewer components (fixed_components_number=K), or "
            "check the fit with result.plot()."
        )
    if ess < ESS_PER_CHAIN_MIN * n_chains:
        messages.append(
            f"Bulk effective sample size of MI is {ess:.0f} (< {ESS_PER_CHAIN_MIN} per chain): "
            "the posterior mean and sd are imprecise. Use more draws (draws) or chains."
        )
    return messages
