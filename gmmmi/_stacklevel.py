"""The ``stacklevel`` that makes a warning point at the user's line, not into gmmmi."""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """``stacklevel`` for a `warnings.warn` call: the first frame outside the gmmmi package.

    A fixed stacklevel breaks as soon as a function is reached by another
    path (``estimate`` through its interrupt wrapper, ``mi_matrix`` through
    ``estimate_many``); counting the package's own frames does not.

    Returns
    -------
    int
        1 for the function calling `warnings.warn`, plus one per gmmmi frame
        above it; the outermost frame's level if every frame is gmmmi's (the
        command-line interface).
    """
    frame = sys._getframe(1)  # the function that calls warnings.warn
    level = 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE
    ):
        frame = frame.f_back
        level += 1
    return level
