"""Checks of option values and names, and the one format of their error messages.

Messages say what was expected, what was got, and what to do. The data
themselves are checked in `gmmmi._data` (coercion) and `gmmmi._rows` (what a
fit needs of the rows).
"""

from __future__ import annotations

import difflib
import numbers

import numpy as np


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), else raise ValueError."""
    if value not in choices:
        raise ValueError(
            f"Unknown {name} {value!r}; valid values are {', '.join(map(repr, choices))}."
        )
    return value


def check_int(name: str, value, minimum: int | None = None) -> int:
    """Return ``value`` as int; raise for a non-integer or a value below ``minimum``.

    Floats with an integral value (``1e5``) are accepted, as in the original
    gmm-mi (``MC_samples=1e5``); bools are not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__}).")
    if not float(value).is_integer():
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return value


def check_float(name: str, value, minimum: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite float no smaller than ``minimum``.

    With ``strict=True`` the value must be strictly greater than ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        bound = "greater than" if strict else "at least"
        raise ValueError(f"{name} must be {bound} {minimum}; got {value}.")
    return value


# ---------------------------------------------------------------------------
# Options


def validate_options(options: dict, allowed: dict) -> dict:
    """Merge user options into their defaults, rejecting unknown names.

    Parameters
    ----------
    options : dict
        Options given by the user (name -> value).
    allowed : dict
        Every accepted option name with its default value.

    Returns
    -------
    dict
        A copy of ``allowed`` updated with ``options``.

    Raises
    ------
    TypeError
        For a name not in ``allowed``; the message lists the valid names
        (sorted) and suggests the closest one.
    """
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = sorted(allowed)
        hints = [
            f"{name!r} (did you mean {match[0]!r}?)" if match else repr(name)
            for name in unknown
            for match in [difflib.get_close_matches(name, valid, n=1)]
        ]
        noun = "option" if len(unknown) == 1 else "options"
        raise TypeError(f"Unknown {noun} {', '.join(hints)}; valid options are {', '.join(valid)}.")
    return {**allowed, **options}
