"""The stopping test of `gmmmi.feature_selection`: a permutation test of I(f; y | S) = 0.

A permutation test, built for many reordered copies at a small cost each:

* **The copies.** y is reordered freely when S is empty (exact), else
  within strata of about ``STRATUM`` rows of S ordered by S's first
  principal component (the scheme of `gmmmi.independence_test`; approximate
  because S varies a little within a stratum). f and S never move, so every
  copy keeps their relation exactly, a near copy of a chosen feature
  included, and the relation of S with y up to the strata.
* **The statistic.** One mixture with a fixed K is fitted to every copy by
  EM from one common start, all copies of a chunk in one compiled call
  (`gmmmi._em.fit.fit_batch`), and the statistic is the plug-in (in-sample)
  conditional MI of that mixture: the mean over rows of
  log q(f, S, y) + log q(S) - log q(f, S) - log q(S, y) for a continuous y;
  for a categorical y, one mixture of (f, S) per class and the plug-in
  I(f, S; y) - I(S; y) of those mixtures and their margins. K and the
  start come from the component search
  (`gmmmi._em.select.select_components`, at least ``MIN_COMPONENTS``) on
  one more reordered copy, so the observed data and the copies are treated
  alike: under the null they are exchangeable and the observed statistic's
  rank is uniform, whatever K is. At least two components, because one
  Gaussian sees only monotone relations of the Gaussianised columns; two
  can bend (sin, a square). This replaces `gmmmi.independence_test`'s whole
  component search per copy (about 0.1 s per copy at N = 2000, against a few
  milliseconds here).
* **Sequential p-value** (Besag & Clifford 1991, Biometrika 78, 301-304).
  Copies are drawn until ``h`` of them reach the observed statistic, or
  ``n_permutations`` were drawn: p = h / L after L copies in the first case,
  (1 + g) / (1 + n_permutations) with g exceedances in the second; both are
  valid p-values. ``h`` is the smallest count that makes p > level certain
  (at least ``MIN_EXCEEDANCES``, for a p-value of some precision), so the
  decision is the one the full test would make, and a feature that adds
  nothing costs about h / p copies instead of all of them.
"""

from __future__ import annotations

import math

import numpy as np

from ._em.fit import EMSettings, fit_batch
from ._em.init import initialise
from ._em.select import select_components
from ._kernels.em import mean_loglik

#: rows per stratum of S within which f is reordered
STRATUM = 10
#: fewest components of the statistic's mixture (one Gaussian sees only monotone relations)
MIN_COMPONENTS = 2
#: copies reaching the observed statistic that stop the test (Besag & Clifford's h), at least
MIN_EXCEEDANCES = 10
#: copies fitted in one compiled call (fixed: the p-value never depends on it)
CHUNK = 50


def conditional_pvalue(
    f: np.ndarray,
    z: np.ndarray,
    y: np.ndarray,
    *,
    discrete: bool,
    level: float,
    n_permutations: int,
    rng: np.random.Generator,
) -> tuple[float, int]:
    """Sequential permutation p-value of I(f; y | z) = 0.

    Parameters
    ----------
    f : numpy.ndarray, shape (n,)
        The candidate, Gaussianised (mean 0, sd 1).
    z : numpy.ndarray, shape (n, q)
        The chosen features (q may be 0), Gaussianised.
    y : numpy.ndarray, shape (n,)
        The target: Gaussianised numbers, or class codes 0..C-1 when ``discrete``.
    discrete : bool
    level : float
        The level the p-value is compared with (decides when the test may stop).
    n_permutations : int
        Most reordered copies.
    rng : numpy.random.Generator
        Source of every reordering and of the component search.

    Returns
    -------
    pvalue : float
    n_drawn : int
        Reordered copies fitted (without the one that chose K).

    Raises
    ------
    ValueError
        When the observed statistic is not finite (a singular fit).
    """
    n = f.shape[0]
    strata = _strata(z, n)
    h = max(MIN_EXCEEDANCES, math.ceil(level * (n_permutations + 1)))
    statistic = _Statistic(f, z, y, discrete, strata, rng)
    observed = statistic.values([np.arange(n)])[0]
    if not np.isfinite(observed):
        raise ValueError("the fit to the observed data is singular")
    exceed = drawn = 0
    while drawn < n_permutations:
        size = min(CHUNK, n_permutations - drawn)
        perms = [_reorder(strata, rng) for _ in range(size)]
        for value in statistic.values(perms):
            drawn += 1
            # a copy whose fit failed counts against the feature (conservative)
            exceed += not (value < observed)
            if exceed == h:
                return h / drawn, drawn
    return (1 + exceed) / (1 + n_permutations), drawn


def _strata(z: np.ndarray, n: int) -> np.ndarray:
    """The stratum of each row (all 0 when z has no columns).

    Consecutive groups of ``STRATUM`` rows along z's first principal component.
    """
    if z.shape[1] == 0:
        return np.zeros(n, dtype=np.int64)
    zc = (z - z.mean(axis=0)) / z.std(axis=0)
    key = zc[:, 0] if zc.shape[1] == 1 else zc @ np.linalg.svd(zc, full_matrices=False)[2][0]
    stratum = np.empty(n, dtype=np.int64)
    stratum[np.argsort(key, kind="stable")] = np.arange(n) * max(1, n // STRATUM) // n
    return stratum


def _reorder(stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of y for one copy: a uniform reordering within each stratum."""
    n = stratum.shape[0]
    perm = np.empty(n, dtype=np.int64)
    # stratum + u (u uniform in [0, 1)) sorts as the pairs (stratum, u), 3x faster than lexsort
    perm[np.argsort(stratum, kind="stable")] = np.argsort(stratum + rng.random(n))
    return perm


def plugin_gain(
    f: np.ndarray, z: np.ndarray, y: np.ndarray, *, discrete: bool, rng: np.random.Generator
) -> float:
    """The test's statistic on the data as they are, from a quick fit: a gain to compare.

    The plug-in I(f; y | z) (for a categorical y, I(f, z; y), which differs
    from it by I(z; y), the same for every f) of a ``MIN_COMPONENTS``-component
    mixture started from k-means, without the component search: cheap enough
    for every candidate of a step (a few milliseconds at N = 2000), and
    biased low where two components cannot follow the relation, alike for
    every candidate. Parameters as in `conditional_pvalue`; NaN when the fit
    is singular.
    """
    statistic = _Statistic(f, z, y, discrete, None, rng)
    return float(statistic.values([np.arange(f.shape[0])])[0])


class _Statistic:
    """The plug-in statistic of reordered copies, from one K and one start.

    ``stratum`` None: no component search, a k-means start with
    ``MIN_COMPONENTS`` components on the data as they are (`plugin_gain`).
    """

    def __init__(self, f, z, y, discrete, stratum, rng):
        self.fz = np.ascontiguousarray(np.column_stack([f, z]))
        self.y = y
        self.discrete = discrete
        self.settings = EMSettings()
        chooser = np.arange(len(y)) if stratum is None else _reorder(stratum, rng)
        self.quick = stratum is None
        if discrete:
            self.n_classes = int(y.max()) + 1
            counts = np.bincount(y, minlength=self.n_classes)
            self.log_prior = np.log(counts / len(y))
            labels = y[chooser]
            self.starts = [self._start(self.fz[labels == c], rng) for c in range(self.n_classes)]
        else:
            self.starts = [self._start(self._joint(chooser), rng)]

    def _joint(self, perm):
        return np.ascontiguousarray(np.column_stack([self.fz, self.y[perm]]))

    def _start(self, X, rng):
        if self.quick:
            return initialise(X, MIN_COMPONENTS, init_type="kmeans_sklearn", scale=None, rng=rng)
        sel = select_components(X, rng=rng, k_min=MIN_COMPONENTS, curves=False)
        return sel.start

    def _fits(self, X, row_sets, start):
        """EM from ``start`` on the rows of ``X`` in each of ``row_sets``, in one call."""
        rows = np.concatenate(row_sets).astype(np.int64)
        ptr = np.concatenate([[0], np.cumsum([len(r) for r in row_sets])]).astype(np.int64)
        m = len(row_sets)
        init = tuple(np.repeat(a[None], m, axis=0) for a in start)
        return fit_batch(
            X, (rows, np.ones(len(rows)), ptr), np.arange(m), init, self.settings, score_final=False
        )

    def values(self, perms) -> np.ndarray:
        """The statistic of the copy with y reordered by each of ``perms``."""
        if self.discrete:
            return self._categorical(perms)
        n = self.fz.shape[0]
        data = [self._joint(p) for p in perms]
        X = np.concatenate(data)
        fit = self._fits(
            X, [np.arange(i * n, (i + 1) * n) for i in range(len(data))], self.starts[0]
        )
        d = X.shape[1]
        q = d - 2
        blocks = [  # log q(f, S, y) + log q(S) - log q(f, S) - log q(S, y)
            (1.0, list(range(d))),
            (1.0, list(range(1, q + 1))),
            (-1.0, list(range(q + 1))),
            (-1.0, list(range(1, d))),
        ]
        out = np.empty(len(data))
        for i, Xi in enumerate(data):
            out[i] = sum(sign * _mean_loglik(Xi, fit, i, cols) for sign, cols in blocks if cols)
        return out

    def _categorical(self, perms) -> np.ndarray:
        """Plug-in I(f; y | S) = I(f, S; y) - I(S; y): one mixture of (f, S) per class."""
        labels = [self.y[p] for p in perms]
        d = self.fz.shape[1]
        sets = (list(range(d)), list(range(1, d)))
        logp = {
            cols: np.empty((len(perms), self.n_classes, self.fz.shape[0]))
            for cols in map(tuple, sets)
        }
        for c in range(self.n_classes):
            fit = self._fits(self.fz, [np.flatnonzero(lab == c) for lab in labels], self.starts[c])
            for i in range(len(perms)):
                for cols in logp:
                    if not cols:
                        continue
                    c_ = np.array(cols)
                    logp[cols][i, c] = self.log_prior[c] + _mixture_logpdf(
                        self.fz[:, c_],
                        fit.weights[i],
                        fit.means[i][:, c_],
                        fit.covariances[i][:, c_][:, :, c_],
                    )
        out = np.zeros(len(perms))
        for sign, cols in zip((1.0, -1.0), logp, strict=True):
            if not cols:
                continue
            lp = logp[cols]
            own = np.take_along_axis(lp, np.stack(labels)[:, None, :], axis=1)[:, 0]
            top = lp.max(axis=1)
            evidence = top + np.log(np.exp(lp - top[:, None]).sum(axis=1))
            out += sign * (own - evidence).mean(axis=1)
        return out


def _mean_loglik(X, fit, i, cols) -> float:
    """Mean log-density of the columns ``cols`` of X under fit ``i``'s marginal mixture."""
    c = np.array(cols)
    return mean_loglik(
        np.ascontiguousarray(X[:, c]),
        fit.weights[i],
        np.ascontiguousarray(fit.means[i][:, c]),
        np.ascontiguousarray(fit.covariances[i][:, c][:, :, c]),
    )


def _mixture_logpdf(X, weights, means, covs) -> np.ndarray:
    """log q(x) of each row of X (n, d) under one mixture; -inf where a covariance is singular."""
    n, d = X.shape
    parts = np.empty((len(weights), n))
    for k in range(len(weights)):
        try:
            L = np.linalg.cholesky(covs[k])
        except np.linalg.LinAlgError:
            parts[k] = -np.inf
            continue
        u = np.linalg.solve(L, (X - means[k]).T)
        parts[k] = (
            math.log(max(weights[k], 1e-300))
            - 0.5 * (u * u).sum(axis=0)
            - np.log(np.diag(L)).sum()
            - 0.5 * d * math.log(2 * math.pi)
        )
    top = parts.max(axis=0)
    return top + np.log(np.exp(parts - top).sum(axis=0))
