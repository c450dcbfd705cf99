"""How many threads Numba's parallel kernels use: the one place that sets it.

`threads_for` keeps small batches of work on the calling thread;
`numba_threads` caps the threads of a task (``estimate_many``'s workers).
Neither ever changes a result: the kernels are parallel over independent
fits or points only.
"""

from __future__ import annotations

from collections.abc import Iterator
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
