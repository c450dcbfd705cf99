"""Hyperparameter holders of the original gmm-mi API, under the same names.

``from gmmmi.param_holders import GMMFitParamHolder, SelectComponentsParamHolder,
MIDistParamHolder`` works as ``from gmm_mi.param_holders import ...`` did;
values are checked when the holder is made (ValueError, not assert), by the
checks of the EM options (``gmmmi._em.options.check_options``), and the
defaults are the original's (``gmmmi._em.options.ORIGINAL_DEFAULTS``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ._checks import check_choice, check_int
from ._em.options import ORIGINAL_DEFAULTS as _D
from ._em.options import check_options


@dataclass(frozen=True)
class GMMFitParamHolder:
    """Hyperparameters of every single GMM fit.

    Parameters
    ----------
    init_type : {'random', 'minmax', 'kmeans', 'randomized_kmeans', 'random_sklearn', \
'kmeans_sklearn'}, default='random_sklearn'
        How weights, means and covariances are initialised in each fit.
    scale : float, default=None
        Scale of the 'random', 'minmax' and 'randomized_kmeans' initialisations
        (in standardised units, since fits run on standardised columns).
    threshold_fit : float, default=1e-5
        Stop EM when the mean log-likelihood per sample changes by less than this
        (at least 0; 0 runs every fit to ``max_iter``).
    reg_covar : float, default=1e-15
        Added to the covariance diagonals to avoid singular matrices.
    max_iter : int, default=10000
        Maximum EM iterations per fit.
    """

    init_type: str = _D["init_type"]
    scale: float | None = _D["scale"]
    threshold_fit: float = _D["threshold_fit"]
    reg_covar: float = _D["reg_covar"]
    max_iter: int = _D["max_iter"]

    def __post_init__(self) -> None:
        check_options(asdict(self))

    def as_options(self) -> dict:
        """The hyperparameters as keyword options of `gmmmi.estimate`."""
        return asdict(self)


@dataclass(frozen=True)
class SelectComponentsParamHolder:
    """Hyperparameters of the choice of the number of components.

    Parameters
    ----------
    n_inits : int, default=3
        Initialisations tried per number of components.
    n_folds : int, default=2
        Folds of the cross-validation.
    metric_method : {'valid', 'aic', 'bic'}, default='valid'
        Validation log-likelihood, or AIC / BIC of a full-data fit.
    threshold_components : float, default=1e-5
        Stop adding components when the metric improves by less than this.
    patience : int, default=1
        Extra components to try before declaring convergence (at least 1).
    max_components : int, default=50
        Largest number of components tried.
    fixed_components_number : int, default=0
        If positive, use exactly this many components (no selection).
    """

    n_inits: int = _D["n_inits"]
    n_folds: int = _D["n_folds"]
    metric_method: str = _D["metric_method"]
    threshold_components: float = _D["threshold_components"]
    patience: int = _D["patience"]
    max_components: int = _D["max_components"]
    fixed_components_number: int = 0

    def __post_init__(self) -> None:
        options = asdict(self)
        check_options({k: v for k, v in options.items() if k != "fixed_components_number"})
        check_int("fixed_components_number", self.fixed_components_number, minimum=0)

    @property
    def fixed_components(self) -> bool:
        """True when ``fixed_components_number`` > 0."""
        return self.fixed_components_number > 0

    def as_options(self) -> dict:
        """The hyperparameters as keyword options of `gmmmi.estimate`."""
        return asdict(self)


@dataclass(frozen=True)
class MIDistParamHolder:
    """Hyperparameters of the MI distribution.

    Parameters
    ----------
    n_bootstrap : int, default=50
        Bootstrap replicas; below 1, a single fit on all data and no uncertainty.
    integral_method : {'MC', 'quad', 'qmc'}, default='MC'
        Monte Carlo (the original's default), the deterministic rule that is
        best for the dimension (``'quad'``) or randomised quasi-Monte Carlo
        (``'qmc'``); ``'mc'`` is accepted too (see `gmmmi.integrate`).
    MC_samples : int, default=1e5
        Monte Carlo points per integral, used when integral_method is 'MC'.
    """

    n_bootstrap: int = _D["n_bootstrap"]
    integral_method: str = "MC"
    MC_samples: float = 1e5

    def __post_init__(self) -> None:
        check_options({"n_bootstrap": self.n_bootstrap})
        from .integrate import METHODS  # here, so importing the holders stays light

        check_choice("integral_method", str(self.integral_method).lower(), METHODS)
        check_int("MC_samples", self.MC_samples, minimum=1)

    def as_options(self) -> dict:
        """The hyperparameters as keyword options of `gmmmi.estimate`."""
        return asdict(self)
