"""The contract between `gmmmi.estimate` and a fitting backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..mixture import MixtureDraws


@dataclass
class FitDiagnostics:
    """What a backend knows about its fit.

    Attributes
    ----------
    method : str
        How the draws were obtained: ``"bootstrap"``, ``"single fit"``,
        ``"nuts"``, ``"advi"``.
    n_components : int
        K used for every draw.
    reference_fit : MixtureDraws or None
        A fit to the full data set (S = 1), whose integral is the reported
        centre of the estimate; None when the centre is the mean of the draws
        (a posterior).
    metric_per_k : dict
        Component selection table: ``{"n_components": [...], "valid": [...],
        "aic": [...], "bic": [...]}`` (lists of equal length; empty when K was
        fixed). With ``metric_method="valid"`` the numba backend's AIC/BIC per K
        score the best cross-validated mixture on all the data (no extra fit);
        with "aic"/"bic" they come from full-data fits.
    metric_method : str or None
        The metric that chose K (``"valid"``, ``"aic"``, ``"bic"``).
    n_iter : ndarray, shape (S,)
        EM iterations (or sampler steps) per draw.
    converged : ndarray of bool, shape (S,)
    loss_curves : dict
        Named loss curves, e.g. ``{"train": [arrays], "valid": [arrays]}``
        from the cross-validation fits at the chosen K, one array per fit
        (length n_iter).
    reached_max_components : bool
    sample_stats : Any
        Backend-specific sampler statistics (e.g. an xarray Dataset from PyMC).
    extra : dict
        Anything else worth keeping (initialisation used, timings, ...).
    """

    method: str
    n_components: int
    reference_fit: MixtureDraws | None = None
    metric_per_k: dict = field(default_factory=dict)
    metric_method: str | None = None
    n_iter: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    converged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    loss_curves: dict = field(default_factory=dict)
    reached_max_components: bool = False
    sample_stats: Any = None
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A way of turning standardised data into a stack of mixtures.

    ``fit`` receives ``X`` validated, float64, C-contiguous and standardised
    per column, and returns `~gmmmi.MixtureDraws` in those standardised units;
    `gmmmi.estimate` maps them back to data units. All randomness must come
    from ``rng``.

    A backend may also accept ``init`` (a fitted `~gmmmi.MixtureDraws`, S = 1, in
    standardised units) as a warm start that skips the choice of K;
    ``gmmmi.estimate(init=...)`` passes it only to backends whose ``fit`` names it.
    A backend may define ``check(main_draws, diagnostics) -> list[str]``, whose
    messages `gmmmi.estimate` raises as ``ConvergenceWarning``, and
    ``check_options(options) -> dict``, which raises for a bad option without
    fitting (`gmmmi.estimate_many` and `gmmmi.compare` call it before any work).
    """

    name: str
    #: option names (with defaults) that ``fit`` accepts through ``**options``
    options: dict

    def fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None,
        rng: np.random.Generator,
        progress: bool,
        **options,
    ) -> tuple[MixtureDraws, FitDiagnostics]: ...
