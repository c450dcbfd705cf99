"""Ctrl-C inside compiled code surfaces as `KeyboardInterrupt`, not `SystemError`.

When SIGINT arrives while a Numba function runs, Python's handler sets a
KeyboardInterrupt that the compiled code cannot raise; Numba then reports
``SystemError: CPUDispatcher(...) returned a result with an exception set``,
with the KeyboardInterrupt at the root of the chain. ``except
KeyboardInterrupt`` would miss it (and ``except Exception`` would catch it).
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading


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


class InterruptRecorder:
    """Whether Ctrl-C arrived during a call that swallows `KeyboardInterrupt`; see `recording`."""

    def __init__(self) -> None:
        self.interrupted = False

    def stop_if_interrupted(self, *args, **kwargs) -> None:
        """A sampler callback: raise `KeyboardInterrupt` again once Ctrl-C has arrived.

        PyMC's sequential sampler ends a chain on KeyboardInterrupt and goes on
        with the next one; raised from its ``callback``, the interrupt ends
        every later chain at its first draw.
        """
        if self.interrupted:
            raise KeyboardInterrupt


@contextlib.contextmanager
def recording(what: str):
    """Ctrl-C while a library that catches `KeyboardInterrupt` runs (PyMC, nutpie) still stops.

    Those samplers stop at Ctrl-C and return the draws made so far (which then
    fail later checks with an unrelated error), raise an error of their own
    about too few draws, or go on with the next chain. Inside this context
    SIGINT still raises `KeyboardInterrupt` where it arrives (so they stop),
    and is remembered: on leaving the context, normally or by any exception,
    `KeyboardInterrupt` is raised naming ``what``, and the partial draws are
    dropped. Outside the main thread no signal handler can be installed and
    nothing changes.

    Parameters
    ----------
    what : str
        What was interrupted, for the message (``"PyMC's sampling"``).

    Yields
    ------
    InterruptRecorder
        Its ``stop_if_interrupted`` is a callback for samplers that take one.
    """
    recorder = InterruptRecorder()
    if threading.current_thread() is not threading.main_thread():
        yield recorder
        return
    message = (
        f"{what} was interrupted (Ctrl-C); its partial draws are discarded and no result "
        "is returned."
    )
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        recorder.interrupted = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield recorder
    except BaseException:
        if recorder.interrupted:
            raise KeyboardInterrupt(message) from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if recorder.interrupted:
        raise KeyboardInterrupt(message)
