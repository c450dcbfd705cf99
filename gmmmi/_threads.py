"""How many threads the compiled kernels use: the one place that sets it.

`threads_for` keeps small batches of work on the calling thread;
`numba_threads` caps the threads of a task (``estimate_many``'s workers).
Numba's ``prange`` kernels (the QMC and MC integrands) follow that count; the
EM and quadrature kernels are serial and without the GIL (a ``prange`` kernel
takes several times longer to compile), and `run_split` runs them on that many
Python threads.
Nothing here ever changes a result: the work is split over independent fits or
points only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

#: Estimated work (sample x component evaluations) below which a parallel kernel is run
#: on the calling thread only: waking Numba's worker threads costs more than tiny batches
#: gain. Measured on 2 cores at load <= 2 (warm, D3/D5 at N=2000, about 1e7): 2 threads
#: took 94/81 ms against 170/146 ms on one thread. Under heavy oversubscription (load 5-8)
#: the idle worker's spin-wait made 2 threads slower instead; that is the machine's
#: problem to solve (NUMBA_NUM_THREADS=1), not a reason to give up both cores.
PARALLEL_MIN_WORK = 1e6


@contextmanager
def numba_threads(n: int | None) -> Iterator[None]:
    """Context in which Numba's parallel kernels use at most ``n`` threads.

    Parameters
    ----------
    n : int or None
        Threads for the compiled calls made by this thread, clipped to
        1 .. ``NUMBA_NUM_THREADS``; None leaves the count as it is. The
        previous count is restored on exit (it is per calling thread).
    """
    if n is None:
        yield
        return
    import numba  # here, so that importing the task runner stays light

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def threads_for(work: float):
    """Context in which parallel kernels use one thread when ``work`` is small.

    Parameters
    ----------
    work : float
        Estimated sample x component evaluations of the enclosed compiled calls;
        below `PARALLEL_MIN_WORK` Numba's thread count is set to 1 (for the
        calling thread only) and restored on exit. Results never depend on it.
    """
    return numba_threads(None if work >= PARALLEL_MIN_WORK else 1)


def thread_count(work: float) -> int:
    """Threads for a batch of ``work`` (estimated sample x component evaluations).

    1 below `PARALLEL_MIN_WORK`, else Numba's thread count of the calling thread
    (``NUMBA_NUM_THREADS``, or what `numba_threads` set).
    """
    if work < PARALLEL_MIN_WORK:
        return 1
    import numba

    return numba.get_num_threads()


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist there, start afresh."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    """The process's worker threads for `run_split` (created on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import numba

            workers = max(1, numba.config.NUMBA_NUM_THREADS - 1)
            _POOL = ThreadPoolExecutor(workers, thread_name_prefix="gmmmi")
        return _POOL


def run_split(func: Callable[[slice], object], n: int, threads: int) -> list:
    """``func`` on ``threads`` contiguous slices of ``range(n)``, at the same time.

    Parameters
    ----------
    func : callable
        Takes a slice of the items (a compiled call); it must release the GIL
        (a ``nogil`` kernel) for the slices to run in parallel.
    n : int
        Items (fits), split into at most ``threads`` slices of equal size.
    threads : int
        The calling thread runs the first slice, the others run on worker threads.

    Returns
    -------
    list
        ``func``'s results, in the order of the slices.
    """
    threads = max(1, min(int(threads), n))
    parts = [slice(n * i // threads, n * (i + 1) // threads) for i in range(threads)]
    if threads == 1:
        return [func(parts[0])]
    futures = [_pool().submit(func, part) for part in parts[1:]]
    first = func(parts[0])
    return [first, *(future.result() for future in futures)]
