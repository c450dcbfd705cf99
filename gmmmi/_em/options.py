"""The options of the EM procedure: names, defaults and checks, in one place.

`ORIGINAL_DEFAULTS` are GMM-MI 0.8.2's defaults: the parameter holders
(`gmmmi.param_holders`) and `gmmmi.EstimateMI` read them. `ESTIMATE_DEFAULTS`
are those of `gmmmi.estimate` and of the numba backend's option table
(``NumbaBackend.options``): the original's, with `ESTIMATE_OVERRIDES` on top.
`check_options` is the only place that checks an option's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from gmmmi._checks import check_choice, check_float, check_int

#: initialisation schemes of `gmmmi._em.init.initialise`
INIT_TYPES = ("random", "minmax", "kmeans", "randomized_kmeans", "random_sklearn", "kmeans_sklearn")
#: metrics that choose K in `gmmmi._em.select.select_components`
METRIC_METHODS = ("valid", "aic", "bic")

#: defaults of GMM-MI 0.8.2 (its GMMFitParamHolder, SelectComponentsParamHolder and
#: MIDistParamHolder), plus ``reselect_components`` and ``scale_mixtures``, which GMM-MI
#: does not have
ORIGINAL_DEFAULTS: Mapping = MappingProxyType(
    {
        "init_type": "random_sklearn",
        "scale": None,
        "threshold_fit": 1e-5,
        "reg_covar": 1e-15,
        "max_iter": 10000,
        "n_inits": 3,
        "n_folds": 2,
        "metric_method": "valid",
        "threshold_components": 1e-5,
        "patience": 1,
        "max_components": 50,
        "n_bootstrap": 50,
        "reselect_components": False,
        "scale_mixtures": False,
    }
)

#: where the defaults of `gmmmi.estimate` depart from `ORIGINAL_DEFAULTS`. Measured in
#: benchmarks/bench_search.py: GMM-MI's random responsibilities start every component at the
#: global mean, and on large data EM stops there (the paper's D3 at N = 1e5 gave K = 1,
#: 0.044 +- 0.001 against a truth of 0.132; k-means starts give 0.131 +- 0.001); with k-means
#: starts, 3 initialisations gave the same K and MI as 1 at up to 2.7x the time
#: ``scale_mixtures``: Student-t-like joint tails, see gmmmi._em.scale_mixture
ESTIMATE_OVERRIDES: Mapping = MappingProxyType(
    {"init_type": "kmeans", "n_inits": 1, "scale_mixtures": True}
)

#: defaults of `gmmmi.estimate` and of the numba backend (its ``options`` table)
ESTIMATE_DEFAULTS: dict = {**ORIGINAL_DEFAULTS, **ESTIMATE_OVERRIDES}


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r} ({type(value).__name__}).")
    return bool(value)


def _check_scale(name: str, value):
    return None if value is None else check_float(name, value, minimum=0.0, strict=True)


#: the check of every option, (name, value) -> the value converted, in the order applied
_CHECKS = {
    "init_type": lambda name, v: check_choice(name, v, INIT_TYPES),
    "metric_method": lambda name, v: check_choice(name, v, METRIC_METHODS),
    "scale": _check_scale,
    # GMM-MI 0.8.2 checks nothing here; 0 is meaningful (every fit runs to max_iter,
    # with a ConvergenceWarning), a negative tolerance is not
    "threshold_fit": lambda name, v: check_float(name, v, minimum=0.0),
    "reg_covar": lambda name, v: check_float(name, v, minimum=0.0),
    "threshold_components": lambda name, v: check_float(name, v, minimum=0.0),
    "max_iter": lambda name, v: check_int(name, v, minimum=1),
    "n_inits": lambda name, v: check_int(name, v, minimum=1),
    "patience": lambda name, v: check_int(name, v, minimum=1),
    "max_components": lambda name, v: check_int(name, v, minimum=1),
    "n_folds": lambda name, v: check_int(name, v, minimum=2),
    "n_bootstrap": lambda name, v: check_int(name, v),
    "reselect_components": _check_flag,
    "scale_mixtures": _check_flag,
}


def check_options(options: Mapping) -> dict:
    """The given options, each checked and converted (no defaults filled in).

    Parameters
    ----------
    options : collections.abc.Mapping
        Names of `ESTIMATE_DEFAULTS` (only) with their values; the caller
        refuses unknown names, in its own words.

    Returns
    -------
    dict
        The same names; ints as int, floats as float, flags as bool.

    Raises
    ------
    TypeError
        For a value of the wrong type.
    ValueError
        For a value out of range or not among the choices.
    """
    return {name: check(name, options[name]) for name, check in _CHECKS.items() if name in options}


#: the options of `gmmmi._em.select.select_components` among a backend's options
SELECTION_OPTIONS = (
    "init_type",
    "scale",
    "n_inits",
    "n_folds",
    "metric_method",
    "threshold_components",
    "patience",
    "max_components",
)


def selection_options(options: Mapping) -> dict:
    """The options of `gmmmi._em.select.select_components` among a backend's ``options``."""
    return {name: options[name] for name in SELECTION_OPTIONS}
