"""The contract between `gmmmi.estimate` and a fitting backend."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from gmmmi._checks import validate_options
from gmmmi.diagnostics import DrawKind, EMSelection, FitDiagnostics
from gmmmi.mixture import MixtureDraws

__all__ = ["Backend", "BaseBackend", "DrawKind", "EMSelection", "FitDiagnostics"]


@runtime_checkable
class Backend(Protocol):
    """A way of turning standardised data into a stack of mixtures.

    ``fit`` receives ``X`` validated, float64, C-contiguous and standardised
    per column, and returns `~gmmmi.MixtureDraws` of S mixtures in those
    standardised units with a frozen `~gmmmi.diagnostics.FitDiagnostics` whose
    ``kind`` says how the draws were obtained and whose ``sample_shape``
    (chains, draws) multiplies to S; `gmmmi.estimate` maps them back to data
    units. All randomness must come from ``rng``, and ``X`` must not be
    changed.

    ``supports_init`` says whether ``fit`` accepts ``init`` (a fitted
    `~gmmmi.MixtureDraws`, S = 1, in standardised units) as a warm start that
    fixes K. ``check(diagnostics)`` returns messages that `gmmmi.estimate`
    raises as ``ConvergenceWarning``. ``check_options(options)`` returns every
    option with its default filled in and raises for a bad one without fitting
    (`gmmmi.estimate_many` and `gmmmi.compare` call it before any work).
    `BaseBackend` gives the defaults of all three; `gmmmi.testing.check_backend`
    checks a backend against this contract.

    Optional: ``heldout_loglik(X, *, n_components, rng, **options)``, the
    held-out log-likelihood per row (nats, in the units of the standardised
    ``X``) of the model ``fit`` would choose, or None when the backend
    cannot say. ``transform="auto"`` (`gmmmi.margins`) compares raw and
    mapped data with it on copies of the generator, and keeps the raw data
    when it returns None or is missing. A backend may keep what it ran on
    the instance for the ``fit`` that follows (the numba backend keeps its
    component search), but never in process-global or thread-local state.

    Optional: ``heldout_fit(X, *, n_components, rng, **options)``, the same
    score and the full-data fit of its search (weights (K,), means (K, d),
    covariances (K, d, d)): with it, ``transform="auto"`` first asks whether
    the raw fit's own margins leave the maps nothing to gain
    (`gmmmi.margins.raw_margins_suffice`) and then fits no map.
    """

    name: str
    #: option names (with defaults) that ``fit`` accepts through ``**options``
    options: dict
    supports_init: bool

    def fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None,
        rng: np.random.Generator,
        progress: bool,
        **options: Any,
    ) -> tuple[MixtureDraws, FitDiagnostics]:
        """Fit standardised ``X`` (n, d); return S mixtures and their diagnostics."""
        ...

    def check(self, diagnostics: FitDiagnostics) -> list[str]:
        """Messages about the fit, raised as ``ConvergenceWarning`` by `gmmmi.estimate`."""
        ...

    def check_options(self, options: dict) -> dict:
        """Every option with its default filled in; raises for a bad one, without fitting."""
        ...


class BaseBackend:
    """Defaults of the optional parts of the `Backend` contract; subclass it.

    A subclass sets ``name`` and ``options`` and defines ``fit``; it inherits
    ``supports_init = False`` (set True if ``fit`` takes ``init=``),
    ``supports_block_bootstrap = False`` (set True if ``fit`` takes
    ``block_length=``, the rows per block of a circular block bootstrap), a
    ``check`` with no messages, a ``check_options`` that rejects unknown
    option names (in gmmmi's one format) and fills in the defaults, and a
    ``heldout_loglik`` that returns None (``transform="auto"`` then keeps the
    raw data and says that the backend cannot compare).
    """

    name: str = ""
    options: dict = {}
    supports_init: bool = False
    supports_block_bootstrap: bool = False

    def fit(
        self,
        X: np.ndarray,
        *,
        n_components: int | None,
        rng: np.random.Generator,
        progress: bool,
        **options: Any,
    ) -> tuple[MixtureDraws, FitDiagnostics]:
        """Fit mixtures to standardised data (to be defined by the subclass)."""
        raise NotImplementedError(f"{type(self).__name__} must define fit.")

    def heldout_loglik(
        self,
        X: np.ndarray,
        *,
        n_components: int | None,
        rng: np.random.Generator,
        **options: Any,
    ) -> float | None:
        """Held-out log-likelihood per row of the model ``fit`` would choose; None here.

        Parameters
        ----------
        X : numpy.ndarray, shape (n, d)
            Standardised data, as for ``fit``.
        n_components : int or None
            A fixed K, or None to choose it.
        rng : numpy.random.Generator
            Source of every random number (a copy: it may be advanced).
        **options
            The options ``fit`` would be given.

        Returns
        -------
        float or None
            Nats per row in the units of ``X``; None: this backend cannot
            compare models (``transform="auto"`` keeps the raw data).
        """
        return None

    def check(self, diagnostics: FitDiagnostics) -> list[str]:
        """Messages about a fit, raised as ``ConvergenceWarning``; none by default.

        Parameters
        ----------
        diagnostics : FitDiagnostics
            What this backend's ``fit`` returned.

        Returns
        -------
        list of str
        """
        return []

    def check_options(self, options: dict) -> dict:
        """Every option with its default filled in; TypeError for an unknown name.

        Parameters
        ----------
        options : dict
            Options given by the user (name -> value).

        Returns
        -------
        dict
        """
        return validate_options(options, self.options)
