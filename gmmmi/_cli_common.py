"""What the sub-commands of the ``gmmmi`` command share (`gmmmi.cli` builds them).

Data files read into named columns (CSV, ``.npy``, ``.npz``), the estimator
options' flags and their values, and the JSON of a result; `CLIError` is an
error in the user's input, printed as one line.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import zipfile
from functools import partial
from pathlib import Path

import numpy as np

from ._em.options import ESTIMATE_DEFAULTS, ORIGINAL_DEFAULTS
from ._json import json_default

_MISSING = {"", "na", "nan", "null", "none"}


class CLIError(Exception):
    """An error in the user's input, printed as one line."""


# --------------------------------------------------------------------------- data files


def _csv_columns(path: Path, header: bool = True) -> dict:
    delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which is not a name
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter) if row]
    except UnicodeDecodeError as err:
        raise CLIError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}).") from None
    except csv.Error as err:
        raise CLIError(f"{path}: not a valid CSV file ({err}).") from None
    if not header:
        if not rows:
            raise CLIError(f"{path}: the file has no data rows.")
        rows.insert(0, [str(j) for j in range(len(rows[0]))])
    if len(rows) < 2:
        raise CLIError(f"{path}: expected a header row and at least one data row.")
    header_row, body = [h.strip() for h in rows[0]], rows[1:]
    if header and all(_is_number(h) for h in header_row):
        raise CLIError(
            f"{path}: the first row ({', '.join(header_row[:5])}"
            f"{', ...' if len(header_row) > 5 else ''}) is numbers, not column names; add a "
            "header row, or pass --no-header to name the columns 0, 1, ..."
        )
    if len(set(header_row)) != len(header_row):
        raise CLIError(f"{path}: the header row has repeated column names: {header_row}.")
    bad = next((i for i, r in enumerate(body) if len(r) != len(header_row)), None)
    if bad is not None:
        raise CLIError(
            f"{path}: row {bad + 2 - (not header)} has {len(body[bad])} fields, the "
            f"{'header' if header else 'first row'} has {len(header_row)}."
        )
    return {name: _parse_column([r[j].strip() for r in body]) for j, name in enumerate(header_row)}


def _is_number(text: str) -> bool:
    """True for a cell that reads as a number (missing-value markers are not numbers)."""
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in _MISSING


def _parse_column(cells: list) -> np.ndarray:
    """Floats (missing cells -> NaN), or the strings themselves for a non-numeric column."""
    try:
        return np.array([math.nan if c.lower() in _MISSING else float(c) for c in cells])
    except ValueError:
        return np.array(cells)


def load_columns(path: str, header: bool = True) -> dict:
    """The columns of a data file as ``{name: array}``, in file order.

    Parameters
    ----------
    path : str
        ``.csv``/``.tsv``/``.txt`` (header row), ``.npy`` (1D or 2D array;
        names ``"0"``, ``"1"``, ...) or ``.npz`` (names = keys; a 2D entry is
        one multi-column block).
    header : bool, default True
        The text file's first row names the columns. A first row made of
        numbers only is refused (it is data); with False the columns are named
        ``"0"``, ``"1"``, ... as for ``.npy``.

    Returns
    -------
    dict of str to ndarray, shape (n,) or (n, k)
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"data file {path!r} does not exist.")
    suffix = p.suffix.lower()
    if suffix in {".npy", ".npz"}:
        try:
            return _numpy_columns(p, suffix)
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
            text = " ".join(str(err).split())
            raise CLIError(f"{path}: not a valid {suffix} file ({text}).") from None
    if suffix in {".csv", ".tsv", ".tab", ".txt"}:
        return _csv_columns(p, header)
    raise CLIError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .npy or .npz.")


def _numpy_columns(p: Path, suffix: str) -> dict:
    """Columns of an ``.npy`` (by index) or ``.npz`` (by key) file; never unpickles."""
    path = str(p)
    loaded = np.load(p, allow_pickle=False)
    if suffix == ".npy":
        if not isinstance(loaded, np.ndarray):
            loaded.close()
            raise CLIError(f"{path}: holds an .npz archive, not one array; rename it to .npz.")
        arr = loaded
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise CLIError(f"{path}: expected a 1D or 2D array; got shape {arr.shape}.")
        return {str(j): arr[:, j] for j in range(arr.shape[1])}
    if isinstance(loaded, np.ndarray):
        raise CLIError(f"{path}: holds one array, not an .npz archive; rename it to .npy.")
    with loaded as npz:
        return {key: npz[key] for key in npz.files}


def _select(columns: dict, names, path: str, role: str):
    """Stack the named columns (None if ``names`` is None)."""
    if names is None:
        return None
    missing = [n for n in names if n not in columns]
    if missing:
        available = ", ".join(list(columns)[:20]) + (", ..." if len(columns) > 20 else "")
        raise CLIError(
            f"--{role}: column {missing[0]!r} not found in {path}; available: {available}."
        )
    import pandas as pd

    frames = [_labelled(n, columns[n]) for n in names]
    return frames[0] if len(frames) == 1 else pd.concat(frames, axis=1)


def _labelled(name: str, column: np.ndarray):
    """A column as a pandas object carrying its name (``name:j`` per column of a 2-D block).

    The result, its JSON and its plots are then labelled with the file's column names.
    """
    import pandas as pd

    if column.ndim == 1:
        return pd.Series(column, name=name)
    return pd.DataFrame(column, columns=[f"{name}:{j}" for j in range(column.shape[1])])


def _flatten_blocks(columns: dict) -> dict:
    """Split 2D blocks (npz entries) into single columns named ``key:j``."""
    flat = {}
    for name, col in columns.items():
        if col.ndim == 1:
            flat[name] = col
        else:
            flat.update({f"{name}:{j}": col[:, j] for j in range(col.shape[1])})
    return flat


# --------------------------------------------------------------------------- options


def _option_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _key_value(text: str):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), _option_value(value.strip())


def _default(name: str) -> str:
    """`gmmmi.estimate`'s default of an EM option for the help (and GMM-MI's if it differs)."""
    shown = _shown(ESTIMATE_DEFAULTS[name])
    if ORIGINAL_DEFAULTS[name] != ESTIMATE_DEFAULTS[name]:
        shown += f"; GMM-MI's {_shown(ORIGINAL_DEFAULTS[name])}"
    return shown


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace("e-0", "e-")
    return "none" if value is None else str(value)


#: (flag, option name of gmmmi.estimate, type, help); the EM options' defaults are read
#: from their table (`gmmmi._em.options.ESTIMATE_DEFAULTS`)
_ESTIMATE_FLAGS = [
    (
        "--n-bootstrap",
        "n_bootstrap",
        int,
        f"bootstrap refits (default {_default('n_bootstrap')}; <1: one fit, no sd)",
    ),
    ("--components", "fixed_components_number", int, "fix K (default 0: choose K by CV)"),
    ("--max-components", "max_components", int, "largest K tried (default {})"),
    ("--n-inits", "n_inits", int, "initialisations per K (default {})"),
    ("--n-folds", "n_folds", int, "cross-validation folds (default {})"),
    ("--metric-method", "metric_method", str, "valid | aic | bic (default {})"),
    ("--init-type", "init_type", str, "initialisation scheme (default {})"),
    ("--threshold-fit", "threshold_fit", float, "EM log-likelihood tolerance (default {})"),
    ("--threshold-components", "threshold_components", float, "K-selection tolerance ({})"),
    ("--patience", "patience", int, "extra K tried after no improvement (default {})"),
    ("--reg-covar", "reg_covar", float, "added to covariance diagonals (default {})"),
    ("--max-iter", "max_iter", int, "EM iterations per fit (default {})"),
    ("--scale", "scale", float, "initialisation scale (default: {})"),
    ("--integral-method", "integral_method", str, "quad (default) | qmc | mc"),
    ("--mc-samples", "MC_samples", int, "MC points per draw with --integral-method mc (1e5)"),
]
_ESTIMATE_FLAGS = [
    (flag, name, typ, text.format(_default(name)) if "{}" in text else text)
    for flag, name, typ, text in _ESTIMATE_FLAGS
]


def _estimate_options_parser() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    g = parent.add_argument_group("estimator options (defaults: gmmmi.estimate's)")
    g.add_argument("--backend", default="numba", help="numba (default) | pymc | a plugin name")
    g.add_argument("--bits", action="store_true", help="report in bits instead of nats")
    g.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    g.add_argument(
        "--transform",
        choices=("auto", "none", "gaussianize"),
        default=None,
        help="per-column monotone maps (default auto: a Gaussianising map where it fits the "
        "data better; none: the raw data, as the original gmm-mi)",
    )
    for flag, _, typ, text in _ESTIMATE_FLAGS:
        g.add_argument(flag, type=typ, default=None, metavar="V", help=text)
    g.add_argument(
        "--option",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other option of gmmmi.estimate or the backend (repeatable), e.g. draws=500",
    )
    return parent


def _estimate_options(args) -> dict:
    opts = {name: getattr(args, name_attr(flag)) for flag, name, _, _ in _ESTIMATE_FLAGS}
    opts = {k: v for k, v in opts.items() if v is not None}
    opts.update(dict(args.option))
    opts["backend"] = args.backend
    if args.transform is not None:
        opts["transform"] = args.transform
    if args.bits:
        opts["base"] = 2.0
    return opts


def name_attr(flag: str) -> str:
    """Attribute of the parsed arguments that holds ``flag`` (``--n-inits`` -> ``n_inits``)."""
    return flag.lstrip("-").replace("-", "_")


_NO_HEADER_HELP = (
    "the CSV has no header row: name its columns 0, 1, ... (a first row of numbers only "
    "is refused without this flag)"
)


def _xyz_arguments(p: argparse.ArgumentParser):
    p.add_argument("data", help="data file: .csv (header row), .npy or .npz")
    p.add_argument("--no-header", action="store_true", help=_NO_HEADER_HELP)
    p.add_argument("--x", nargs="+", required=True, metavar="COL", help="column(s) of x")
    p.add_argument("--y", nargs="+", metavar="COL", help="column(s) of y")
    p.add_argument("--z", nargs="+", metavar="COL", help="conditioning column(s): CMI I(x;y|z)")


def _xyz(args):
    columns = load_columns(args.data, header=not args.no_header)
    return tuple(_select(columns, getattr(args, r), args.data, r) for r in ("x", "y", "z"))


def _result_json(res) -> dict:
    out = {
        "quantity": res.quantity,
        "value": res.value,
        "sd": res.sd,
        "unit": res.unit,
        "interval": _interval_json(res),
        "draws_mean": res.draws_mean,
        "n_components": res.n_components,
        "fit_ok": None if res.fit_check is None else bool(res.fit_check.ok),
    }
    if res.fit_check is not None and not res.fit_check.ok:
        out["fit_check"] = res.fit_check.verdict()
    if "kl_xy" in res.point:
        out["kl_xy"], out["kl_yx"] = res.kl
    keys = ("backend", "method", "n_samples", "integral_method", "random_state", "labels")
    keys += ("transform", "discrete", "dequantized", "samples")
    out["meta"] = {k: res.meta[k] for k in keys if k in res.meta}
    return out


def _interval_json(res) -> dict:
    """The recommended 95% interval (what ``print(res)`` shows), named; null bounds without sd."""
    from .result import interval_name

    low, high = res.interval(0.95)
    return {
        "prob": 0.95,
        "method": "normal",
        "name": interval_name(0.95, correction=res.interval_correction),
        "low": low,
        "high": high,
    }


def _records(frame) -> list:
    """A DataFrame as JSON-ready records, floats at full precision (NaN -> null)."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.reset_index(drop=frame.index.name is None).to_dict(orient="records")
    ]


def _strict_json(obj) -> str:
    """Standard JSON (RFC 8259): NaN and infinities, which it has no word for, become null."""
    return json.dumps(
        _finite_or_none(obj), default=partial(json_default, fallback=str), allow_nan=False
    )


def _finite_or_none(obj):
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite_or_none(obj.tolist())
    if isinstance(obj, float | np.floating) and not math.isfinite(obj):
        return None
    return obj
