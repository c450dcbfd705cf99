"""Registry of fitting backends.

Built-in: ``"numba"`` (EM + cross-validated K + bootstrap, the default) and
``"pymc"`` (Bayesian mixture, posterior draws; needs the ``pymc`` extra).
Third parties register more through the entry-point group ``gmmmi.backends``,
whose objects are Backend classes (or factories) called with no arguments.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

# DrawKind, EMSelection and FitDiagnostics are re-exported here for backend authors and
# documented in gmmmi.diagnostics
from .base import Backend, BaseBackend, DrawKind, EMSelection, FitDiagnostics  # noqa: F401

__all__ = ["Backend", "BaseBackend", "get_backend", "available_backends"]

_BUILTIN = {
    "numba": ("gmmmi.backends.numba", "NumbaBackend"),
    "pymc": ("gmmmi.backends.pymc", "PyMCBackend"),
}


def _plugins() -> dict:
    return {ep.name: ep for ep in entry_points(group="gmmmi.backends")}


def available_backends() -> list[str]:
    """Names accepted by ``get_backend`` (built-in first, then plugins)."""
    return list(_BUILTIN) + sorted(set(_plugins()) - set(_BUILTIN))


def get_backend(backend: str | Backend) -> Backend:
    """Resolve a backend name or object.

    Parameters
    ----------
    backend : str or Backend
        A registered name (``"numba"``, ``"pymc"``, or a plugin's) or an
        object with the members of `gmmmi.backends.Backend` (e.g. a
        `gmmmi.backends.BaseBackend` subclass).

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if not isinstance(backend, str):
        if isinstance(backend, Backend):
            return backend
        raise TypeError(
            "backend must be a name or an object with `name`, `options`, `supports_init`, "
            "`fit`, `check` and `check_options` (subclass gmmmi.backends.BaseBackend for the "
            f"defaults of the last three); got {type(backend).__name__}."
        )
    if backend in _BUILTIN:
        module, cls = _BUILTIN[backend]
        return getattr(importlib.import_module(module), cls)()
    plugins = _plugins()
    if backend in plugins:
        return plugins[backend].load()()
    valid = ", ".join(map(repr, available_backends()))
    raise ValueError(f"Unknown backend {backend!r}; valid names are {valid}.")
