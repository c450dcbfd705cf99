"""`independence_test`: a permutation test of I(x; y) = 0, or of I(x; y | z) = 0.

The statistic is the whole estimation procedure without its bootstrap: the
component search chooses K and the MI of that fit is the statistic, on the
observed data and, again, on every copy whose rows of y are reordered
(`gmmmi._permutations`). Applying one procedure to every copy makes the test
exact for exchangeable rows: under the null the observed data are one more
reordered copy, so their statistic ranks first among the B + 1 with
probability 1 / (B + 1) whatever the procedure does.

Two parts of `gmmmi.estimate` are computed once instead of once per copy,
which keeps that symmetry: the per-column Gaussianising maps
(`gmmmi.margins`) depend only on each column's values, which a reordering of
y does not change, so they are fitted once (on the sorted values, so that not
even the row order enters) and every copy is fitted on mapped columns; and
``transform="auto"``'s comparison of mapped and raw joint fits is left out
(the maps are used whenever a column is not Gaussian), which would double the
cost of every copy. Each copy gets its own seed for its folds and starts.

The copies run as tasks of `gmmmi.estimate_many`, in chunks drawn one at a
time, so they spread over any executor, a large count costs no memory, and
the p-value is the same whatever the executor or the number of threads.

See ``docs/independence.md`` for the measured false-positive rate and power.
"""

from __future__ import annotations

import re
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_choice, check_int
from ._data import validate_data
from ._estimate_options import check_estimate_options, check_executor, resolve_estimate_options
from ._permutations import PERMUTATIONS, reordering
from ._progress import progress_bar, progress_enabled
from ._seeds import resolve_sequence
from ._stacklevel import user_stacklevel
from .exceptions import PValueResolutionWarning, TaskFailedWarning
from .serial import warn_serial_dependence

if TYPE_CHECKING:
    from distributed import Client
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

__all__ = [
    "CORRECTIONS",
    "IndependenceTest",
    "PValueResolutionWarning",
    "adjust_pvalues",
    "independence_test",
]

#: multiple-testing corrections of `adjust_pvalues`
CORRECTIONS = ("holm", "bh", "none")


#: the largest ``n_permutations`` accepted: each permuted copy is a whole component search
MAX_PERMUTATIONS = 1_000_000
#: permuted copies handed to `gmmmi.estimate_many` at a time (fixed: results never depend on it)
CHUNK = 50


@dataclass(frozen=True)
class IndependenceTest:
    """The outcome of `independence_test`.

    Attributes
    ----------
    statistic : float
        The MI (or CMI) of the single fit (K chosen by the component search)
        to the observed data, in ``unit``.
    pvalue : float
        ``(1 + #{null >= statistic}) / (1 + n_permutations)``: the chance,
        under the null, of a statistic at least as large. Never 0; its
        smallest value is ``1 / (1 + n_permutations)``.
    null : numpy.ndarray, shape (n_permutations,)
        The statistic on each reordered copy of the data, in draw order.
    n_components : int
        K chosen on the observed data (per category with ``discrete_y``: the
        largest).
    quantity : str
        ``"mi"`` or ``"cmi"``.
    scheme : str
        How y was reordered: ``"permutation"``, ``"grouped permutation"``
        (exact copies of a row moved together), ``"stratified permutation"``
        (within strata of z, for the CMI), ``"block permutation"`` or
        ``"circular shift"`` (time series).
    unit : str
        ``"nat"``, ``"bit"``, ...
    random_state : int or None
        The seed of the whole test (None when a Generator was given).
    null_components : numpy.ndarray of int, shape (n_permutations,)
        K chosen on each reordered copy.
    block_length : int or None
        L of a block permutation, or the smallest shift of a circular one.
    margins : str
        ``"gaussianize"`` (every copy fitted on the columns' Gaussianising
        maps, fitted once) or ``"none"`` (the raw data).
    """

    statistic: float
    pvalue: float
    null: np.ndarray = field(repr=False)
    n_components: int
    quantity: str
    scheme: str
    unit: str
    random_state: int | None = None
    null_components: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False)
    block_length: int | None = None
    margins: str = "none"

    @property
    def n_permutations(self) -> int:
        """B, the number of reordered copies."""
        return int(self.null.size)

    def __str__(self) -> str:
        what = "I(x; y | z)" if self.quantity == "cmi" else "I(x; y)"
        copies = "circular shifts" if self.scheme == "circular shift" else "permutations"
        length = "" if self.block_length is None else f", L = {self.block_length}"
        return (
            f"{self.scheme.capitalize()} test of {what} = 0: statistic "
            f"{self.statistic:.4g} {self.unit}, p = {self.pvalue:.3g} "
            f"({self.n_permutations} {copies}{length}, K = {self.n_components}; null median "
            f"{np.median(self.null):.3g}, 95th percentile {np.quantile(self.null, 0.95):.3g})"
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the null draws with the observed statistic.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Created if not given.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plot import plot_null_distribution

        return plot_null_distribution(self, ax)


def independence_test(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    z: ArrayLike | None = None,
    n_permutations: int = 199,
    permutation: str = "iid",
    block_length: int | None = None,
    random_state: int | np.random.Generator | None = None,
    executor: Executor | Client | None = None,
    progress: bool | None = None,
    stratum_size: int = 10,
    **options: Any,
) -> IndependenceTest:
    """Permutation test of I(x; y) = 0, or of I(x; y | z) = 0.

    The statistic is the MI (CMI) of `gmmmi.estimate`'s single fit
    (``n_bootstrap=0``): K chosen by the component search, then the MI of
    that fit. The same procedure, K search included, runs on the observed
    data and on each of the ``n_permutations`` copies whose rows of y are
    reordered, so under the null the observed data are one more copy and
    the test is exact for exchangeable rows. The columns' Gaussianising maps
    (``transform``) depend only on each column's values and are fitted once;
    every copy is fitted on the mapped columns when a column is not
    Gaussian. A test costs the maps plus B + 1 component searches; the
    false-positive rate, power and cost are measured in
    ``docs/independence.md``.

    Parameters
    ----------
    x, y, z : array_like or DataFrame
        As in `gmmmi.estimate` (``x`` alone of shape (n, 2) or (n, 2 + k) is
        split into x, y and z the same way). With ``discrete_y=True``, y holds
        category labels and they are reordered.
    n_permutations : int, default 199
        B, the number of reordered copies (at most 1,000,000). The p-value is
        a multiple of 1 / (B + 1); with B = 19, 99, 199... the test at
        α = 0.05 is exact.
    permutation : {"iid", "block", "circular"}, default "iid"
        How y is reordered, i.e. which null is tested.

        * ``"iid"``: rows are exchangeable draws; the null is that x and y
          are independent. y is permuted freely (within strata of z with
          ``z``: the null is then conditional independence). Exact copies
          of a row (repeated records) move together: a group of identical
          rows is exchanged only with groups of the same size.
        * ``"block"``: rows are a time series. y is cut into consecutive
          blocks of ``block_length`` rows and the blocks are shuffled,
          which keeps y's autocorrelation within blocks. The null is that
          the two series are independent (each may be autocorrelated);
          approximate, as the junctions of blocks lose a little of it.
        * ``"circular"``: rows are a time series. y is shifted in time by a
          random lag of at least ``block_length`` rows and wrapped around,
          which keeps all of its autocorrelation but one junction. Same
          null as ``"block"``; it assumes y is stationary (its start and end
          are alike) and has at most n - 2 L + 1 distinct copies.
    block_length : int or None, default None
        L of ``"block"`` (and the smallest shift of ``"circular"``); None
        chooses it from the series' lag-1 autocorrelations
        (the rule of ``docs/independence.md``). A block permutation keeps
        at least 8 blocks.
    random_state : int, numpy.random.Generator or None
        Seed of the permutations and of every fit. The same seed gives the
        same p-value whatever the executor and the number of threads.
    executor : concurrent.futures.Executor, dask Client or None
        Where the permuted fits run, as in `gmmmi.estimate_many` (e.g. a
        ``ProcessPoolExecutor`` with a spawn context). None: in this process.
    progress : bool or None, default None
        A progress bar over the permuted copies; None shows it in a terminal
        for long work.
    stratum_size : int, default 10
        Conditional test only: rows are ordered by z (by its first principal
        component when z has several columns), cut into consecutive strata of
        about this many rows, and y is permuted within each stratum. This
        keeps the y–z relation nearly intact while breaking any x–y link
        given z; it is approximate (z varies a little within a stratum) and
        blind to z directions other than the ordering one.
    **options
        Options of `gmmmi.estimate` (``base``, ``discrete_y``, ``n_inits``,
        ``transform``, ``fixed_components_number``, ...); ``n_bootstrap`` is
        set to 0. Only the numba backend.

    Returns
    -------
    IndependenceTest
        ``.statistic``, ``.pvalue``, ``.null``, ``.plot()``.

    Raises
    ------
    TypeError, ValueError
        For the data and options `gmmmi.estimate` would refuse, a bad
        ``n_permutations``, ``permutation``, ``block_length`` or
        ``stratum_size``, ``n_bootstrap`` given, a backend other than numba,
        ``z`` with a time-series reordering, or permuted fits that fail.

    Warns
    -----
    SerialDependenceWarning
        With ``permutation="iid"``, when a column is autocorrelated in row
        order (a time series: its rows are not exchangeable); the message
        names the columns and the fix, ``permutation="block"`` or
        ``"circular"``.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 300))
    >>> test = gmmmi.independence_test(x, y, n_permutations=19, random_state=0)
    >>> bool(test.pvalue > 0.05)
    True
    """
    n_permutations = check_permutation_count(n_permutations)
    permutation = check_choice("permutation", permutation, PERMUTATIONS)
    if block_length is not None:
        block_length = check_int("block_length", block_length, minimum=1)
        if permutation == "iid":
            raise ValueError(
                "block_length applies to permutation='block' or 'circular' (time series); "
                "permutation='iid' shuffles single rows."
            )
    stratum_size = check_int("stratum_size", stratum_size, minimum=2)
    check_executor(executor)
    if "n_bootstrap" in options:
        raise TypeError(
            "independence_test sets n_bootstrap itself (one fit per permutation); drop "
            "n_bootstrap=."
        )
    _check_backend(options.get("backend", "numba"))
    if options.get("sample_weight") is not None:
        raise ValueError(
            "independence_test does not take sample_weight: permuting the rows of y moves them "
            "away from their weights, so the permuted copies are not draws of the weighted null."
        )
    check_estimate_options(options)
    discrete = bool(options.get("discrete_y", False))
    pooled = options.pop("min_category_size", None)  # applied once, to the labels
    transform = options.pop("transform", "auto")
    data = validate_data(x, y, z, discrete_y=discrete, min_category_size=pooled)
    xs, ys, zs = _blocks(data)
    if zs is not None and permutation != "iid":
        raise ValueError(
            f"permutation={permutation!r} reorders a time series and cannot keep y's relation "
            "to z; the conditional test needs permutation='iid' (within strata of z)."
        )
    seed, root = _root_sequence(random_state)
    # the copies' seeds, the reorderings, the margins' maps: three independent streams
    fit_seq, perm_seq, map_seq = root.spawn(3)
    observed_seed = int(fit_seq.generate_state(1, np.uint64)[0] % 2**63)
    rows = np.column_stack([data.X, ys]) if discrete else data.X
    order = reordering(permutation, rows, xs, ys, zs, stratum_size, block_length)
    if permutation == "iid":  # rows shuffled one by one: a time series is not exchangeable
        # one row per record: its copies (exchanged together) would look like serial dependence
        records = data.X
        if order.units is not None:
            records = data.X[np.sort(np.unique(order.units, return_index=True)[1])]
        warn_serial_dependence(
            records,
            [name for key in data.blocks for name in data.labels[key]],
            practice="Permuting rows one by one treats them as exchangeable, so the p-value is "
            "too small",
            fix="permutation='block' or 'circular' (reorderings that keep each series' "
            "autocorrelation)"
            if zs is None
            else "a test that keeps the time order (none is offered with z yet)",
        )
    perm_rng = np.random.default_rng(perm_seq)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xs, ys, zs, margins = _mapped_blocks(data, xs, ys, zs, transform, map_seq)
        fit_options = {**options, "n_bootstrap": 0, "transform": "none"}
        from .api import run

        resolved = resolve_estimate_options(fit_options)
        observed = run(xs, ys, zs, resolved, random_state=observed_seed, progress=False)
        null, null_k = _null_draws(
            xs, ys, zs, order, perm_rng, n_permutations, fit_seq, executor, progress, fit_options
        )
    _reissue(caught, n_permutations)
    statistic = float(observed.value)
    pvalue = (1.0 + np.count_nonzero(null >= statistic)) / (1.0 + n_permutations)
    return IndependenceTest(
        statistic=statistic,
        pvalue=float(pvalue),
        null=null,
        n_components=observed.diagnostics.n_components,
        quantity=observed.meta["quantity"],
        scheme=order.kind,
        unit=observed.meta["unit"],
        random_state=seed,
        null_components=null_k,
        block_length=order.block_length,
        margins=margins,
    )


def check_permutation_count(n_permutations) -> int:
    """``n_permutations`` as an int in [1, `MAX_PERMUTATIONS`], or a clear error.

    Parameters
    ----------
    n_permutations : int
        B, the number of permuted copies of one test.

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        Not an integer, below 1, or above `MAX_PERMUTATIONS`.
    """
    n_permutations = check_int("n_permutations", n_permutations, minimum=1)
    if n_permutations > MAX_PERMUTATIONS:
        raise ValueError(
            f"n_permutations={n_permutations} is more than {MAX_PERMUTATIONS:,} permuted "
            "copies, each a whole component search (milliseconds to seconds): days of work "
            "for a p-value resolved to 1/(B + 1). B = 999 resolves p = 0.001; a matrix of m "
            "pairs with Holm's correction needs about 40 m (or use correction='bh')."
        )
    return n_permutations


def _check_backend(backend) -> None:
    """The test fits with the numba backend only (one EM search per permuted copy)."""
    name = getattr(backend, "name", backend)
    if name != "numba":
        raise ValueError(
            f"independence_test runs one single fit per permuted copy (B + 1 fits); the "
            f"{name!r} backend has no single fit (backend='pymc' would sample a posterior for "
            "every copy). Test with the default backend='numba', and estimate the MI with "
            f"backend={name!r}."
        )


def adjust_pvalues(pvalues: ArrayLike, method: str = "holm") -> np.ndarray:
    """P-values corrected for testing several hypotheses at once.

    Parameters
    ----------
    pvalues : array_like, shape (m,)
        One p-value per hypothesis (e.g. per pair of a matrix).
    method : {"holm", "bh", "none"}, default "holm"
        ``"holm"``: Holm's step-down; rejecting where the adjusted value is
        at most α keeps the chance of any false rejection below α.
        ``"bh"``: Benjamini–Hochberg; keeps the expected fraction of false
        rejections among the rejections below α (for independent or
        positively dependent tests). ``"none"``: unchanged.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Adjusted p-values, in the input order, each at least the raw one and
        at most 1.
    """
    method = check_choice("correction", str(method).lower(), CORRECTIONS)
    p = np.asarray(pvalues, dtype=float).ravel()
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":  # max over j <= i of (m - j) p_(j), 0-based
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:  # min over j >= i of m p_(j) / (j + 1)
        adjusted = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _blocks(data):
    """x, y (or the category labels' codes) and z (or None) as arrays."""
    X = data.X
    xs = X[:, data.blocks["x"]]
    ys = data.categories if data.categories is not None else X[:, data.blocks["y"]]
    zs = X[:, data.blocks["z"]] if "z" in data.blocks else None
    return xs, ys, zs


def _root_sequence(random_state):
    """The SeedSequence of the whole test, and the int seed to record."""
    return resolve_sequence(random_state, words=4)


def _mapped_blocks(data, xs, ys, zs, transform, seq):
    """x, y (codes with ``discrete_y``) and z through their columns' Gaussianising maps.

    Each continuous column's map (`gmmmi.margins.fit_marginal_map`) is fitted
    on its sorted values with its own seed, so it depends only on the
    column's values, which no reordering of y changes: the maps of the
    observed data are those of every copy. ``"auto"`` uses them when a
    column is not Gaussian (its map is not affine), ``"gaussianize"``
    always, ``"none"`` never.

    Returns
    -------
    xs, ys, zs : numpy.ndarray
    margins : {"gaussianize", "none"}
    """
    from .margins import TRANSFORMS, fit_marginal_map

    transform = check_choice("transform", transform, TRANSFORMS)
    if transform == "none":
        return xs, ys, zs, "none"
    blocks = [xs] + ([] if data.categories is not None else [ys]) + ([] if zs is None else [zs])
    columns = [column for block in blocks for column in block.T]
    seeds = seq.spawn(len(columns))
    maps = [
        fit_marginal_map(np.sort(c), "", np.random.default_rng(s))
        for c, s in zip(columns, seeds, strict=True)
    ]
    if transform == "auto" and all(m.affine for m in maps):
        return xs, ys, zs, "none"
    mapped = iter([m(c) for m, c in zip(maps, columns, strict=True)])
    out = [np.column_stack([next(mapped) for _ in range(b.shape[1])]) for b in blocks]
    xs = out.pop(0)
    if data.categories is None:
        ys = out.pop(0)
    return xs, ys, (out.pop(0) if zs is not None else None), "gaussianize"


def _null_draws(xs, ys, zs, order, rng, n_permutations, seq, executor, progress, options):
    """The statistic and K on each reordered copy, as tasks of `estimate_many`.

    Copies are drawn `CHUNK` at a time (so B costs no memory up front); the
    chunk ``c`` runs with the ``c``-th child of ``seq`` as its root seed, so
    the draws do not depend on the executor.

    Returns
    -------
    null : numpy.ndarray, shape (n_permutations,)
    null_components : numpy.ndarray of int, shape (n_permutations,)
    """
    from .parallel import TaskError, estimate_many

    null = np.empty(n_permutations)
    null_k = np.empty(n_permutations, dtype=np.int64)
    show = progress_enabled(progress)
    with progress_bar(n_permutations, "gmmmi permutations", show, unit="copy") as bar:
        for start in range(0, n_permutations, CHUNK):
            size = min(CHUNK, n_permutations - start)
            tasks = [(xs, ys[order.draw(rng)], zs) for _ in range(size)]
            results = estimate_many(
                tasks, executor=executor, progress=False, random_state=seq.spawn(1)[0], **options
            )
            failed = [r for r in results if isinstance(r, TaskError)]
            if failed:
                raise ValueError(
                    f"{len(failed)} of {len(results)} permuted fits failed, so the null "
                    f"distribution is incomplete (first: {failed[0].type}: {failed[0].message}). "
                    "Fix the cause, e.g. with a smaller fixed_components_number."
                )
            null[start : start + size] = [float(r.value) for r in results]
            null_k[start : start + size] = [r.diagnostics.n_components for r in results]
            bar.update(size)
    return null, null_k


_TASK_PREFIX = re.compile(r"^task \d+: ")


def _reissue(caught, n_permutations: int) -> None:
    """Re-raise the fits' warnings once each, at the caller's line, with their counts."""
    counts: dict = {}
    for w in caught:
        if issubclass(w.category, TaskFailedWarning):
            continue  # failures raise a ValueError instead
        message = str(w.message)
        from_null = bool(_TASK_PREFIX.match(message))
        key = (w.category, _TASK_PREFIX.sub("", message))
        seen = counts.setdefault(key, [0, 0])
        seen[from_null] += 1
    for (category, message), (observed, null) in counts.items():
        where = []
        if observed:
            where.append("the observed data's fit")
        if null:
            where.append(f"{null} of {n_permutations} permuted fits")
        warnings.warn(
            f"independence_test ({' and '.join(where)}): {message}",
            category,
            stacklevel=user_stacklevel(),
        )
