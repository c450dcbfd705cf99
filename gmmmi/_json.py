"""JSON of numpy values: the one ``default`` hook for `json.dumps` in gmmmi."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def json_default(obj, fallback: Callable[[object], object] | None = None):
    """``obj`` as a JSON value: numpy scalars and arrays become Python numbers and lists.

    Pass as ``json.dumps(value, default=json_default)``.

    Parameters
    ----------
    obj : object
        A value `json.dumps` cannot encode by itself.
    fallback : callable, optional
        Turns any other object into a JSON value (e.g. `str`, for output that
        must not fail); without it, such an object is refused.

    Returns
    -------
    object
        A number, a (nested) list, or what ``fallback`` returns.

    Raises
    ------
    TypeError
        For an object that is neither a numpy scalar nor an array, without
        ``fallback``.
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if fallback is not None:
        return fallback(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")
