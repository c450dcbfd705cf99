"""Many estimates at once: `estimate_many` and `mi_matrix` over any executor.

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
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import tempfile
import threading
import traceback as _traceback
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np

from ._estimate_options import check_estimate_options, check_executor
from ._progress import progress_bar, progress_enabled
from ._seeds import sequence_from_generator, spawn_int_seeds
from ._stacklevel import user_stacklevel
from ._threads import numba_threads
from ._validation import check_choice, check_int
from .exceptions import PValueResolutionWarning

__all__ = ["MIMatrix", "TaskError", "TaskFailedWarning", "estimate_many", "mi_matrix"]

_ROLES = ("x", "y", "z")


class TaskFailedWarning(UserWarning):
    """Some tasks of `estimate_many` or `mi_matrix` failed (see their `TaskError`)."""


@dataclass(frozen=True)
class TaskError:
    """A task that failed, kept in its slot of the results.

    Attributes
    ----------
    index : int
        Position of the task in the input list.
    type : str
        Name of the exception class, e.g. ``"KeyError"``, ``"ValueError"``.
    message : str
        The exception's message.
    traceback : str
        The formatted traceback where the task ran ("" if it failed before
        being submitted, e.g. an unknown column name).
    """

    index: int
    type: str
    message: str
    traceback: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return f"task {self.index} failed: {self.type}: {self.message}"


# --------------------------------------------------------------------------- tasks


def _is_column_key(item) -> bool:
    return isinstance(item, str) or (
        isinstance(item, numbers.Integral) and not isinstance(item, bool)
    )


def _is_column_spec(item) -> bool:
    """A column name, or a non-empty list/tuple of column names."""
    if _is_column_key(item):
        return True
    return isinstance(item, list | tuple) and len(item) > 0 and all(_is_column_key(k) for k in item)


def _as_columns(data) -> dict:
    """``data`` as an ordered ``{label: array}`` dict (no copies).

    A DataFrame gives its columns, a mapping its values, a 2D array its
    columns labelled 0, 1, ...
    """
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        labels = list(data.columns)
        repeated = next((c for i, c in enumerate(labels) if c in labels[:i]), None)
        if repeated is not None:
            raise ValueError(
                f"data has two columns named {repeated!r}; rename one so that tasks can "
                "name each column."
            )
        return {label: data.iloc[:, j].to_numpy() for j, label in enumerate(labels)}
    if isinstance(data, Mapping):
        return {label: np.asarray(value) for label, value in data.items()}
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(
            "data must be a DataFrame, a dict of arrays or a 2D array of shape "
            f"(n_samples, n_columns); got an array of shape {arr.shape}."
        )
    return {j: arr[:, j] for j in range(arr.shape[1])}


def _lookup(columns: dict, labels: list, key):
    """The label of ``key`` in ``columns`` (an int also works as a position)."""
    if key in columns:
        return key
    if isinstance(key, numbers.Integral) and 0 <= key < len(labels):
        return labels[key]
    shown = ", ".join(map(repr, labels[:20])) + (", ..." if len(labels) > 20 else "")
    raise KeyError(f"column {key!r} not found in data; available columns: {shown}")


class _TaskTable:
    """Tasks turned into references to a store of named arrays.

    ``store`` maps a string key to an array (a data column, or an array given
    in a task); ``specs[i]`` is ``{"x": keys, "y": keys or None, "z": keys or
    None}`` or a `TaskError` for a task that could not be resolved.
    """

    def __init__(self, tasks, data):
        if isinstance(tasks, np.ndarray) or not isinstance(tasks, Sequence):
            raise TypeError(
                "tasks must be a list of (x, y) or (x, y, z) tuples of arrays or column "
                f"names; got {type(tasks).__name__}."
            )
        self.columns = None if data is None else _as_columns(data)
        self._labels = None if data is None else list(self.columns)
        self.store: dict[str, np.ndarray] = {}
        # id(item) -> (key, item): holding the item keeps its id from being reused by
        # another object while the table lives (tasks may be built on demand)
        self._shared: dict[int, tuple[str, object]] = {}
        self.specs = []
        for i, task in enumerate(tasks):
            try:
                self.specs.append(self._resolve(task))
            except Exception as exc:  # reported in the task's slot
                self.specs.append(TaskError(i, type(exc).__name__, _message(exc)))

    def _resolve(self, task) -> dict:
        if isinstance(task, np.ndarray) or not isinstance(task, list | tuple):
            raise TypeError(
                f"a task must be a tuple (x, y) or (x, y, z); got {type(task).__name__}."
            )
        if not 1 <= len(task) <= 3:
            raise ValueError(f"a task must be a tuple (x, y) or (x, y, z); got {len(task)} items.")
        spec = dict.fromkeys(_ROLES)
        for role, item in zip(_ROLES, task, strict=False):
            spec[role] = self._keys(item)
        if spec["x"] is None:
            raise ValueError("the x of a task is None; give an array or column name(s).")
        return spec

    def _keys(self, item):
        if item is None:
            return None
        if self.columns is not None and _is_column_spec(item):
            names = [item] if _is_column_key(item) else list(item)
            return tuple(self._column_key(name) for name in names)
        return (self._array_key(item),)

    def _column_key(self, name) -> str:
        label = _lookup(self.columns, self._labels, name)
        key = f"c{self._labels.index(label)}"
        self.store.setdefault(key, self.columns[label])
        return key

    def _array_key(self, item) -> str:
        """The store key of an array given in a task.

        The same numpy array or pandas object in several tasks is stored once
        (it is kept alive here, so its ``id`` cannot be reused). Anything else,
        e.g. a list built on demand, is converted and stored per task.
        """
        shareable = isinstance(item, np.ndarray) or hasattr(item, "to_numpy")
        if shareable and id(item) in self._shared:
            return self._shared[id(item)][0]
        key = f"a{len(self.store)}"
        self.store[key] = np.asarray(item)
        if shareable:
            self._shared[id(item)] = (key, item)
        return key


def _message(exc: BaseException) -> str:
    # KeyError's str() wraps the message in quotes
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _task_seeds(random_state, n: int) -> list[int]:
    """One independent int seed per task, spawned from one SeedSequence."""
    if isinstance(random_state, np.random.Generator):
        root = sequence_from_generator(random_state, words=4)
    elif isinstance(random_state, np.random.SeedSequence):
        root = random_state
    elif random_state is None or (
        isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    ):
        root = np.random.SeedSequence(random_state)
    else:
        raise TypeError(
            "random_state must be an int, a numpy Generator, a SeedSequence or None; "
            f"got {type(random_state).__name__}."
        )
    return spawn_int_seeds(root, n)


# --------------------------------------------------------------------------- shipping data


class _ColumnFile:
    """A column written once to an ``.npy`` file, memory-mapped by the worker that reads it."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def load(self) -> np.ndarray:
        cached = _MAPPED.get(self.path)
        if cached is None:
            folder = os.path.dirname(self.path)
            for stale in [p for p in _MAPPED if os.path.dirname(p) != folder]:
                del _MAPPED[stale]
            cached = np.load(self.path, mmap_mode="r", allow_pickle=False)
            _MAPPED[self.path] = cached
        return np.array(cached)


#: per-process cache of memory-mapped columns (only the latest call's folder is kept)
_MAPPED: dict[str, np.ndarray] = {}


def _dask_client(executor):
    """The dask.distributed Client behind ``executor``, or None."""
    if not type(executor).__module__.startswith("distributed"):
        return None
    if hasattr(executor, "get_executor"):  # a Client passed as executor
        return executor
    return getattr(executor, "_client", None)


def _check_fork_safe(pool: ProcessPoolExecutor) -> None:
    """Refuse a fork-based pool once Numba's OpenMP threads run in this process.

    GNU OpenMP aborts a child forked from a process that has used it, so every
    task would die with an unhelpful "process terminated abruptly".
    """
    context = getattr(pool, "_mp_context", None)
    if context is None or context.get_start_method() != "fork":
        return
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel Numba code has run yet: forking is safe
        return
    if layer == "omp":
        raise RuntimeError(
            "This ProcessPoolExecutor starts workers with fork, which aborts after Numba's "
            "OpenMP threads have run in this process. Create it with a spawn context: "
            "ProcessPoolExecutor(n, mp_context=multiprocessing.get_context('spawn'))."
        )


class _Shipment:
    """The data store as the workers will see it; a context manager that cleans up."""

    def __init__(self, store: dict, executor):
        self._tmp = None
        self._client = None
        self.executor = executor
        client = _dask_client(executor)
        if client is not None:
            self._client = client
            self.executor = executor.get_executor() if executor is client else executor
            futures = client.scatter(list(store.values()), hash=False)
            self.refs = dict(zip(store, futures, strict=True))
        elif isinstance(executor, ProcessPoolExecutor):
            _check_fork_safe(executor)
            self._tmp = tempfile.mkdtemp(prefix="gmmmi-")
            self.refs = {}
            for key, value in store.items():
                if value.dtype.hasobject:  # cannot be memory-mapped: sent with each task
                    self.refs[key] = value
                    continue
                path = os.path.join(self._tmp, f"{key}.npy")
                np.save(path, value, allow_pickle=False)
                self.refs[key] = _ColumnFile(path)
        else:  # in-process, threads, or an unknown executor (pickles what each task needs)
            self.refs = store

    def columns_for(self, spec: dict) -> dict:
        return {k: self.refs[k] for keys in spec.values() if keys for k in keys}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._client is not None:
            for future in self.refs.values():
                future.release()  # the scattered columns leave the workers' memory
            self.refs = {}
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


# --------------------------------------------------------------------------- running one task


def _estimate(*args, **kwargs):
    from .api import estimate

    return estimate(*args, **kwargs)


def _assemble(columns: dict, keys):
    if keys is None:
        return None
    arrays = [
        c.load() if isinstance(c, _ColumnFile) else np.asarray(c) for c in map(columns.get, keys)
    ]
    if len(arrays) == 1:
        return arrays[0]
    return np.column_stack(arrays)


def _capture_warnings_safely() -> bool:
    """Recording warnings touches global state: only do it where tasks run one at a time."""
    if threading.current_thread() is threading.main_thread():
        return True
    try:
        from distributed import get_worker

        return get_worker().state.nthreads == 1
    except (ImportError, ValueError, AttributeError):
        return False


def _run_task(index, columns, spec, seed, options, threads):
    """Run one estimate where the executor put it; never raises.

    Returns
    -------
    result : Result or TaskError
    caught : list of (warning category, message), the warnings the task raised
    """
    capture = _capture_warnings_safely()
    caught = []
    try:
        x, y, z = (_assemble(columns, spec[r]) for r in _ROLES)
        with numba_threads(threads), warnings.catch_warnings(record=capture) as rec:
            if capture:
                warnings.simplefilter("always")
            result = _estimate(x, y, z=z, random_state=seed, progress=False, **options)
        caught = [(w.category, str(w.message)) for w in (rec or [])]
    except Exception as exc:
        result = TaskError(index, type(exc).__name__, _message(exc), _traceback.format_exc())
    return result, caught


# --------------------------------------------------------------------------- estimate_many


def estimate_many(
    tasks,
    *,
    data=None,
    executor: Executor | None = None,
    progress: bool | None = None,
    random_state=None,
    task_threads: int | None = None,
    **options,
) -> list:
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
    _check_run_options(executor, task_threads, options)
    table = _TaskTable(tasks, data)
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
        args = {i: (i, ship.columns_for(results[i]), results[i], seeds[i], options) for i in todo}
        if executor is None:
            for i in todo:
                results[i], caught[i] = _run_task(*args[i], task_threads)
                bar.update(1)
        else:
            _run_on(ship.executor, args, task_threads, results, caught, bar)
    _report(results, caught)
    return results


def _check_run_options(executor, task_threads, options: dict) -> None:
    """Refuse a bad executor, thread count or estimate option before any task runs."""
    check_executor(executor)
    if task_threads is not None:
        check_int("task_threads", task_threads, minimum=1)
    given = [role for role in _ROLES if role in options]
    if given:
        raise TypeError(
            f"{given[0]} is part of each task, not an option of estimate_many or "
            "mi_matrix; give tasks as (x, y) or (x, y, z) tuples."
        )
    check_estimate_options(options)


def _run_on(executor, args, threads, results, caught, bar):
    """Submit every task, collect as they finish; failures land in their slots."""
    futures = {}
    for i, a in args.items():
        try:
            futures[executor.submit(_run_task, *a, threads)] = i
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


def _report(results, caught):
    for i in sorted(caught):
        for category, message in caught[i]:
            warnings.warn(f"task {i}: {message}", category, stacklevel=user_stacklevel())
    failed = [r for r in results if isinstance(r, TaskError)]
    if failed:
        warnings.warn(
            f"{len(failed)} of {len(results)} tasks failed; their slots hold TaskError "
            f"objects (first: {failed[0]}).",
            TaskFailedWarning,
            stacklevel=user_stacklevel(),
        )


# --------------------------------------------------------------------------- mi_matrix


def _named_columns(data, labels, prefix: str) -> dict:
    """``{name: 1D array}`` for a DataFrame, dict or 2D array (named prefix0, prefix1, ...).

    Names are the columns' ``str()``; columns whose names coincide (``1`` and
    ``"1"``, or a repeated name) are refused unless ``labels`` renames them.
    """
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        keys = list(data.columns)
        arrays = [data.iloc[:, j].to_numpy() for j in range(len(keys))]
    elif isinstance(data, Mapping):
        keys, arrays = list(data), [np.asarray(v) for v in data.values()]
    else:
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(
                "data must be a DataFrame, a dict of 1D arrays or a 2D array of shape "
                f"(n_samples, n_columns); got an array of shape {arr.shape}."
            )
        keys = [f"{prefix}{j}" for j in range(arr.shape[1])]
        arrays = [arr[:, j] for j in range(arr.shape[1])]
    if labels is not None:
        labels = [str(v) for v in labels]
        if len(labels) != len(arrays):
            raise ValueError(
                f"labels must name every column; got {len(labels)} labels for "
                f"{len(arrays)} columns."
            )
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique.")
        names = labels
    else:
        names = [str(k) for k in keys]
        _check_distinct_names(keys, names)
    for name, col in zip(names, arrays, strict=True):
        if col.ndim != 1:
            raise ValueError(f"column {name!r} must be one-dimensional; got shape {col.shape}.")
    return dict(zip(names, arrays, strict=True))


def _check_distinct_names(keys: list, names: list) -> None:
    """ValueError if two columns get the same name (e.g. ``1`` and ``"1"``)."""
    first = {}
    for key, name in zip(keys, names, strict=True):
        if name in first:
            raise ValueError(
                f"columns {first[name]!r} and {key!r} would both be labelled {name!r}; "
                "rename one of them, or pass labels=[...] with one distinct name per column."
            )
        first[name] = key


def _unit(base) -> str:
    base = float(base)
    return {2.0: "bit", math.e: "nat"}.get(base, f"log{base:g}")


def mi_matrix(
    data,
    *,
    against=None,
    labels=None,
    against_labels=None,
    executor: Executor | None = None,
    progress: bool | None = None,
    random_state=None,
    task_threads: int | None = None,
    pvalues: bool = False,
    n_permutations: int | None = None,
    correction: str = "holm",
    **options,
) -> MIMatrix:
    """MI between all pairs of columns, or between two sets of columns.

    Parameters
    ----------
    data : DataFrame, dict of 1D arrays or 2D array, shape (n, p)
        Columns of a 2D array are named ``"x0"``, ``"x1"``, ...
    against : DataFrame, dict of 1D arrays or 2D array, shape (n, q), optional
        If given, every column of ``data`` against every column of
        ``against`` (a p × q matrix; 2D-array columns named ``"y0"``, ...),
        e.g. latent dimensions against ground-truth factors. Otherwise all
        p (p - 1) / 2 pairs of columns of ``data`` (a symmetric p × p matrix
        with a NaN diagonal).
    labels, against_labels : list of str, optional
        Names replacing the columns' own.
    executor, progress, random_state, task_threads
        As in `estimate_many`; pair ``k`` (in row-major order) gets the k-th
        child seed, so results do not depend on the executor.
    pvalues : bool, default False
        Also test every pair for independence with
        `gmmmi.independence_test` (``n_permutations`` permutations, run on
        ``executor``), and correct the p-values for testing many pairs.
    n_permutations : int or None
        Permutations per pair when ``pvalues``. A permutation p-value is at
        least 1 / (B + 1), so after a correction for m pairs the smallest
        reachable value is m / (B + 1); None (default) takes
        ``max(199, 40 m - 1)``, which lets a pair reach 0.025 after Holm's
        correction. A smaller B with Holm's correction, where no pair could
        reach 0.05, gives a `PValueResolutionWarning`.
    correction : {"holm", "bh", "none"}, default "holm"
        Multiple-testing correction of the p-values: Holm's step-down
        (controls the chance of any false positive among the pairs),
        Benjamini–Hochberg (controls the expected fraction of false
        positives among the pairs declared dependent) or none.
    **options
        Passed to every `gmmmi.estimate` call (``n_bootstrap``, ``base``,
        ``backend``, ``discrete_y`` for categorical ``against`` columns, ...).

    Returns
    -------
    MIMatrix
        ``.mean`` and ``.sd`` (labelled DataFrames, in the unit of ``base``),
        ``.errors`` of failed pairs, ``.to_frame()``, ``.plot()``; with
        ``pvalues``, ``.pvalues`` and ``.p_adjusted``.

    Raises
    ------
    TypeError, ValueError
        Before any pair runs, as in `estimate_many`, and for columns whose
        names collide once made labels (``1`` and ``"1"``; pass ``labels``).
    """
    import pandas as pd

    _check_run_options(executor, task_threads, options)
    if pvalues:
        from .independence import CORRECTIONS

        correction = check_choice("correction", str(correction).lower(), CORRECTIONS)
        if n_permutations is not None:
            n_permutations = check_int("n_permutations", n_permutations, minimum=1)
    rows = _named_columns(data, labels, "x")
    symmetric = against is None
    cols = rows if symmetric else _named_columns(against, against_labels, "y")
    lengths = {len(c) for c in (*rows.values(), *cols.values())}
    if len(lengths) > 1:
        raise ValueError(
            f"all columns must have the same number of samples; got lengths {sorted(lengths)}."
        )
    rnames, cnames = list(rows), list(cols)
    if symmetric:
        pairs = [(i, j) for i in range(len(rnames)) for j in range(i + 1, len(rnames))]
        store = {f"r{i}": rows[n] for i, n in enumerate(rnames)}
        tasks = [(f"r{i}", f"r{j}") for i, j in pairs]
    else:
        pairs = [(i, j) for i in range(len(rnames)) for j in range(len(cnames))]
        store = {f"r{i}": rows[n] for i, n in enumerate(rnames)}
        store.update({f"c{j}": cols[n] for j, n in enumerate(cnames)})
        tasks = [(f"r{i}", f"c{j}") for i, j in pairs]
    results = estimate_many(
        tasks,
        data=store,
        executor=executor,
        progress=progress,
        random_state=random_state,
        task_threads=task_threads,
        **options,
    )
    mean = np.full((len(rnames), len(cnames)), np.nan)
    sd = np.full_like(mean, np.nan)
    errors, kept = {}, {}
    for (i, j), res in zip(pairs, results, strict=True):
        key = (rnames[i], cnames[j])
        if isinstance(res, TaskError):
            errors[key] = res
            continue
        kept[key] = res
        mean[i, j], sd[i, j] = float(res.value), float(res.sd)
        if symmetric:
            mean[j, i], sd[j, i] = mean[i, j], sd[i, j]
    tests = {}
    if pvalues:
        n_permutations = _permutation_count(n_permutations, len(pairs), correction)
        test_kw = {"executor": executor, "n_permutations": n_permutations, **options}
        raw, adjusted, tests = _pair_pvalues(
            pairs, (rows, cols), symmetric, errors, random_state, test_kw, correction
        )

    def frame(values):
        return pd.DataFrame(values, index=rnames, columns=cnames)

    return MIMatrix(
        mean=frame(mean),
        sd=frame(sd),
        errors=errors,
        results=kept,
        symmetric=symmetric,
        unit=_unit(options.get("base", math.e)),
        pvalues=frame(raw) if pvalues else None,
        p_adjusted=frame(adjusted) if pvalues else None,
        correction=correction if pvalues else None,
        tests=tests,
    )


def _pair_pvalues(pairs, columns, symmetric, errors, random_state, test_kw, correction):
    """Permutation p-values of every pair, raw and corrected, as (p, q) matrices.

    Each pair's test gets its own seed (a stream distinct from the estimates'
    seeds); a pair whose estimate or test failed has a NaN p-value and is left
    out of the correction.
    """
    from .independence import adjust_pvalues, independence_test

    names = [list(columns[0]), list(columns[1])]
    shape = (len(names[0]), len(names[1]))
    raw = np.full(shape, np.nan)
    seeds = _task_seeds(_test_stream(random_state), len(pairs))
    test_kw = {k: v for k, v in test_kw.items() if k != "n_bootstrap"}
    tests = {}
    for k, (i, j) in enumerate(pairs):
        key = (names[0][i], names[1][j])
        if key in errors:
            continue
        x, y = columns[0][key[0]], columns[1][key[1]]
        try:
            tests[key] = independence_test(x, y, random_state=seeds[k], **test_kw)
        except (ValueError, TypeError) as exc:
            errors[key] = TaskError(k, type(exc).__name__, f"independence test: {_message(exc)}")
            continue
        raw[i, j] = tests[key].pvalue
    done = np.isfinite(raw)
    adjusted = np.full(shape, np.nan)
    adjusted[done] = adjust_pvalues(raw[done], correction)
    if symmetric:
        for matrix in (raw, adjusted):
            upper = np.isfinite(matrix)
            matrix.T[upper] = matrix[upper]
    return raw, adjusted, tests


def _permutation_count(n_permutations, n_pairs: int, correction: str) -> int:
    """B for each pair's test: the user's, or enough to resolve a corrected 0.025."""
    if n_permutations is None:
        return max(199, 40 * n_pairs - 1)
    if correction == "holm" and n_pairs / (n_permutations + 1) > 0.05:
        warnings.warn(
            f"With n_permutations={n_permutations} and {n_pairs} pairs, the smallest "
            f"Holm-corrected p-value is {n_pairs} / {n_permutations + 1} = "
            f"{n_pairs / (n_permutations + 1):.3g} > 0.05: no pair can be declared dependent "
            f"at 0.05. Use n_permutations >= {20 * n_pairs - 1} (or None for "
            f"{max(199, 40 * n_pairs - 1)}), or correction='bh'.",
            PValueResolutionWarning,
            stacklevel=user_stacklevel(),
        )
    return n_permutations


def _test_stream(random_state):
    """A seed stream for the independence tests, distinct from the estimates' stream."""
    if isinstance(random_state, np.random.Generator):
        return sequence_from_generator(random_state, words=4)
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.SeedSequence(
            random_state.entropy, spawn_key=(*random_state.spawn_key, 2**31)
        )
    return np.random.SeedSequence(random_state, spawn_key=(2**31,))


@dataclass
class MIMatrix:
    """A labelled matrix of MI estimates with their uncertainty.

    Attributes
    ----------
    mean, sd : pandas.DataFrame, shape (p, q)
        MI (the estimate's centre) and its standard deviation, rows and
        columns labelled by variable; NaN on the diagonal of a symmetric
        matrix and for failed pairs.
    errors : dict of (row, column) -> TaskError
        The pairs that failed.
    results : dict of (row, column) -> Result
        The full result of every pair that succeeded (each with its draws).
    symmetric : bool
        True for all pairs of one set of columns (only row < column estimated).
    unit : str
        ``"nat"``, ``"bit"``, ...
    pvalues, p_adjusted : pandas.DataFrame or None
        With ``mi_matrix(..., pvalues=True)``: each pair's permutation
        p-value, and the same corrected for the number of pairs by
        ``correction``; NaN on the diagonal and for failed pairs.
    correction : str or None
        ``"holm"``, ``"bh"`` or ``"none"``; None without p-values.
    tests : dict of (row, column) -> IndependenceTest
        Each pair's test (empty without p-values).
    """

    mean: object
    sd: object
    errors: dict
    results: dict
    symmetric: bool
    unit: str = "nat"
    pvalues: object = None
    p_adjusted: object = None
    correction: str | None = None
    tests: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        p, q = self.mean.shape
        return (
            f"MIMatrix({p}x{q}, {len(self.results)} estimates, {len(self.errors)} failed, "
            f"unit={self.unit!r})"
        )

    def _pairs(self):
        rows, cols = list(self.mean.index), list(self.mean.columns)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                if not self.symmetric or i < j:
                    yield r, c

    def to_frame(self):
        """Long form: one row per estimated pair.

        Returns
        -------
        pandas.DataFrame
            Columns ``x``, ``y``, ``mean``, ``sd``, ``unit``, ``error`` (the
            failure message, or "" for a pair that succeeded), and with
            p-values ``pvalue`` and ``p_adjusted`` before ``error``.
        """
        import pandas as pd

        names = ["x", "y", "mean", "sd", "unit"]
        if self.pvalues is not None:
            names += ["pvalue", "p_adjusted"]
        rows = []
        for r, c in self._pairs():
            err = self.errors.get((r, c))
            row = {"x": r, "y": c, "mean": self.mean.loc[r, c], "sd": self.sd.loc[r, c]}
            row["unit"] = self.unit
            if self.pvalues is not None:
                row["pvalue"] = self.pvalues.loc[r, c]
                row["p_adjusted"] = self.p_adjusted.loc[r, c]
            row["error"] = "" if err is None else f"{err.type}: {err.message}"
            rows.append(row)
        return pd.DataFrame(rows, columns=[*names, "error"])

    def plot(
        self,
        ax=None,
        *,
        annotate=None,
        cmap: str = "viridis",
        min_ratio: float = 2.0,
        alpha: float = 0.05,
    ):
        """Annotated heat-map of the MI, with its uncertainty visible.

        Each cell is coloured by the mean MI and, if ``annotate``, labelled
        ``"mean±sd"``, the sd to two significant digits and the mean to the
        same decimal. With p-values (``mi_matrix(..., pvalues=True)``), the
        cells whose corrected p-value exceeds ``alpha`` (independence not
        rejected) are hatched; without, the cells whose mean is less than
        ``min_ratio`` standard deviations from zero (a rough screen, with no
        known false-positive rate). Failed pairs are grey and marked "failed".

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Created (with a size that fits the labels) if not given.
        annotate : bool, optional
            Write "mean±sd" in the cells; default: when the matrix has at most
            20 rows and columns.
        cmap : str, default "viridis"
        min_ratio : float, default 2.0
            The screen without p-values.
        alpha : float, default 0.05
            The level of the corrected p-values, with p-values.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle

        from .result import format_pm

        mean, sd = self.mean.to_numpy(float), self.sd.to_numpy(float)
        padj = None if self.p_adjusted is None else self.p_adjusted.to_numpy(float)
        p, q = mean.shape
        annotate = max(p, q) <= 20 if annotate is None else annotate
        if ax is None:
            cell = 0.8 if max(p, q) <= 20 else max(0.2, 16.0 / max(p, q))  # inches
            size = (max(4.5, 2.0 + cell * q), max(3.5, 1.2 + cell * p))
            _, ax = plt.subplots(figsize=size, layout="constrained")
        finite = mean[np.isfinite(mean)]
        vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        img = ax.imshow(np.ma.masked_invalid(mean), cmap=cmap, vmin=0.0, vmax=vmax, aspect="auto")
        cmap_obj = img.get_cmap()
        ax.set_facecolor("white")
        ax.figure.colorbar(img, ax=ax, label=f"MI [{self.unit}]", fraction=0.046, pad=0.04)
        ax.set_xticks(range(q), labels=list(self.mean.columns), rotation=45, ha="right")
        ax.set_yticks(range(p), labels=list(self.mean.index))
        rpos = {r: i for i, r in enumerate(self.mean.index)}
        cpos = {c: j for j, c in enumerate(self.mean.columns)}
        faint = dict(fill=False, hatch="///", edgecolor="0.55", linewidth=0)
        for i in range(p):
            for j in range(q):
                m, s = mean[i, j], sd[i, j]
                if not np.isfinite(m):
                    continue
                if padj is not None:
                    weak = bool(np.isfinite(padj[i, j]) and padj[i, j] > alpha)
                else:
                    weak = bool(np.isfinite(s) and s > 0 and abs(m) < min_ratio * s)
                if weak:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, **faint))
                if annotate:
                    r, g, b, _ = cmap_obj(img.norm(m))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                    text = format_pm(m, s, sep="±")
                    color = "white" if dark else "black"
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
        for r, c in self.errors:
            cells = {(rpos[r], cpos[c])}
            if self.symmetric:
                cells.add((rpos[c], cpos[r]))
            for i, j in cells:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.8"))
                ax.text(j, i, "failed", ha="center", va="center", fontsize=7, color="0.3")
        if padj is not None:
            hatched = f"{self.correction}-corrected p > {alpha:g}"
        else:
            hatched = f"mean < {min_ratio:g} sd"
        ax.set_title(f"MI, mean±sd\nhatched: {hatched}", fontsize=9)
        return ax
