"""The options of an estimate, resolved once into one frozen `EstimateOptions`.

`gmmmi.estimate` and the other entry points on its pipeline
(`gmmmi.categorical_mi`, `gmmmi.marginal_kl`, `gmmmi.entropy`,
`gmmmi.divergence`) resolve their keyword options here, before any work.
`estimate_many`, `mi_matrix`, `compare`, `calibration` and
`independence_test` pass the same options to many estimates: they resolve
them here once (`resolve_estimate_options`), so that a bad one is refused at
once with the message `gmmmi.estimate` would give, and hand the frozen
object to every estimate they run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ._checks import check_choice, check_float, check_int, validate_options

#: options read by the pipeline itself (the backend's own options come from
#: ``backend.options``); also importable as ``gmmmi.api.API_OPTIONS``
API_OPTIONS = {
    "integral_method": "quad",
    "MC_samples": 100_000,
    "fixed_components_number": 0,
    "bias_correction": True,
}

#: keyword options of `gmmmi.estimate` besides the hyperparameters (``kl``, ``discrete_y`` and
#: ``min_category_size`` are the aliases of `gmmmi.marginal_kl` and `gmmmi.categorical_mi`)
ESTIMATE_KEYWORDS = {
    "backend": "numba",
    "kl": False,
    "base": math.e,
    "discrete_y": False,
    "min_category_size": None,
    "transform": "auto",
    "discrete": "auto",
    "dequantize": None,
    "bootstrap": "iid",
    "block_length": None,
    "sample_weight": None,
    "init": None,
}

#: what an estimate computes: MI or CMI, MI with a categorical label, MI plus the KL
#: divergences between the two marginals
ESTIMANDS = ("mi", "categorical", "kl")


@dataclass(frozen=True)
class EstimateOptions:
    """Every option of one estimate, checked; the same object serves many estimates.

    Made by `resolve_options` (keywords) or `resolve_estimate_options` (a
    dict of `gmmmi.estimate`'s keywords). The backend is kept as given (a
    name or an object): each estimate makes its own instance from it
    (`gmmmi.get_backend`), so estimates run in threads share no backend state.

    Attributes
    ----------
    backend : str or Backend
    estimand : {"mi", "categorical", "kl"}
    base : float
        Logarithm base of the output.
    min_category_size : int or None
    transform, discrete, dequantize, bootstrap, block_length, init, sample_weight
        As in `gmmmi.estimate` (checked against the data when it comes).
    fit_items : tuple of (str, object)
        The backend's options, defaults filled in.
    api_items : tuple of (str, object)
        `API_OPTIONS`' values.
    integral_method : str
        Lower case.
    mc_samples : int
    n_components : int or None
        ``fixed_components_number``, None to choose K.
    n_folds : int
        Cross-validation folds (1 when the backend has no ``n_folds``).
    """

    backend: Any
    estimand: str
    base: float
    min_category_size: int | None
    transform: str
    discrete: Any
    dequantize: Any
    bootstrap: str
    block_length: float | None
    init: Any
    sample_weight: Any
    fit_items: tuple
    api_items: tuple
    integral_method: str
    mc_samples: int
    n_components: int | None
    n_folds: int

    @property
    def kl(self) -> bool:
        """Whether the KL between the marginals is computed too."""
        return self.estimand == "kl"

    @property
    def discrete_y(self) -> bool:
        """Whether y holds category labels."""
        return self.estimand == "categorical"

    @property
    def fit_options(self) -> dict:
        """The backend's options (a new dict)."""
        return dict(self.fit_items)

    @property
    def api_options(self) -> dict:
        """`API_OPTIONS`' values (a new dict)."""
        return dict(self.api_items)

    @property
    def options(self) -> dict:
        """The backend's options and `API_OPTIONS`' values in one new dict."""
        return {**dict(self.fit_items), **dict(self.api_items)}

    def integrate_kw(self, rng) -> dict:
        """The keywords of `gmmmi.integrate`'s functions, with the estimate's generator."""
        return {"method": self.integral_method, "mc_samples": self.mc_samples, "rng": rng}


def resolve_options(
    *,
    backend: Any = "numba",
    estimand: str = "mi",
    base: float = math.e,
    min_category_size: int | None = None,
    transform: str = "auto",
    discrete: Any = "auto",
    dequantize: Any = None,
    bootstrap: str = "iid",
    block_length: float | None = None,
    init: Any = None,
    sample_weight: Any = None,
    **options: Any,
) -> EstimateOptions:
    """Check every option of an estimate that needs no data; the one place that does.

    Parameters
    ----------
    backend, base, min_category_size, transform, discrete, dequantize, bootstrap, \
block_length, init, sample_weight
        `gmmmi.estimate`'s keywords.
    estimand : {"mi", "categorical", "kl"}
        Which entry point asked.
    **options
        The backend's hyperparameters and `API_OPTIONS`.

    Returns
    -------
    EstimateOptions

    Raises
    ------
    TypeError
        For an unknown option name (with the closest valid one) or a value of
        the wrong type.
    ValueError
        For an unknown backend or an out-of-range value.
    """
    from .backends import get_backend
    from .margins import TRANSFORMS

    check_choice("estimand", estimand, ESTIMANDS)
    be = get_backend(backend)
    opts = validate_options(options, {**be.options, **API_OPTIONS})
    method, mc_samples, fixed_k, base = check_api_options(opts, base)
    check_choice("transform", transform, TRANSFORMS)  # bootstrap=: checked with the rows
    n_folds = check_int("n_folds", opts["n_folds"], minimum=2) if "n_folds" in opts else 1
    return EstimateOptions(
        backend=backend,
        estimand=estimand,
        base=base,
        min_category_size=min_category_size,
        transform=transform,
        discrete=discrete,
        dequantize=dequantize,
        bootstrap=bootstrap,
        block_length=block_length,
        init=init,
        sample_weight=sample_weight,
        fit_items=tuple((k, opts[k]) for k in be.options),
        api_items=tuple((k, opts[k]) for k in API_OPTIONS),
        integral_method=method,
        mc_samples=mc_samples,
        n_components=fixed_k or None,
        n_folds=n_folds,
    )


def estimand_of(kl: bool = False, discrete_y: bool = False) -> str:
    """The estimand named by `gmmmi.estimate`'s aliases ``kl`` and ``discrete_y``."""
    for name, flag in (("kl", kl), ("discrete_y", discrete_y)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False; got {flag!r}.")
    if kl and discrete_y:
        raise ValueError(
            "kl=True compares the marginals of two continuous variables; it cannot be "
            "combined with discrete_y=True."
        )
    return "kl" if kl else "categorical" if discrete_y else "mi"


def resolve_estimate_options(options: Mapping[str, Any]) -> EstimateOptions:
    """`gmmmi.estimate`'s keyword options given as one dict, resolved (`resolve_options`).

    Parameters
    ----------
    options : dict
        Keyword options of `gmmmi.estimate` (``backend``, ``base``, ``kl``,
        ``discrete_y``, ``init``, the backend's hyperparameters...); not the
        data (``x``, ``y``, ``z``), ``random_state`` or ``progress``.

    Returns
    -------
    EstimateOptions

    Raises
    ------
    TypeError, ValueError
        As `resolve_options`.
    """
    from .backends import get_backend
    from .block_length import check_bootstrap

    backend = get_backend(options.get("backend", "numba"))
    opts = validate_options(options, {**ESTIMATE_KEYWORDS, **backend.options, **API_OPTIONS})
    check_bootstrap(opts["bootstrap"], opts["block_length"], n_samples=math.inf)  # before any task
    options = dict(options)
    estimand = estimand_of(options.pop("kl", False), options.pop("discrete_y", False))
    resolved = resolve_options(estimand=estimand, **options)
    backend.check_options(resolved.fit_options)
    return resolved


def check_estimate_options(options: dict) -> EstimateOptions:
    """Raise the error `gmmmi.estimate` would raise for ``options``, without data.

    The same as `resolve_estimate_options`, whose result it returns.
    """
    return resolve_estimate_options(options)


def option_names(backend: Any) -> set:
    """Every option name `gmmmi.estimate` accepts with ``backend`` (keywords included)."""
    from .backends import get_backend

    return set(ESTIMATE_KEYWORDS) | set(get_backend(backend).options) | set(API_OPTIONS)


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
