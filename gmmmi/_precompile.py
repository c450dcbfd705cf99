"""The E-step compiled in a helper process while a cold first estimate compiles the rest.

With an empty Numba cache, the first estimate of a process compiles every kernel it runs,
one after the other: Numba compiles under one lock per process. `start`, called as an
estimate begins, starts one helper process that compiles the E-step
(`gmmmi._kernels.em._e_step` with the functions it calls, about a third of the compile
time) into the cache, for the one signature the EM kernel calls it with; meanwhile this
process validates, screens, and compiles k-means and the rest of the EM kernel up to its
call of the E-step. There it waits for the helper (`wait`), and Numba loads the E-step
from the cache instead of compiling it. On two idle cores the two compile at the same
time.

The helper is started only where it can help: the EM kernel and the E-step are neither
compiled in this process nor in the cache, the cache directory is writable, the JIT is
on, the process may use two CPUs and two Numba threads (so not a task of a process
pool), and ``GMMMI_PRECOMPILE`` is not ``"0"``. A helper that cannot start, fails or
takes longer than `WAIT_SECONDS` changes nothing but the time: this process then
compiles the E-step itself (same source, same signature, the same numbers).
The helper is reaped when it ends (a thread waits for it; one still running at exit is
stopped), and a process forked while a helper runs ignores it.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from pathlib import Path

#: environment variable: "0" never starts a helper process
ENV = "GMMMI_PRECOMPILE"
#: longest wait for the helper before compiling here (it is then stopped)
WAIT_SECONDS = 120.0

#: what the helper runs: the E-step compiled for the one signature `_em_fit_batch` calls it
#: with (every array C-contiguous; tests/kernels/test_precompile.py checks that it is loaded)
_HELPER_CODE = (
    "from numba import types as t\n"
    "from gmmmi._kernels.em import _e_step\n"
    "f, i = t.float64, t.int64\n"
    "X, rows, w, means, P, c, ws, ib, fb, Nk, S1, S2 = (t.Array(a, n, 'C') for a, n in (\n"
    "    (f, 2), (i, 1), (f, 1), (f, 2), (f, 3), (f, 1), (f, 2), (i, 1), (f, 1), (f, 1), (f, 2),\n"
    "    (f, 3)))\n"
    "_e_step.compile((X, rows, w, means, P, c, ws, ib, fb, Nk, S1, S2, t.boolean))\n"
)

_lock = threading.Lock()
_helper: subprocess.Popen | None = None
_helper_pid = 0  # the process that started the helper (a forked child must not wait for it)


def start() -> bool:
    """Start the helper process if the E-step is not compiled yet and it can help.

    Returns
    -------
    bool
        True if a helper process was started by this call.
    """
    global _helper, _helper_pid
    if os.environ.get(ENV, "1") == "0":
        return False
    with _lock:
        if _helper is not None and _helper_pid == os.getpid():
            return False
        from ._kernels.em import _e_step, _em_fit_batch

        if not (_worth_starting(_em_fit_batch) and _worth_starting(_e_step)):
            return False
        _helper = _spawn(_HELPER_CODE)
        _helper_pid = os.getpid()
        if _helper is None:
            return False
        # reaps the helper as soon as it ends, even if no EM fit ever waits for it
        threading.Thread(target=_helper.wait, name="gmmmi-precompile", daemon=True).start()
        _e_step.compile = _compile_after_helper  # this process waits where it needs the E-step
    _compile_leaves()
    return True


def _compile_leaves() -> None:
    """Compile the E-step's last two callees here, into the cache the helper reads.

    While the helper starts and compiles the E-step's blocked log-density (over a second),
    this process compiles `log_block` and `_stats_2` (about 0.5 s), for the signatures the
    E-step calls them with: the helper then loads them from the cache, and both processes
    reach the end of their share at about the same time. If the helper gets there first,
    it compiles them itself (the same code, some time lost).
    """
    from numba.core import config

    if config.DISABLE_JIT:
        return
    for kernel, signature in _leaves():
        kernel.compile(signature)


def _leaves() -> list[tuple]:
    """(kernel, signature) of `log_block` and `_stats_2` as the E-step calls them."""
    from numba import types as t

    from ._kernels.em import _stats_2
    from ._kernels.logdensity import log_block

    f1, f2, i1 = (t.Array(a, n, "C") for a, n in ((t.float64, 1), (t.float64, 2), (t.int64, 1)))
    return [
        (log_block, (f1, f1, t.int64, i1, f1)),
        (_stats_2, (f1, f1, f2, f1, t.int64, f1, f1, f2, t.int64)),
    ]


def _compile_after_helper(sig):
    """`_e_step.compile` while a helper runs: wait for it, then compile (or load from the cache)."""
    from ._kernels.em import _e_step

    _compile_while_waiting()
    wait()
    return _e_step.compile(sig)


def _compile_while_waiting() -> None:
    """Kernels the estimate runs after its first EM fits, compiled while the helper works.

    k-means' Lloyd iterations (the K search's starts for K > 1) and the Cholesky factors
    of the fits (`gmmmi.mixture`), for the signatures the estimate calls them with: this
    process would otherwise compile them after the EM kernel, when the helper is done.
    """
    for kernel, signature in _later_kernels():
        helper = _helper
        if helper is None or helper.poll() is not None:
            return  # the helper is done: back to the EM kernel
        kernel.compile(signature)


def _later_kernels() -> list[tuple]:
    """(kernel, signature) of `kmeans._lloyd` and `linalg._cholesky_each` as estimates call them."""
    from numba import types as t

    from ._kernels.kmeans import _lloyd
    from ._kernels.linalg import _cholesky_each

    f1, f2, f3 = (t.Array(t.float64, n, "C") for n in (1, 2, 3))
    i1, b1 = t.Array(t.int64, 1, "C"), t.Array(t.boolean, 1, "C")
    return [
        (_lloyd, (f2, f2, t.int64, t.float64, i1, f2, f1)),
        (_cholesky_each, (f3, f3, b1)),
    ]


def wait() -> bool | None:
    """Wait for the helper started by `start` (at most `WAIT_SECONDS`), then forget it.

    Returns
    -------
    bool or None
        None if no helper ran; True if it compiled the E-step (exit status 0); False if it
        failed or was stopped (this process then compiles the E-step itself).
    """
    global _helper
    with _lock:
        from ._kernels.em import _e_step

        _e_step.__dict__.pop("compile", None)  # Numba's own compile again
        helper, _helper = _helper, None
        if helper is None or _helper_pid != os.getpid():
            return None
        try:
            return helper.wait(timeout=WAIT_SECONDS) == 0
        except subprocess.TimeoutExpired:
            _stop(helper)
            return False


def _worth_starting(dispatcher) -> bool:
    """Whether a helper could put ``dispatcher``'s kernel in the cache before it is needed."""
    import numba
    from numba.core import config

    if config.DISABLE_JIT or dispatcher.signatures:
        return False
    cache = getattr(dispatcher, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    if index is None or Path(index).exists():  # no cache, or already compiled into it
        return False
    if not os.access(Path(index).parent, os.W_OK):
        return False
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    # one Numba thread: a task of a process pool (task_threads=1), whose pool already uses
    # the other cores, or a caller who asked for one core
    return cpus >= 2 and numba.get_num_threads() >= 2


def _forget_in_child() -> None:
    """A forked child starts with no helper, a free lock and Numba's own compile."""
    global _lock, _helper
    _lock = threading.Lock()
    _helper = None
    em = sys.modules.get("gmmmi._kernels.em")  # no import here: another thread may hold its lock
    if em is not None:
        em._e_step.__dict__.pop("compile", None)


os.register_at_fork(after_in_child=_forget_in_child)


def _spawn(code: str) -> subprocess.Popen | None:
    """``code`` run by a new interpreter importing this copy of gmmmi; None if it cannot start."""
    package_parent = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (package_parent, path) if p))
    env[ENV] = "0"
    try:
        return subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def _stop(helper: subprocess.Popen) -> None:
    """Stop a helper and reap it."""
    try:
        helper.kill()
        helper.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass


@atexit.register
def _reap_at_exit() -> None:
    """A helper still running when the process exits (no EM fit came) is stopped."""
    helper = _helper
    if helper is not None and _helper_pid == os.getpid() and helper.poll() is None:
        _stop(helper)
