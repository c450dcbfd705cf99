"""Hyperparameter holders of the original gmm-mi API, under the same names.

``from gmmmi.param_holders import GMMFitParamHolder, SelectComponentsParamHolder,
MIDistParamHolder`` works as ``from gmm_mi.param_holders import ...`` did;
values are checked when the holder is made (ValueError, not assert).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ._validation import check_choice, check_float, check_int

INIT_TYPES = ("random", "minmax", "kmeans", "randomized_kmeans", "random_sklearn", "kmeans_sklearn")
METRIC_METHODS = ("valid", "aic", "bic")


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
        Stop EM when the mean log-likelihood per sample changes by less than this.
    reg_covar : float, default=1e-15
        Added to the covariance diagonals to avoid singular matrices.
    max_iter : int, default=10000
        Maximum EM iterations per fit.
    """

    init_type: str = "random_sklearn"
    scale: float | None = None
    threshold_fit: float = 1e-5
    reg_covar: float = 1e-15
    max_iter: int = 10000

    def __post_init__(self) -> None:
        check_choice("init_type", self.init_type, INIT_TYPES)
        if self.scale is not None:
            check_float("scale", self.scale, minimum=0.0, strict=True)
        check_float("threshold_fit", self.threshold_fit, minimum=0.0, strict=True)
        check_float("reg_covar", self.reg_covar, minimum=0.0)
        check_int("max_iter", self.max_iter, minimum=1)

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

    n_inits: int = 3
    n_folds: int = 2
    metric_method: str = "valid"
    threshold_components: float = 1e-5
    patience: int = 1
    max_components: int = 50
    fixed_components_number: int = 0

    def __post_init__(self) -> None:
        check_int("n_inits", self.n_inits, minimum=1)
        check_int("n_folds", self.n_folds, minimum=2)
        check_choice("metric_method", self.metric_method, METRIC_METHODS)
        check_float("threshold_components", self.threshold_components, minimum=0.0)
        check_int("patience", self.patience, minimum=1)
        check_int("max_components", self.max_components, minimum=1)
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

    n_bootstrap: int = 50
    integral_method: str = "MC"
    MC_samples: float = 1e5

    def __post_init__(self) -> None:
        check_int("n_bootstrap", self.n_bootstrap)
        from .integrate import METHODS  # here, so importing the holders stays light

        check_choice("integral_method", str(self.integral_method).lower(), METHODS)
        check_int("MC_samples", self.MC_samples, minimum=1)

    def as_options(self) -> dict:
        """The hyperparameters as keyword options of `gmmmi.estimate`."""
        return asdict(self)
