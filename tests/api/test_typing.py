"""Type hints: every parameter and return of the public API is annotated, with names that exist.

Only the modules in `ANNOTATED` are checked; add a module once its public API is annotated.
"""

import inspect
import typing
from importlib import import_module
from types import FunctionType, ModuleType

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import gmmmi

#: modules whose public functions, classes and methods carry complete type hints
ANNOTATED = {
    "gmmmi.api",
    "gmmmi.cli",
    "gmmmi.datasets",
    "gmmmi.divergences",
    "gmmmi.entropies",
    "gmmmi.estimands",
    "gmmmi.exceptions",
    "gmmmi.fit_check",
    "gmmmi.independence",
    "gmmmi.mi",
    "gmmmi.mixture",
    "gmmmi.param_holders",
    "gmmmi.feature_selection",
    "gmmmi.sklearn",
}
#: public entry points outside ``gmmmi.__all__``: the console script, and the fit check
#: that ``Result.check_fit`` runs
EXTRA_PUBLIC = ["gmmmi.cli:main", "gmmmi.fit_check:check_fit", "gmmmi.fit_check:FitCheck"]


def type_checking_names() -> dict:
    """The names the annotated modules import only for type checkers (``if TYPE_CHECKING:``)."""
    from distributed import Client  # imported here: only this test needs Dask

    return {
        "Axes": Axes,
        "Figure": Figure,
        "ArrayLike": npt.ArrayLike,
        "np": np,
        "pd": pd,
        "Client": Client,
    }


def _module_members(module: ModuleType) -> list:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    members = (getattr(module, name) for name in names)
    return [m for m in members if getattr(m, "__module__", None) == module.__name__]


def public_objects() -> list:
    """The public functions and classes: ``gmmmi.__all__`` (submodules expanded) and extras."""
    objects = []
    for name in gmmmi.__all__:
        obj = getattr(gmmmi, name)
        objects += _module_members(obj) if isinstance(obj, ModuleType) else [obj]
    for spec in EXTRA_PUBLIC:
        module, name = spec.split(":")
        objects.append(getattr(import_module(module), name))
    unique = {id(obj): obj for obj in objects if inspect.isfunction(obj) or inspect.isclass(obj)}
    return [obj for obj in unique.values() if obj.__module__ in ANNOTATED]


def callables_of(obj) -> list[tuple[str, FunctionType]]:
    """(qualified name, function) of a function, or of a class's own public methods."""
    if inspect.isfunction(obj):
        return [(obj.__qualname__, obj)]
    found = []
    for name, attr in vars(obj).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        elif isinstance(attr, property):
            attr = attr.fget
        if inspect.isfunction(attr):
            found.append((f"{obj.__qualname__}.{name}", attr))
    return found


def _public_callables() -> list[tuple[str, FunctionType]]:
    return [pair for obj in public_objects() for pair in callables_of(obj)]


@pytest.mark.parametrize("module", sorted(ANNOTATED))
def test_every_listed_module_has_public_objects_checked(module):
    assert any(obj.__module__ == module for obj in public_objects()), module


@pytest.mark.parametrize(
    "qualname, func", [pytest.param(q, f, id=q) for q, f in _public_callables()]
)
def test_public_callable_is_fully_annotated(qualname, func):
    signature = inspect.signature(func)
    missing = [
        p.name
        for i, p in enumerate(signature.parameters.values())
        if p.annotation is inspect.Parameter.empty and not (i == 0 and p.name in ("self", "cls"))
    ]
    assert not missing, f"{qualname}: parameters without a type hint: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, (
        f"{qualname}: no return type hint"
    )
    # every hint names something that exists (a typo or a missing import fails here)
    module_names = vars(import_module(func.__module__))
    typing.get_type_hints(func, globalns={**type_checking_names(), **module_names})


def test_the_check_finds_a_missing_hint():
    def half_annotated(a: int, b) -> int:
        return a

    class Holder:
        def method(self, a: int):
            return a

    assert [n for n, _ in callables_of(Holder)] == [f"{Holder.__qualname__}.method"]
    for func in (half_annotated, Holder.method):
        with pytest.raises(AssertionError, match="without a type hint|no return type hint"):
            test_public_callable_is_fully_annotated(func.__qualname__, func)
