"""`Result`: what every estimate returns, and its lossless netCDF persistence.

A result holds S draws of each quantity (bootstrap replicas as one chain, or
posterior draws as several chains), the reported centre of each, the numerical
error of each integral, the S fitted mixtures and the backend's diagnostics.
The same ArviZ summary, HDI, plots and file format serve every backend.

File format (netCDF-4 through h5netcdf, written via ArviZ; arrays, strings and
JSON text only, so loading never executes anything from the file):

``posterior``
    each quantity (chain, draw); ``weights`` (chain, draw, component),
    ``means`` (..., dim), ``covariances`` (..., dim, dim2); ``meta`` in the
    attributes (strings and numbers as they are, other values JSON-encoded and
    listed in the attribute ``gmmmi_json_keys``).
``point_estimate``
    one scalar per quantity.
``integration_error``
    each quantity with an error estimate, (chain, draw).
``fit_diagnostics``
    ``n_iter``, ``converged``, ``metric_<key>`` per component-selection
    column, and per loss-curve name ``loss_<name>_values`` (curves end to end)
    with ``loss_<name>_lengths``; numeric arrays of ``extra`` as ``extra_<i>``
    (their keys and dtypes in the JSON); scalars in the JSON attribute
    ``gmmmi_diagnostics``.
``reference_fit``
    the full-data fit (fit, component, dim, dim2), when there is one.
``sample_stats``
    ``FitDiagnostics.sample_stats`` when it is an xarray Dataset.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import sys
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from . import _arviz
from .backends.base import FitDiagnostics
from .exceptions import ResultFileError
from .margins import apply_maps
from .margins import describe as describe_margins
from .mixture import MixtureDraws

#: how each quantity is named in text and plots
QUANTITY_LABELS = {
    "mi": "MI",
    "cmi": "CMI",
    "kl_xy": "KL[p(x)||p(y)]",
    "kl_yx": "KL[p(y)||p(x)]",
}
_MIXTURE_DIMS = {
    "weights": ("component",),
    "means": ("component", "dim"),
    "covariances": ("component", "dim", "dim2"),
}
_FORMAT_VERSION = 1


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
        ``gmmmi_version``, ``transform`` (see `transform`).

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
    ):
        self.meta = dict(meta)
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
                "pass kl=True to gmmmi.estimate."
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
    def n_components(self) -> int:
        """K, the number of components of every fitted mixture."""
        return int(self.diagnostics.n_components)

    def __iter__(self):
        """Yield (value, sd), so ``mi, sd = result`` works."""
        return iter((self.value, self.sd))

    def __float__(self) -> float:
        return float(self.value)

    # ---------------------------------------------------------------- text
    def _method_text(self) -> str:
        method = self.meta.get("method", self.diagnostics.method)
        c, d = self.n_chains, self.n_draws
        if method == "bootstrap":
            return f"{c * d} bootstrap"
        if method == "single fit":
            return "single fit"
        if method == "advi":
            return f"ADVI {c * d} draws"
        name = "NUTS" if method == "nuts" else method
        return f"{name} {c}×{d} draws"

    def _line(self, name: str) -> str:
        label = QUANTITY_LABELS.get(name, name)
        if name == self.quantity:
            label = f"{label}({self._variables_text()})"
        return f"{label} = {format_pm(self.point[name], _sd(self.draws[name]))} {self.unit}"

    def _variables_text(self) -> str:
        """``x; y`` or ``x; y | z`` with the column names of each block."""
        labels = self.meta.get("labels", {})
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
        return f"{interval_name(0.95)}: [{low:.{decimals}f}, {high:.{decimals}f}] {self.unit}"

    def __repr__(self) -> str:
        backend = self.meta.get("backend", "?")
        lines = [
            f"{self._line(self.quantity)} ({backend}, {self._method_text()}, K={self.n_components})"
        ]
        interval = self._interval_line()
        if interval is not None:
            lines.append(f"  {interval}")
        margins = describe_margins(self.transform)
        if margins is not None:
            lines.append(f"  {margins}")
        lines += [self._line(k) for k in ("kl_xy", "kl_yx") if k in self.draws]
        return "\n".join(lines)

    __str__ = __repr__

    # ----------------------------------------------------------- statistics
    def _quantity_dataset(self) -> xr.Dataset:
        return xr.Dataset(
            {name: (("chain", "draw"), v) for name, v in self.draws.items()},
            coords=_chain_draw_coords(self.draws[self.quantity].shape),
        )

    def summary(self, prob: float = 0.95, method: str = "normal"):
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
            to the margins in ``table.attrs["margins"]``.
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
        table.attrs["interval"] = interval_name(prob, method)
        table.attrs["margins"] = describe_margins(self.transform) or "raw data"
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
            ``"normal"``: value ± z sd, z the standard normal quantile
            (1.96 for 0.95), centred on the reported estimate. This is the
            interval whose coverage docs/uncertainty.md measured at the nominal
            level for the default bootstrap; use it. ``"hdi"``: the
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
        from scipy.stats import norm

        centre = self.point[self.quantity if quantity is None else quantity]
        half = float(norm.ppf(0.5 + prob / 2)) * _sd(values)
        return centre - half, centre + half

    def hdi(self, prob: float = 0.94, quantity: str | None = None) -> tuple[float, float]:
        """Highest-density interval of a quantity's draws (chains pooled).

        It under-covers with 50 bootstrap replicas; `interval` gives the
        recommended one.

        Parameters
        ----------
        prob : float, default 0.94
        quantity : str, optional
            Default: the main quantity.

        Returns
        -------
        (low, high) : tuple of float, in `unit`.
        """
        return _arviz.hdi(self._draws_of(quantity), prob=prob)

    def _draws_of(self, quantity):
        quantity = self.quantity if quantity is None else quantity
        if quantity not in self.draws:
            raise KeyError(f"No draws of {quantity!r}; this result has {list(self.draws)}.")
        return self.draws[quantity]

    # --------------------------------------------------------------- ArviZ
    def to_arviz(self):
        """Everything in this result as an `arviz.InferenceData`.

        Returns
        -------
        arviz.InferenceData
            ``posterior``: each quantity (chain, draw) and the mixture
            parameters ``weights``, ``means``, ``covariances`` with dims
            (chain, draw, component[, dim[, dim2]]), ``meta`` in its attrs;
            ``sample_stats`` when the backend gave an xarray Dataset; and the
            groups ``point_estimate``, ``integration_error``,
            ``fit_diagnostics`` and ``reference_fit`` (see the module notes).
        """
        shape = self.draws[self.quantity].shape
        posterior = self._quantity_dataset()
        posterior.update(_mixture_dataset(self.mixture, ("chain", "draw"), shape))
        posterior.attrs = _meta_attrs(self.meta)
        groups = {
            "posterior": posterior,
            "point_estimate": xr.Dataset(
                {k: ((), np.float64(v)) for k, v in self.point.items()},
                attrs={"gmmmi_order": json.dumps(list(self.point))},
            ),
            "integration_error": xr.Dataset(
                {k: (("chain", "draw"), v) for k, v in self.integration_error.items()},
                coords=_chain_draw_coords(shape),
                attrs={"gmmmi_order": json.dumps(list(self.integration_error))},
            ),
            "fit_diagnostics": _diagnostics_dataset(self.diagnostics),
        }
        ref = self.diagnostics.reference_fit
        if ref is not None:
            groups["reference_fit"] = _mixture_dataset(ref, ("fit",), (ref.n_draws,))
        if isinstance(self.diagnostics.sample_stats, xr.Dataset):
            groups["sample_stats"] = self.diagnostics.sample_stats
        attrs = {
            "gmmmi_format": _FORMAT_VERSION,
            "gmmmi_version": str(self.meta.get("gmmmi_version", "")),
            "gmmmi_checksum": _checksum(groups),
        }
        return _arviz.inference_data(groups, attrs=attrs)

    @classmethod
    def from_arviz(cls, idata) -> Result:
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
        if not Path(path).is_file():
            raise FileNotFoundError(f"No file {str(path)!r} to load a gmmmi result from.")
        groups, attrs, problem = _read_groups(path)
        if problem is not None:
            raise ResultFileError(
                f"{str(path)!r} cannot be read as a netCDF-4 file ({problem}); it is damaged, "
                "truncated or of another format. Save the result again."
            )
        expected = attrs.get("gmmmi_checksum")
        if expected is not None and expected != _checksum(groups):
            raise ResultFileError(
                f"{str(path)!r} is damaged: its content does not match the checksum written "
                "with it (bits changed on disk or in transfer). Save the result again."
            )
        try:
            return cls._from_groups(groups, attrs)
        except ResultFileError as err:
            raise ResultFileError(f"{str(path)!r}: {err}") from None
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
            raise ResultFileError(
                f"{str(path)!r} is not a complete gmmmi result: {_describe(err)}. Save the "
                "result again."
            ) from err

    @classmethod
    def _from_groups(cls, groups: dict, attrs: dict) -> Result:
        posterior = groups.get("posterior")
        if posterior is None or "gmmmi_json_keys" not in posterior.attrs:
            raise ResultFileError(
                "Not a gmmmi result: expected a 'posterior' group carrying gmmmi's metadata "
                f"attributes; got groups {sorted(groups)}. Open plain ArviZ files with "
                "arviz.from_netcdf."
            )
        missing = [g for g in ("point_estimate", "fit_diagnostics") if g not in groups]
        if missing:
            raise ResultFileError(
                f"Not a complete gmmmi result: the group {missing[0]!r} is missing; got "
                f"groups {sorted(groups)}."
            )
        meta = _meta_from_attrs(posterior.attrs)
        names = _order(groups["point_estimate"])
        draws = {k: posterior[k].values for k in names}
        point = {k: float(groups["point_estimate"][k].values) for k in names}
        err_ds = groups.get("integration_error")  # an empty group is not written
        names = [] if err_ds is None else _order(err_ds)
        integration_error = {k: err_ds[k].values for k in names}
        mixture = _mixture_from_dataset(posterior)
        diagnostics = _diagnostics_from_groups(groups)
        return cls(
            draws=draws,
            point=point,
            integration_error=integration_error,
            mixture=mixture,
            diagnostics=diagnostics,
            meta=meta,
        )

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
        from .plot import plot_distribution

        quantity = self.quantity if quantity is None else quantity
        values = self._draws_of(quantity)
        interval = self.interval(prob, method, quantity) if values.size > 1 else None
        ax = plot_distribution(
            values,
            point=self.point[quantity],
            interval=interval,
            interval_label=interval_name(prob, method),
            truth=truth,
            label=QUANTITY_LABELS.get(quantity, quantity),
            unit=self.unit,
            ax=ax,
            bins=bins,
        )
        ax.set_title(
            f"{self.meta.get('backend', '?')}, {self._method_text()}, K={self.n_components}",
            fontsize="medium",
        )
        return ax

    def column_labels(self) -> list[str]:
        """Names of the joint mixture's coordinates, in column order (from meta labels/blocks)."""
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
        from ._validation import validate_data

        X = validate_data(x, y, z, discrete_y="categories" in self.meta).X
        if X.shape[1] != self.mixture.n_dim:
            raise ValueError(
                f"The data have {X.shape[1]} columns but this result's mixture has "
                f"{self.mixture.n_dim} ({', '.join(self.column_labels())}); pass the x, y "
                "(and z) given to gmmmi.estimate."
            )
        return apply_maps(self.transform, X)  # the mixture's coordinates

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
        from .plot import plot_density_contours, plot_fitted_contours

        X = self._data(x, y, z)
        mix = self._fitted_mixture()
        names = self.column_labels()
        if ax is None:
            return plot_fitted_contours(mix, X, parameters=names, kde=kde, rng=rng, levels=levels)
        if mix.n_dim != 2:
            raise ValueError(
                f"ax is only accepted for two coordinates; this mixture has {mix.n_dim} "
                "(leave ax out to get a corner grid)."
            )
        ax = plot_density_contours(mix, X, ax=ax, levels=levels)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        return ax

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

    def check_fit(self, x, y=None, *, z=None, alpha=0.01, bins=None):
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


def _read_groups(path) -> tuple[dict, dict, str | None]:
    """The file's groups and root attributes, or a description of why it cannot be read.

    The reader's exception is not kept (nor chained): the half-opened h5netcdf
    file it refers to is collected here, where its failing cleanup is silenced,
    instead of printing "Exception ignored" later.
    """
    previous = sys.unraisablehook

    def hook(unraisable):
        if not getattr(unraisable.object, "__module__", "").startswith("h5netcdf"):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        try:
            return (*_arviz.read_netcdf(path), None)
        except Exception as err:
            problem = f"{type(err).__name__}: {' '.join(str(err).split())}"
        gc.collect()
    finally:
        sys.unraisablehook = previous
    return {}, {}, problem


def _checksum(groups: dict) -> str:
    """SHA-256 of the groups' gmmmi content: every variable's values and the gmmmi attributes.

    Computed the same way before writing and after reading, so any change of a
    stored bit that the file format itself does not detect is caught on load.
    Attributes that ArviZ adds (creation time, versions), empty groups (not
    written) and groups of others (e.g. `gmmmi.EstimateMI.save`'s) are left out.
    """
    digest = hashlib.sha256()
    for name in sorted(set(groups) & _RESULT_GROUPS):
        ds = groups[name]
        if not ds.data_vars:  # ArviZ does not write empty groups
            continue
        digest.update(name.encode())
        for var in sorted(map(str, ds.variables)):
            values = np.ascontiguousarray(ds[var].values)
            digest.update(f"{var}{values.dtype.str}{values.shape}".encode())
            digest.update(values.tobytes() if values.dtype.kind != "O" else repr(values).encode())
        for key in sorted(k for k in ds.attrs if k.startswith("gmmmi_") or name == "posterior"):
            if key in _ARVIZ_ATTRS:
                continue
            digest.update(f"{key}={_dumps(_plain(ds.attrs[key]))}".encode())
    return digest.hexdigest()


#: the groups a Result writes
_RESULT_GROUPS = {
    "posterior",
    "point_estimate",
    "integration_error",
    "fit_diagnostics",
    "reference_fit",
    "sample_stats",
}
#: attributes ArviZ writes on its own into every group (not gmmmi content)
_ARVIZ_ATTRS = {"created_at", "arviz_version", "inference_library", "inference_library_version"}


def _plain(value):
    """A netCDF attribute value as a plain Python value (numpy scalars and arrays unwrapped)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else value


def _describe(err: BaseException) -> str:
    """What went wrong while reading, in words."""
    if isinstance(err, KeyError):
        key = err.args[0] if err.args else "an entry"
        return key if isinstance(key, str) and " " in key else f"{key!r} is missing"
    if isinstance(err, json.JSONDecodeError):
        return f"its metadata is damaged (invalid JSON: {err.msg})"
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


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


# ------------------------------------------------------------------ text
def _sd(values) -> float:
    values = np.asarray(values)
    return float(np.std(values, ddof=1)) if values.size > 1 else math.nan


def _decimals(sd: float) -> int:
    """Decimals that show ``sd`` to two significant digits."""
    return max(0, 1 - int(math.floor(math.log10(sd))))


def _has_spread(value: float, sd: float) -> bool:
    """True for a finite sd above rounding noise (1e-12 of the value, or 1e-300)."""
    return bool(np.isfinite(sd) and sd > max(1e-12 * abs(value), 1e-300))


def format_pm(value: float, sd: float, *, sep: str = " ± ") -> str:
    """``value ± sd`` with sd to 2 significant digits and value to the same decimal.

    Without a finite sd above rounding noise (e.g. identical draws), the value
    alone to 4 significant digits.
    """
    if not (np.isfinite(value) and _has_spread(value, sd)):
        return f"{value:.4g}"
    decimals = _decimals(sd)
    return f"{value:.{decimals}f}{sep}{sd:.{decimals}f}"


#: the interval constructions of `Result.interval`
INTERVAL_METHODS = ("normal", "hdi")


def interval_name(prob: float, method: str = "normal") -> str:
    """How an interval of `Result.interval` is named in text and plots.

    E.g. ``"95% interval (value ± 1.96 sd)"`` or ``"95% HDI"``.
    """
    if method == "hdi":
        return f"{100 * prob:g}% HDI"
    from scipy.stats import norm

    return f"{100 * prob:g}% interval (value ± {norm.ppf(0.5 + prob / 2):.2f} sd)"


def _check_interval(prob, method) -> None:
    if method not in INTERVAL_METHODS:
        raise ValueError(
            f"Unknown interval method {method!r}; valid values are 'normal' (value ± z sd, "
            "recommended) and 'hdi'."
        )
    if not (isinstance(prob, (int, float, np.floating)) and 0 < prob < 1):
        raise ValueError(f"prob must be a probability in (0, 1), e.g. 0.95; got {prob!r}.")


# ----------------------------------------------------------- persistence
def _chain_draw_coords(shape) -> dict:
    return {"chain": np.arange(shape[0]), "draw": np.arange(shape[1])}


def _json_default(obj):
    """Turn numpy scalars and arrays into JSON values."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _dumps(obj) -> str:
    return json.dumps(obj, default=_json_default)


def _netcdf_scalar(value) -> bool:
    """True for a str, a float, or an int that fits in int64 (bools go to JSON)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return -(2**63) <= int(value) < 2**63
    return isinstance(value, (str, float, np.floating))


def _meta_attrs(meta: dict) -> dict:
    """netCDF attributes of ``meta``: str/int/float kept, everything else JSON text."""
    attrs, json_keys = {}, []
    for key, value in meta.items():
        if _netcdf_scalar(value):
            attrs[key] = value
        else:
            attrs[key] = _dumps(value)
            json_keys.append(key)
    attrs["gmmmi_json_keys"] = json.dumps(json_keys)
    return attrs


def _meta_from_attrs(attrs) -> dict:
    json_keys = set(json.loads(attrs["gmmmi_json_keys"]))
    meta = {}
    for key, value in attrs.items():
        if key == "gmmmi_json_keys":
            continue
        if key in json_keys:
            meta[key] = json.loads(value)
        else:
            meta[key] = value.item() if isinstance(value, np.generic) else value
    return meta


def _order(ds: xr.Dataset) -> list[str]:
    return json.loads(ds.attrs["gmmmi_order"])


def _mixture_dataset(mix: MixtureDraws, lead_dims: tuple, lead_shape: tuple) -> xr.Dataset:
    """weights/means/covariances as variables with dims lead_dims + (component, dim, dim2)."""
    arrays = {"weights": mix.weights, "means": mix.means, "covariances": mix.covariances}
    return xr.Dataset(
        {
            name: (lead_dims + _MIXTURE_DIMS[name], arr.reshape(lead_shape + arr.shape[1:]))
            for name, arr in arrays.items()
        }
    )


def _mixture_from_dataset(ds: xr.Dataset) -> MixtureDraws:
    """Inverse of `_mixture_dataset`: leading dims flattened into S (row-major = chain-major)."""
    w = ds["weights"].values
    K = w.shape[-1]
    d = ds["means"].shape[-1]
    return MixtureDraws(
        w.reshape(-1, K),
        ds["means"].values.reshape(-1, K, d),
        ds["covariances"].values.reshape(-1, K, d, d),
    )


def _json_safe(value) -> bool:
    """True if ``value`` can be written as JSON (numpy scalars and arrays inside included)."""
    try:
        _dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _storable_array(value) -> bool:
    """True for a numeric or boolean ndarray (kept as a netCDF variable with its dtype)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def _diagnostics_dataset(diag: FitDiagnostics) -> xr.Dataset:
    """FitDiagnostics as arrays plus one JSON attribute (reference_fit and sample_stats aside)."""
    variables = {
        "n_iter": (("fit_draw",), np.asarray(diag.n_iter)),
        "converged": (("fit_draw",), np.asarray(diag.converged, dtype=bool)),
    }
    for key, column in diag.metric_per_k.items():
        variables[f"metric_{key}"] = ((f"candidate_{key}",), np.asarray(column))
    for name, curves in diag.loss_curves.items():
        curves = [np.asarray(c, dtype=np.float64).ravel() for c in curves]
        lengths = np.array([c.size for c in curves], dtype=np.int64)
        values = np.concatenate(curves) if curves else np.zeros(0)
        variables[f"loss_{name}_values"] = ((f"loss_{name}_point",), values)
        variables[f"loss_{name}_lengths"] = ((f"loss_{name}_curve",), lengths)
    arrays = {k: v for k, v in diag.extra.items() if _storable_array(v)}
    for i, value in enumerate(arrays.values()):
        dims = tuple(f"extra_{i}_dim{j}" for j in range(value.ndim))
        variables[f"extra_{i}"] = (dims, value)
    extra = {k: v for k, v in diag.extra.items() if k not in arrays and _json_safe(v)}
    scalars = {
        "method": diag.method,
        "n_components": int(diag.n_components),
        "metric_method": diag.metric_method,
        "reached_max_components": bool(diag.reached_max_components),
        "metric_keys": list(diag.metric_per_k),
        "loss_curve_names": list(diag.loss_curves),
        "extra": extra,
        "extra_arrays": [[k, v.dtype.str] for k, v in arrays.items()],
        "extra_order": [k for k in diag.extra if k in arrays or k in extra],
        "extra_dropped": sorted(set(diag.extra) - set(extra) - set(arrays)),
    }
    return xr.Dataset(variables, attrs={"gmmmi_diagnostics": _dumps(scalars)})


def _diagnostics_from_groups(groups: dict) -> FitDiagnostics:
    ds = groups["fit_diagnostics"]
    scalars = json.loads(ds.attrs["gmmmi_diagnostics"])
    loss_curves = {}
    for name in scalars["loss_curve_names"]:
        values = ds[f"loss_{name}_values"].values
        lengths = ds[f"loss_{name}_lengths"].values
        loss_curves[name] = list(np.split(values, np.cumsum(lengths)[:-1])) if lengths.size else []
    ref = groups.get("reference_fit")
    return FitDiagnostics(
        method=scalars["method"],
        n_components=scalars["n_components"],
        reference_fit=None if ref is None else _mixture_from_dataset(ref),
        metric_per_k={k: ds[f"metric_{k}"].values.tolist() for k in scalars["metric_keys"]},
        metric_method=scalars["metric_method"],
        n_iter=ds["n_iter"].values,
        converged=ds["converged"].values.astype(bool),
        loss_curves=loss_curves,
        reached_max_components=scalars["reached_max_components"],
        sample_stats=groups.get("sample_stats"),
        extra=_extra_from(ds, scalars),
    )


def _extra_from(ds: xr.Dataset, scalars: dict) -> dict:
    """``FitDiagnostics.extra``: JSON values and arrays (with their dtype), in saved order."""
    extra = dict(scalars["extra"])
    for i, (key, dtype) in enumerate(scalars.get("extra_arrays", [])):
        extra[key] = ds[f"extra_{i}"].values.astype(np.dtype(dtype))
    order = scalars.get("extra_order", list(extra))
    return {k: extra[k] for k in order}
