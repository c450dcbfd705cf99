"""`Result`: what every estimate returns, and its lossless netCDF persistence.

A result holds S draws of each quantity (bootstrap replicas as one chain, or
posterior draws as several chains), the reported centre of each, the numerical
error of each integral, the S fitted mixtures and the backend's diagnostics.
The same ArviZ summary, HDI, plots and file format serve every backend.

The netCDF file format and its codec are described in ``gmmmi._netcdf``.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _arviz
from ._bias import describe as describe_bias
from ._block_refit import describe_kept as describe_maps
from ._block_refit import kept_maps
from ._intervals import HDI_PROB, INTERVAL_METHODS, critical_value
from ._mixed_text import describe as describe_discrete
from ._text import QUANTITY_LABELS, draws_of, format_pm, interval_name, method_text
from ._text import decimals as _decimals
from ._text import has_spread as _has_spread
from ._text import sample_sd as _sd
from .diagnostics import DrawKind, FitDiagnostics, mixing_messages
from .margins import MarginChoice
from .mixture import MixtureDraws

if TYPE_CHECKING:
    import arviz
    import pandas as pd
    import xarray as xr

    from .fit_check import FitCheck


class Result:
    """The estimate of MI (or CMI), its uncertainty, and everything behind it.

    Built by `gmmmi.estimate`; all arguments are keyword-only.

    Parameters
    ----------
    draws : dict of str to ndarray, shape (chain, draw)
        Draws of each quantity (``"mi"`` or ``"cmi"``, optionally ``"kl_xy"``,
        ``"kl_yx"``), in the output unit. Bootstrap replicas are one chain.
    point : dict of str to float
        Reported centre of each quantity (the full-data fit for a bootstrap,
        the posterior mean for a posterior).
    integration_error : dict of str to ndarray, shape (chain, draw)
        Numerical error estimate of each integral, in the output unit.
    mixture : MixtureDraws
        The S = chain * draw fitted mixtures in data units, chain-major.
    diagnostics : FitDiagnostics
        What the backend reported (``reference_fit`` in data units or None).
    meta : dict
        ``backend``, ``method``, ``quantity`` (the main quantity), ``unit``
        (``"nat"`` or ``"bit"``), ``base``, ``n_samples``, ``labels``,
        ``blocks``, ``integral_method``, ``options``, ``random_state``,
        ``gmmmi_version``, ``transform`` (see `transform`), ``bias_correction``
        (``{"subtracted", "rule"}``: the plug-in bias taken off the estimate
        and its draws, in `unit`; see ``gmmmi._bias``), ``interval_correction``
        (a block bootstrap's critical-value rule, see `interval_correction`).

    Notes
    -----
    ``mean, sd = result`` unpacks like the original GMM-MI's ``(mean, std)``
    tuple, and ``float(result)`` is the estimate.
    """

    def __init__(
        self,
        *,
        draws: dict,
        point: dict,
        integration_error: dict,
        mixture: MixtureDraws,
        diagnostics: FitDiagnostics,
        meta: dict,
        margins: MarginChoice | None = None,
    ):
        self.meta = dict(meta)
        if margins is None and self.meta.get("transform"):  # a loaded file's, any version
            margins = MarginChoice.from_dict(self.meta["transform"])
        self._margins = margins
        self.draws = _check_draws(draws, self.meta.get("quantity"))
        shape = next(iter(self.draws.values())).shape
        self.point = _check_point(point, self.draws)
        self.integration_error = {
            name: _as_chain_draw(f"integration_error[{name!r}]", v, shape)
            for name, v in integration_error.items()
        }
        if mixture.n_draws != shape[0] * shape[1]:
            raise ValueError(
                f"mixture must hold chain * draw = {shape[0] * shape[1]} mixtures, one per "
                f"draw; got {mixture.n_draws}."
            )
        if tuple(diagnostics.sample_shape) != shape:
            raise ValueError(
                f"diagnostics.sample_shape {tuple(diagnostics.sample_shape)} must be the draws' "
                f"(chain, draw) shape {shape}."
            )
        self.mixture = mixture
        self.diagnostics = diagnostics

    # ------------------------------------------------------------ the numbers
    @property
    def quantity(self) -> str:
        """Name of the main quantity, ``"mi"`` or ``"cmi"``."""
        return self.meta["quantity"]

    @property
    def unit(self) -> str:
        """Unit of every quantity: ``"nat"`` or ``"bit"``."""
        return self.meta["unit"]

    @property
    def n_chains(self) -> int:
        """Chains of draws (1 for a bootstrap or a single fit)."""
        return self.draws[self.quantity].shape[0]

    @property
    def n_draws(self) -> int:
        """Draws per chain."""
        return self.draws[self.quantity].shape[1]

    @property
    def value(self) -> float:
        """The reported estimate of the main quantity (its point)."""
        return self.point[self.quantity]

    @property
    def mi(self) -> float:
        """Alias of `value` (also for CMI results)."""
        return self.value

    @property
    def cmi(self) -> float:
        """The CMI estimate; only for conditional results."""
        if self.quantity != "cmi":
            raise AttributeError(
                f"This result estimates {self.quantity!r}, not 'cmi'; use .value. "
                "Pass z=... to gmmmi.estimate for conditional MI."
            )
        return self.value

    @property
    def sd(self) -> float:
        """Sample standard deviation (ddof=1) of the main quantity's draws; NaN for one draw."""
        return _sd(self.draws[self.quantity])

    @property
    def draws_mean(self) -> float:
        """Mean of the main quantity's draws (the bootstrap mean; the estimate is `value`)."""
        return float(np.mean(self.draws[self.quantity]))

    @property
    def kl(self) -> tuple[float, float]:
        """(KL[p(x)||p(y)], KL[p(y)||p(x)]) estimates, in `unit`."""
        missing = [k for k in ("kl_xy", "kl_yx") if k not in self.point]
        if missing:
            raise AttributeError(
                f"KL divergences were not computed (missing {missing}); "
                "use gmmmi.marginal_kl(x, y)."
            )
        return self.point["kl_xy"], self.point["kl_yx"]

    @property
    def transform(self) -> dict | None:
        """What was done to the margins (`gmmmi.margins`), or None for results without it.

        ``{"requested", "chosen", "reason", "columns", "criterion"}``:
        ``chosen`` is ``"none"`` (raw data) or ``"gaussianize"``; ``columns``
        holds each column's 1-D mixture (label, n_components, weights, means,
        sds); ``criterion`` the held-out log-likelihood per row on the data
        scale of each option when they were compared.
        """
        return self.meta.get("transform")

    @property
    def margins(self) -> MarginChoice | None:
        """What was done to the margins, as a frozen ``gmmmi.margins.MarginChoice``.

        The record of `transform` as an object (its maps ready to apply, its
        reason a ``gmmmi.margins.MarginReason``), made once; None for results
        without a record.
        """
        return self._margins

    @property
    def discrete(self) -> dict | None:
        """The discrete columns and point masses split off by the chain rule, or None.

        ``{"requested", "columns", "levels", "atoms", "pooled_below", "cells",
        "correction", "mixture_columns"}`` (see `gmmmi.mixed`).
        """
        return self.meta.get("discrete")

    @property
    def n_components(self) -> int:
        """K, the number of components of every fitted mixture."""
        return int(self.diagnostics.n_components)

    def __iter__(self) -> Any:
        """Yield (value, sd), so ``mi, sd = result`` works."""
        return iter((self.value, self.sd))

    def __float__(self) -> float:
        """The estimate, `value`."""
        return float(self.value)

    # ---------------------------------------------------------------- text
    @property
    def fit_check(self) -> FitCheck | None:
        """The goodness-of-fit check of the fit to all the data (None if not made).

        `gmmmi.estimate` makes it on every fit
        (`gmmmi.fit_check.automatic_check`); ``fit_check.ok`` is False when
        the fit is detectably wrong, and a `gmmmi.MisfitWarning` said so.
        """
        return self.diagnostics.fit_check

    def _misfit_line(self) -> str | None:
        """The line under the interval when the fit check failed, else None."""
        check = self.fit_check
        if check is None or check.ok:
            return None
        return f"fit check failed: {check.verdict()}; the interval does not cover this misfit"

    def mixing_messages(self) -> list[str]:
        """Warnings about the R-hat and ESS of the main quantity's draws of a posterior.

        Returns
        -------
        list of str
            `gmmmi.diagnostics.mixing_messages` of the draws for a posterior
            (``DrawKind.POSTERIOR``); empty for a bootstrap or
            a single fit, whose draws are not a Markov chain.
        """
        if self.diagnostics.kind is not DrawKind.POSTERIOR:
            return []
        return mixing_messages(self.draws[self.quantity])

    def _line(self, name: str) -> str:
        label = QUANTITY_LABELS.get(name, name)
        if name == self.quantity:
            # an estimand with its own name (e.g. "TE(x → y)") in meta["title"]
            label = self.meta.get("title") or f"{label}({self._variables_text()})"
        return f"{label} = {format_pm(self.point[name], _sd(self.draws[name]))} {self.unit}"

    def _variables_text(self) -> str:
        """``x; y`` or ``x; y | z`` with the column names of each block."""
        labels = self.meta.get("labels", {})
        if "variables" in self.meta:  # a divergence between two samples
            return self.meta["variables"]
        if self.quantity == "entropy":
            return ", ".join(map(str, labels.get("x", ["x"])))
        blocks = [", ".join(map(str, labels.get(key, [key]))) for key in ("x", "y")]
        text = "; ".join(blocks)
        if labels.get("z"):
            text += " | " + ", ".join(map(str, labels["z"]))
        return text

    def _interval_line(self) -> str | None:
        """The recommended 95% interval in words, or None without an sd."""
        if not _has_spread(self.value, self.sd):
            return None
        low, high = self.interval()
        decimals = _decimals(self.sd)
        name = interval_name(0.95, correction=self.interval_correction)
        return f"{name}: [{low:.{decimals}f}, {high:.{decimals}f}] {self.unit}"

    def __repr__(self) -> str:
        backend = self.meta.get("backend", "?")
        fit = f"{backend}, {method_text(self.diagnostics)}, K={self.n_components}"
        if self.mixture.n_dim == 0:  # discrete columns only: no mixture was fitted
            fit = f"contingency table, {method_text(self.diagnostics)}"
        lines = [f"{self._line(self.quantity)} ({fit})"]
        interval = self._interval_line()
        if interval is not None:
            lines.append(f"  {interval}")
        misfit = self._misfit_line()
        if misfit is not None:
            lines.append(f"  {misfit}")
        if "p_value" in self.meta:  # a surrogate test (gmmmi.transfer_entropy)
            count = len(self.meta.get("surrogate_values", []))
            lines.append(f"  p = {self.meta['p_value']:.3g} ({count} time-shifted surrogates)")
        margins = None if self.margins is None else self.margins.describe()
        if margins is not None:
            lines.append(f"  {margins}")
        maps = self.diagnostics.extra.get("block_maps")
        if maps and maps.get("kept") is not None:
            lines.append(f"  {describe_maps(maps)}")
        correction = describe_bias(self.meta.get("bias_correction"), self.sd, self.unit)
        if correction is not None:
            lines.append(f"  {correction}")
        if self.discrete is not None:
            lines.append(f"  {describe_discrete(self.discrete)}")
        if self.meta.get("dequantized"):
            names = ", ".join(map(repr, self.meta["dequantized"]))
            lines.append(f"  dequantized: {names} + U(0, 1) noise (counts; the MI is unchanged)")
        lines += [self._line(k) for k in ("kl_xy", "kl_yx") if k in self.draws]
        return "\n".join(lines)

    __str__ = __repr__

    # ----------------------------------------------------------- statistics
    def _quantity_dataset(self) -> xr.Dataset:
        import xarray as xr  # with pandas, ~0.4 s: not imported by an estimate

        from . import _netcdf

        return xr.Dataset(
            {name: (("chain", "draw"), v) for name, v in self.draws.items()},
            coords=_netcdf._chain_draw_coords(self.draws[self.quantity].shape),
        )

    def summary(self, prob: float = 0.95, method: str = "normal") -> pd.DataFrame:
        """ArviZ summary of every quantity, with the reported estimate and interval first.

        Parameters
        ----------
        prob : float, default 0.95
            Probability of the interval, in (0, 1).
        method : {"normal", "hdi"}, default "normal"
            The interval shown, as in `interval`: ``"normal"`` (value ± z sd,
            the one docs/uncertainty.md's calibration supports) or ``"hdi"``.

        Returns
        -------
        pandas.DataFrame
            One row per quantity; columns ``estimate`` (the point), ``mean``,
            ``sd``, ``<method>_<lo>%`` and ``<method>_<hi>%`` (e.g.
            ``normal_2.5%``, ``normal_97.5%``), ``mcse_mean``, ``mcse_sd``,
            ``ess_bulk``, ``ess_tail``, ``r_hat`` (NaN with one chain). The
            interval's name is in ``table.attrs["interval"]``, what was done
            to the margins in ``table.attrs["margins"]``, the fit check's
            verdict in ``table.attrs["fit_check"]`` (``"passed"``, or the
            line ``print`` shows under the interval).
        """
        _check_interval(prob, method)
        names = list(self.draws)
        table = _arviz.summary(self._quantity_dataset(), var_names=names, hdi_prob=prob)
        table.insert(0, "estimate", [self.point[n] for n in names])
        hdi_columns = [c for c in table.columns if c.startswith("hdi_")]
        if method == "normal":
            bounds = np.array([self.interval(prob, quantity=n) for n in names])
            table[hdi_columns[0]], table[hdi_columns[1]] = bounds[:, 0], bounds[:, 1]
            table = table.rename(columns={c: "normal" + c[3:] for c in hdi_columns})
        table.attrs["interval"] = interval_name(prob, method, self.interval_correction)
        table.attrs["margins"] = (self.margins and self.margins.describe()) or "raw data"
        table.attrs["fit_check"] = self._misfit_line() or "passed"
        if self.discrete is not None:
            table.attrs["discrete"] = describe_discrete(self.discrete)
        return table

    def interval(
        self, prob: float = 0.95, method: str = "normal", quantity: str | None = None
    ) -> tuple[float, float]:
        """The interval of a quantity with probability ``prob``.

        Parameters
        ----------
        prob : float, default 0.95
            Nominal coverage, in (0, 1).
        method : {"normal", "hdi"}, default "normal"
            ``"normal"``: value ± c sd, centred on the reported estimate, c
            the standard normal quantile (1.96 for 0.95), or for a block
            bootstrap the fixed-b critical value of `interval_correction`
            (``gmmmi._intervals.critical_value``). This is the interval whose
            coverage docs/uncertainty.md and docs/timeseries.md measured at
            the nominal level; use it. ``"hdi"``: the
            highest-density interval of the draws, which under-covers with
            50 bootstrap replicas (0.86-0.93 for a nominal 0.95).
        quantity : str, optional
            Default: the main quantity.

        Returns
        -------
        (low, high) : tuple of float
            In `unit`; (NaN, NaN) for a single fit (no sd).

        Raises
        ------
        ValueError
            For ``prob`` outside (0, 1) or an unknown ``method``.
        """
        _check_interval(prob, method)
        values = self._draws_of(quantity)
        if method == "hdi":
            return self.hdi(prob, quantity)
        centre = self.point[self.quantity if quantity is None else quantity]
        half = critical_value(prob, self.interval_correction) * _sd(values)
        return centre - half, centre + half

    @property
    def interval_correction(self) -> dict | None:
        """The critical-value rule of `interval`'s ``"normal"`` interval, or None.

        None: value ± z sd with the normal quantile z. A block bootstrap
        (``bootstrap="block"``) records its fixed-b rule
        (``gmmmi._intervals.fixed_b``): ``{"rule": "fixed-b", "b": L / n,
        "replicas": B, "dof": ν, "scale": s}``, and the 95% interval is
        value ± c sd with c = s · t_ν(0.975) (2.14 for L = 45 of n = 1000
        rows and B = 50, 2.015 for L = 2): the bootstrap's variance is biased
        down and noisy when blocks are a sizeable share of the series
        (Kiefer & Vogelsang 2005), and B replicas add their own noise. See
        docs/timeseries.md.
        """
        return self.meta.get("interval_correction")

    def hdi(self, prob: float = HDI_PROB, quantity: str | None = None) -> tuple[float, float]:
        """Highest-density interval of a quantity's draws (chains pooled).

        It under-covers with 50 bootstrap replicas; `interval` gives the
        recommended one.

        Parameters
        ----------
        prob : float, default 0.94 (``HDI_PROB``, ArviZ's default)
        quantity : str, optional
            Default: the main quantity.

        Returns
        -------
        (low, high) : tuple of float, in `unit`.
        """
        return _arviz.hdi(self._draws_of(quantity), prob=prob)

    def _draws_of(self, quantity):
        return draws_of(self.draws, self.quantity if quantity is None else quantity)

    # --------------------------------------------------------------- ArviZ
    def to_arviz(self) -> arviz.InferenceData:
        """Everything in this result as an `arviz.InferenceData`.

        Returns
        -------
        arviz.InferenceData
            ``posterior``: each quantity (chain, draw) and the mixture
            parameters ``weights``, ``means``, ``covariances`` with dims
            (chain, draw, component[, dim[, dim2]]), ``meta`` in its attrs;
            ``sample_stats`` when the backend gave an xarray Dataset; and the
            groups ``point_estimate``, ``integration_error``,
            ``fit_diagnostics`` and ``reference_fit`` (see ``gmmmi._netcdf``).
        """
        from . import _netcdf  # imports xarray

        return _netcdf.encode(self)

    @classmethod
    def from_arviz(cls, idata: arviz.InferenceData) -> Result:
        """Rebuild a result from the `arviz.InferenceData` made by `to_arviz`."""
        return cls._from_groups(*_arviz.groups_of(idata))

    def to_netcdf(self, path: str | PathLike) -> None:
        """Save losslessly to a netCDF-4 file (read back with `gmmmi.load`)."""
        _arviz.write_netcdf(self.to_arviz(), path)

    @classmethod
    def from_netcdf(cls, path: str | PathLike) -> Result:
        """Load a result saved by `to_netcdf`; nothing in the file is executed.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        gmmmi.exceptions.ResultFileError
            (a ValueError) If the file cannot be read (truncated, damaged) or
            is not a complete gmmmi result; the message names the file and
            what is missing or damaged.
        """
        from . import _netcdf  # imports xarray

        return _netcdf.read(path, cls)

    @classmethod
    def _from_groups(cls, groups: dict, attrs: dict) -> Result:
        from . import _netcdf  # imports xarray

        return _netcdf.decode(groups, attrs, cls)

    # ---------------------------------------------------------------- plots
    def plot(self, ax=None, truth=None, *, quantity=None, prob=0.95, method="normal", bins="auto"):
        """Distribution of a quantity's draws with the estimate, its interval and truth.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        truth : float, optional
            A known true value to mark (dashed line).
        quantity : str, optional
            Default: the main quantity.
        prob : float, default 0.95
            Probability of the shaded interval (not drawn for one draw).
        method : {"normal", "hdi"}, default "normal"
            The interval shaded, as in `interval`; the legend names it.
        bins : int, sequence or str, default "auto"

        Returns
        -------
        matplotlib Axes
        """
        from .plot import plot_result

        return plot_result(self, ax, truth, quantity=quantity, prob=prob, method=method, bins=bins)

    def column_labels(self) -> list[str]:
        """Names of the joint mixture's coordinates, in column order (from meta labels/blocks)."""
        if self.discrete is not None:
            return list(self.discrete["mixture_columns"])
        d = self.mixture.n_dim
        names = [f"x{i}" for i in range(d)]
        labels, blocks = self.meta.get("labels", {}), self.meta.get("blocks", {})
        for key, idx in blocks.items():
            for j, col in enumerate(idx):
                block_labels = labels.get(key, [])
                names[col] = str(block_labels[j]) if j < len(block_labels) else f"{key}{j}"
        return names

    def _fitted_mixture(self) -> MixtureDraws:
        """The full-data fit (S = 1), else the first draw."""
        mix = self.diagnostics.reference_fit
        return self.mixture.select(0) if mix is None else mix.select(0)

    def _data(self, x, y, z) -> np.ndarray:
        """The data as the mixture's columns, validated as `gmmmi.estimate` does."""
        from ._data import validate_data

        if self.discrete is not None:
            raise ValueError(
                "This result has discrete columns or point masses, fitted one cell at a time "
                "(result.diagnostics.per_category); plot_fit and check_fit take one joint fit. "
                "Check a cell by estimating on its rows alone."
            )
        X = validate_data(x, y, z, discrete_y="categories" in self.meta).X
        if X.shape[1] != self.mixture.n_dim:
            raise ValueError(
                f"The data have {X.shape[1]} columns but this result's mixture has "
                f"{self.mixture.n_dim} ({', '.join(self.column_labels())}); pass the x, y "
                "(and z) given to gmmmi.estimate."
            )
        X = X if self.margins is None else self.margins.apply(X)  # the mixture's coordinates
        maps = kept_maps(self.diagnostics.extra)  # shears and twists (gmmmi._block_refit)
        return X if maps is None else maps.apply(X)

    def plot_fit(self, x, y=None, *, z=None, ax=None, levels=(0.68, 0.95), kde=True, rng=0):
        """Contours of the fitted mixture's density over the data.

        The model's contours are computed exactly from the density of the
        full-data fit (``diagnostics.reference_fit``, else the first draw) on
        a grid, and labelled with the probability mass they enclose; the data's
        are those of a kernel density estimate (or a histogram). Where they
        disagree the mixture misses a feature of the data. Without ``ax``, a
        corner grid: every pair of coordinates, and the 1-D marginals on the
        diagonal. `check_fit` puts a number on the disagreement.

        Parameters
        ----------
        x, y, z : array_like or pandas object
            The data given to `gmmmi.estimate` (``y=None`` for its single-array
            form).
        ax : matplotlib Axes, optional
            Draw one panel on it instead of a grid: the data scattered under
            the model's contours (only for two coordinates).
        levels : sequence of float, default (0.68, 0.95)
            Probability mass enclosed by each contour.
        kde : bool, default True
            Smooth the data with a Gaussian KDE; False uses 2-D histograms.
        rng : int or numpy.random.Generator, default 0
            Seed of the data subsets entering the KDE (at most 4000 points).

        Returns
        -------
        matplotlib Figure, or the Axes ``ax``

        Raises
        ------
        ValueError
            If the data do not have the mixture's columns, or ``ax`` is given
            for more than two coordinates.
        """
        from .plot.mixtures import _fit_over_data

        X = self._data(x, y, z)
        mix, names = self._fitted_mixture(), self.column_labels()
        return _fit_over_data(mix, X, names, ax=ax, levels=levels, kde=kde, rng=rng)

    def pointwise(self, x: Any, y: Any = None, *, z: Any = None) -> np.ndarray:
        """Pointwise MI log p(x, y) / (p(x) p(y)) (given z: the conditional form) at each row.

        From the full-data fit; its mean under the fit is the MI. See
        ``gmmmi.pointwise``.

        Parameters
        ----------
        x, y, z : array_like or pandas object
            Rows with the columns given to `gmmmi.estimate`.

        Returns
        -------
        numpy.ndarray, shape (n,)
            In `unit`.
        """
        from .pointwise import check_pointwise, pointwise_mi

        check_pointwise(self.quantity, self.meta)
        X = self._data(x, y, z)
        base = self.meta.get("base", np.e)
        return pointwise_mi(self._fitted_mixture(), X, self.meta["blocks"], base)

    def plot_loss(self, ax=None):
        """EM log-likelihood per iteration of the cross-validation fits at the chosen K.

        Every training curve should rise and flatten; validation curves that
        end far apart mean the initialisations reached different optima.

        Parameters
        ----------
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib Axes

        Raises
        ------
        ValueError
            If the fit recorded no loss curves (K fixed by
            ``fixed_components_number``, or a backend without EM).
        """
        from .plot import plot_loss_curves

        return plot_loss_curves(self.diagnostics.loss_curves, ax=ax)

    def check_fit(
        self,
        x: Any,
        y: Any = None,
        *,
        z: Any = None,
        alpha: float = 0.01,
        bins: int | None = None,
    ) -> FitCheck:
        """Goodness of fit of the fitted mixture: probability integral transforms.

        See ``gmmmi.fit_check``: the data pushed through the fitted marginal
        CDFs are uniform for a good fit, and pushed through the conditional
        CDFs F(x_j | x_1..x_j-1), every pair is uniform on the unit square
        (which checks the dependence, what the MI is about). Chi-squared
        tests flag what is not; ``z`` says by how many sd.

        Parameters
        ----------
        x, y, z : array_like or pandas object
            The data given to `gmmmi.estimate`.
        alpha : float, default 0.01
            Level of each test.
        bins : int, optional
            Bins of the marginal tests; default n / 50 clipped to [5, 20].

        Returns
        -------
        gmmmi.fit_check.FitCheck
            ``.ok``, ``.table`` (one row per test) and ``.plot()``.
        """
        from .fit_check import check_fit

        X = self._data(x, y, z)
        return check_fit(
            self._fitted_mixture(), X, names=self.column_labels(), alpha=alpha, bins=bins
        )


def load(path: str | PathLike) -> Result:
    """Load a `Result` saved with ``Result.to_netcdf`` (JSON and arrays only, no pickle).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Result

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    gmmmi.exceptions.ResultFileError
        (a ValueError) For a damaged, truncated or foreign file, naming the
        file and what is missing or damaged.
    """
    return Result.from_netcdf(path)


# ------------------------------------------------------------ validation
def _as_chain_draw(name, values, shape=None) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 2 or (shape is not None and arr.shape != shape):
        want = "(chain, draw)" if shape is None else str(shape)
        raise ValueError(f"{name} must be a 2-D array of shape {want}; got shape {arr.shape}.")
    return arr


def _check_draws(draws, quantity) -> dict:
    if quantity not in draws:
        raise ValueError(
            f"draws must include the main quantity meta['quantity']={quantity!r}; "
            f"got {list(draws)}."
        )
    main = _as_chain_draw(f"draws[{quantity!r}]", draws[quantity])
    out = {quantity: main}
    for name, v in draws.items():
        if name != quantity:
            out[name] = _as_chain_draw(f"draws[{name!r}]", v, main.shape)
    return out


def _check_point(point, draws) -> dict:
    missing = [k for k in draws if k not in point]
    if missing:
        raise ValueError(f"point lacks a value for {missing}; it needs one per quantity in draws.")
    return {k: float(point[k]) for k in draws}


def _check_interval(prob, method) -> None:
    if method not in INTERVAL_METHODS:
        raise ValueError(
            f"Unknown interval method {method!r}; valid values are 'normal' (value ± z sd, "
            "recommended) and 'hdi'."
        )
    if not (isinstance(prob, (int, float, np.floating)) and 0 < prob < 1):
        raise ValueError(f"prob must be a probability in (0, 1), e.g. 0.95; got {prob!r}.")
