"""`EstimateMI`: the original GMM-MI class, as a thin façade over `gmmmi.estimate`.

``from gmmmi.mi import EstimateMI`` works as ``from gmm_mi.mi import
EstimateMI`` did. Every fit and integral is `gmmmi.estimate`'s:

* ``fit`` runs ``gmmmi.estimate(..., n_bootstrap=0)``: the choice of K by
  cross-validation and the full-data fit, kept as ``fit_result``;
* ``estimate`` runs ``gmmmi.estimate(..., init=<that full-data fit>)`` with the
  `MIDistParamHolder`'s options and the same seed: the bootstrap replicas
  start from the fitted mixture and K is not chosen again, so a fit serves
  any number of estimates.

Differences from the original: the data go through `gmmmi.estimate`'s
checks before anything else (complex, ragged, masked or missing values are
refused, never cut or dropped silently); invalid values raise ValueError (not
assert); ``MI_mean`` is the MI of the full-data fit (as in `gmmmi.estimate`),
not the mean of the bootstrap replicas; the categorical MI weights each
category by its frequency; ``save``/``load`` write a netCDF file, never pickle.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from . import _arviz, _netcdf
from ._checks import check_choice
from ._data import validate_data
from .api import estimate as _estimate
from .exceptions import DataWarning, ResultFileError
from .mixture import MixtureDraws
from .param_holders import GMMFitParamHolder, MIDistParamHolder, SelectComponentsParamHolder
from .result import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike


#: name of the netCDF group holding the estimator's data and settings
_GROUP = "estimate_mi"
_FORMAT_VERSION = 1
#: root attribute: the checksum of the estimator's group (its data and settings)
_CHECKSUM = "gmmmi_estimate_mi_checksum"
KL_ORDERS = ("forward", "reverse")


class NotFittedError(ValueError, AttributeError):
    """An estimate or plot was asked of an `EstimateMI` that has not been fitted."""


class EstimateMI:
    """Mutual information with bootstrap uncertainty from Gaussian mixtures (GMM-MI's API).

    Parameters
    ----------
    gmm_fit_params : GMMFitParamHolder, optional
        Settings of every EM fit (default ``GMMFitParamHolder()``).
    select_components_params : SelectComponentsParamHolder, optional
        Settings of the choice of K (default ``SelectComponentsParamHolder()``).
    random_state : int, numpy.random.Generator or None, keyword-only
        Seed of the fit and of every estimate. None draws a seed at ``fit``
        (recorded in ``fit_result.meta["random_state"]``); every estimate of
        a fit reuses it, so repeated estimates are reproducible.

    Attributes
    ----------
    fit_result : Result or None
        The ``gmmmi.estimate`` result of ``fit`` (single full-data fit).
    result : Result or None
        The last result (of ``estimate``, else of ``fit``).
    MI_mean, MI_std : float or None
        The last estimate and its bootstrap sd (None without bootstrap).
    KL_mean, KL_std : float or None
        The KL divergence of the last ``estimate(include_kl=True)``.
    mi_dist_params : MIDistParamHolder or None
        The settings of the last estimate.

    Examples
    --------
    >>> mi_estimator = EstimateMI()  # doctest: +SKIP
    >>> MI_mean, MI_std = mi_estimator.fit_estimate(X)  # doctest: +SKIP
    """

    def __init__(
        self,
        gmm_fit_params: GMMFitParamHolder | None = None,
        select_components_params: SelectComponentsParamHolder | None = None,
        *,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.gmm_fit_params = _holder(gmm_fit_params, GMMFitParamHolder, "gmm_fit_params")
        self.select_components_params = _holder(
            select_components_params, SelectComponentsParamHolder, "select_components_params"
        )
        self.random_state = random_state
        self.mi_dist_params = None
        self.fit_result = None
        self.result = None
        self.MI_mean = self.MI_std = self.KL_mean = self.KL_std = None
        self._x = self._y = None
        self._categorical = False

    def __getattr__(self, name: str) -> Any:
        """Hyperparameters read through the holders, as in GMM-MI (``est.n_inits``)."""
        holders = ("gmm_fit_params", "select_components_params", "mi_dist_params")
        for holder in (self.__dict__.get(h) for h in holders):
            if holder is not None and name in holder.as_options():
                return getattr(holder, name)
        raise AttributeError(f"'EstimateMI' object has no attribute {name!r}")

    # ------------------------------------------------------------------ fitting
    def fit(self, X: ArrayLike, Y: ArrayLike | None = None, verbose: bool = False) -> EstimateMI:
        """Choose the number of components and fit the data.

        Parameters
        ----------
        X : array_like, shape (n, 2), (n, 2 + k) or (n,)
            Alone, (n, 2) samples of the two variables, or (n, 2 + k) for the
            conditional MI I(X1; X2 | X3..). With ``Y``, samples of the first
            variable (any dimension, see `gmmmi.estimate`).
        Y : array_like, shape (n,) or (n, dy), optional
            Samples of the second variable.
        verbose : bool, default False
            Show progress bars.

        Returns
        -------
        self
        """
        self._set_data(X, Y, categorical=False)
        self._fit(verbose)
        return self

    def fit_categorical(self, X: ArrayLike, Y: ArrayLike, verbose: bool = False) -> EstimateMI:
        """Fit one mixture per category of ``Y`` (the K of each chosen by cross-validation).

        Parameters
        ----------
        X : array_like, shape (n,) or (n, dx)
            Continuous samples.
        Y : array_like, shape (n,)
            Category labels of any hashable type (at least 2 categories).
        verbose : bool, default False

        Returns
        -------
        self
        """
        self._set_data(X, Y, categorical=True)
        self._fit(verbose)
        return self

    def _set_data(self, X, Y, *, categorical):
        if categorical and Y is None:
            raise ValueError("fit_categorical needs Y, the category labels; got Y=None.")
        # the checks and messages of gmmmi.estimate (complex, ragged, masked, NaN...) before
        # any conversion, which would drop imaginary parts and masks silently
        validate_data(X, Y, discrete_y=categorical)
        self._x = np.asarray(X, dtype=np.float64)
        self._y = None if Y is None else np.asarray(Y)
        if not categorical and self._y is not None:
            self._y = self._y.astype(np.float64)
        self._categorical = categorical
        self.fit_result = self.result = None
        self.MI_mean = self.MI_std = self.KL_mean = self.KL_std = None

    def _fit(self, verbose):
        options = {**self._fit_options(), "n_bootstrap": 0}
        seed = self.random_state
        self.fit_result = self._run(options, seed=seed, verbose=verbose)
        self.result = self.fit_result

    def _fit_options(self) -> dict:
        return {**self.gmm_fit_params.as_options(), **self.select_components_params.as_options()}

    def _run(self, options, *, seed, verbose, init=None, kl=False, base=math.e) -> Result:
        """One `gmmmi.estimate` call on the stored data."""
        return _estimate(
            self._x,
            self._y,
            discrete_y=self._categorical,
            kl=kl,
            base=base,
            random_state=seed,
            progress=True if verbose else None,
            init=init,
            transform="none",  # the original GMM-MI fits the raw data
            bias_correction=False,  # reports the plug-in value
            scale_mixtures=False,  # and searches Gaussian mixtures only
            discrete=None,  # ... and every column as continuous
            **options,
        )

    # --------------------------------------------------------------- estimating
    def estimate(
        self,
        mi_dist_params: MIDistParamHolder | None = None,
        include_kl: bool = False,
        kl_order: str = "forward",
        base: float = math.e,
        verbose: bool = False,
    ) -> tuple[float, float | None]:
        """The MI distribution from bootstrap fits that start from the fitted mixture.

        Parameters
        ----------
        mi_dist_params : MIDistParamHolder, optional
            ``n_bootstrap`` (50), ``integral_method`` ('MC'), ``MC_samples`` (1e5).
        include_kl : bool, default False
            Also estimate the KL divergence between the two marginals
            (``KL_mean``, ``KL_std``).
        kl_order : {'forward', 'reverse'}, default 'forward'
            'forward' is KL[p(x) || p(y)], 'reverse' KL[p(y) || p(x)].
        base : float, default e
            Logarithm base: e for nats, 2 for bits.
        verbose : bool, default False

        Returns
        -------
        MI_mean : float
            MI of the full-data fit, in units of ``log(base)``.
        MI_std : float or None
            Sample sd of the bootstrap MI values; None when n_bootstrap < 1.
        """
        self._check_fitted(categorical=False, action="estimate")
        kl_order = check_choice("kl_order", kl_order, KL_ORDERS)
        result = self._estimate(mi_dist_params, include_kl, base, verbose)
        if include_kl:
            key = "kl_xy" if kl_order == "forward" else "kl_yx"
            self.KL_mean = result.point[key]
            self.KL_std = _sd_or_none(result.draws[key])
        else:
            self.KL_mean = self.KL_std = None
        return self.MI_mean, self.MI_std

    def estimate_categorical(
        self,
        mi_dist_params: MIDistParamHolder | None = None,
        base: float = math.e,
        verbose: bool = False,
    ) -> tuple[float, float | None]:
        """The MI between X and the category labels, with bootstrap uncertainty.

        Each category's bootstrap fits start from its fitted mixture; the
        category frequencies are resampled with the data. See `estimate`.

        Returns
        -------
        MI_mean : float
        MI_std : float or None
        """
        self._check_fitted(categorical=True, action="estimate_categorical")
        self._estimate(mi_dist_params, False, base, verbose)
        return self.MI_mean, self.MI_std

    def _estimate(self, mi_dist_params, include_kl, base, verbose) -> Result:
        self.mi_dist_params = _holder(mi_dist_params, MIDistParamHolder, "mi_dist_params")
        options = {**self._fit_options(), **self.mi_dist_params.as_options()}
        with warnings.catch_warnings():
            # fit screened the same data and gave these warnings already
            warnings.simplefilter("ignore", DataWarning)
            result = self._run(
                options,
                seed=self._seed(),
                verbose=verbose,
                init=self.fitted_mixtures(),
                kl=include_kl,
                base=base,
            )
        self.result = result
        self.MI_mean = result.value
        self.MI_std = _sd_or_none(result.draws[result.quantity])
        return result

    def fit_estimate(
        self,
        X: ArrayLike,
        Y: ArrayLike | None = None,
        mi_dist_params: MIDistParamHolder | None = None,
        include_kl: bool = False,
        kl_order: str = "forward",
        base: float = math.e,
        verbose: bool = False,
    ) -> tuple[float, float | None]:
        """`fit` then `estimate`; returns (MI_mean, MI_std)."""
        self.fit(X, Y, verbose=verbose)
        return self.estimate(
            mi_dist_params=mi_dist_params,
            include_kl=include_kl,
            kl_order=kl_order,
            base=base,
            verbose=verbose,
        )

    def fit_estimate_categorical(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        mi_dist_params: MIDistParamHolder | None = None,
        base: float = math.e,
        verbose: bool = False,
    ) -> tuple[float, float | None]:
        """`fit_categorical` then `estimate_categorical`; returns (MI_mean, MI_std)."""
        self.fit_categorical(X, Y, verbose=verbose)
        return self.estimate_categorical(mi_dist_params=mi_dist_params, base=base, verbose=verbose)

    def _seed(self):
        """The fit's seed (a Generator given by the user is used as it is)."""
        seed = self.fit_result.meta.get("random_state")
        return self.random_state if seed is None else seed

    def _check_fitted(self, *, categorical=None, action="this"):
        if self.fit_result is None:
            raise NotFittedError(
                f"This EstimateMI instance is not fitted yet; call fit (or fit_categorical) "
                f"before {action}."
            )
        if categorical is not None and categorical != self._categorical:
            need, have = ("fit_categorical", "fit") if categorical else ("fit", "fit_categorical")
            raise ValueError(
                f"{action} needs a model made by {need}, but this one was made by {have}."
            )

    # ------------------------------------------------------------- the fit
    def fitted_mixtures(self) -> MixtureDraws | list[MixtureDraws]:
        """The full-data fit in data units (S = 1): what every estimate starts from.

        Returns
        -------
        MixtureDraws, or a list of one MixtureDraws per category (categorical fits)
        """
        self._check_fitted()
        diagnostics = self.fit_result.diagnostics
        if not self._categorical:
            return diagnostics.reference_fit
        return [g.reference_fit for g in diagnostics.per_category]

    @property
    def fit_done(self) -> bool:
        """True once `fit` or `fit_categorical` has run."""
        return self.fit_result is not None

    @property
    def best_components(self) -> int | list[int]:
        """K of the fit; a list with one K per category for categorical fits."""
        self._check_fitted()
        diagnostics = self.fit_result.diagnostics
        if self._categorical:
            return [g.n_components for g in diagnostics.per_category]
        return diagnostics.n_components

    @property
    def reached_max_components(self) -> bool:
        """True when K hit max_components (or n // n_folds) without converging."""
        self._check_fitted()
        return bool(self.fit_result.diagnostics.reached_max_components)

    @property
    def converged(self) -> bool:
        """True when the choice of K converged (or K was fixed)."""
        return self.fit_done and not self.reached_max_components

    @property
    def results_dict(self) -> dict:
        """Component selection per K: ``{K: {"valid_score", "aic", "bic"}}``.

        The valid score is the best mean validation log-likelihood per sample
        (standardised units); AIC and BIC are those of the full-data fit.
        Empty when K was fixed. For a categorical fit, the first category's.
        """
        self._check_fitted()
        table = self._first_fit_diagnostics().metric_per_k
        rows = zip(
            table.get("n_components", []),
            table.get("valid", []),
            table.get("aic", []),
            table.get("bic", []),
            strict=True,
        )
        return {
            int(k): {"valid_score": float(v), "aic": float(a), "bic": float(b)}
            for k, v, a, b in rows
        }

    # ------------------------------------------------------------------ plots
    def _joint_data(self) -> np.ndarray:
        """The data as the mixture's columns (x, then y, then z)."""
        return validate_data(self._x, self._y, discrete_y=self._categorical).X

    def plot_fitted_model(
        self,
        ax: Axes | None = None,
        *,
        data: bool | None = None,
        color: str = "C1",
        alpha: float = 0.9,
        linewidth: float = 1.5,
        label: str = "Fitted model",
        levels: Sequence[float] = (1, 2),
        dims: tuple[int, int] = (0, 1),
    ) -> Axes:
        """Ellipses of every component of the full-data fit (1 and 2 sigma), as in GMM-MI.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (e.g. over your own scatter of the data); a new
            figure when None.
        data : bool, optional
            Scatter the data underneath; default True on a new figure and
            False on a given ``ax``.
        color : str, default "C1"
        alpha : float, default 0.9
            Opacity of the heaviest component (lighter components fade).
        linewidth : float, default 1.5
        label : str, default "Fitted model"
            Legend entry, shown when you call ``ax.legend()``.
        levels : sequence of float, default (1, 2)
            Mahalanobis distances of the ellipses.
        dims : (int, int), default (0, 1)
            The two coordinates shown (for conditional MI, the marginal of
            two of them).

        Returns
        -------
        matplotlib Axes
        """
        from .plot.mixtures import _fitted_model

        self._check_fitted(action="plot_fitted_model")
        X = self._joint_data()
        if X.shape[1] < 2:
            raise ValueError(
                "plot_fitted_model needs at least 2 continuous coordinates; this fit has 1. "
                "Use plot_fitted_contours for 1-D data."
            )
        mixtures = self.fitted_mixtures()
        meta = self.fit_result.meta
        return _fitted_model(
            mixtures if self._categorical else [mixtures],
            X,
            self.fit_result.column_labels(),
            categories=(meta["labels"]["y"][0], meta["categories"]) if self._categorical else None,
            ax=ax,
            show_data=ax is None if data is None else data,
            dims=dims,
            color=color,
            alpha=alpha,
            linewidth=linewidth,
            label=label,
            levels=levels,
        )

    def plot_fitted_contours(
        self,
        parameters: Sequence[str] | None = None,
        extents: Mapping[str, tuple[float, float]] | Sequence[tuple[float, float]] | None = None,
        n_samples: int | None = None,
        *,
        kde: bool = True,
        shade_alpha: float = 0.35,
        linewidths: float = 1.5,
        legend_kwargs: dict | None = None,
        levels: Sequence[float] = (0.68, 0.95),
    ) -> Figure:
        """Corner plot of the data's density contours against the full-data fit's.

        See `gmmmi.plot.plot_fitted_contours` for every parameter; the
        model's contours are exact (from its density on a grid), so
        ``n_samples``, kept for the original's signature, is ignored.
        ``parameters`` defaults to the data's column names (``X1, X2, Z1...``
        for a single array). For a categorical fit the mixture is p(x) over
        all categories. ``gmmmi.Result.plot_fit`` draws the same plot.

        Returns
        -------
        matplotlib Figure
        """
        from .plot import plot_fitted_contours

        self._check_fitted(action="plot_fitted_contours")
        seed = self._seed()
        return plot_fitted_contours(
            self.fit_result.diagnostics.reference_fit,
            self._joint_data(),
            parameters=self.fit_result.column_labels() if parameters is None else parameters,
            extents=extents,
            rng=seed if isinstance(seed, (int, np.integer)) else None,
            kde=kde,
            levels=levels,
            shade_alpha=shade_alpha,
            linewidths=linewidths,
            legend_kwargs=legend_kwargs,
        )

    def plot_loss_curves(self, ax: Axes | None = None) -> Axes:
        """EM log-likelihood per iteration of the cross-validation fits at the chosen K.

        Returns
        -------
        matplotlib Axes
        """
        from .plot import plot_loss_curves

        self._check_fitted(action="plot_loss_curves")
        return plot_loss_curves(self._first_fit_diagnostics().loss_curves, ax=ax)

    def _first_fit_diagnostics(self):
        """The fit's diagnostics; the first category's for a categorical fit."""
        diagnostics = self.fit_result.diagnostics
        return diagnostics.per_category[0] if self._categorical else diagnostics

    # ------------------------------------------------------------ persistence
    def save(self, path: str | PathLike) -> None:
        """Save the fitted estimator to a netCDF-4 file (arrays and JSON text, no pickle).

        The file is also a `gmmmi.load`-able result (the fit's). It holds the
        data, so an estimate after `load` gives the same numbers; the data and
        settings are under a SHA-256 checksum of their own, so `load` refuses a
        file in which any of them changed.
        """
        self._check_fitted(action="save")
        groups, attrs = _arviz.groups_of(self.fit_result.to_arviz())
        groups[_GROUP] = self._state_dataset()
        attrs[_CHECKSUM] = _netcdf.checksum(groups, {_GROUP})  # the data and settings too
        _arviz.write_netcdf(_arviz.inference_data(groups, attrs=attrs), path)

    def _state_dataset(self) -> xr.Dataset:
        variables = {"x": (("sample", "x_dim") if self._x.ndim == 2 else ("sample",), self._x)}
        state = {
            "format": _FORMAT_VERSION,
            "categorical": self._categorical,
            "random_state": self.random_state
            if isinstance(self.random_state, (int, np.integer))
            else None,
            "gmm_fit_params": self.gmm_fit_params.as_options(),
            "select_components_params": self.select_components_params.as_options(),
            "mi_dist_params": None
            if self.mi_dist_params is None
            else self.mi_dist_params.as_options(),
            "outputs": {k: getattr(self, k) for k in ("MI_mean", "MI_std", "KL_mean", "KL_std")},
        }
        if self._y is not None:
            y = self._y
            if self._categorical:
                y = validate_data(self._x, self._y, discrete_y=True).categories
            variables["y"] = (("sample", "y_dim") if y.ndim == 2 else ("sample",), y)
        return xr.Dataset(variables, attrs={"gmmmi_estimate_mi": json.dumps(state, default=float)})

    @classmethod
    def load(cls, path: str | PathLike) -> EstimateMI:
        """An estimator saved by `save`; nothing in the file is executed.

        Category labels come back as their codes 0..C-1 (in the sorted order
        of the original labels), which gives the same fits and estimates.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        gmmmi.exceptions.ResultFileError
            (a ValueError) If the file cannot be read, does not match its
            checksums (the fit's, and the stored data's and settings'), holds
            no estimator, or lacks part of one; the message names the file.
        """
        groups, attrs = _netcdf.read_groups(path, checksums=((_CHECKSUM, {_GROUP}),))
        if _GROUP not in groups:
            raise ResultFileError(
                f"{path} holds no EstimateMI (no {_GROUP!r} group; groups: {sorted(groups)}). "
                "Load a plain result with gmmmi.load."
            )
        try:
            return cls._from_groups(groups, attrs)
        except ResultFileError as err:
            raise ResultFileError(f"{str(path)!r}: {err}") from None
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
            raise ResultFileError(
                f"{str(path)!r} is not a complete EstimateMI file: {_netcdf.describe(err)}. "
                "Save the estimator again."
            ) from err

    @classmethod
    def _from_groups(cls, groups: dict, attrs: dict) -> EstimateMI:
        ds = groups[_GROUP]
        state = json.loads(ds.attrs["gmmmi_estimate_mi"])
        est = cls(
            GMMFitParamHolder(**state["gmm_fit_params"]),
            SelectComponentsParamHolder(**state["select_components_params"]),
            random_state=state["random_state"],
        )
        est._x = ds["x"].values
        est._y = ds["y"].values if "y" in ds else None
        est._categorical = bool(state["categorical"])
        est.fit_result = est.result = Result._from_groups(groups, attrs)
        if state["mi_dist_params"] is not None:
            est.mi_dist_params = MIDistParamHolder(**state["mi_dist_params"])
        for key, value in state["outputs"].items():
            setattr(est, key, value)
        return est

    def __repr__(self) -> str:
        if not self.fit_done:
            return "EstimateMI(not fitted)"
        kind = "categorical" if self._categorical else self.fit_result.quantity.upper()
        text = f"EstimateMI({kind}, K={self.best_components}"
        if self.MI_mean is not None:
            text += f", MI_mean={self.MI_mean:.4g}"
            if self.MI_std is not None:
                text += f", MI_std={self.MI_std:.2g}"
        return text + ")"


def _holder(value, cls, name):
    """``value`` if it is a ``cls``, a default ``cls()`` for None, else a TypeError."""
    if value is None:
        return cls()
    if not isinstance(value, cls):
        raise TypeError(
            f"{name} must be a {cls.__name__} (from gmmmi.param_holders) or None; "
            f"got {type(value).__name__}."
        )
    return value


def _sd_or_none(values):
    """Sample sd (ddof=1) of the draws, or None for a single draw (as GMM-MI)."""
    values = np.asarray(values).ravel()
    return float(np.std(values, ddof=1)) if values.size > 1 else None
