"""Many estimates at once: `estimate_many` runs tasks over any executor.

The unit of work is one call of `gmmmi.estimate`. Work is spread with any
`concurrent.futures.Executor`: none (in-process, serial), a
`~concurrent.futures.ProcessPoolExecutor`, or a Dask cluster through
``dask.distributed.Client(...).get_executor()`` (or the ``Client`` itself).

Reproducibility: every task receives its own integer seed, spawned from one
`numpy.random.SeedSequence` built from ``random_state``, in task order. A
task's result therefore depends on the seed and its position only, never on
the executor, the number of workers, or the order in which tasks finish.

Data movement: the columns are shipped to the workers once, not once per
task. With a Dask executor each column is scattered once and every task
receives references (futures) to the columns it needs, so a worker fetches a
column at most once. With a process pool the columns are written once to
``.npy`` files in a temporary directory and memory-mapped by the workers
(columns of Python objects, e.g. text labels, travel with each task).
Results come back small: fitted mixture draws and MI draws, never the data.

One module per job:

``tasks``
    the task table (tasks resolved into references to a store of named
    arrays), `TaskError` and the per-task seeds;
``shipping``
    moving the store to the workers once (Dask scatter, memory-mapped
    ``.npy`` files, the fork-safety probe of a process pool);
``run``
    running one task on a worker, and `estimate_many`.

It only runs tasks: the entry points built on it (`gmmmi.mi_matrix` in
``gmmmi.matrix``, `gmmmi.lagged_mi`, `gmmmi.independence_test`, ...) import
it, never the other way round.
"""

from gmmmi.exceptions import TaskFailedWarning

from .run import estimate_many
from .tasks import TaskError

__all__ = ["TaskError", "TaskFailedWarning", "estimate_many"]


def __getattr__(name):
    if name in ("mi_matrix", "MIMatrix"):
        raise AttributeError(
            f"gmmmi.parallel.{name} moved to gmmmi.{name} (module gmmmi.matrix): gmmmi.parallel "
            "only runs tasks, and the MI matrix is built on it."
        )
    raise AttributeError(f"module 'gmmmi.parallel' has no attribute {name!r}")
