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

Reached through `gmmmi.Result.check_fit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from ._validation import check_float, check_int
from .mixture import MixtureDraws

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

#: points per histogram bin aimed at by the default number of bins
_POINTS_PER_BIN = 50


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
    table : pandas.DataFrame
        Rows indexed by (``kind``, ``column``): (``"marginal"``, name) for the
        uniformity of each marginal PIT, (``"joint"``, ``"a & b"``) for the
        uniformity of each pair of conditional PITs on the unit square.
        Columns ``chi2``, ``dof``, ``z`` = (chi2 - dof) / sqrt(2 dof),
        ``pvalue``, and ``misfit`` (pvalue < alpha).
    bins : int
        Equal-width bins of the marginal tests.
    pair_bins : int
        Bins per axis of the pair tests (pair_bins**2 squares).
    alpha : float
        Level of each test.
    """

    names: list[str]
    marginal: np.ndarray
    conditional: np.ndarray
    table: pd.DataFrame
    bins: int
    pair_bins: int
    alpha: float

    @property
    def ok(self) -> bool:
        """True when no test flags a misfit."""
        return not bool(self.table["misfit"].any())

    def __repr__(self) -> str:
        flagged = self.table[self.table["misfit"]]
        if flagged.empty:
            verdict = f"no misfit at level {self.alpha:g}"
        else:
            worst = flagged["z"].idxmax()
            verdict = (
                f"MISFIT in {len(flagged)} of {len(self.table)} tests "
                f"(worst: {worst[0]} {worst[1]}, z = {flagged.loc[worst, 'z']:+.1f} sd)"
            )
        head = f"FitCheck of {self.marginal.shape[0]} points: {verdict}\n"
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
    import pandas as pd

    X, names, alpha, bins, pair_bins = _checked_arguments(
        mixture, X, names=names, alpha=alpha, bins=bins, pair_bins=pair_bins
    )
    d = mixture.n_dim
    marginal, conditional = pit(mixture, X)
    rows, index = [], []
    for j, name in enumerate(names):
        counts = np.histogram(marginal[:, j], bins=bins, range=(0.0, 1.0))[0]
        rows.append(_chi2_uniform(counts))
        index.append(("marginal", name))
    for i, j in pair_indices(d):
        counts = np.histogram2d(
            conditional[:, i], conditional[:, j], bins=pair_bins, range=[(0, 1), (0, 1)]
        )[0]
        rows.append(_chi2_uniform(counts))
        index.append(("joint", f"{names[i]} & {names[j]}"))
    table = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["kind", "column"]))
    table["misfit"] = table["pvalue"] < alpha
    return FitCheck(names, marginal, conditional, table, bins, pair_bins, float(alpha))


def pair_indices(d: int) -> list[tuple[int, int]]:
    """The pairs (i, j), i < j, of d coordinates, in the order of the rows of ``FitCheck.table``."""
    return [(i, j) for j in range(d) for i in range(j)]


def _chi2_uniform(counts) -> dict:
    """Chi-squared test of equal expected ``counts`` (any shape: bins or squares)."""
    counts = np.ravel(counts)
    expected = counts.sum() / counts.size
    chi2 = float(np.sum((counts - expected) ** 2) / expected)
    dof = counts.size - 1
    return {
        "chi2": chi2,
        "dof": dof,
        "z": (chi2 - dof) / np.sqrt(2 * dof),
        "pvalue": float(stats.chi2.sf(chi2, dof)),
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
        marginal[:, j] = stats.norm.cdf((X[:, j, None] - mu[None, :, j]) / sd_marg) @ w
        if j == 0:
            mean, sd = np.broadcast_to(mu[None, :, 0], (n, w.size)), sd_marg
        else:
            # component k's conditional of x_j given x_<j: Gaussian regression
            coef = np.linalg.solve(cov[:, :j, :j], cov[:, :j, j][..., None])[..., 0]  # (K, j)
            mean = mu[None, :, j] + np.einsum("nkj,kj->nk", X[:, None, :j] - mu[None, :, :j], coef)
            sd = np.sqrt(cov[:, j, j] - np.einsum("kj,kj->k", cov[:, j, :j], coef))
        resp = np.exp(log_resp - logsumexp(log_resp, axis=1, keepdims=True))
        conditional[:, j] = np.sum(resp * stats.norm.cdf((X[:, j, None] - mean) / sd), axis=1)
        log_resp = log_resp + stats.norm.logpdf(X[:, j, None], mean, sd)
    return np.clip(marginal, 0.0, 1.0), np.clip(conditional, 0.0, 1.0)
