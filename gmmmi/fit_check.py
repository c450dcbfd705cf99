"""Goodness of fit of a fitted Gaussian mixture: probability integral transforms (PIT).

If the data follow the fitted density p, then

* the marginal PIT ``F_j(x_j)`` of every coordinate (F_j the CDF of p's
  marginal of x_j) is uniform on (0, 1), and
* the conditional PITs ``u_j = F(x_j | x_1, ..., x_{j-1})`` (the Rosenblatt
  transform) are independent and uniform: every pair (u_i, u_j) is uniform
  on the unit square. This checks how the coordinates depend on each other,
  which is what the MI measures; a model with the right marginals but the
  wrong dependence passes the first check and fails this one.

Both transforms are exact for a Gaussian mixture: the conditional of a
mixture is a mixture of the components' conditionals, reweighted by how well
each component explains the preceding coordinates. A misfit shows as a
non-flat histogram, which a chi-squared test on equal-width bins (squares for
pairs) measures; ``z`` is the excess of the statistic over its expectation in
units of its sd (about N(0, 1) for a good fit; the fit used the same data, so
slightly below).

Reached through `gmmmi.Result.check_fit`. Every `gmmmi.estimate` also runs
`automatic_check` on its fit to all the data (``result.fit_check``): the same
tests on at most `MAX_ROWS` rows and, past `MAX_FULL_DIM` coordinates, on a
bounded set of pairs, each at level `FAMILY_ALPHA` divided by the number of
tests (Bonferroni), so that a correctly specified fit is flagged at most about
`FAMILY_ALPHA` of the time whatever the dimension. A flagged fit raises
`gmmmi.MisfitWarning` with `misfit_message`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import chdtrc, logsumexp, ndtr

from ._checks import check_float, check_int
from .mixture import MixtureDraws

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)
#: points per histogram bin aimed at by the default number of bins
_POINTS_PER_BIN = 50
#: family-wise level of the automatic check: the chance that a correct fit is flagged,
#: split evenly over its tests (measured in benchmarks/misfit_calibration.py)
FAMILY_ALPHA = 1e-3
#: rows the automatic check looks at (a fixed random subset of larger data): bounds its cost
MAX_ROWS = 4000
#: up to this many coordinates the automatic check tests every pair; above, `bounded_pairs`
MAX_FULL_DIM = 12
#: pairs tested above `MAX_FULL_DIM` coordinates (every pair of 12 coordinates: 66)
MAX_PAIRS = MAX_FULL_DIM * (MAX_FULL_DIM - 1) // 2


@dataclass(frozen=True)
class FitCheck:
    """Probability integral transforms of the data under a fitted mixture, and their tests.

    Attributes
    ----------
    names : list of str
        Coordinate names, length d.
    marginal : numpy.ndarray, shape (n, d)
        PIT of each coordinate under the fitted marginal CDF.
    conditional : numpy.ndarray, shape (n, d)
        PIT of each coordinate given the preceding ones (column 0 equals
        the marginal PIT).
    tests : dict of str to numpy.ndarray
        One entry per test (the rows of ``table``): ``"kind"`` and
        ``"column"`` (object arrays of str), ``"chi2"``, ``"dof"``, ``"z"``,
        ``"pvalue"`` and ``"misfit"``, as in ``table``.
    bins : int
        Equal-width bins of the marginal tests.
    pair_bins : int
        Bins per axis of the pair tests (pair_bins**2 squares).
    alpha : float
        Level of each test.
    family_alpha : float or None
        For the automatic check of `gmmmi.estimate`: the family-wise level,
        of which ``alpha`` is the share of each test; None for a check made
        by hand.
    n_rows : int or None
        Rows of the data, when the check looked at a subset of them (the
        rows of ``marginal``); None when it looked at every row.
    joint_pairs : tuple of (int, int), or None
        The pairs of the joint tests when not every pair was tested (see
        `pairs`).
    """

    names: list[str]
    marginal: np.ndarray
    conditional: np.ndarray
    tests: dict
    bins: int
    pair_bins: int
    alpha: float
    family_alpha: float | None = None
    n_rows: int | None = None
    joint_pairs: tuple[tuple[int, int], ...] | None = None

    @property
    def table(self) -> pd.DataFrame:
        """The tests as a pandas.DataFrame, built from ``tests`` when asked for (~0.5 ms).

        Rows indexed by (``kind``, ``column``): (``"marginal"``, name) for the
        uniformity of each marginal PIT, (``"joint"``, ``"a & b"``) for the
        uniformity of each pair of conditional PITs on the unit square.
        Columns ``chi2``, ``dof``, ``z`` = (chi2 - dof) / sqrt(2 dof),
        ``pvalue``, and ``misfit`` (pvalue < alpha).
        """
        import pandas as pd

        columns = {key: self.tests[key] for key in (*_TEST_COLUMNS, "misfit")}
        return pd.DataFrame(columns, index=_test_index(self.tests["kind"], self.tests["column"]))

    @property
    def ok(self) -> bool:
        """True when no test flags a misfit."""
        return not bool(self.tests["misfit"].any())

    @property
    def n_flagged(self) -> int:
        """The number of tests that flag a misfit."""
        return int(np.count_nonzero(self.tests["misfit"]))

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The pairs (i, j) of coordinates of the joint tests, in the order of ``table``."""
        if self.joint_pairs is None:
            return pair_indices(len(self.names))
        return [(int(i), int(j)) for i, j in self.joint_pairs]

    def worst(self) -> tuple[str, str, float]:
        """The flagged test with the largest z, as (kind, column, z); the largest z if none."""
        misfit, z = self.tests["misfit"], self.tests["z"]
        rows = np.flatnonzero(misfit) if misfit.any() else np.arange(z.size)
        best = int(rows[np.nanargmax(z[rows])])  # the first of equal largest, as idxmax
        return str(self.tests["kind"][best]), str(self.tests["column"][best]), float(z[best])

    def verdict(self) -> str:
        """One line: no misfit, or how many tests flag one and the worst of them."""
        if self.ok:
            level = self.alpha if self.family_alpha is None else self.family_alpha
            return f"no misfit at level {level:g}"
        kind, column, z = self.worst()
        return (
            f"MISFIT in {self.n_flagged} of {self.tests['z'].size} tests "
            f"(worst: {kind} {column}, z = {z:+.1f} sd)"
        )

    def __repr__(self) -> str:
        rows = self.marginal.shape[0]
        of = "" if self.n_rows is None else f" (of {self.n_rows})"
        head = f"FitCheck of {rows} points{of}: {self.verdict()}\n"
        return head + self.table.round(3).to_string()

    def plot(self, axes: np.ndarray | None = None) -> np.ndarray:
        """Histograms of the PIT: marginal ones on top, pairs of conditional ones below.

        Parameters
        ----------
        axes : array of matplotlib Axes, shape (2, max(d, d (d - 1) / 2)), optional
            Where to draw; a new figure when None.

        Returns
        -------
        numpy.ndarray of matplotlib Axes
        """
        from .plot import plot_pit

        return plot_pit(self, axes=axes)


def check_fit(
    mixture: MixtureDraws,
    X: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    alpha: float = 0.01,
    bins: int | None = None,
    pair_bins: int | None = None,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> FitCheck:
    """Test whether the data look like draws from a fitted mixture.

    Parameters
    ----------
    mixture : MixtureDraws
        Its first draw is tested (pass the full-data fit, S = 1).
    X : array_like, shape (n, d)
        The data, in the mixture's column order and units.
    names : sequence of str, optional
        Coordinate names; default ``x0, x1, ...``.
    alpha : float, default 0.01
        Level of each chi-squared test.
    bins : int, optional
        Equal-width bins of the marginal tests; default n / 50 clipped to
        [5, 20].
    pair_bins : int, optional
        Bins per axis of the pair tests; default sqrt(n / 50) clipped to
        [3, 8].
    pairs : sequence of (int, int), optional
        The pairs (i, j), i < j, of the joint tests; default every pair
        (`pair_indices`).

    Returns
    -------
    FitCheck

    Raises
    ------
    TypeError
        For an argument of the wrong type (``alpha="0.05"``, ``bins="10"``,
        a ``mixture`` that is not a `gmmmi.MixtureDraws`, non-numeric data).
    ValueError
        For data of the wrong shape or not finite, bins not a whole number of at
        least 2, names
        not one per column, or alpha outside (0, 1).
    """
    X, names, alpha, bins, pair_bins = _checked_arguments(
        mixture, X, names=names, alpha=alpha, bins=bins, pair_bins=pair_bins
    )
    marginal, conditional = pit(mixture, X)
    return test_pits(
        marginal, conditional, names=names, alpha=alpha, bins=bins, pair_bins=pair_bins, pairs=pairs
    )


def test_pits(
    marginal: np.ndarray,
    conditional: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    alpha: float = 0.01,
    bins: int | None = None,
    pair_bins: int | None = None,
    pairs: Sequence[tuple[int, int]] | None = None,
    weights: np.ndarray | None = None,
) -> FitCheck:
    """The chi-squared tests of `check_fit` on given PITs (as `pit` returns them).

    Parameters
    ----------
    marginal, conditional : numpy.ndarray, shape (n, d)
    names, alpha, bins, pair_bins, pairs
        As in `check_fit` (checked there).
    weights : numpy.ndarray, shape (n,), optional
        Row weights of a weighted fit: the histograms count weight, and each
        statistic is divided by the weights' design effect n sum w^2 / (sum w)^2
        (Rao and Scott's first-order correction; 1 for equal weights).

    Returns
    -------
    FitCheck
    """
    n, d = marginal.shape
    bins = int(np.clip(n // _POINTS_PER_BIN, 5, 20)) if bins is None else int(bins)
    if pair_bins is None:
        pair_bins = int(np.clip(np.sqrt(n / _POINTS_PER_BIN), 3, 8))
    names = [f"x{i}" for i in range(d)] if names is None else [str(v) for v in names]
    deff = 1.0 if weights is None else n * float(np.sum(weights**2)) / float(np.sum(weights)) ** 2
    rows, index = [], []
    for j, name in enumerate(names):
        counts = np.bincount(_bin(marginal[:, j], bins), weights, minlength=bins)
        rows.append(_chi2_uniform(counts, deff))
        index.append(("marginal", name))
    for i, j in pair_indices(d) if pairs is None else pairs:
        square = _bin(conditional[:, i], pair_bins) * pair_bins + _bin(conditional[:, j], pair_bins)
        rows.append(_chi2_uniform(np.bincount(square, weights, minlength=pair_bins**2), deff))
        index.append(("joint", f"{names[i]} & {names[j]}"))
    # arrays, not a DataFrame: FitCheck.table builds that only when it is looked at
    tests = _labels([k for k, _ in index], [c for _, c in index])
    tests.update({key: np.array([row[key] for row in rows]) for key in _TEST_COLUMNS})
    tests["misfit"] = tests["pvalue"] < alpha
    joint_pairs = None if pairs is None else tuple((int(i), int(j)) for i, j in pairs)
    return FitCheck(
        names, marginal, conditional, tests, bins, pair_bins, float(alpha), None, None, joint_pairs
    )


def automatic_check(
    mixtures: MixtureDraws | Sequence[MixtureDraws],
    X: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    groups: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> FitCheck:
    """The check every `gmmmi.estimate` makes of its fit to all the data.

    The tests of `check_fit` on at most `MAX_ROWS` rows (a fixed random
    subset, the same for the same n), on every pair up to `MAX_FULL_DIM`
    coordinates and on `bounded_pairs` above, each at level
    ``FAMILY_ALPHA / number of tests``.

    Parameters
    ----------
    mixtures : MixtureDraws or sequence of MixtureDraws
        The full-data fit (its first draw is tested); with ``groups``, one
        fit per group, and each row's PIT is taken under its group's fit
        (the PITs of every row are uniform if every group's fit is right).
    X : numpy.ndarray, shape (n, d)
        The data in the mixtures' coordinates and units.
    names : sequence of str, optional
        Coordinate names.
    groups : numpy.ndarray of int, shape (n,), optional
        Group (category) of every row, 0 .. len(mixtures) - 1.
    weights : numpy.ndarray, shape (n,), optional
        Row weights of a weighted fit (``sample_weight``): see `test_pits`.

    Returns
    -------
    FitCheck
        With ``family_alpha`` set, and ``n_rows`` when rows were subsampled.
    """
    n, d = X.shape
    n_rows = None
    if n > MAX_ROWS:
        # its own generator: the check must not move the estimate's random stream
        rows = np.sort(np.random.default_rng(n).choice(n, MAX_ROWS, replace=False))
        X, n_rows = X[rows], n
        groups = None if groups is None else groups[rows]
        weights = None if weights is None else weights[rows]
    if groups is None:
        marginal, conditional = pit(mixtures, X)
    else:
        marginal, conditional = np.empty_like(X), np.empty_like(X)
        for g, mixture in enumerate(mixtures):
            mine = groups == g
            if mine.any():
                marginal[mine], conditional[mine] = pit(mixture, X[mine])
    pairs = None if d <= MAX_FULL_DIM else bounded_pairs(d)
    alpha = FAMILY_ALPHA / (d + len(pair_indices(d) if pairs is None else pairs))
    check = test_pits(marginal, conditional, names=names, alpha=alpha, pairs=pairs, weights=weights)
    return replace(check, family_alpha=FAMILY_ALPHA, n_rows=n_rows)


def relabel(check: FitCheck, names: Sequence[str]) -> FitCheck:
    """The same check with its coordinates named ``names`` (in the table too)."""
    names = [str(v) for v in names]
    old = {
        f"{a} & {b}": f"{names[i]} & {names[j]}"
        for (i, j), (a, b) in zip(
            check.pairs, [(check.names[i], check.names[j]) for i, j in check.pairs], strict=True
        )
    }
    old.update(zip(check.names, names, strict=True))
    columns = [old.get(c, c) for c in check.tests["column"]]
    return replace(
        check, names=names, tests={**check.tests, **_labels(check.tests["kind"], columns)}
    )


def _labels(kinds, columns) -> dict:
    """The ``kind`` and ``column`` entries of `FitCheck.tests` (object arrays of str)."""
    out = {}
    for key, labels in (("kind", kinds), ("column", columns)):
        out[key] = np.empty(len(labels), dtype=object)
        out[key][:] = [str(v) for v in labels]
    return out


def _test_index(kinds, columns) -> pd.MultiIndex:
    """The (kind, column) index of a check's table.

    What ``pandas.MultiIndex.from_arrays`` builds (sorted levels, codes into
    them), without its factorisation of the labels: 0.07 ms instead of 0.5.
    """
    import pandas as pd

    arrays = [list(kinds), list(columns)]
    levels = [sorted(set(labels)) for labels in arrays]
    codes = [
        [position[label] for label in labels]
        for labels, position in zip(
            arrays, [{v: i for i, v in enumerate(level)} for level in levels], strict=True
        )
    ]
    return pd.MultiIndex(
        levels=levels, codes=codes, names=["kind", "column"], verify_integrity=False
    )


def bounded_pairs(d: int, max_pairs: int = MAX_PAIRS) -> list[tuple[int, int]]:
    """At most ``max_pairs`` pairs of d coordinates, each coordinate in at least one.

    Neighbours (j - 1, j) first, then pairs ever further apart (offset 2, 3,
    ...), spread over the coordinates. Under a correct fit the conditional
    PITs are independent and uniform, so any set of pairs tests it; these
    bound the cost while every coordinate's conditional PIT is looked at.

    Parameters
    ----------
    d : int
        Coordinates.
    max_pairs : int, default `MAX_PAIRS`

    Returns
    -------
    list of (int, int)
        Pairs (i, j), i < j, sorted by j then i.
    """
    chosen: list[tuple[int, int]] = []
    for offset in range(1, d):
        candidates = [(j - offset, j) for j in range(offset, d)]
        room = max_pairs - len(chosen)
        if room <= 0:
            break
        if len(candidates) > room:
            keep = np.linspace(0, len(candidates) - 1, room).round().astype(int)
            candidates = [candidates[k] for k in np.unique(keep)]
        chosen += candidates
    return sorted(chosen, key=lambda p: (p[1], p[0]))


def misfit_message(
    check: FitCheck, search: str = "", *, mapped: bool = False, both_margins: bool = False
) -> str:
    """The text of `gmmmi.MisfitWarning` for a flagged automatic check.

    Parameters
    ----------
    check : FitCheck
        A check that failed (``check.ok`` is False).
    search : str, optional
        What the wider component search tried, as a sentence (empty: none).
    mapped : bool, default False
        True when the fit was made to the margins' maps (``transform``
        chose ``"gaussianize"``): the advice then does not suggest them.
    both_margins : bool, default False
        True when the raw and the mapped data were both fitted
        (``gmmmi._other_margins``): the advice then does not suggest the maps.

    Returns
    -------
    str
    """
    kind, column, z = check.worst()
    what = f"the margin of {column}" if kind == "marginal" else f"the dependence of {column}"
    if both_margins:
        advice = "the raw data and the margins' maps were both fitted, so try "
    elif mapped:
        advice = "the margins were already mapped (transform='gaussianize'), so try "
    else:
        advice = "try transform='gaussianize', "
    return (
        f"The fitted mixture does not describe the data: {what} departs from the fit by "
        f"z = {z:+.1f} sd ({check.n_flagged} of {check.tests['z'].size} goodness-of-fit tests "
        f"fail at family level {check.family_alpha:g}). {search}The estimate may be far from the "
        "truth and its interval does not include this error. Look at "
        f"result.fit_check.plot() and result.plot_fit(x, y); {advice}"
        "a larger max_components or n_inits, or compare with another estimator "
        "(docs/trust.md, 'MisfitWarning')."
    )


def pair_indices(d: int) -> list[tuple[int, int]]:
    """The pairs (i, j), i < j, of d coordinates, in the order of the rows of ``FitCheck.table``."""
    return [(i, j) for j in range(d) for i in range(j)]


def _bin(u: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bin (0 .. bins - 1) of every value of ``u`` in [0, 1], 1 in the last."""
    return np.minimum((u * bins).astype(np.int64), bins - 1)


#: the statistics of each test, in the order of the table's columns (then ``misfit``)
_TEST_COLUMNS = ("chi2", "dof", "z", "pvalue")


def _chi2_uniform(counts, deff: float = 1.0) -> dict:
    """Chi-squared test of equal expected ``counts`` (any shape: bins or squares).

    ``deff``: the design effect of weighted counts, which the statistic is divided by.
    """
    counts = np.ravel(counts)
    expected = counts.sum() / counts.size
    chi2 = float(np.sum((counts - expected) ** 2) / expected)
    if deff != 1.0:
        chi2 /= deff
    dof = counts.size - 1
    return {
        "chi2": chi2,
        "dof": dof,
        "z": (chi2 - dof) / np.sqrt(2 * dof),
        "pvalue": float(chdtrc(dof, chi2)),
    }


def _checked_arguments(mixture, X, *, names, alpha, bins, pair_bins):
    """`check_fit`'s arguments checked, with the defaults filled in; one clear error each.

    Returns
    -------
    X : numpy.ndarray, shape (n, d), float64
    names : list of str, length d
    alpha : float
    bins, pair_bins : int
    """
    if not isinstance(mixture, MixtureDraws):
        raise TypeError(
            f"mixture must be a gmmmi.MixtureDraws (a fitted mixture); got "
            f"{type(mixture).__name__}."
        )
    d = mixture.n_dim
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"X must be a numeric array of shape (n, {d}); got {type(X).__name__} whose "
            "values are not all numbers."
        ) from None
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 2:
        raise ValueError(f"X must have shape (n, {d}) with n >= 2; got {X.shape}.")
    bad = int(np.count_nonzero(~np.isfinite(X)))
    if bad:
        raise ValueError(f"X must be finite; got {bad} NaN or infinite values.")
    n = X.shape[0]
    alpha = check_float("alpha", alpha)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    if bins is None:
        bins = int(np.clip(n // _POINTS_PER_BIN, 5, 20))
    if pair_bins is None:
        pair_bins = int(np.clip(np.sqrt(n / _POINTS_PER_BIN), 3, 8))
    bins = check_int("bins", bins, minimum=2)
    pair_bins = check_int("pair_bins", pair_bins, minimum=2)
    if names is None:
        return X, [f"x{i}" for i in range(d)], alpha, bins, pair_bins
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence | np.ndarray):
        raise TypeError(
            f"names must be a sequence of {d} column names; got {type(names).__name__}."
        )
    if len(names) != d:
        raise ValueError(f"names must hold one name per column ({d}); got {len(names)}.")
    return X, [str(v) for v in names], alpha, bins, pair_bins


def pit(mixture: MixtureDraws, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Marginal and conditional (Rosenblatt) PIT of the points ``X`` under a mixture.

    Parameters
    ----------
    mixture : MixtureDraws
        Its first draw is used.
    X : numpy.ndarray, shape (n, d)

    Returns
    -------
    marginal, conditional : numpy.ndarray, shape (n, d)
        ``F_j(x_j)`` and ``F(x_j | x_<j)``, in [0, 1].
    """
    mix = mixture.select(0)
    used = mix.weights[0] > 0
    w, mu, cov = mix.weights[0, used], mix.means[0, used], mix.covariances[0, used]
    n, d = X.shape
    marginal = np.empty((n, d))
    conditional = np.empty((n, d))
    log_resp = np.broadcast_to(np.log(w), (n, w.size))  # log w_k p_k(x_<j), unnormalised
    for j in range(d):
        sd_marg = np.sqrt(cov[:, j, j])
        marginal[:, j] = ndtr((X[:, j, None] - mu[None, :, j]) / sd_marg) @ w
        if j == 0:
            mean, sd = np.broadcast_to(mu[None, :, 0], (n, w.size)), sd_marg
        else:
            # component k's conditional of x_j given x_<j: Gaussian regression
            coef = np.linalg.solve(cov[:, :j, :j], cov[:, :j, j][..., None])[..., 0]  # (K, j)
            mean = mu[None, :, j] + np.einsum("nkj,kj->nk", X[:, None, :j] - mu[None, :, :j], coef)
            sd = np.sqrt(cov[:, j, j] - np.einsum("kj,kj->k", cov[:, j, :j], coef))
        if w.size == 1:  # one component: responsibility 1 (what the logsumexp gives, exactly)
            resp = np.ones((n, 1))
        elif j == 0:  # every row's log w: one row's responsibilities serve all (the same bits)
            resp = np.exp(log_resp[:1] - logsumexp(log_resp[:1], axis=1, keepdims=True))
        else:
            resp = np.exp(log_resp - logsumexp(log_resp, axis=1, keepdims=True))
        standard = (X[:, j, None] - mean) / sd
        conditional[:, j] = np.sum(resp * ndtr(standard), axis=1)
        log_resp = log_resp - 0.5 * standard**2 - np.log(sd) - _HALF_LOG_2PI
    return np.clip(marginal, 0.0, 1.0), np.clip(conditional, 0.0, 1.0)


def to_parts(check: FitCheck) -> tuple[dict, dict]:
    """A check as arrays (name -> (dims, values)) and JSON scalars, for a result file."""
    table = check.table.reset_index()
    scalars = {
        "names": list(check.names),
        "table": {c: table[c].tolist() for c in table.columns},
        "bins": check.bins,
        "pair_bins": check.pair_bins,
        "alpha": check.alpha,
        "family_alpha": check.family_alpha,
        "n_rows": check.n_rows,
        "joint_pairs": None if check.joint_pairs is None else [list(p) for p in check.joint_pairs],
    }
    dims = ("fit_check_row", "fit_check_dim")
    arrays = {"fit_check_marginal": (dims, check.marginal)}
    arrays["fit_check_conditional"] = (dims, check.conditional)
    return arrays, scalars


def from_parts(arrays: Mapping, scalars: dict) -> FitCheck:
    """Inverse of `to_parts` (``arrays`` maps the array names to numpy arrays)."""
    table = scalars["table"]
    tests = _labels(table["kind"], table["column"])
    for key in _TEST_COLUMNS:  # in test_pits' order
        tests[key] = np.asarray(table[key], dtype=np.int64 if key == "dof" else np.float64)
    tests["misfit"] = np.asarray(table["misfit"], dtype=bool)
    pairs = scalars["joint_pairs"]
    return FitCheck(
        list(scalars["names"]),
        np.asarray(arrays["fit_check_marginal"], dtype=np.float64),
        np.asarray(arrays["fit_check_conditional"], dtype=np.float64),
        tests,
        int(scalars["bins"]),
        int(scalars["pair_bins"]),
        float(scalars["alpha"]),
        scalars["family_alpha"],
        scalars["n_rows"],
        None if pairs is None else tuple((int(i), int(j)) for i, j in pairs),
    )
