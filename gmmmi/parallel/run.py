"""Running tasks: one estimate on a worker, and `estimate_many` over an executor."""

from __future__ import annotations

import threading
import traceback as _traceback
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, as_completed
from typing import TYPE_CHECKING, Any

import numpy as np

from gmmmi._checks import check_int
from gmmmi._estimate_options import EstimateOptions, check_executor, resolve_estimate_options
from gmmmi._progress import progress_bar, progress_enabled
from gmmmi._stacklevel import user_stacklevel
from gmmmi._threads import numba_threads
from gmmmi.exceptions import TaskFailedWarning

from .shipping import _ColumnFile, _Shipment
from .tasks import _ROLES, TaskError, _message, _task_seeds, _TaskTable

if TYPE_CHECKING:
    from gmmmi.result import Result


def _estimate(x, y, z, options: EstimateOptions, random_state):
    """One estimate with the options `estimate_many` resolved once for every task."""
    from gmmmi.api import run

    return run(x, y, z, options, random_state=random_state, progress=False)


def _assemble(columns: dict, keys, names=None):
    """The array of one role of a task; a pandas object labelled by ``names`` if given."""
    if keys is None:
        return None
    arrays = [
        c.load() if isinstance(c, _ColumnFile) else np.asarray(c) for c in map(columns.get, keys)
    ]
    if names is None:
        return arrays[0] if len(arrays) == 1 else np.column_stack(arrays)
    import pandas as pd  # installed with arviz; only tasks that name data columns get here

    if len(arrays) == 1:
        return pd.Series(arrays[0], name=names[0])
    return pd.DataFrame(dict(zip(names, arrays, strict=True)), columns=names)


def _describe(names: dict | None) -> str:
    """`` (a; b | c)``: the columns of a task, for its warnings; "" without names."""
    if names is None:
        return ""
    shown = [", ".join(names[role]) for role in _ROLES if role in names]
    text = "; ".join(shown[:2]) + (f" | {shown[2]}" if len(shown) > 2 else "")
    return f" ({text})"


def _capture_warnings_safely() -> bool:
    """Recording warnings touches global state: only do it where tasks run one at a time."""
    if threading.current_thread() is threading.main_thread():
        return True
    try:
        from distributed import get_worker

        return get_worker().state.nthreads == 1
    except (ImportError, ValueError, AttributeError):
        return False


def _run_task(index, columns, spec, seed, options, threads, names=None):
    """Run one estimate where the executor put it; never raises.

    ``names`` (``{role: [column names]}`` or None) labels the estimate's columns.

    Returns
    -------
    result : Result or TaskError
    caught : list of (warning category, message), the warnings the task raised
    """
    capture = _capture_warnings_safely()
    caught = []
    try:
        names = names or {}
        x, y, z = (_assemble(columns, spec[r], names.get(r)) for r in _ROLES)
        with numba_threads(threads), warnings.catch_warnings(record=capture) as rec:
            if capture:
                warnings.simplefilter("always")
            result = _estimate(x, y, z, options, seed)
        caught = [(w.category, str(w.message)) for w in (rec or [])]
    except Exception as exc:
        result = TaskError(index, type(exc).__name__, _message(exc), _traceback.format_exc())
    return result, caught


# --------------------------------------------------------------------------- estimate_many


def estimate_many(
    tasks: Sequence[tuple],
    *,
    data: Any = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    task_threads: int | None = None,
    **options: Any,
) -> list[Result | TaskError]:
    """Run `gmmmi.estimate` on many tasks, serially or on an executor.

    Parameters
    ----------
    tasks : list of tuple
        Each task is ``(x, y)`` or ``(x, y, z)``, like the arguments of
        `gmmmi.estimate` (``y`` may be None, ``z`` is the conditioning block).
        An item is an array, or, when ``data`` is given, a column name (or
        integer position) or a list of them, which are stacked as columns.
    data : DataFrame, dict of arrays or 2D array, optional
        Where column names in ``tasks`` are looked up. Columns are shipped to
        the workers once, whatever the number of tasks that use them.
    executor : concurrent.futures.Executor, dask Client or None
        Where the tasks run.

        * None (default): in this process, one task after another. The Numba
          backend already spreads each estimate's bootstrap replicas over all
          cores, so on one machine a pool of processes mostly competes for the
          same cores; serial is the sensible default and needs no start-up.
        * `~concurrent.futures.ProcessPoolExecutor`: one task per process.
          Worth it for many small tasks (little data, few bootstrap replicas),
          where one estimate cannot keep all cores busy. Create it with
          ``mp_context=multiprocessing.get_context("spawn")``: with Numba's
          OpenMP threading layer, forked workers abort once an estimate has
          run in the parent (a RuntimeError says so before any task is sent).
        * ``dask.distributed.Client(address).get_executor()`` (or the
          ``Client``): the way to scale past one machine.
        * Any other executor (e.g. threads) works; each task then receives
          the columns it needs by reference (threads) or by pickling.
    progress : bool or None
        A progress bar over tasks; None shows it in a terminal for long work.
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Root of the per-task seeds: task ``i`` gets the ``i``-th child of
        ``SeedSequence(random_state)``, so the results are identical whatever
        the executor. Each result records its own seed in
        ``result.meta["random_state"]``.
    task_threads : int or None
        Numba threads per task. None (default): all cores when serial, 1 on an
        executor (the executor provides the parallelism; more would
        oversubscribe the cores). Raise it on a cluster whose workers have
        several cores and run one task at a time. Results do not depend on it.
    **options
        Passed to every `gmmmi.estimate` call (``backend``, ``kl``, ``base``,
        ``discrete_y``, ``n_bootstrap``, ...).

    Returns
    -------
    list of Result or TaskError, length len(tasks)
        In input order. A task that failed (unknown column, invalid data, a fit
        error) holds a `TaskError` with its index, exception type and message;
        the other results are kept and a ``TaskFailedWarning`` reports the
        count. Warnings raised inside a task are re-issued here, prefixed with
        the task index (except on multi-threaded Dask workers, where they stay
        in the worker logs).

    Raises
    ------
    TypeError
        Before any task runs: for an executor that is not None, an
        `concurrent.futures.Executor` or a Dask client; an unknown option
        name; ``z`` given as an option; a value of the wrong type.
    ValueError
        Before any task runs: for an out-of-range option value, an unknown
        backend, counts whose results cannot fit in memory, or a DataFrame
        with a repeated column name.

    Examples
    --------
    >>> import multiprocessing
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> tasks = [("a", "b"), ("a", "c"), (["a", "b"], "c")]
    >>> spawn = multiprocessing.get_context("spawn")
    >>> with ProcessPoolExecutor(4, mp_context=spawn) as pool:    # doctest: +SKIP
    ...     results = gmmmi.estimate_many(tasks, data=df, executor=pool, random_state=0)
    """
    return run_tasks(tasks, data, executor, progress, random_state, task_threads, options)


def run_tasks(tasks, data, executor, progress, random_state, task_threads, options, names=None):
    """`estimate_many`'s work; ``names`` maps a key of ``data`` to the name it shows as.

    `gmmmi.mi_matrix` stores its columns under short keys (``r0``, ``c3``) and
    passes the user's names here, so that estimates and warnings show them.
    """
    resolved = _check_run_options(executor, task_threads, options)
    table = _TaskTable(tasks, data, names)
    seeds = _task_seeds(random_state, len(table.specs))
    if task_threads is None and executor is not None:
        task_threads = 1
    results: list = list(table.specs)
    caught: dict[int, list] = {}
    todo = [i for i, s in enumerate(table.specs) if not isinstance(s, TaskError)]
    with (
        _Shipment(table.store, executor) as ship,
        progress_bar(len(results), "gmmmi tasks", progress_enabled(progress), unit="task") as bar,
    ):
        bar.update(len(results) - len(todo))
        names = {i: table.task_names(results[i]) for i in todo}
        args = {
            i: (
                i,
                ship.columns_for(results[i]),
                results[i],
                seeds[i],
                resolved,
                task_threads,
                names[i],
            )
            for i in todo
        }
        if executor is None:
            for i in todo:
                results[i], caught[i] = _run_task(*args[i])
                bar.update(1)
        else:
            _run_on(ship.executor, args, results, caught, bar)
    _report(results, caught, names)
    return results


def _check_run_options(executor, task_threads, options: dict) -> EstimateOptions:
    """Refuse a bad executor, thread count or estimate option before any task runs.

    Returns the options resolved once for every task.
    """
    check_executor(executor)
    if task_threads is not None:
        check_int("task_threads", task_threads, minimum=1)
    given = [role for role in _ROLES if role in options]
    if given:
        raise TypeError(
            f"{given[0]} is part of each task, not an option of estimate_many or "
            "mi_matrix; give tasks as (x, y) or (x, y, z) tuples."
        )
    return resolve_estimate_options(options)


def _run_on(executor, args, results, caught, bar):
    """Submit every task, collect as they finish; failures land in their slots."""
    futures = {}
    for i, a in args.items():
        try:
            futures[executor.submit(_run_task, *a)] = i
        except Exception as exc:
            results[i] = TaskError(i, type(exc).__name__, _message(exc), _traceback.format_exc())
            bar.update(1)
    for fut in as_completed(futures):
        i = futures[fut]
        try:
            results[i], caught[i] = fut.result()
        except Exception as exc:  # lost worker, unpicklable result, ...
            results[i] = TaskError(i, type(exc).__name__, _message(exc))
        bar.update(1)


def _report(results, caught, names):
    for i in sorted(caught):
        for category, message in caught[i]:
            warnings.warn(
                f"task {i}{_describe(names[i])}: {message}", category, stacklevel=user_stacklevel()
            )
    failed = [r for r in results if isinstance(r, TaskError)]
    if failed:
        warnings.warn(
            f"{len(failed)} of {len(results)} tasks failed; their slots hold TaskError "
            f"objects (first: {failed[0]}).",
            TaskFailedWarning,
            stacklevel=user_stacklevel(),
        )
