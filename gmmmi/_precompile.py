"""Kernels compiled in a helper process while a cold first estimate compiles the rest.

With an empty Numba cache, the first estimate of a process compiles every kernel it runs,
one after the other: Numba compiles under one lock per process. `start`, called as an
estimate begins, starts one helper process that compiles kernels into the cache (`_plan`,
for the signatures the estimate calls them with): first the E-step
(`gmmmi._kernels.em._e_step` with the functions it calls, about a third of the EM
kernel's compile time), then the bootstrap's resampling and the quadrature, which an
estimate with K > 1 components runs after its EM fits. It prints each kernel's name when
it is in the cache. Meanwhile this process compiles the E-step's last callees for the
helper (`_compile_leaves`), validates, screens, and compiles the rest of the EM kernel up
to its call of the E-step; there it compiles kernels it needs later (k-means, Cholesky
factors) while the helper is still busy, then waits for the E-step's name, and Numba
loads the E-step from the cache instead of compiling it. Each kernel of the plan is
waited for where this process first needs it. On two idle cores the two compile at the
same time.

The helper is started only where it can help: the EM kernel and the E-step are neither
compiled in this process nor in the cache, the cache directory is writable, the JIT is
on, the process may use two CPUs and two Numba threads (so not a task of a process
pool), and ``GMMMI_PRECOMPILE`` is not ``"0"``. A helper that cannot start, fails or
takes longer than `WAIT_SECONDS` changes nothing but the time: this process then
compiles the kernels itself (same source, same signatures, the same numbers).
The helper is reaped when it ends (a thread reads its output and waits for it; one still
running at exit is stopped), and a process forked while a helper runs ignores it.
"""

from __future__ import annotations

import atexit
import functools
import os
import subprocess
import sys
import threading
from pathlib import Path

#: environment variable: "0" never starts a helper process
ENV = "GMMMI_PRECOMPILE"
#: longest wait for the helper before compiling here (it is then stopped)
WAIT_SECONDS = 120.0

#: what the helper runs (`_compile_plan`)
_HELPER_CODE = "from gmmmi._precompile import _compile_plan\n_compile_plan()\n"

_lock = threading.Lock()
_helper: _Helper | None = None
_helper_pid = 0  # the process that started the helper (a forked child must not wait for it)
_patched: list = []  # the kernels whose compile waits for the helper


def _plan() -> list[tuple]:
    """(kernel, signature) the helper compiles, in the order an estimate needs them.

    The E-step for the one signature `_em_fit_batch` calls it with, then the bootstrap's
    distinct rows and counts (`resample_sets`) and the quadrature (`quad_cross_entropy`)
    as an estimate with K > 1 calls them (every array C-contiguous; the quadrature's
    nodes and weights read-only). tests/kernels/test_precompile.py checks that these are
    the signatures an estimate uses.
    """
    from numba import types as t

    from ._kernels.em import _e_step
    from ._kernels.integrands import quad_cross_entropy
    from ._kernels.resample import resample_sets

    f, i = t.float64, t.int64

    def a(dtype, ndim, readonly=False):
        return t.Array(dtype, ndim, "C", readonly=readonly)

    e_step = (a(f, 2), a(i, 1), a(f, 1), a(f, 2), a(f, 3), a(f, 1), a(f, 2), a(i, 1))
    e_step += (a(f, 1), a(f, 1), a(f, 2), a(f, 3), t.boolean)
    quad = (a(f, 2), a(f, 3), a(f, 4), a(f, 2), a(f, 3), a(f, 4), a(f, 2, True), a(f, 2, True))
    return [(_e_step, e_step), (resample_sets, (a(i, 2), i)), (quad_cross_entropy, quad)]


def _compile_plan() -> None:
    """The helper's work: compile `_plan` into the cache, printing each kernel's name."""
    for kernel, signature in _plan():
        kernel.compile(signature)
        print(kernel.py_func.__name__, flush=True)


class _Helper:
    """A running helper process and the names of the kernels it has put in the cache."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.compiled: set[str] = set()
        self.ended = False  # its output is closed: it ended, failed or was stopped
        self.changed = threading.Condition()
        # reads its output, then reaps it, even if this process never waits for it
        threading.Thread(target=self._read, name="gmmmi-precompile", daemon=True).start()

    def _read(self) -> None:
        with self.process.stdout as output:
            for line in output:
                with self.changed:
                    self.compiled.add(line.strip())
                    self.changed.notify_all()
        self.process.wait()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def wait_for(self, name: str, timeout: float) -> bool:
        """Wait until ``name`` is in the cache or the helper ended; False after ``timeout``."""
        with self.changed:
            return self.changed.wait_for(lambda: name in self.compiled or self.ended, timeout)

    def busy_with(self, name: str) -> bool:
        """Whether the helper is still running and has not compiled ``name`` yet."""
        with self.changed:
            return not self.ended and name not in self.compiled


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
        process = _spawn(_HELPER_CODE)
        if process is None:
            return False
        _helper, _helper_pid = _Helper(process), os.getpid()
        for kernel, _ in _plan():  # this process waits where it first needs each of them
            kernel.compile = functools.partial(_compile_after_helper, kernel)
            _patched.append(kernel)
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


def _compile_after_helper(kernel, sig):
    """``kernel.compile`` while a helper runs: wait for the helper to put it in the cache.

    Then Numba's own compile loads it from there (or compiles it, if the helper failed,
    was stopped after `WAIT_SECONDS`, or compiled another signature).
    """
    name = kernel.py_func.__name__
    helper = _helper
    if helper is not None and _helper_pid == os.getpid():
        if name == "_e_step":
            _compile_while_waiting(helper)
        if not helper.wait_for(name, WAIT_SECONDS):
            _stop(helper.process)
    kernel.__dict__.pop("compile", None)  # Numba's own compile again
    return kernel.compile(sig)


def _compile_while_waiting(helper: _Helper) -> None:
    """Kernels the estimate runs after its first EM fits, compiled while the helper works.

    k-means' Lloyd iterations (the K search's starts for K > 1) and the Cholesky factors
    of the fits (`gmmmi.mixture`), for the signatures the estimate calls them with: this
    process would otherwise compile them after the EM kernel, once the E-step is loaded.
    """
    for kernel, signature in _later_kernels():
        if not helper.busy_with("_e_step"):
            return  # the E-step is in the cache: back to the EM kernel
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
    """Wait for the helper started by `start` to end (at most `WAIT_SECONDS`), then forget it.

    Every kernel of the plan is then compiled by Numba's own compile (from the cache where
    the helper put it there).

    Returns
    -------
    bool or None
        None if no helper ran; True if it compiled its plan (exit status 0); False if it
        failed or was stopped.
    """
    global _helper
    with _lock:
        _forget_patches()
        helper, _helper = _helper, None
        if helper is None or _helper_pid != os.getpid():
            return None
        try:
            return helper.process.wait(timeout=WAIT_SECONDS) == 0
        except subprocess.TimeoutExpired:
            _stop(helper.process)
            return False


def _forget_patches() -> None:
    """Numba's own compile for every kernel that waited for the helper."""
    while _patched:
        _patched.pop().__dict__.pop("compile", None)


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
    _forget_patches()


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
            stdout=subprocess.PIPE,  # the names of the kernels compiled (`_compile_plan`)
            stderr=subprocess.DEVNULL,
            text=True,
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
    if helper is not None and _helper_pid == os.getpid() and helper.process.poll() is None:
        _stop(helper.process)
