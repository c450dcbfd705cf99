"""Shipping the data of many tasks to the workers, once.

`_Shipment` turns the task table's store of named arrays into what each
executor's workers read: Dask futures of columns scattered once, ``.npy``
files memory-mapped by the workers of a process pool (`_ColumnFile`), or the
arrays themselves in-process. `_check_fork_safe` refuses a fork-based pool
once Numba's OpenMP threads have run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np


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
