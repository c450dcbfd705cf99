"""Options of `gmmmi.estimate` checked before any work, for the functions that run many.

`estimate_many`, `mi_matrix`, `compare` and `calibration` pass the same
options to many estimates; a bad one must be refused at once, with the
message `gmmmi.estimate` would give, not after every task has run.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor

from ._validation import check_choice, check_float, check_int, validate_options

#: options read by `gmmmi.estimate` itself (the backend's own options come from
#: ``backend.options``); also importable as ``gmmmi.api.API_OPTIONS``
API_OPTIONS = {
    "integral_method": "quad",
    "MC_samples": 100_000,
    "fixed_components_number": 0,
    "bias_correction": True,
}

#: keyword options of `gmmmi.estimate` besides the hyperparameters
ESTIMATE_KEYWORDS = {
    "backend": "numba",
    "kl": False,
    "base": math.e,
    "discrete_y": False,
    "min_category_size": None,
    "transform": "auto",
    "bootstrap": "iid",
    "block_length": None,
    "sample_weight": None,
}


def check_estimate_options(options: dict) -> None:
    """Raise the error `gmmmi.estimate` would raise for ``options``, without data.

    Parameters
    ----------
    options : dict
        Keyword options of `gmmmi.estimate` (``backend``, ``kl``, ``base``,
        ``discrete_y``, ``init`` and the backend's hyperparameters); not the
        data (``x``, ``y``, ``z``), ``random_state`` or ``progress``.

    Raises
    ------
    TypeError
        For an unknown option name (with the closest valid one) or a value of
        the wrong type.
    ValueError
        For an unknown backend or an out-of-range value.
    """
    from .backends import get_backend
    from .block_length import check_bootstrap
    from .margins import TRANSFORMS

    backend = get_backend(options.get("backend", "numba"))
    allowed = {**ESTIMATE_KEYWORDS, "init": None, **backend.options, **API_OPTIONS}
    opts = validate_options(options, allowed)
    check_choice("transform", opts["transform"], TRANSFORMS)
    check_bootstrap(opts["bootstrap"], opts["block_length"], n_samples=math.inf)
    check_api_options(opts, opts["base"])
    backend.check_options({k: opts[k] for k in backend.options})


def check_api_options(opts: dict, base) -> tuple[str, int, int, float]:
    """The options `gmmmi.estimate` reads itself, checked.

    Parameters
    ----------
    opts : dict
        Holds ``integral_method``, ``MC_samples`` and ``fixed_components_number``.
    base : float
        Logarithm base of the output.

    Returns
    -------
    tuple
        ``(integral_method, MC_samples, fixed_components_number, base)``, the
        method in lower case.
    """
    from .integrate import METHODS

    method = check_choice("integral_method", str(opts["integral_method"]).lower(), METHODS)
    mc_samples = check_int("MC_samples", opts["MC_samples"], minimum=1)
    fixed_k = check_int("fixed_components_number", opts["fixed_components_number"], minimum=0)
    flag = opts.get("bias_correction", True)
    if not isinstance(flag, bool):
        raise TypeError(f"bias_correction must be True or False; got {flag!r}.")
    return method, mc_samples, fixed_k, check_base(base)


def check_base(base) -> float:
    """``base`` as a float: positive, finite and not 1 (e for nats, 2 for bits)."""
    base = check_float("base", base, minimum=0.0, strict=True)
    if base == 1.0:
        raise ValueError("base must be a positive number other than 1 (e for nats, 2 for bits).")
    return base


def check_executor(executor) -> None:
    """TypeError unless ``executor`` is None, an Executor, or a Dask client.

    Parameters
    ----------
    executor : object
        What the user passed as ``executor=``.
    """
    if executor is None or isinstance(executor, Executor):
        return
    if hasattr(executor, "submit") and hasattr(executor, "get_executor"):  # dask Client
        return
    raise TypeError(
        "executor must be None (run here), a concurrent.futures.Executor (e.g. "
        "ThreadPoolExecutor(4) or ProcessPoolExecutor(4)) or a dask.distributed Client; "
        f"got {executor!r} ({type(executor).__name__})."
    )
