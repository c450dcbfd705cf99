"""The task table of `gmmmi.estimate_many`: tasks, their failures and their seeds.

Tasks name arrays or data columns; `_TaskTable` turns them into references
to one store of named arrays, so that each array is shipped once. A task that
cannot be resolved (an unknown column, a malformed tuple) becomes a
`TaskError` in its slot. `_task_seeds` gives every task its own seed.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gmmmi._seeds import resolve_sequence, spawn_int_seeds

_ROLES = ("x", "y", "z")


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

    def __init__(self, tasks, data, names=None):
        if isinstance(tasks, np.ndarray) or not isinstance(tasks, Sequence):
            raise TypeError(
                "tasks must be a list of (x, y) or (x, y, z) tuples of arrays or column "
                f"names; got {type(tasks).__name__}."
            )
        self.columns = None if data is None else _as_columns(data)
        self._labels = None if data is None else list(self.columns)
        self.store: dict[str, np.ndarray] = {}
        #: store key -> column name, for the data columns that have a string name
        self.names: dict[str, str] = {}
        self._shown = names or {}
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
        label = self._shown.get(label, label)
        if isinstance(label, str):
            self.names[key] = label
        return key

    def task_names(self, spec: dict) -> dict | None:
        """``{role: [column names]}`` of a task made only of named data columns, else None.

        The estimate then labels its columns (and its warnings) with the user's
        names rather than ``x0``, ``y0``.
        """
        roles = {role: keys for role, keys in spec.items() if keys is not None}
        if not all(k in self.names for keys in roles.values() for k in keys):
            return None
        return {role: [self.names[k] for k in keys] for role, keys in roles.items()}

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
    return spawn_int_seeds(resolve_sequence(random_state, words=4)[1], n)
