"""gmmmi: mutual information with honest uncertainty, from Gaussian mixture models.

Public names are imported lazily so that ``import gmmmi`` stays fast and
optional extras (PyMC, Dask) are only imported when used.
"""

import os
from importlib import import_module

__version__ = "0.1.0"

# Numba's OpenMP threads sleep between parallel regions instead of spinning for a core: under
# load the spinning doubled an estimate's CPU time (docs/scaling.md, "Threads that spin").
# Read when the OpenMP runtime loads (the first parallel kernel); the caller's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_PUBLIC = {
    "estimate": "gmmmi.api",
    "Result": "gmmmi.result",
    "load": "gmmmi.result",
    "MixtureDraws": "gmmmi.mixture",
    "ConvergenceWarning": "gmmmi.exceptions",
    "IntegrationWarning": "gmmmi.exceptions",
    "DataUnitsWarning": "gmmmi.exceptions",
    "DataWarning": "gmmmi.exceptions",
    "MisfitWarning": "gmmmi.exceptions",
    "SharpRelationWarning": "gmmmi.exceptions",
    "ResultFileError": "gmmmi.exceptions",
    "EstimateMI": "gmmmi.mi",
    "GMMFitParamHolder": "gmmmi.param_holders",
    "SelectComponentsParamHolder": "gmmmi.param_holders",
    "MIDistParamHolder": "gmmmi.param_holders",
    "compare": "gmmmi.studies",
    "calibration": "gmmmi.studies",
    "estimate_many": "gmmmi.parallel",
    "mi_matrix": "gmmmi.matrix",
    "MIMatrix": "gmmmi.matrix",
    "TaskError": "gmmmi.parallel",
    "independence_test": "gmmmi.independence",
    "IndependenceTest": "gmmmi.independence",
    "PValueResolutionWarning": "gmmmi.exceptions",
    "TaskFailedWarning": "gmmmi.exceptions",
    "SerialDependenceWarning": "gmmmi.exceptions",
    "lagged_mi": "gmmmi.lagged",
    "LaggedMI": "gmmmi.lagged",
    "transfer_entropy": "gmmmi.transfer",
    "get_backend": "gmmmi.backends",
    "categorical_mi": "gmmmi.estimands",
    "marginal_kl": "gmmmi.estimands",
    "entropy": "gmmmi.entropies",
    "divergence": "gmmmi.divergences",
}
_SUBMODULES = {"datasets", "integrate", "plot", "backends", "mixture", "diagnostics", "testing"}
_SUBMODULES |= {"feature_selection", "sklearn"}  # gmmmi.sklearn needs scikit-learn

__all__ = sorted(_PUBLIC) + sorted(_SUBMODULES)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    if name in _SUBMODULES:
        return import_module(f"gmmmi.{name}")
    raise AttributeError(f"module 'gmmmi' has no attribute {name!r}")


def __dir__():
    return __all__
