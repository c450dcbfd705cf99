"""Margins that do not matter: a per-column Gaussianising map and the choice of using it.

Mutual information, conditional MI and the MI between continuous columns and a
category are unchanged when a column is replaced by a strictly increasing
function of itself. A Gaussian mixture fitted to the raw values is not: exp,
cube or a saturating sensor curve turn one Gaussian into a skewed, heavy-tailed
or bounded shape that needs many components, and the estimate drifts. This
module fits, per column, the smooth monotone map

    T(x) = Φ⁻¹(F̂(x)),

where F̂ is the CDF of a 1-D Gaussian mixture fitted to that column (K by
cross-validation; on the data's own scale, on asinh((x - median) / IQR) or,
for a positive column, on log x, whichever fits better; a row isolated far
from the rest gets a component of its own) and Φ the standard normal CDF,
so that T(x) is close
to standard normal. The
MI of the mapped data is the MI of the data, whatever F̂ is, so the map need
not be exact, only smooth and monotone.

``transform="auto"`` (the default of `gmmmi.estimate`) keeps the raw data when
every column is fitted by one Gaussian (the map is then affine, which changes
nothing). Otherwise it fits the joint mixture to the raw data and to the
mapped data (the component search only, no bootstrap) and keeps the one whose
model of the data has the higher held-out log-likelihood per row **on the
original scale**: for the mapped data the density of x is q(T(x)) Π_j T_j'(x_j),
so the criterion adds the mean log-Jacobian to the mapped fit's held-out
log-likelihood. Genuinely multimodal margins whose joint law is a Gaussian
mixture (the paper's D3 and D5) keep the raw fit, which serves them exactly.

Before any map is fitted, a pre-test reads the raw data's search (the one the
fit reuses; run first wherever the comparison uses every row): when its fit
already models every margin and the Gaussian copula of its margins scores
`COPULA_GAP` below it (`raw_margins_suffice`), the raw data are kept without
fitting the maps (``MarginReason.RAW_MARGINS``); D3 and D5 are kept so, at a
few per cent of the maps' cost. The maps are fitted after all if that fit
fails its check (``gmmmi._other_margins``).

The map is fitted once on the full data and held fixed in the bootstrap; the
measurement that this does not change the error bar is in docs/robustness.md.
"""

from __future__ import annotations

import copy
import enum
import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri, ndtri_exp

from ._checks import check_choice
from ._rows import standardise

#: the values of ``transform=``
TRANSFORMS = ("auto", "none", "gaussianize")

#: rows used to fit one column's mixture (a fixed random subset above this)
MAX_MAP_ROWS = 5_000
#: largest K of one column's mixture
MAX_MAP_COMPONENTS = 20
#: Jarque–Bera statistic below which a column counts as Gaussian (χ²₂ at p = 0.001)
GAUSSIAN_JB = 13.8
#: nats per row by which the Gaussian copula of the raw fit's margins must score below the
#: raw fit for ``transform="auto"`` to keep the raw data without fitting the maps
#: (`raw_margins_suffice`); see docs/robustness.md for the cases that set it
COPULA_GAP = 0.04
#: rows of ``transform="auto"``'s comparison of the raw and mapped data (a fixed random
#: subset above this): its two component searches on all of 10^6 rows of log-normal columns
#: cost minutes, many times the estimate itself (the raw data need many components). The
#: held-out log-likelihoods per row are then known to about 0.01 nat, while the options
#: compared differ by 0.01 (the paper's D3) to 0.8 nat per row
COMPARE_ROWS = 20_000
#: a column with fewer distinct values keeps the affine map: too few to fit a shape (columns
#: of at most 10 values are refused as discrete by `gmmmi.estimate`, up to 30 warned about)
MIN_DISTINCT = 20
#: why a column's map is affine, or that it was fitted (``MarginalMap.basis``)
BASIS_TEXT = {
    "gaussian": "its skewness and kurtosis are a Gaussian's",
    "one component": "one Gaussian fits it best",
    "few values": f"fewer than {MIN_DISTINCT} distinct values",
    "not finite": "its 1-D mixture was not finite in data units",
    "fitted": "a 1-D mixture was fitted",
}
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MarginalMap:
    """The map T(x) = Φ⁻¹(F̂(u(x))) of one column, F̂ the CDF of a 1-D Gaussian mixture.

    ``u`` is the scale the mixture was fitted on: the data themselves
    (``"linear"``, u(x) = x), ``"asinh"``, u(x) = asinh((x - centre) /
    spread), which turns exponential and power-law tails into Gaussian-like
    or exponential ones that a few components describe (a log-normal
    column becomes nearly Gaussian), or ``"log"``, u(x) = log x, for a
    positive column spanning many decades (asinh is linear below its
    spread, so it squeezes every decade under the median's into a point);
    T(x) is -inf for x <= 0 on the log scale. With the linear scale and one component
    the map is affine, ``(x - mean) / sd``, and changes no estimate (MI is
    invariant under affine maps, and `gmmmi.estimate` standardises every
    column anyway).

    Attributes
    ----------
    label : str
        The column's name.
    weights, means, sds : numpy.ndarray, shape (K,)
        The 1-D mixture on the scale u (``sds`` are standard deviations).
    scale_kind : {"linear", "asinh", "log"}
        The scale u.
    centre, spread : float
        The asinh scale's centre and unit, in data units (0 and 1 otherwise).
    basis : str
        Why the map is affine, or ``"fitted"``: a key of `BASIS_TEXT`.
    """

    label: str
    weights: np.ndarray
    means: np.ndarray
    sds: np.ndarray
    scale_kind: str = "linear"
    centre: float = 0.0
    spread: float = 1.0
    basis: str = "fitted"

    @property
    def n_components(self) -> int:
        """K of the column's mixture."""
        return int(self.weights.size)

    @property
    def affine(self) -> bool:
        """Whether the map is affine (linear scale, one component)."""
        return self.scale_kind == "linear" and self.n_components == 1

    def _u(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self.scale_kind == "linear":
            return x
        if self.scale_kind == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), -np.inf)
        return np.arcsinh((x - self.centre) / self.spread)

    def _log_du(self, x):
        """log u'(x), shape of x."""
        x = np.asarray(x, dtype=np.float64)
        if self.scale_kind == "linear":
            return np.zeros(x.shape)
        if self.scale_kind == "log":
            return -self._u(x)
        r = (x - self.centre) / self.spread
        return -math.log(self.spread) - 0.5 * np.log1p(r * r)

    def __call__(self, x) -> np.ndarray:
        """T(x), computed in log space so that no tail rounds to ±inf.

        Parameters
        ----------
        x : array_like, shape (n,)
            Values of the column, in data units.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Normal scores; strictly increasing in x and finite for every
            finite x whose tail probability does not underflow ~1e-308.
        """
        u = self._u(x)
        if self.n_components == 1:
            return (u - self.means[0]) / self.sds[0]
        z = (u[..., None] - self.means) / self.sds
        logw = np.log(self.weights)
        log_cdf = logsumexp(logw + log_ndtr(z), axis=-1)
        log_sf = logsumexp(logw + log_ndtr(-z), axis=-1)
        # the smaller tail probability is the accurate one
        lower = log_cdf < log_sf
        out = np.empty_like(log_cdf)
        out[lower] = ndtri_exp(log_cdf[lower])
        out[~lower] = -ndtri_exp(log_sf[~lower])
        return out

    def log_density(self, x) -> np.ndarray:
        """log f̂(x), the column's fitted density in data units.

        Parameters
        ----------
        x : array_like, shape (n,)

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        u = self._u(x)
        z = (u[..., None] - self.means) / self.sds
        log_f = logsumexp(np.log(self.weights / self.sds) - 0.5 * z**2, axis=-1)
        return log_f - 0.5 * _LOG_2PI + self._log_du(x)

    def log_derivative(self, x, t=None) -> np.ndarray:
        """log T'(x) = log f̂(x) − log φ(T(x)), the log-Jacobian of the map.

        Parameters
        ----------
        x : array_like, shape (n,)
        t : numpy.ndarray, shape (n,), optional
            T(x), when the caller has it (else computed).

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        t = self(x) if t is None else t
        return self.log_density(x) + 0.5 * t**2 + 0.5 * _LOG_2PI

    def to_dict(self) -> dict:
        """The map as plain JSON values (for ``Result.meta["transform"]``)."""
        return {
            "label": self.label,
            "scale": self.scale_kind,
            "centre": self.centre,
            "spread": self.spread,
            "basis": self.basis,
            "n_components": self.n_components,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "sds": self.sds.tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict) -> MarginalMap:
        """Inverse of `to_dict`."""
        arrays = (np.asarray(record[k], dtype=np.float64) for k in ("weights", "means", "sds"))
        return cls(
            str(record["label"]),
            *arrays,
            str(record["scale"]),
            float(record["centre"]),
            float(record["spread"]),
            str(record.get("basis", "fitted")),
        )


def fit_marginal_map(values, label: str, rng: np.random.Generator) -> MarginalMap:
    """Fit the Gaussianising map of one column.

    A Gaussian mixture is fitted by the compiled EM (k-means
    initialisation) to at most `MAX_MAP_ROWS` rows of the column, on up to
    three scales: the data (linear), asinh((x - median) / IQR) and, for a
    positive column, log x. On each, K = 1 .. `MAX_MAP_COMPONENTS` is chosen
    by cross-validated log-likelihood (2 folds, patience 2; a component must
    raise it by BIC's price of its 3 parameters, 1.5 ln(n) / n per row, so
    noise does not). The scale with the higher held-out log-likelihood in
    data units (the scale's Jacobian included) is kept; one Gaussian on the
    linear scale is the affine map. Every scale is always tried: on a
    heavy-tailed column (Cauchy) the k-means starts of the linear scale put a
    cluster on a few extremes and the search stops at one Gaussian, which
    the asinh scale beats; a column spanning many decades needs the log
    scale. Rows that the outlier screen (``isolated_outliers``) finds on a scale
    (a value 1e10 among standard normals) are left out of its search and get
    one component each, of weight 1/n and the spread of the rest: a mixture
    cannot give one row a component of positive width, and without it the
    map would leave the row as far from the rest as it was. A column whose
    skewness and kurtosis are a Gaussian's (`looks_gaussian`) keeps the
    affine map without a fit, and so does a column of fewer than
    `MIN_DISTINCT` distinct values; ``basis`` of the map says which.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        The column, finite, in data units.
    label : str
        Its name.
    rng : numpy.random.Generator
        Source of the subset and of the initialisations.

    Returns
    -------
    MarginalMap
    """
    values = np.asarray(values, dtype=np.float64)
    # work in units of the largest magnitude, so that no moment over- or underflows
    unit = float(np.abs(values).max()) or 1.0
    v = values / unit
    spread_v = float(v.std())

    def affine(basis):
        mean, sd = np.array([v.mean() * unit]), np.array([spread_v * unit or 1.0])
        return MarginalMap(label, np.ones(1), mean, sd, basis=basis)

    if spread_v == 0 or looks_gaussian(v):
        return affine("gaussian")
    if np.unique(v).size < MIN_DISTINCT:
        return affine("few values")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        best = _best_scale(v, label, rng)
        if best.scale_kind == "linear":
            best = replace(best, means=best.means * unit, sds=best.sds * unit)
        elif best.scale_kind == "asinh":
            best = replace(best, centre=best.centre * unit, spread=best.spread * unit)
        else:  # log x = log v + log unit
            best = replace(best, means=best.means + math.log(unit))
    if best.affine:
        return affine("one component")
    finite = [best.means, best.sds, [best.centre, best.spread]]
    if not all(np.isfinite(a).all() for a in finite) or (best.sds <= 0).any():
        return affine("not finite")
    return best


def _best_scale(values, label, rng) -> MarginalMap:
    """The 1-D mixture on the linear, asinh or log scale with the higher held-out score.

    The search runs on at most `MAX_MAP_ROWS` rows (a random subset drawn
    once); the isolated rows are looked for among all of them.
    """
    from ._screening import isolated_outliers

    n = values.size
    subset = rng.choice(n, MAX_MAP_ROWS, replace=False) if n > MAX_MAP_ROWS else None
    sample = values if subset is None else values[subset]
    centre = float(np.median(sample))
    q25, q75 = np.percentile(sample, [25, 75])
    spread = float(q75 - q25) or float(sample.std())
    shapes = [
        MarginalMap(label, np.ones(1), np.zeros(1), np.ones(1), "linear"),
        MarginalMap(label, np.ones(1), np.zeros(1), np.ones(1), "asinh", centre, spread),
    ]
    if values.min() > 0:  # the log scale has no centre or unit: u(x) = log x
        shapes.append(MarginalMap(label, np.ones(1), np.zeros(1), np.ones(1), "log"))
    best, best_score = shapes[0], -np.inf
    for shape in shapes:
        u = shape._u(values)
        far = np.zeros(n, dtype=bool)
        far[isolated_outliers(u)] = True
        fit_rows = ~far if subset is None else subset[~far[subset]]
        fitted = _fit_1d(u[fit_rows], rng)
        if fitted is None:
            continue
        weights, means, sds, heldout = fitted
        if far.any():
            weights, means, sds, heldout = _with_isolated_rows(u, far, weights, means, sds, heldout)
        score = heldout + float(shape._log_du(sample).mean())
        if score > best_score:
            best = replace(shape, weights=weights, means=means, sds=sds)
            best_score = score
    return best


def _with_isolated_rows(u, far, weights, means, sds, heldout):
    """The mixture of the other rows plus one component per isolated row, and its score.

    Each isolated row gets weight 1/n, its own value as mean and the sd of
    the other rows; the score is the other rows' held-out log-likelihood and
    the isolated rows' log-density under the whole mixture, per row.
    """
    n, n_far = u.size, int(far.sum())
    width = float(u[~far].std()) or 1.0
    weights = np.concatenate([weights * (n - n_far) / n, np.full(n_far, 1.0 / n)])
    means = np.concatenate([means, u[far]])
    sds = np.concatenate([sds, np.full(n_far, width)])
    z = (u[far, None] - means) / sds
    own = logsumexp(np.log(weights / sds) - 0.5 * z**2, axis=-1) - 0.5 * _LOG_2PI
    # the other rows' score, held out, under their share (n - n_far) / n of the weight
    rest = (n - n_far) * (heldout + math.log((n - n_far) / n))
    return weights, means, sds, (rest + float(own.sum())) / n


def looks_gaussian(values) -> bool:
    """Whether the column's skewness and kurtosis are those of a Gaussian sample.

    The Jarque–Bera statistic n/6 (S² + (κ - 3)²/4), χ² with 2 degrees of
    freedom for a Gaussian sample, below `GAUSSIAN_JB` (p = 0.001): such a
    column keeps the affine map without any fit (most data sets with Gaussian
    margins cost nothing more than before).

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)

    Returns
    -------
    bool
    """
    centred = values - values.mean()
    z2 = centred * centred
    variance = z2.mean()
    skew = np.dot(z2, centred) / values.size / variance**1.5
    kurt = np.dot(z2, z2) / values.size / variance**2 - 3.0
    return bool(values.size / 6.0 * (skew**2 + kurt**2 / 4.0) < GAUSSIAN_JB)


def raw_margins_suffice(Xs: np.ndarray, fit: tuple, heldout: float) -> tuple[bool, float]:
    """Whether the maps cannot beat the raw data's fit, judged from that fit's own margins.

    The maps can beat a mixture of the raw data in two ways: a better model
    of a margin, or a mapped joint law that a few Gaussians describe better
    than the raw one (a Gaussian copula under skewed or bounded margins, where
    the raw data need many components). Both are read off the raw fit
    ``fit`` (``transform="auto"``'s search of the raw data), with its margins
    as the maps (T_j = Φ⁻¹(F_j), F_j the fit's marginal CDF of column j):

    1. every column's normal scores T_j(x_j) have a Gaussian's skewness and
       kurtosis (`looks_gaussian`): the fit already models each margin, so a
       1-D mixture has little to add there;
    2. the Gaussian copula of those margins (one Gaussian fitted to the
       normal scores, with the log-Jacobian of the T_j; AIC's correction for
       its parameters) scores `COPULA_GAP` nats per row or more below the
       raw fit's held-out log-likelihood: the mapped data are not close to
       one Gaussian.

    When both hold the maps cannot win by their usual routes, and
    `choose_margins` keeps the raw data without fitting them. The rule is
    measured, not proven: a mapped fit of several components could still
    win on the copula (on the 146 data sets of docs/robustness.md, the
    pre-test skipped 31 of the 38 comparisons the raw data won and changed
    one of the 83 the maps won, where they led by 0.003 nat per row).

    Parameters
    ----------
    Xs : numpy.ndarray, shape (n, d)
        The raw data, standardised as for the search.
    fit : tuple
        The search's full-data fit: weights (K,), means (K, d), covariances
        (K, d, d), in the units of ``Xs``.
    heldout : float
        The search's held-out log-likelihood per row, in the units of ``Xs``.

    Returns
    -------
    suffice : bool
        Both conditions hold.
    copula : float
        The Gaussian copula's log-likelihood per row, in the units of
        ``Xs`` (nan when a normal score is not finite).
    """
    weights, means, covariances = fit
    keep = weights > 0
    w = weights[keep]
    n, d = Xs.shape
    scores = np.empty((n, d))
    log_jac = 0.0
    gaussian = True
    for j in range(d):
        sd = np.sqrt(covariances[keep, j, j])
        z = (Xs[:, j, None] - means[keep, j]) / sd
        # in linear space (the raw fit's tails stay far above underflow for any row within
        # ~37 sd of a component; a row beyond gives a score that is not finite: no skip)
        lower, upper = ndtr(z) @ w, ndtr(-z) @ w
        t = np.where(lower < upper, ndtri(lower), -ndtri(upper))
        density = np.exp(-0.5 * z * z) @ (w / sd)
        if not (np.isfinite(t).all() and (density > 0).all()):
            return False, math.nan
        scores[:, j] = t
        # log T'(x) = log f(x) - log φ(T(x))
        log_jac += float(np.mean(np.log(density) + 0.5 * t * t))
        gaussian = gaussian and looks_gaussian(t)
    centred = scores - scores.mean(axis=0)
    _, log_det = np.linalg.slogdet(centred.T @ centred / n)
    # the maximum-likelihood Gaussian's mean log-density is -(d (1 + log 2π) + log det) / 2
    copula = -0.5 * (d * (1.0 + _LOG_2PI) + log_det) + log_jac - (d + d * (d + 1) / 2) / n
    return gaussian and heldout - copula >= COPULA_GAP, float(copula)


def _fit_1d(u, rng):
    """A 1-D mixture on ``u``: (weights, means, sds, held-out log-lik per row), or None.

    The component search of the EM wing for one column (`gmmmi._em.search1d`:
    two k-means starts per K, 2 folds, patience 2; nothing of this helper fit
    is reported).
    """
    from ._em.fit import EMSettings
    from ._em.search1d import search_1d

    centre = float(np.median(u))
    q25, q75 = np.percentile(u, [25, 75])
    # a robust scale, so that heavy tails do not squeeze the bulk of the column to a point
    spread = float(q75 - q25) or float(u.std())
    column = np.ascontiguousarray(((u - centre) / spread)[:, None])
    try:
        _, heldout, weights, means, variances = search_1d(
            column,
            rng=rng,
            n_inits=2,
            patience=2,
            threshold=1.5 * math.log(u.size) / u.size,
            max_components=MAX_MAP_COMPONENTS,
            settings=EMSettings(1e-6, 1e-5, 10_000),
        )
    except ValueError:
        return None
    heldout -= math.log(spread)
    keep = weights > 0
    weights = weights[keep] / weights[keep].sum()
    return weights, centre + spread * means[keep], spread * np.sqrt(variances[keep]), heldout


class MarginReason(enum.Enum):
    """Why `choose_margins` chose the raw or the mapped data (``MarginChoice.reason``).

    The value of a reason with a fixed text is that text; the others
    (``AFFINE``, ``CANNOT_COMPARE``, ``NO_COMPARISON``, ``OTHER``) keep their
    words in ``MarginChoice.detail``.
    """

    NONE_REQUESTED = "transform='none'"
    REQUESTED = "requested"
    KL_GAUSSIAN = "kl=True needs the raw data"
    KL_KEEPS_RAW = (
        "kl=True: KL is not invariant under separate maps of x and y, so the MI is that of the "
        "raw data and depends on how each variable is measured; estimate the MI without kl=True "
        "to use the maps"
    )
    INIT_KEEPS_RAW = (
        "init= is read as a mixture of the raw data; pass transform='gaussianize' to start from "
        "a mapped result's mixture"
    )
    WEIGHTS_KEEP_RAW = (
        "sample_weight= is given and the comparison of raw and mapped data is unweighted; pass "
        "transform='gaussianize' to map the margins"
    )
    ENTROPY_KEEPS_RAW = "differential entropy is not invariant under maps of the columns"
    NO_FULL_CELL = "no cell has every continuous column"
    AFFINE = "every map is affine"
    CANNOT_COMPARE = "the backend cannot compare"
    NO_COMPARISON = "no comparison possible"
    HELDOUT = "higher held-out likelihood"
    RAW_MARGINS = (
        "the raw data's fit models every margin (its normal scores have a Gaussian's skewness "
        "and kurtosis) and scores above the Gaussian copula of those margins: the maps were not "
        "fitted"
    )
    FIT_CHECK = (
        "the first choice's fit failed its fit check, so the other was fitted too; kept: the one "
        "that passes the check, else the higher held-out likelihood"
    )
    BLOCK_MAPS = (
        "the mapped data's fit failed its fit check; the raw data with shears or twists of a "
        "block (MI unchanged) fitted better"
    )
    OTHER = "other"


#: why ``transform="auto"`` keeps the raw data with ``kl=True`` when a margin is not Gaussian
KL_KEEPS_RAW = MarginReason.KL_KEEPS_RAW.value
#: why ``transform="auto"`` keeps the raw data when the fit starts from ``init=``
INIT_KEEPS_RAW = MarginReason.INIT_KEEPS_RAW.value
#: why ``transform="auto"`` keeps the raw data with ``sample_weight=``
WEIGHTS_KEEP_RAW = MarginReason.WEIGHTS_KEEP_RAW.value


@dataclass(frozen=True)
class MarginChoice:
    """What `choose_margins` decided: the record kept on the result (``Result.margins``).

    ``Result.meta["transform"]`` holds its `to_dict` (the form saved in
    files); `from_dict` rebuilds it, from files of any gmmmi version.

    Attributes
    ----------
    requested : str
        The ``transform=`` asked for.
    chosen : str
        ``"none"`` (raw data) or ``"gaussianize"`` (every column mapped).
    reason : MarginReason
        Why.
    maps : tuple of MarginalMap
        One per continuous column (empty when no map was fitted).
    criterion : dict
        ``{"none": float, "gaussianize": float, "kind": str}``: the held-out
        log-likelihood per row on the original scale of each option (the
        larger wins), empty when no comparison was made. With reason
        ``RAW_MARGINS``, ``"gaussianize"`` is None (no map was fitted) and
        ``"gaussian copula"`` holds the copula's in-sample score the raw fit beat.
    detail : str
        The reason in words where it depends on the data (which columns,
        which backend, which error); empty otherwise.
    """

    requested: str
    chosen: str
    reason: MarginReason
    maps: tuple = ()
    criterion: dict = field(default_factory=dict)
    detail: str = ""

    @property
    def text(self) -> str:
        """The reason in words."""
        return self.detail or self.reason.value

    def to_dict(self) -> dict:
        """Plain JSON values (``Result.meta["transform"]``)."""
        return {
            "requested": self.requested,
            "chosen": self.chosen,
            "reason": self.text,
            "columns": [m.to_dict() for m in self.maps],
            "criterion": dict(self.criterion),
        }

    @classmethod
    def from_dict(cls, record: dict) -> MarginChoice:
        """Inverse of `to_dict`; the reason is recognised from its words."""
        text = str(record.get("reason", ""))
        fixed = {r.value: r for r in MarginReason if r not in _DETAILED}
        if text in fixed:
            reason, detail = fixed[text], ""
        else:
            starts = {
                "every margin fits one Gaussian": MarginReason.AFFINE,
                "no margin was mapped": MarginReason.AFFINE,
                "no comparison possible": MarginReason.NO_COMPARISON,
                "the ": MarginReason.CANNOT_COMPARE,
            }
            reason = next((r for p, r in starts.items() if text.startswith(p)), MarginReason.OTHER)
            detail = text
        maps = tuple(MarginalMap.from_dict(c) for c in record.get("columns", []))
        return cls(
            str(record.get("requested", "none")),
            str(record.get("chosen", "none")),
            reason,
            maps,
            dict(record.get("criterion") or {}),
            detail,
        )

    def apply(self, X: np.ndarray) -> np.ndarray:
        """The columns of ``X`` (data units, the result's column order) as the fit saw them.

        Parameters
        ----------
        X : numpy.ndarray, shape (n, d)

        Returns
        -------
        numpy.ndarray, shape (n, d)
            ``X`` itself unless a map was chosen.
        """
        if self.chosen != "gaussianize":
            return X
        return _mapped(X, self.maps)

    def describe(self) -> str | None:
        """One line on the margins for ``print(result)``; None when there is nothing to say.

        Nothing is said when the raw data were kept without a comparison (every
        margin fitted by one Gaussian, or ``transform="none"``).
        """
        crit = self.criterion
        if self.reason is MarginReason.RAW_MARGINS:
            return (
                "margins: raw data kept, no map fitted (the raw fit models every margin); "
                f"log-lik/row on the data scale: raw {crit['none']:.4f}, Gaussian copula of its "
                f"margins {crit['gaussian copula']:.4f}"
            )
        if self.reason in (
            MarginReason.INIT_KEEPS_RAW,
            MarginReason.KL_KEEPS_RAW,
            MarginReason.BLOCK_MAPS,
        ):
            return f"margins: raw data kept ({self.text})"
        if self.chosen == "none" and not self.criterion:
            return None
        ks = ", ".join(f"{m.label}:{m.scale_kind},K={m.n_components}" for m in self.maps)
        if self.chosen == "gaussianize":
            text = f"margins: normal scores through 1-D mixture CDFs ({ks})"
        else:
            text = "margins: raw data kept"
        if crit and None not in (crit["none"], crit["gaussianize"]):
            text += (
                f"; held-out log-lik/row on the data scale: mapped {crit['gaussianize']:.4f}, "
                f"raw {crit['none']:.4f}"
            )
        return text


#: reasons whose words are in ``MarginChoice.detail``
_DETAILED = (
    MarginReason.AFFINE,
    MarginReason.CANNOT_COMPARE,
    MarginReason.NO_COMPARISON,
    MarginReason.OTHER,
)


def apply_maps(record: dict | None, X: np.ndarray) -> np.ndarray:
    """The columns of ``X`` mapped as a result's ``meta["transform"]`` says.

    Parameters
    ----------
    record : dict or None
        ``Result.meta.get("transform")``.
    X : numpy.ndarray, shape (n, d)
        Data in data units, columns in the result's order.

    Returns
    -------
    numpy.ndarray, shape (n, d)
        ``X`` itself unless a map was chosen.
    """
    return X if not record else MarginChoice.from_dict(record).apply(X)


def choose_margins(
    data,
    transform,
    *,
    backend,
    kl,
    fit_options,
    n_components,
    rng,
    init=False,
    weighted=False,
    standardised=None,
):
    """Apply, choose or skip the per-column Gaussianising maps (the hook of `gmmmi.estimate`).

    Parameters
    ----------
    data : object
        The validated data of `gmmmi.estimate` (a frozen dataclass with
        ``X``, shape (n, d), in data units; ``blocks``; ``labels``;
        ``categories``).
    transform : {"auto", "none", "gaussianize"}
        ``"none"``: the raw data. ``"gaussianize"``: every continuous column
        through its map. ``"auto"``: the map when it models the data better
        (see the module notes); the raw data when ``kl=True``.
    backend : gmmmi.backends.Backend
        The backend of the fit that follows: ``"auto"`` compares raw and
        mapped data with its ``heldout_loglik`` hook (the raw data are kept
        when it has none or it returns None).
    kl : bool
        Whether KL divergences between the x and y marginals are asked for.
        KL is not invariant under separate maps of x and y, so ``"auto"``
        then keeps the raw data and ``"gaussianize"`` is refused.
    fit_options : dict
        The options of the joint fit, given to the backend's hook.
    n_components : int or None
        A fixed K of the joint fit, or None to choose it.
    rng : numpy.random.Generator
        Not advanced: the maps and the comparison draw from copies of it, so
        the estimate that follows uses the same random numbers as with
        ``transform="none"``.
    init : bool, default False
        Whether the fit starts from a given mixture (``estimate(init=...)``).
        Its coordinates are the caller's: ``"auto"`` then keeps the raw data
        without a comparison (and says so), ``"gaussianize"`` reads it in
        the mapped coordinates (a mapped result's ``mixture``).
    weighted : bool, default False
        Whether the fit has sample weights: ``"auto"`` then keeps the raw
        data without a comparison (its held-out fits are unweighted) and
        says so; ``"gaussianize"`` works (a monotone map needs no weights).
    standardised : tuple of numpy.ndarray, optional
        ``(Xs, scale)``: ``data.X`` standardised (``gmmmi._rows.standardise``)
        and its column sds, when the caller has them; the comparison of the
        raw data then uses them instead of standardising again.

    Returns
    -------
    data : object
        The same, with ``X`` mapped if a map was chosen, else unchanged.
    choice : MarginChoice
    """
    transform = check_choice("transform", transform, TRANSFORMS)
    if transform == "none":
        return data, MarginChoice("none", "none", MarginReason.NONE_REQUESTED)
    if kl:
        if transform == "gaussianize":
            raise ValueError(
                "transform='gaussianize' with kl=True: KL[p(x) || p(y)] is not invariant under "
                "separate maps of x and y, so it cannot be computed from mapped columns. Use "
                "transform='none' (or 'auto', which keeps the raw data when kl=True)."
            )
        # with a margin that is not a Gaussian's, the MI then depends on it: say so
        with np.errstate(all="ignore"):  # in units of the largest magnitude, as for the maps
            gaussian = [looks_gaussian(c / (np.abs(c).max() or 1.0)) for c in data.X.T]
        if all(gaussian):
            return data, MarginChoice("auto", "none", MarginReason.KL_GAUSSIAN)
        return data, MarginChoice("auto", "none", MarginReason.KL_KEEPS_RAW)
    if init and transform == "auto":
        return data, MarginChoice("auto", "none", MarginReason.INIT_KEEPS_RAW)
    if weighted and transform == "auto":
        return data, MarginChoice("auto", "none", MarginReason.WEIGHTS_KEEP_RAW)
    seeds = copy.deepcopy(rng)
    known = None  # the raw data's held-out score, when the pre-test computed it
    if transform == "auto":
        known, early = _raw_fit_first(data, backend, fit_options, n_components, rng, standardised)
        if early is not None:
            return data, early
    maps = fit_maps(data, seeds)
    mapped = replace(data, X=np.ascontiguousarray(_mapped(data.X, maps)))
    if transform == "gaussianize":
        return mapped, MarginChoice("gaussianize", "gaussianize", MarginReason.REQUESTED, maps)
    if all(m.affine for m in maps):
        return data, MarginChoice(
            "auto", "none", MarginReason.AFFINE, maps, detail=_why_affine(maps)
        )
    # on many rows, the two searches compare a fixed random subset (the fit that follows
    # then runs its own search on all the rows)
    n = data.X.shape[0]
    rows = (
        np.sort(seeds.choice(n, COMPARE_ROWS, replace=False)) if n > COMPARE_ROWS else slice(None)
    )
    categories = None if data.categories is None else data.categories[rows]
    try:
        X_raw = np.ascontiguousarray(data.X[rows])
        whole = standardised if isinstance(rows, slice) and categories is None else None
        raw = known
        if raw is None:
            raw = heldout_loglik(
                X_raw, categories, backend, fit_options, n_components, rng, standardised=whole
            )
        if raw is None:
            return data, MarginChoice(
                "auto", "none", MarginReason.CANNOT_COMPARE, maps, detail=_cannot_compare(backend)
            )
        X_mapped = np.ascontiguousarray(mapped.X[rows])
        log_jac = np.mean(
            sum(m.log_derivative(X_raw[:, j], X_mapped[:, j]) for j, m in enumerate(maps))
        )
        # the maps were fitted on these rows: AIC's correction of their in-sample log-Jacobian
        n_params = sum(3 * m.n_components - 1 for m in maps)
        fitted = heldout_loglik(X_mapped, categories, backend, fit_options, n_components, rng)
        if fitted is None:
            return data, MarginChoice(
                "auto", "none", MarginReason.CANNOT_COMPARE, maps, detail=_cannot_compare(backend)
            )
        gauss = fitted + float(log_jac) - n_params / X_raw.shape[0]
    except ValueError as err:  # too few rows etc.: the estimate itself says what is wrong
        return data, MarginChoice(
            "auto",
            "none",
            MarginReason.NO_COMPARISON,
            maps,
            detail=f"no comparison possible ({err})",
        )
    criterion = {"none": raw, "gaussianize": gauss, "kind": "held-out log-likelihood per row"}
    if gauss > raw:
        return mapped, MarginChoice("auto", "gaussianize", MarginReason.HELDOUT, maps, criterion)
    return data, MarginChoice("auto", "none", MarginReason.HELDOUT, maps, criterion)


def fit_maps(data, rng: np.random.Generator) -> tuple:
    """The map of every column of ``data.X`` (`fit_marginal_map`), drawing from ``rng``.

    Parameters
    ----------
    data : object
        Validated data, as for `choose_margins`.
    rng : numpy.random.Generator
        Advanced.

    Returns
    -------
    tuple of MarginalMap
        One per column, in column order.
    """
    names = [str(n) for key in data.blocks for n in data.labels[key]]
    return tuple(fit_marginal_map(data.X[:, j], names[j], rng) for j in range(data.X.shape[1]))


def _raw_fit_first(data, backend, fit_options, n_components, rng, standardised):
    """``"auto"``'s search of the raw data before any map, and the pre-test on its fit.

    Returns ``(score, choice)``: the raw data's held-out log-likelihood per
    row in data units (None when not computed here) and the choice to keep
    them without maps when `raw_margins_suffice` (else None). Runs only
    where its search is the one the comparison would run and the fit reuses
    (all rows, no categories), the backend gives the search's fit
    (``heldout_fit``; not when a scale mixture won the search, whose score
    is not that fit's) and some map would not be affine without a fit.
    """
    X = data.X
    hook = getattr(backend, "heldout_fit", None)
    if X.shape[0] > COMPARE_ROWS or data.categories is not None or hook is None:
        return None, None
    with np.errstate(all="ignore"):  # in units of the largest magnitude, as fit_marginal_map
        units = [c / (np.abs(c).max() or 1.0) for c in X.T]
        if all(looks_gaussian(v) or np.unique(v).size < MIN_DISTINCT for v in units):
            return None, None  # every map is affine without a fit
    Xs, scale = standardise(X)[::2] if standardised is None else standardised
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit that is kept warns for itself
            score, fit = hook(Xs, n_components=n_components, rng=copy.deepcopy(rng), **fit_options)
    except ValueError:
        return None, None  # the comparison says why
    log_scale = float(np.log(scale).sum())
    raw = float(score) - log_scale  # as heldout_loglik computes it
    if fit is None:  # a scale mixture won: the margins read would not be the model scored
        return raw, None
    with np.errstate(all="ignore"):
        suffice, copula = raw_margins_suffice(Xs, fit, float(score))
    if not suffice:
        return raw, None
    criterion = {
        "none": raw,
        "gaussianize": None,
        "gaussian copula": copula - log_scale,
        "kind": "log-likelihood per row: the raw fit's held out, the copula's in sample",
    }
    return raw, MarginChoice("auto", "none", MarginReason.RAW_MARGINS, (), criterion)


def _cannot_compare(backend) -> str:
    """Why ``"auto"`` keeps the raw data when the backend has no held-out score."""
    name = getattr(backend, "name", type(backend).__name__)
    return (
        f"the {name!r} backend cannot compare raw and mapped data (its heldout_loglik gives no "
        "score); pass transform='gaussianize' to map the margins"
    )


def _why_affine(maps) -> str:
    """Why every map is affine, in words (the reason of the raw data kept without comparison)."""
    unmapped = [m for m in maps if m.basis not in ("gaussian", "one component")]
    if not unmapped:
        return "every margin fits one Gaussian"
    listed = "; ".join(f"{m.label!r}: {BASIS_TEXT[m.basis]}" for m in unmapped)
    return f"no margin was mapped ({listed})"


def _mapped(X, maps):
    return np.column_stack([m(X[:, j]) for j, m in enumerate(maps)])


def jacobian_term(maps, X: np.ndarray) -> float:
    """What turns a held-out log-likelihood per row of mapped data into one of ``X``.

    The mean log-Jacobian of the maps over the rows of ``X``, less AIC's
    correction for the maps' parameters (they were fitted on these rows),
    as in `choose_margins`.

    Parameters
    ----------
    maps : sequence of MarginalMap
        One per column of ``X``.
    X : numpy.ndarray, shape (n, d)
        The data in data units.

    Returns
    -------
    float
        Nats per row, added to the mapped data's score.
    """
    log_jac = np.mean(sum(m.log_derivative(X[:, j]) for j, m in enumerate(maps)))
    n_params = sum(3 * m.n_components - 1 for m in maps)
    return float(log_jac) - n_params / X.shape[0]


def other_choice(choice: MarginChoice) -> str:
    """The option ``"auto"`` did not keep: ``"gaussianize"`` for ``"none"`` and back."""
    return "none" if choice.chosen == "gaussianize" else "gaussianize"


#: the two options in words (the sentence of `describe_reconsidered`)
OPTION_TEXT = {"none": "the raw data", "gaussianize": "the margins' maps"}


def describe_reconsidered(record: dict) -> str:
    """One sentence on both fits of a reconsidered choice (for `gmmmi.MisfitWarning`).

    Parameters
    ----------
    record : dict
        ``diagnostics.extra["other_margins"]``: per option ``{"n_components",
        "check", "score"}``, and ``"kept"``.

    Returns
    -------
    str
    """
    fits = " and ".join(
        f"{OPTION_TEXT[o]} (K={record[o]['n_components']}: {record[o]['check']})"
        for o in ("none", "gaussianize")
    )
    return f"Both {fits} were fitted; {OPTION_TEXT[record['kept']]} were kept. "


def reconsidered(choice: MarginChoice, chosen: str, criterion: dict) -> MarginChoice:
    """``choice`` after both options were fitted because the first failed its fit check.

    Parameters
    ----------
    choice : MarginChoice
        ``"auto"``'s first choice (reason ``HELDOUT``, or ``RAW_MARGINS`` with
        the maps fitted after the failed check).
    chosen : {"none", "gaussianize"}
        The option kept.
    criterion : dict
        ``{"none": float, "gaussianize": float, "kind": str, ...}``: each
        fit's held-out log-likelihood per row on the data scale, and what
        else decided.

    Returns
    -------
    MarginChoice
        Reason ``FIT_CHECK``, the same maps.
    """
    return replace(choice, chosen=chosen, reason=MarginReason.FIT_CHECK, criterion=criterion)


def heldout_loglik(
    X, categories, backend, fit_options, n_components, rng, *, standardised=None
) -> float | None:
    """Held-out log-likelihood per row of the backend's joint fit, in data units of ``X``.

    The backend's ``heldout_loglik`` hook on the standardised ``X``, plus
    the log-Jacobian of the standardisation. With categories, one fit per
    category, weighted by the category frequencies (the category term
    itself is the same for every option and left out).

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    categories : numpy.ndarray of int, shape (n,), or None
    backend : gmmmi.backends.Backend
        The backend of the fit that follows (it may keep its search for it).
    fit_options : dict
        The options of that fit.
    n_components : int or None
    rng : numpy.random.Generator
        Copied, not advanced.
    standardised : tuple of numpy.ndarray, optional
        ``(Xs, scale)``, ``X`` already standardised (without categories).

    Returns
    -------
    float or None
        Nats per row; None when the backend has no held-out score.
    """
    hook = getattr(backend, "heldout_loglik", None)
    if hook is None:
        return None
    if standardised is not None:
        parts = [(1.0, *standardised)]
    elif categories is None:
        parts = [(1.0, *standardise(X)[::2])]
    else:
        parts = []
        for c in range(int(categories.max()) + 1):
            rows = categories == c
            Xs, _, scale = standardise(np.ascontiguousarray(X[rows]))
            parts.append((rows.sum() / X.shape[0], Xs, scale))
    total = 0.0
    for share, Xs, scale in parts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit that is kept warns for itself
            score = hook(Xs, n_components=n_components, rng=copy.deepcopy(rng), **fit_options)
        if score is None:
            return None
        total += share * (float(score) - float(np.log(scale).sum()))
    return total
