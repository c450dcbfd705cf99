"""`entropy`: the entropy of a sample, from the same fits and integrals as `gmmmi.estimate`.

The differential entropy h(x) = -E[log p(x)] of continuous columns is the
integral of the fitted mixture's log-density, in data units (the integral in
standardised units plus the sum of the logs of the columns' scales). Unlike
MI, it changes under a change of units or any map of the columns, so the
margins' maps of ``transform=`` do not apply. Discrete columns enter by the
chain rule, H(D, C) = H(D) + sum_d p(d) h(C | D = d) (`gmmmi.mixed`), H(D)
with the bias correction of `gmmmi.contingency`; a column with ties or point
masses that is treated as continuous has no density, so it is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._data import _as_samples, _assemble, _check_enough_samples
from ._estimate_options import resolve_options
from ._interrupt import interruptible
from ._progress import progress_enabled
from ._screening import TIED_FRACTION
from ._seeds import resolve_generator
from .api import _check_fit_output
from .backends import Backend, get_backend
from .mixed import ColumnPlan, estimate_mixed, find_atoms, plan_columns
from .result import Result


@interruptible
def entropy(
    x: Any,
    *,
    discrete: str | Sequence[str | int] | None = "auto",
    backend: str | Backend = "numba",
    base: float = math.e,
    random_state: int | np.random.Generator | None = None,
    progress: bool | None = None,
    min_category_size: int | None = None,
    **options: Any,
) -> Result:
    """Entropy of a sample (differential for continuous columns), with its uncertainty.

    Parameters
    ----------
    x : array_like or DataFrame, shape (n, d)
        The sample; a 1-d array is one variable.
    discrete : "auto", None or sequence of str or int, default "auto"
        Discrete columns, as in `gmmmi.estimate`: ``"auto"`` takes columns
        with at most 10 distinct values; a list names them.
    backend : str or Backend, default "numba"
    base : float, default math.e
        Logarithm base: e gives nats, 2 bits.
    random_state : int, Generator or None
    progress : bool or None
    min_category_size : int or None
        Pool the levels of each discrete column with fewer rows.
    **options
        The backend's options and ``integral_method``, ``MC_samples``,
        ``fixed_components_number``, as in `gmmmi.estimate`.

    Returns
    -------
    Result
        ``result.quantity == "entropy"``; ``result.value`` in data units
        (nats or bits), ``result.draws["entropy"]`` per bootstrap replica.

    Raises
    ------
    ValueError
        A column treated as continuous that has point masses or mostly tied
        values (its differential entropy is -inf: declare it discrete, or
        add U(0, 1) noise to counts), and the input errors of `gmmmi.estimate`.

    Notes
    -----
    Differential entropy is not invariant under maps: x in metres and in
    millimetres differ by ln(1000) per column. It is reported for the data
    as given.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> x = np.random.default_rng(0).normal(size=(1000, 2))
    >>> print(gmmmi.entropy(x, random_state=0))
    H(x0, x1) = 2.837 ± 0.034 nat (numba, 50 bootstrap, K=1)
      95% interval (value ± 1.96 sd): [2.771, 2.903] nat
    """
    values, names = _as_samples("x", x)
    data = _assemble({"x": (values, names)})
    _check_enough_samples(data.X)
    resolved = resolve_options(
        backend=backend,
        base=base,
        discrete=discrete,
        min_category_size=min_category_size,
        **options,
    )
    seed, rng = resolve_generator(random_state)
    labels = [str(v) for v in data.labels["x"]]
    plan = plan_columns(data.X, labels, discrete) or ColumnPlan((), {}, "none")
    _refuse_ties(data.X, labels, plan)
    return estimate_mixed(
        data,
        ColumnPlan(plan.discrete, {}, plan.requested),
        backend=get_backend(resolved.backend),
        fit_options=resolved.fit_options,
        api_options=resolved.api_options,
        n_components=resolved.n_components,
        rng=rng,
        seed=seed,
        progress=progress_enabled(progress),
        integrate_kw=resolved.integrate_kw(rng),
        base=resolved.base,
        n_folds=resolved.n_folds,
        min_category_size=min_category_size,
        check_fit_output=_check_fit_output,
        estimand="entropy",
        transform=None,  # not invariant under maps
    )


def _refuse_ties(X: np.ndarray, names: list, plan: ColumnPlan) -> None:
    """ValueError for a continuous column with point masses or mostly tied values."""
    for j in range(X.shape[1]):
        if j in plan.discrete:
            continue
        column = X[:, j]
        distinct = np.unique(column).size
        tied = 1.0 - distinct / column.size
        if find_atoms(column) or tied > TIED_FRACTION:
            raise ValueError(
                f"Column {names[j]!r} is treated as continuous but {tied:.0%} of its values "
                "repeat another: a variable with point masses has no density, so its "
                "differential entropy is -inf and any finite estimate would only measure the "
                f"fit. Declare it discrete (discrete=[{names[j]!r}]) for the entropy of its "
                "values, or, for counts, add U(0, 1) noise (the entropy of the count is then "
                "that of the noisy column)."
            )
