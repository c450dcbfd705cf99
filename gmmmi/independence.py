"""`independence_test`: a permutation test of I(x; y) = 0, or of I(x; y | z) = 0.

The statistic is the MI (or CMI) of one mixture fit (no bootstrap) with a
fixed number of components K. K is chosen once, by cross-validation on one
extra permuted copy of the data (or given by ``fixed_components_number``);
the statistic and every null draw are then the same function, a single fit
with that K, of the observed data and of copies whose y rows are permuted.

Why K comes from a permuted copy: the permutation test is exact when the
observed data and its B permuted copies are exchangeable under the null and
the same statistic is applied to each. K chosen on the observed data would
break that symmetry (the observed copy would be the one K was tuned on);
K chosen on a random permutation is, under the null, distributed the same
whichever copy is the observed one, so the test stays exact, and it costs one
model selection like the other choice. Under dependence, K then describes the
product of the marginals; a single fit with it still registers the dependence
(the power is measured in ``docs/independence.md``).

The permutations run as tasks of `gmmmi.estimate_many`, so they spread over
any executor and give the same p-value whatever the executor or the number
of threads.

See ``docs/independence.md`` for the measured false-positive rate and power.
"""

from __future__ import annotations

import re
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._estimate_options import check_estimate_options, check_executor
from ._seeds import fresh_seed, sequence_from_generator
from ._stacklevel import user_stacklevel
from ._validation import check_choice, check_int, validate_data
from .exceptions import PValueResolutionWarning, TaskFailedWarning

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


@dataclass(frozen=True)
class IndependenceTest:
    """The outcome of `independence_test`.

    Attributes
    ----------
    statistic : float
        The MI (or CMI) of one fit with ``n_components`` components to the
        observed data, in ``unit``.
    pvalue : float
        ``(1 + #{null >= statistic}) / (1 + n_permutations)``: the chance,
        under independence, of a statistic at least as large. Never 0; its
        smallest value is ``1 / (1 + n_permutations)``.
    null : numpy.ndarray, shape (n_permutations,)
        The statistic on each permuted copy of the data, in permutation order.
    n_components : int
        K, the number of mixture components of every fit (per category with
        ``discrete_y``), chosen on a permuted copy of the data.
    quantity : str
        ``"mi"`` or ``"cmi"``.
    scheme : str
        ``"permutation"`` (rows of y permuted) or ``"stratified permutation"``
        (rows of y permuted within strata of z, for the CMI).
    unit : str
        ``"nat"``, ``"bit"``, ...
    random_state : int or None
        The seed of the whole test (None when a Generator was given).
    """

    statistic: float
    pvalue: float
    null: np.ndarray = field(repr=False)
    n_components: int
    quantity: str
    scheme: str
    unit: str
    random_state: int | None = None

    @property
    def n_permutations(self) -> int:
        """B, the number of permuted copies."""
        return int(self.null.size)

    def __str__(self) -> str:
        what = "I(x; y | z)" if self.quantity == "cmi" else "I(x; y)"
        return (
            f"{self.scheme.capitalize()} test of {what} = 0: statistic "
            f"{self.statistic:.4g} {self.unit}, p = {self.pvalue:.3g} "
            f"({self.n_permutations} permutations, K = {self.n_components}; null median "
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
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.0, 3.2), layout="constrained")
        lo = min(self.null.min(), self.statistic)
        hi = max(self.null.max(), self.statistic)
        bins = np.linspace(lo, hi + 1e-12 * max(1.0, abs(hi)), 31)
        ax.hist(self.null, bins=bins, color="0.7", edgecolor="0.4", label="null (permuted)")
        ax.axvline(self.statistic, color="C3", linewidth=2, label="observed")
        ax.set_xlabel(f"{'CMI' if self.quantity == 'cmi' else 'MI'} [{self.unit}]")
        ax.set_ylabel("permutations")
        ax.set_title(
            f"{self.scheme}: p = {self.pvalue:.3g} (B = {self.n_permutations})", fontsize=9
        )
        ax.legend(fontsize=8, frameon=False)
        return ax


def independence_test(
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    z: ArrayLike | None = None,
    n_permutations: int = 199,
    random_state: int | np.random.Generator | None = None,
    executor: Executor | Client | None = None,
    stratum_size: int = 10,
    **options: Any,
) -> IndependenceTest:
    """Permutation test of I(x; y) = 0, or of I(x; y | z) = 0.

    The statistic is the MI (CMI) of a single mixture fit with K components
    (no bootstrap: ``n_bootstrap=0``). K is chosen once, by cross-validation
    on one extra permuted copy of the data (so that it favours neither the
    observed data nor any null copy, which keeps the test exact), unless
    ``fixed_components_number`` is given; the observed statistic and each of
    the ``n_permutations`` null draws are then fits with that same K, to the
    data and to copies whose rows of y are permuted. A null draw costs one
    EM fit; the false-positive rate and power are measured in
    ``docs/independence.md``.

    Parameters
    ----------
    x, y, z : array_like or DataFrame
        As in `gmmmi.estimate` (``x`` alone of shape (n, 2) or (n, 2 + k) is
        split into x, y and z the same way). With ``discrete_y=True``, y holds
        category labels and their rows are permuted.
    n_permutations : int, default 199
        B, the number of permuted copies. The p-value is a multiple of
        1 / (B + 1); with B = 19, 99, 199... the test at α = 0.05 is exact.
    random_state : int, numpy.random.Generator or None
        Seed of the permutations and of every fit. The same seed gives the
        same p-value whatever the executor and the number of threads.
    executor : concurrent.futures.Executor, dask Client or None
        Where the permuted fits run, as in `gmmmi.estimate_many` (e.g. a
        ``ProcessPoolExecutor`` with a spawn context). None: in this process.
    stratum_size : int, default 10
        Conditional test only: rows are ordered by z (by its first principal
        component when z has several columns), cut into consecutive strata of
        about this many rows, and y is permuted within each stratum. This
        keeps the y–z relation nearly intact while breaking any x–y link
        given z; it is approximate (z varies a little within a stratum) and
        blind to z directions other than the ordering one.
    **options
        Options of `gmmmi.estimate` (``base``, ``discrete_y``, ``n_inits``,
        ``fixed_components_number``, ...); ``n_bootstrap`` is set to 0.

    Returns
    -------
    IndependenceTest
        ``.statistic``, ``.pvalue``, ``.null``, ``.plot()``.

    Raises
    ------
    TypeError, ValueError
        For the data and options `gmmmi.estimate` would refuse, a bad
        ``n_permutations`` or ``stratum_size``, ``n_bootstrap`` given, or
        permuted fits that fail.

    Examples
    --------
    >>> import numpy as np, gmmmi
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 300))
    >>> test = gmmmi.independence_test(x, y, n_permutations=19, random_state=0)
    >>> bool(test.pvalue > 0.05)
    True
    """
    n_permutations = check_int("n_permutations", n_permutations, minimum=1)
    stratum_size = check_int("stratum_size", stratum_size, minimum=2)
    check_executor(executor)
    for name in ("n_bootstrap", "progress"):
        if name in options:
            raise TypeError(
                f"independence_test sets {name} itself (one fit per permutation); drop {name}=."
            )
    if options.get("sample_weight") is not None:
        raise ValueError(
            "independence_test does not take sample_weight: permuting the rows of y moves them "
            "away from their weights, so the permuted copies are not draws of the weighted null."
        )
    check_estimate_options(options)
    discrete = bool(options.get("discrete_y", False))
    pooled = options.pop("min_category_size", None)  # applied once, to the labels
    data = validate_data(x, y, z, discrete_y=discrete, min_category_size=pooled)
    xs, ys, zs = _blocks(data)
    seed, root = _root_sequence(random_state)
    # the null fits' seeds, the permutations, the choice of K: three independent streams
    fit_seq, perm_seq, k_seq = root.spawn(3)
    observed_seed = int(fit_seq.generate_state(1, np.uint64)[0] % 2**63)
    k_seed = int(k_seq.generate_state(1, np.uint64)[0] % 2**63)
    perm_rng = np.random.default_rng(perm_seq)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        perms = _permutations(xs.shape[0], zs, n_permutations + 1, stratum_size, perm_rng)
        k = _components(xs, ys[perms[0]], zs, options, k_seed)
        fixed = {**options, "n_bootstrap": 0, "fixed_components_number": k}
        from .api import estimate

        observed = estimate(xs, ys, z=zs, random_state=observed_seed, progress=False, **fixed)
        null = _null_draws(xs, ys, zs, perms[1:], fit_seq, executor, fixed)
    _reissue(caught, n_permutations)
    statistic = float(observed.value)
    pvalue = (1.0 + np.count_nonzero(null >= statistic)) / (1.0 + n_permutations)
    return IndependenceTest(
        statistic=statistic,
        pvalue=float(pvalue),
        null=null,
        n_components=k,
        quantity=observed.meta["quantity"],
        scheme="permutation" if zs is None else "stratified permutation",
        unit=observed.meta["unit"],
        random_state=seed,
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
    if isinstance(random_state, np.random.Generator):
        return None, sequence_from_generator(random_state, words=4)
    if random_state is None:
        random_state = fresh_seed()
    seed = check_int("random_state", random_state, minimum=0)
    return seed, np.random.SeedSequence(seed)


def _components(xs, ys, zs, options, seed) -> int:
    """K: the user's ``fixed_components_number``, else chosen by CV on (x, y, z) as given.

    `independence_test` passes a permuted copy of y (see the module docstring).
    """
    fixed = int(options.get("fixed_components_number", 0) or 0)
    if fixed:
        return fixed
    from .api import estimate

    chosen = estimate(
        xs, ys, z=zs, random_state=seed, progress=False, **{**options, "n_bootstrap": 0}
    )
    # with discrete_y, the largest K any category needed
    return chosen.diagnostics.n_components


def _strata(zs: np.ndarray, size: int) -> np.ndarray:
    """Stratum of each row: consecutive blocks of ~``size`` rows ordered by z."""
    n = zs.shape[0]
    zc = (zs - zs.mean(axis=0)) / zs.std(axis=0)
    if zc.shape[1] == 1:
        key = zc[:, 0]
    else:  # the first principal component of the standardised z
        key = zc @ np.linalg.svd(zc, full_matrices=False)[2][0]
    n_strata = max(1, n // size)
    order = np.argsort(key, kind="stable")
    stratum = np.empty(n, dtype=np.int64)
    stratum[order] = np.arange(n) * n_strata // n
    return stratum


def _permutations(n: int, zs, n_permutations: int, stratum_size: int, rng) -> list:
    """B row permutations of y (arrays of row indices): free, or within strata of z."""
    if zs is None:
        return [rng.permutation(n) for _ in range(n_permutations)]
    stratum = _strata(zs, stratum_size)
    rows_by_stratum = np.argsort(stratum, kind="stable")
    perms = []
    for _ in range(n_permutations):
        shuffled = np.lexsort((rng.random(n), stratum))  # by stratum, random within
        perm = np.empty(n, dtype=np.int64)
        perm[rows_by_stratum] = shuffled
        perms.append(perm)
    return perms


def _null_draws(xs, ys, zs, perms, seq, executor, options) -> np.ndarray:
    """The statistic on each permuted copy, run as tasks of `estimate_many`."""
    from .parallel import TaskError, estimate_many

    tasks = [(xs, ys[perm], zs) for perm in perms]
    results = estimate_many(tasks, executor=executor, progress=False, random_state=seq, **options)
    failed = [r for r in results if isinstance(r, TaskError)]
    if failed:
        raise ValueError(
            f"{len(failed)} of {len(results)} permuted fits failed, so the null distribution is "
            f"incomplete (first: {failed[0].type}: {failed[0].message}). Fix the cause, e.g. "
            "with a smaller fixed_components_number."
        )
    return np.array([float(r.value) for r in results])


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
            where.append("the choice of K and the observed data's fit")
        if null:
            where.append(f"{null} of {n_permutations} permuted fits")
        warnings.warn(
            f"independence_test ({' and '.join(where)}): {message}",
            category,
            stacklevel=user_stacklevel(),
        )
