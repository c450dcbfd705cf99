"""The ``gmmmi`` command: ``demo``, ``estimate``, ``matrix``, ``compare``, ``entropy``, ...

``entropy`` and ``divergence`` live in ``gmmmi._cli_estimands``.

Data files are read with numpy and the standard library (pandas is only
needed by the commands that print tables): CSV with a header row, ``.npy``
(columns named by their integer index) and ``.npz`` (columns named by key).
Errors print one line ``gmmmi: error: ...`` on standard error and exit with
status 1 (2 for a malformed command line, 130 for Ctrl-C: ``gmmmi: interrupted``),
without a traceback. ``--json`` output is standard JSON (NaN is written null).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import sys
import warnings
import zipfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from ._em.options import ESTIMATE_DEFAULTS, ORIGINAL_DEFAULTS
from ._json import json_default

_DESCRIPTION = """\
Mutual information (MI), conditional MI and KL divergence with their
uncertainty, from Gaussian mixture models.

commands:
  demo      the README example: MI of a correlated Gaussian against its analytic value
  estimate  MI (or CMI with --z) between columns of a data file
  matrix    MI between all pairs of columns (or two files' columns), optionally on Dask
  compare   the same MI by several uncertainty methods, side by side
  entropy   entropy of columns of a data file
  divergence  KL or Jensen-Shannon divergence between two data files' samples

Data files: CSV with a header row (columns by name; --no-header for none),
.npy (a 2D array; columns by integer index 0, 1, ...) or .npz (columns by key).
Errors print one line 'gmmmi: error: ...' and exit with status 1 (2 for a
malformed command line, 130 when interrupted with Ctrl-C).
Run 'gmmmi COMMAND --help' for each command's options.
"""

_MISSING = {"", "na", "nan", "null", "none"}


class CLIError(Exception):
    """An error in the user's input, printed as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with malformed command lines reported in one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"gmmmi: error: {message} (see '{self.prog} --help')\n")


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


# --------------------------------------------------------------------------- commands


def _savefig(fig, path: str) -> None:
    fig.savefig(path, dpi=150, bbox_inches="tight")
    print(f"wrote {path}", file=sys.stderr)


def _figure(obj):
    """The Figure behind an Axes, an array of Axes or a Figure."""
    if isinstance(obj, np.ndarray):
        obj = obj.flat[0]
    return getattr(obj, "figure", obj)


def cmd_demo(args) -> int:
    """Run ``gmmmi demo``: the README example on fresh data, with its plots; exit status."""
    import matplotlib.pyplot as plt

    import gmmmi

    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], 200)
    truth = -0.5 * math.log(1 - 0.6**2)
    res = gmmmi.estimate(X, random_state=args.seed, progress=args.progress)
    z = (res.value - truth) / res.sd if res.sd > 0 else math.nan
    print("data: 200 samples of a bivariate Gaussian with correlation 0.6 (README example)")
    print(res)
    print(f"analytic MI = -0.5 log(1 - 0.6^2) = {truth:.4f} nat ({z:+.1f} sd from the estimate)")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
    res.plot_fit(X, ax=left)
    left.set_title(f"fitted mixture (K={res.n_components}) over the data", fontsize="medium")
    res.plot(ax=right, truth=truth)
    _savefig(fig, args.out)
    return 0


def cmd_estimate(args) -> int:
    """Run ``gmmmi estimate``: one estimate of the file's columns; exit status."""
    import gmmmi

    x, y, z = _xyz(args)
    kwargs = {"random_state": args.seed, "progress": args.progress, **_estimate_options(args)}
    if args.categorical and not args.kl and z is None:
        res = gmmmi.categorical_mi(x, y, **kwargs)
    elif args.kl and not args.categorical and z is None:
        res = gmmmi.marginal_kl(x, y, **kwargs)
    else:  # estimate refuses what does not combine (z with a label, KL with a label or z)
        res = gmmmi.estimate(x, y, z=z, kl=args.kl, discrete_y=args.categorical, **kwargs)
    if args.json:
        print(_strict_json(_result_json(res)))
    else:
        print(res)
        print(res.summary().to_string())
    if args.plot:
        _savefig(_figure(res.plot()), args.plot)
    if args.plot_fit:
        _savefig(_figure(res.plot_fit(x, y, z=z)), args.plot_fit)
    if args.save:
        res.to_netcdf(args.save)
        print(f"wrote {args.save}", file=sys.stderr)
    return 0


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
    return {"prob": 0.95, "method": "normal", "name": interval_name(0.95), "low": low, "high": high}


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


def _executor(args):
    """(executor, cleanup) for --scheduler / --workers."""
    if args.scheduler and args.workers:
        raise CLIError("give either --scheduler (a Dask cluster) or --workers (local), not both.")
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise CLIError(
                "--scheduler needs dask.distributed: pip install '.[dask]' from a clone of gmmmi."
            ) from None
        try:
            client = Client(args.scheduler, timeout="10s")
        except OSError as err:
            raise CLIError(
                f"could not connect to the Dask scheduler {args.scheduler}: {err}"
            ) from err
        return client.get_executor(), client.close
    if args.workers:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forked children abort once Numba's OpenMP threads have run
        pool = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
        return pool, pool.shutdown
    return None, lambda: None


def _matrix_columns(path: str, names, header: bool) -> dict:
    columns = _flatten_blocks(load_columns(path, header))
    if names:
        columns = {n: _select(columns, [n], path, "columns") for n in names}
    return columns


def cmd_matrix(args) -> int:
    """Run ``gmmmi matrix``: the MI of every pair of the file's columns; exit status."""
    import gmmmi

    header = not args.no_header
    data = _matrix_columns(args.data, args.columns, header)
    against = (
        None
        if args.against is None
        else _matrix_columns(args.against, args.against_columns, header)
    )
    executor, close = _executor(args)
    try:
        mat = gmmmi.mi_matrix(
            data,
            against=against,
            executor=executor,
            progress=args.progress,
            random_state=args.seed,
            discrete_y=args.categorical,
            **_estimate_options(args),
        )
    finally:
        close()
    if mat.errors and not mat.results:
        (r, c), err = next(iter(mat.errors.items()))
        raise CLIError(f"every pair failed; the first, {r} vs {c}: {err.type}: {err.message}")
    frame = mat.to_frame()
    if args.json:
        print(_strict_json(_records(frame)))
    else:
        text = mat.mean.map(lambda v: f"{v:.3f}").astype(str)
        text = text + "±" + mat.sd.map(lambda v: f"{v:.3f}")
        print(f"MI [{mat.unit}], mean±sd:")
        print(text.where(mat.mean.notna(), "-").to_string())
        for (r, c), err in mat.errors.items():
            print(f"gmmmi: warning: {r} vs {c} failed: {err.type}: {err.message}", file=sys.stderr)
    if args.out:
        frame.to_csv(args.out, index=False)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        _savefig(_figure(mat.plot()), args.plot)
    return 0


def cmd_compare(args) -> int:
    """Run ``gmmmi compare``: bootstrap against posterior on the file's columns; exit status."""
    import gmmmi

    x, y, z = _xyz(args)
    options = _estimate_options(args)
    if options.pop("backend") != "numba":
        raise CLIError("compare picks each method's backend; choose them with --methods.")
    kwargs = {"random_state": args.seed, "truth": args.truth, "progress": args.progress}
    kwargs.update(options, discrete_y=args.categorical)
    if args.methods:
        kwargs["methods"] = tuple(args.methods)
    comparison = gmmmi.compare(x, y, z=z, **kwargs)
    if args.json:
        print(_strict_json(_records(comparison.table)))
    else:
        print(comparison.table.to_string())
    if args.plot:
        _savefig(_figure(comparison.plot()), args.plot)
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``gmmmi`` and its sub-commands."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="gmmmi", description=_DESCRIPTION, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=_version())
    common = argparse.ArgumentParser(add_help=False)
    bar = common.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="always show progress bars (default: only in a terminal)",
    )
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress bars"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    est_opts = _estimate_options_parser()

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="the README example against its analytic MI",
        description="Estimate the MI of the README's data (200 samples of a "
        "bivariate Gaussian, correlation 0.6, numpy seed 0), compare it with "
        "the analytic value 0.2231 nat, and plot the fit and the MI draws.",
    )
    p.add_argument("--out", default="gmmmi_demo.png", help="figure file (default gmmmi_demo.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the estimator (default 0)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "estimate",
        parents=[common, est_opts],
        help="MI / CMI between columns of a data file",
        description="Estimate I(x; y), or I(x; y | z) with --z, between "
        "columns of a data file, with bootstrap (numba) or posterior (pymc) "
        "uncertainty. Without --y, --x must name 2 columns (MI between them) "
        "or more (CMI of the first two given the rest).",
    )
    _xyz_arguments(p)
    p.add_argument(
        "--kl",
        action="store_true",
        help="also KL divergences between the x and y marginals (same dimension; "
        "gmmmi.marginal_kl)",
    )
    p.add_argument(
        "--categorical",
        action="store_true",
        help="y is a category label (numbers or text): MI with a discrete y (gmmmi.categorical_mi)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--plot", metavar="PNG", help="write the distribution of the MI draws")
    p.add_argument("--plot-fit", metavar="PNG", help="write the fitted mixture over the data")
    p.add_argument("--save", metavar="NC", help="save the full result (netCDF, gmmmi.load)")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser(
        "matrix",
        parents=[common, est_opts],
        help="MI between all pairs of columns, locally or on a Dask cluster",
        description="MI (mean±sd) between all pairs of columns of a data "
        "file, or between every column of it and every column of --against. "
        "Runs in this process by default (the numba backend already uses "
        "all cores); --workers N uses N local processes; --scheduler runs on "
        "a Dask cluster. 2D entries of an .npz are split into columns key:j.",
    )
    p.add_argument("data", help="data file: .csv (header row), .npy or .npz")
    p.add_argument("--no-header", action="store_true", help=_NO_HEADER_HELP)
    p.add_argument("--columns", nargs="+", metavar="COL", help="use only these columns")
    p.add_argument(
        "--against", metavar="FILE", help="second data file (same rows): a data × against matrix"
    )
    p.add_argument(
        "--against-columns", nargs="+", metavar="COL", help="use only these columns of --against"
    )
    p.add_argument(
        "--categorical", action="store_true", help="the --against columns are category labels"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786",
    )
    p.add_argument("--workers", type=int, metavar="N", help="N local worker processes")
    p.add_argument(
        "--out", metavar="CSV", help="write the long-form table (x, y, mean, sd, unit, error)"
    )
    p.add_argument("--plot", metavar="PNG", help="write the annotated heat-map")
    p.add_argument("--json", action="store_true", help="print the long-form table as JSON")
    p.set_defaults(func=cmd_matrix)

    p = sub.add_parser(
        "compare",
        parents=[common, est_opts],
        help="the same MI by several uncertainty methods",
        description="Estimate MI between columns by several uncertainty "
        "methods (gmmmi.compare) and print one row per method.",
    )
    _xyz_arguments(p)
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="M",
        help="methods (default: bootstrap bayes): bootstrap, bayes, advi, single",
    )
    p.add_argument("--truth", type=float, help="known true MI, to report each method's error")
    p.add_argument("--categorical", action="store_true", help="y is a category label")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    p.add_argument("--plot", metavar="PNG", help="write the comparison plot")
    p.set_defaults(func=cmd_compare)

    from ._cli_estimands import add_parsers

    add_parsers(sub, common, est_opts)  # entropy, divergence
    return parser


def _version() -> str:
    from . import __version__

    return f"gmmmi {__version__}"


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join(str(text).split())
    return text if isinstance(exc, CLIError) else f"{text} ({type(exc).__name__})"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"gmmmi: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gmmmi`` command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if getattr(args, "plot", None) or args.command == "demo" or getattr(args, "plot_fit", None):
        import matplotlib

        matplotlib.use("Agg")
    warnings.showwarning = _show_warning
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("gmmmi: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"gmmmi: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
