"""The ``gmmmi entropy`` and ``gmmmi divergence`` commands (registered by `gmmmi.cli`)."""

from __future__ import annotations

import argparse
import sys


def add_parsers(sub, common: argparse.ArgumentParser, est_opts: argparse.ArgumentParser) -> None:
    """Add the ``entropy`` and ``divergence`` sub-commands to ``sub``."""
    from ._cli_common import _NO_HEADER_HELP

    p = sub.add_parser(
        "entropy",
        parents=[common, est_opts],
        help="entropy of columns of a data file",
        description="Estimate the entropy of the --x columns of a data file (differential "
        "for continuous columns, in the file's units; discrete columns by the chain rule), "
        "with its bootstrap uncertainty. --transform does not apply: differential entropy "
        "is not invariant under maps of the columns.",
    )
    p.add_argument("data", help="data file: .csv (header row), .npy or .npz")
    p.add_argument("--no-header", action="store_true", help=_NO_HEADER_HELP)
    p.add_argument("--x", nargs="+", required=True, metavar="COL", help="column(s)")
    p.add_argument(
        "--discrete",
        nargs="+",
        metavar="COL",
        help="discrete columns (default: auto, columns with at most 10 distinct values; "
        "'none' for none)",
    )
    _output_arguments(p)
    p.set_defaults(func=cmd_entropy)

    p = sub.add_parser(
        "divergence",
        parents=[common, est_opts],
        help="KL or Jensen-Shannon divergence between the samples of two data files",
        description="Estimate KL[p || q] (or the Jensen-Shannon divergence with --kind js) "
        "between the distributions of the same columns in two data files, a mixture fitted "
        "to each, each resampled by its own bootstrap.",
    )
    p.add_argument("p_data", help="data file of the sample of p")
    p.add_argument("q_data", help="data file of the sample of q")
    p.add_argument("--no-header", action="store_true", help=_NO_HEADER_HELP)
    p.add_argument("--columns", nargs="+", required=True, metavar="COL", help="column(s)")
    p.add_argument("--kind", choices=("kl", "js"), default="kl", help="kl (default) or js")
    _output_arguments(p)
    p.set_defaults(func=cmd_divergence)


def _output_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--save", metavar="NC", help="save the full result (netCDF, gmmmi.load)")


def _options(args) -> dict:
    from ._cli_common import CLIError, _estimate_options

    opts = _estimate_options(args)
    if "transform" in opts:
        raise CLIError(
            f"--transform does not apply to gmmmi {args.command}: the quantity is not invariant "
            "under maps of the columns."
        )
    return opts


def _report(res, args) -> int:
    from ._cli_common import _result_json, _strict_json

    if args.json:
        print(_strict_json(_result_json(res)))
    else:
        print(res)
        print(res.summary().to_string())
    if args.save:
        res.to_netcdf(args.save)
        print(f"wrote {args.save}", file=sys.stderr)
    return 0


def cmd_entropy(args) -> int:
    """Run ``gmmmi entropy``; exit status."""
    import gmmmi

    from ._cli_common import _xyz

    args.y = args.z = None
    x, _, _ = _xyz(args)
    discrete = "auto"
    if args.discrete is not None:
        discrete = None if args.discrete == ["none"] else args.discrete
    res = gmmmi.entropy(
        x, discrete=discrete, random_state=args.seed, progress=args.progress, **_options(args)
    )
    return _report(res, args)


def cmd_divergence(args) -> int:
    """Run ``gmmmi divergence``; exit status."""
    import gmmmi

    from ._cli_common import _select, load_columns

    header = not args.no_header
    samples = [
        _select(load_columns(path, header=header), args.columns, path, "columns")
        for path in (args.p_data, args.q_data)
    ]
    res = gmmmi.divergence(
        *samples, kind=args.kind, random_state=args.seed, progress=args.progress, **_options(args)
    )
    return _report(res, args)
