"""Ctrl-C inside compiled code surfaces as `KeyboardInterrupt`, not `SystemError`.

When SIGINT arrives while a Numba function runs, Python's handler sets a
KeyboardInterrupt that the compiled code cannot raise; Numba then reports
``SystemError: CPUDispatcher(...) returned a result with an exception set``,
with the KeyboardInterrupt at the root of the chain. ``except
KeyboardInterrupt`` would miss it (and ``except Exception`` would catch it).
"""

from __future__ import annotations

import functools


def _caused_by_interrupt(exc: BaseException | None) -> bool:
    """True if a KeyboardInterrupt is anywhere in the cause/context chain of ``exc``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def interruptible(func):
    """Decorate ``func`` so that Ctrl-C during compiled code raises `KeyboardInterrupt`.

    Parameters
    ----------
    func : callable

    Returns
    -------
    callable
        ``func``, with a ``SystemError`` whose chain holds a KeyboardInterrupt
        re-raised as a plain ``KeyboardInterrupt``; other errors unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SystemError as err:
            if _caused_by_interrupt(err):
                raise KeyboardInterrupt from None
            raise

    return wrapper
