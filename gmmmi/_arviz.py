"""The one module that calls ArviZ.

gmmmi pins ArviZ < 1 because PyMC 5 does. ArviZ 1.x replaces
``InferenceData`` by an xarray ``DataTree`` and moves the statistics into
``arviz_stats``; keeping every ArviZ call here means such a move touches this
file only. The rest of gmmmi speaks plain xarray: a mapping of group name to
``xarray.Dataset``.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # ArviZ, xarray and pandas are imported when first used (seconds of start-up)
    import pandas as pd
    import xarray as xr

#: the netCDF engine; h5netcdf is a hard dependency of gmmmi (netCDF4 is not)
ENGINE = "h5netcdf"


def inference_data(groups: dict[str, xr.Dataset], *, attrs: dict | None = None):
    """Bundle named xarray Datasets into an `arviz.InferenceData`.

    Parameters
    ----------
    groups : dict of str to xarray.Dataset
        Group name to Dataset, e.g. ``{"posterior": ..., "sample_stats": ...}``.
        Groups outside ArviZ's schema are allowed (ArviZ keeps them).
    attrs : dict, optional
        Attributes of the file's root group (values must be netCDF attribute
        types: str, numbers or arrays of them).

    Returns
    -------
    arviz.InferenceData
    """
    import arviz as az

    return az.InferenceData(attrs=dict(attrs or {}), **groups)


def is_inference_data(obj) -> bool:
    """True if ``obj`` is an `arviz.InferenceData`."""
    import arviz as az

    return isinstance(obj, az.InferenceData)


def groups_of(idata) -> tuple[dict[str, xr.Dataset], dict]:
    """The groups and root attributes of an `arviz.InferenceData`.

    Returns
    -------
    groups : dict of str to xarray.Dataset
    attrs : dict
    """
    groups = {name: idata[name] for name in idata.groups()}
    return groups, dict(getattr(idata, "attrs", {}) or {})


def write_netcdf(idata, path: str | PathLike) -> None:
    """Write an `arviz.InferenceData` to a netCDF-4 file (one HDF5 group per group).

    Compression is zlib, which is lossless.
    """
    idata.to_netcdf(str(path), engine=ENGINE)


def read_netcdf(path: str | PathLike) -> tuple[dict[str, xr.Dataset], dict]:
    """Read a netCDF file written by `write_netcdf` fully into memory.

    The file is closed on return. Nothing in the file is executed: netCDF
    holds arrays and attributes only.

    Returns
    -------
    groups : dict of str to xarray.Dataset
    attrs : dict
        The root group's attributes.
    """
    import arviz as az

    with az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(path), engine=ENGINE)
    return groups_of(idata)


@contextmanager
def _quiet():
    """Silence ArviZ's log messages and numpy's warnings about too few chains or draws.

    A bootstrap has one chain, so R-hat is undefined (NaN) by design; a
    single fit has one draw, so the sd is undefined too. Those NaN are the
    answer, not a problem worth a message.
    """
    import arviz as az

    # ArviZ 0.x logs through its own Logger instance, which logging.getLogger does not return
    logger = getattr(az, "_log", None) or logging.getLogger("arviz")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        logger.setLevel(level)


def summary(posterior: xr.Dataset, *, var_names: list[str], hdi_prob: float) -> pd.DataFrame:
    """ArviZ's summary table of the (chain, draw) variables ``var_names``.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with dims (chain, draw).
    var_names : list of str
        Variables to summarise, in the row order wanted.
    hdi_prob : float
        Probability mass of the highest-density interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per variable; columns ``mean, sd, hdi_<lo>%, hdi_<hi>%,
        mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat`` (NaN where undefined:
        r_hat with one chain, everything but the mean with one draw).
    """
    import arviz as az

    with _quiet():
        table = az.summary(
            posterior[var_names], var_names=var_names, hdi_prob=hdi_prob, round_to="none"
        )
    return table.loc[var_names]


def hdi(values: np.ndarray, *, prob: float) -> tuple[float, float]:
    """Highest-density interval of a sample.

    Parameters
    ----------
    values : ndarray, any shape
        The sample (chains are pooled).
    prob : float
        Probability mass inside the interval, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
    """
    import arviz as az

    flat = np.asarray(values, dtype=np.float64).ravel()
    with _quiet():
        low, high = az.hdi(flat, hdi_prob=prob)
    return float(low), float(high)
