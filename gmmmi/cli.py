"""The ``gmmmi`` command: ``demo``, ``estimate``, ``matrix``, ``compare``, ``entropy``, ...

``entropy`` and ``divergence`` live in ``gmmmi._cli_estimands``; what every
command shares (data files, estimator flags, JSON) in ``gmmmi._cli_common``.

Data files are read with numpy and the standard library (pandas is only
needed by the commands that print tables): CSV with a header row, ``.npy``
(columns named by their integer index) and ``.npz`` (columns named by key).
Errors print one line ``gmmmi: error: ...`` on standard error and exit with
status 1 (2 for a malformed command line, 130 for Ctrl-C: ``gmmmi: interrupted``),
without a traceback. ``--json`` output is standard JSON (NaN is written null).
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from ._cli_common import (
    _NO_HEADER_HELP,
    CLIError,
    _estimate_options,
    _estimate_options_parser,
    _flatten_blocks,
    _records,
    _result_json,
    _select,
    _strict_json,
    _xyz,
    _xyz_arguments,
    load_columns,
)

_DESCRIPTION = """\
Mutual information (MI), conditional MI and KL divergence with their
uncertainty, from Gaussian mixture models.

Data files: CSV with a header row (columns by name; --no-header for none),
.npy (a 2D array; columns by integer index 0, 1, ...) or .npz (columns by key).
Errors print one line 'gmmmi: error: ...' and exit with status 1 (2 for a
malformed command line, 130 when interrupted with Ctrl-C).
Run 'gmmmi COMMAND --help' for each command's options.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with malformed command lines reported in one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"gmmmi: error: {message} (see '{self.prog} --help')\n")


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
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
