"""The netCDF codec of `gmmmi.Result`: encoding to and decoding from ArviZ groups and files.

``encode`` turns a result into an `arviz.InferenceData`, ``decode`` rebuilds
it from the groups, and ``read`` loads a file with every check (a missing
file, a damaged or truncated one, a checksum mismatch, a foreign file), each
with a message that names the file. ``Result.to_arviz``, ``to_netcdf``,
``from_netcdf`` and `gmmmi.load` call these functions.

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

import dataclasses
import gc
import hashlib
import json
import sys
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from . import _arviz
from ._json import json_default
from .diagnostics import DrawKind, EMSelection, FitDiagnostics, WidenedSearch
from .exceptions import ResultFileError
from .mixture import MixtureDraws

_MIXTURE_DIMS = {
    "weights": ("component",),
    "means": ("component", "dim"),
    "covariances": ("component", "dim", "dim2"),
}
_FORMAT_VERSION = 1


def encode(result):
    """Everything in ``result`` as an `arviz.InferenceData` (the groups listed above).

    Parameters
    ----------
    result : Result

    Returns
    -------
    arviz.InferenceData
    """
    shape = result.draws[result.quantity].shape
    posterior = result._quantity_dataset()
    posterior.update(_mixture_dataset(result.mixture, ("chain", "draw"), shape))
    posterior.attrs = _meta_attrs(result.meta)
    groups = {
        "posterior": posterior,
        "point_estimate": xr.Dataset(
            {k: ((), np.float64(v)) for k, v in result.point.items()},
            attrs={"gmmmi_order": json.dumps(list(result.point))},
        ),
        "integration_error": xr.Dataset(
            {k: (("chain", "draw"), v) for k, v in result.integration_error.items()},
            coords=_chain_draw_coords(shape),
            attrs={"gmmmi_order": json.dumps(list(result.integration_error))},
        ),
        "fit_diagnostics": _diagnostics_dataset(result.diagnostics),
    }
    ref = result.diagnostics.reference_fit
    if ref is not None:
        groups["reference_fit"] = _mixture_dataset(ref, ("fit",), (ref.n_draws,))
    if isinstance(result.diagnostics.sample_stats, xr.Dataset):
        groups["sample_stats"] = result.diagnostics.sample_stats
    attrs = {
        "gmmmi_format": _FORMAT_VERSION,
        "gmmmi_version": str(result.meta.get("gmmmi_version", "")),
        "gmmmi_checksum": checksum(groups),
    }
    return _arviz.inference_data(groups, attrs=attrs)


def read(path: str | PathLike, cls):
    """Load the result saved at ``path``; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
    cls : type
        `gmmmi.Result` (or a subclass), built by `decode`.

    Returns
    -------
    Result

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    gmmmi.exceptions.ResultFileError
        If the file cannot be read, does not match its checksum or is not a
        complete gmmmi result (the message names the file and the problem).
    """
    groups, attrs = read_groups(path)
    try:
        return decode(groups, attrs, cls)
    except ResultFileError as err:
        raise ResultFileError(f"{str(path)!r}: {err}") from None
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
        raise ResultFileError(
            f"{str(path)!r} is not a complete gmmmi result: {describe(err)}. Save the result again."
        ) from err


def read_groups(path: str | PathLike, checksums: tuple = ()) -> tuple[dict, dict]:
    """The groups and root attributes of the file at ``path``, with its checksums verified.

    Parameters
    ----------
    path : str or path-like
    checksums : tuple of (str, set of str)
        Further (root attribute, groups) pairs to verify, for groups written
        beside a result's (`gmmmi.EstimateMI.save`'s); the result's own
        checksum is always verified. A checksum absent from the file (older
        files) is not verified.

    Returns
    -------
    groups : dict of str to xarray.Dataset
    attrs : dict

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    gmmmi.exceptions.ResultFileError
        If the file cannot be read or does not match a checksum.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"No file {str(path)!r} to load a gmmmi result from.")
    groups, attrs, problem = _read_groups(path)
    if problem is not None:
        raise ResultFileError(
            f"{str(path)!r} cannot be read as a netCDF-4 file ({problem}); it is damaged, "
            "truncated or of another format. Save the result again."
        )
    for key, names in (("gmmmi_checksum", _RESULT_GROUPS), *checksums):
        expected = attrs.get(key)
        if expected is not None and expected != checksum(groups, names):
            raise ResultFileError(
                f"{str(path)!r} is damaged: its content does not match the checksum written "
                "with it (bits changed on disk or in transfer). Save the result again."
            )
    return groups, attrs


def decode(groups: dict, attrs: dict, cls):
    """Rebuild a result from the groups and root attributes written by `encode`.

    Parameters
    ----------
    groups : dict of str to xarray.Dataset
    attrs : dict
        The root group's attributes.
    cls : type
        `gmmmi.Result` (or a subclass), called with the decoded fields.

    Returns
    -------
    Result
    """
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


def checksum(groups: dict, names: set = frozenset()) -> str:
    """SHA-256 of the groups' gmmmi content: every variable's values and the gmmmi attributes.

    Computed the same way before writing and after reading, so any change of a
    stored bit that the file format itself does not detect is caught on load.
    Attributes that ArviZ adds (creation time, versions), empty groups (not
    written) and groups other than ``names`` (default: the result's) are left out.
    """
    digest = hashlib.sha256()
    for name in sorted(set(groups) & (names or _RESULT_GROUPS)):
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


def describe(err: BaseException) -> str:
    """What went wrong while reading, in words."""
    if isinstance(err, KeyError):
        key = err.args[0] if err.args else "an entry"
        return key if isinstance(key, str) and " " in key else f"{key!r} is missing"
    if isinstance(err, json.JSONDecodeError):
        return f"its metadata is damaged (invalid JSON: {err.msg})"
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _chain_draw_coords(shape) -> dict:
    return {"chain": np.arange(shape[0]), "draw": np.arange(shape[1])}


def _dumps(obj) -> str:
    return json.dumps(obj, default=json_default)


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
    """FitDiagnostics as arrays plus one JSON attribute (reference_fit and sample_stats aside).

    Each category's diagnostics (``per_category``) are stored in the same
    dataset under the prefix ``category<i>_``, with their reference fit as
    ``category<i>_ref_weights``, ...; their scalars in the JSON's
    ``per_category`` list.
    """
    variables, scalars = _diagnostics_parts(diag)
    per_category = []
    for i, sub in enumerate(diag.per_category):
        sub_vars, sub_scalars = _diagnostics_parts(sub)
        sub_scalars["has_reference"] = sub.reference_fit is not None
        if sub.reference_fit is not None:
            ref = _mixture_dataset(sub.reference_fit, ("fit",), (sub.reference_fit.n_draws,))
            sub_vars.update({f"ref_{k}": v for k, v in ref.data_vars.items()})
        ds = xr.Dataset(sub_vars)
        names = {name: f"category{i}_{name}" for name in [*ds.variables, *ds.dims]}
        variables.update(ds.rename(names).data_vars)
        per_category.append(sub_scalars)
    scalars["per_category"] = per_category
    return xr.Dataset(variables, attrs={"gmmmi_diagnostics": _dumps(scalars)})


def _diagnostics_parts(diag: FitDiagnostics) -> tuple[dict, dict]:
    """The arrays (name -> (dims, values)) and the JSON scalars of one FitDiagnostics."""
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
        "kind": diag.kind.value,
        "method": diag.method,
        "sample_shape": list(diag.sample_shape),
        "n_components": int(diag.n_components),
        "has_selection": diag.selection is not None,
        "metric_method": diag.metric_method,
        "reached_max_components": bool(diag.reached_max_components),
        "metric_keys": list(diag.metric_per_k),
        "loss_curve_names": list(diag.loss_curves),
        "extra": extra,
        "extra_arrays": [[k, v.dtype.str] for k, v in arrays.items()],
        "extra_order": [k for k in diag.extra if k in arrays or k in extra],
        "extra_dropped": sorted(set(diag.extra) - set(extra) - set(arrays)),
    }
    if diag.fit_check is not None:
        from .fit_check import to_parts

        check_arrays, scalars["fit_check"] = to_parts(diag.fit_check)
        variables.update(check_arrays)
    if diag.search is not None:
        scalars["search"] = dataclasses.asdict(diag.search)
    return variables, scalars


#: kind and display name of the ``method`` of files written before ``kind`` was stored
_LEGACY_METHODS = {
    "bootstrap": (DrawKind.BOOTSTRAP, "bootstrap"),
    "single fit": (DrawKind.SINGLE_FIT, "single fit"),
    "nuts": (DrawKind.POSTERIOR, "NUTS"),
    "advi": (DrawKind.POSTERIOR, "ADVI"),
}


def _diagnostics_from_groups(groups: dict) -> FitDiagnostics:
    ds = groups["fit_diagnostics"]
    scalars = json.loads(ds.attrs["gmmmi_diagnostics"])
    ref = groups.get("reference_fit")
    shape = groups["posterior"]["weights"].shape[:2]
    return _diagnostics_from(
        ds,
        scalars,
        reference_fit=None if ref is None else _mixture_from_dataset(ref),
        sample_stats=groups.get("sample_stats"),
        shape=shape,
    )


def _diagnostics_from(ds, scalars, *, reference_fit, sample_stats, shape) -> FitDiagnostics:
    """Inverse of `_diagnostics_parts` (and of the ``per_category`` part of the dataset)."""
    loss_curves = {}
    for name in scalars["loss_curve_names"]:
        values = ds[f"loss_{name}_values"].values
        lengths = ds[f"loss_{name}_lengths"].values
        loss_curves[name] = list(np.split(values, np.cumsum(lengths)[:-1])) if lengths.size else []
    if "kind" in scalars:
        kind, method = DrawKind(scalars["kind"]), scalars["method"]
    else:
        legacy = scalars["method"]
        kind, method = _LEGACY_METHODS.get(legacy, (DrawKind.POSTERIOR, legacy))
    metric_per_k = {k: ds[f"metric_{k}"].values.tolist() for k in scalars["metric_keys"]}
    selection = None
    if scalars.get("has_selection", True):
        selection = EMSelection(
            metric_per_k=metric_per_k,
            metric_method=scalars["metric_method"],
            loss_curves=loss_curves,
            reached_max_components=scalars["reached_max_components"],
        )
    per_category = []
    for i, sub_scalars in enumerate(scalars.get("per_category", [])):
        prefix = f"category{i}_"
        names = [v for v in ds.data_vars if v.startswith(prefix)]
        sub = ds[names]
        sub = sub.rename({n: n[len(prefix) :] for n in [*sub.variables, *sub.dims]})
        sub_ref = None
        if sub_scalars["has_reference"]:
            parts = ("weights", "means", "covariances")
            sub_ref = _mixture_from_dataset(
                sub[[f"ref_{k}" for k in parts]].rename({f"ref_{k}": k for k in parts})
            )
        per_category.append(
            _diagnostics_from(
                sub,
                sub_scalars,
                reference_fit=sub_ref,
                sample_stats=None,
                shape=tuple(sub_scalars["sample_shape"]),
            )
        )
    return FitDiagnostics(
        kind=kind,
        n_components=scalars["n_components"],
        sample_shape=tuple(scalars.get("sample_shape", shape)),
        method=method,
        reference_fit=reference_fit,
        n_iter=ds["n_iter"].values,
        converged=ds["converged"].values.astype(bool),
        sample_stats=sample_stats,
        extra=_extra_from(ds, scalars),
        selection=selection,
        per_category=per_category,
        fit_check=_fit_check_from(ds, scalars.get("fit_check")),
        search=_search_from(scalars.get("search")),
    )


def _fit_check_from(ds: xr.Dataset, scalars: dict | None):
    if scalars is None:
        return None
    from .fit_check import from_parts

    names = ("fit_check_marginal", "fit_check_conditional")
    return from_parts({n: ds[n].values for n in names}, scalars)


def _search_from(scalars: dict | None) -> WidenedSearch | None:
    if scalars is None:
        return None
    tried = tuple((str(a), int(k), float(s)) for a, k, s in scalars.pop("tried"))
    return WidenedSearch(**scalars, tried=tried)


def _extra_from(ds: xr.Dataset, scalars: dict) -> dict:
    """``FitDiagnostics.extra``: JSON values and arrays (with their dtype), in saved order."""
    extra = dict(scalars["extra"])
    for i, (key, dtype) in enumerate(scalars.get("extra_arrays", [])):
        extra[key] = ds[f"extra_{i}"].values.astype(np.dtype(dtype))
    order = scalars.get("extra_order", list(extra))
    return {k: extra[k] for k in order}
