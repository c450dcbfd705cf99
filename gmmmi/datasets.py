"""Synthetic data with known mutual information.

Every generator returns a `Dataset`: a name, the true MI (or CMI) in nats and
a sampler. ``dataset.sample(n, rng)`` returns ``(x, y)`` or, for conditional
MI, ``(x, y, z)``, ready for ``gmmmi.estimate(*data, **dataset.estimate_options)``
(the unpacking is done for you by `gmmmi.compare` and `gmmmi.calibration`):

>>> ds = gamma_exponential(alpha=1.0)
>>> x, y = ds.sample(1000, np.random.default_rng(0))
>>> round(ds.truth, 4)
0.4228

Available datasets (all truths in nats):

* `paper` — the paper's mixtures (Piras et al. 2023) D1, D3, D3p, D3 with
  rho != 0, D5 and D5p (the suffix ``p`` marks models that differ only in
  their means); truths from adaptive 2-d quadrature, cached in `PAPER_MI`.
* `gaussian` — bivariate Gaussian, I = -ln(1 - rho^2) / 2.
* `block_gaussian` — any multivariate Gaussian with blocks x, y (and z):
  closed-form MI or CMI from log-determinants.
* `gamma_exponential` — x ~ Gamma(alpha, 1), y | x ~ Exp(rate x):
  I = psi(alpha + 1) - ln(alpha).
* `weinman` — ordered Weinman exponential: x ~ Exp(rate 2 alpha), y = x + Exp(1).
* `categorical_mixture` — continuous x with a category label y of unequal
  class sizes (one Gaussian per class); truth by 1-d quadrature.
* `transformed_gaussian` — a bivariate Gaussian pushed through strictly
  monotone maps (exp, signed log, cube, signed square); MI unchanged.

``get(name)`` returns the default instance of any of them by name (used by the
command line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy import integrate as _quad
from scipy import special, stats

from .mixture import MixtureDraws

_D3_COVS = [[[1, 0], [0, 0.1]], [[0.5, 0.2], [0.2, 0.5]], [[0.1, 0.05], [0.05, 0.1]]]
_D5_COVS = _D3_COVS + [[[0.5, -0.1], [-0.1, 0.9]], [[0.2, -0.05], [-0.05, 0.1]]]

#: name -> (weights (K,), means (K, 2), covariances (K, 2, 2)) of the paper's mixtures
PAPER_MIXTURES = {
    "D1": ([1.0], [[-1, 1]], [[[0.5, 0.2], [0.2, 0.5]]]),
    "D3": ([0.3, 0.45, 0.25], [[-1, 1], [0, 2], [-1.5, 2]], _D3_COVS),
    "D3p": ([0.3, 0.45, 0.25], [[-3, 3], [2, 4], [-2.5, 5]], _D3_COVS),
    "D3_rhoneq0": (
        [0.3, 0.45, 0.25],
        [[-1, 1], [0, 2], [-1.5, 2]],
        [[[1, 0.1], [0.1, 0.1]]] + _D3_COVS[1:],
    ),
    "D5": (
        [0.2, 0.35, 0.15, 0.12, 0.18],
        [[-1, 1], [0, 2], [-1.5, 2], [2, 1], [-0.25, 0]],
        _D5_COVS,
    ),
    "D5p": (
        [0.2, 0.35, 0.15, 0.12, 0.18],
        [[-1, 1], [0, 2], [-1.5, 2], [3, 1], [-0.25, 0]],
        _D5_COVS,
    ),
}

#: name -> I(x; y) in nats of the paper's mixtures: scipy ``dblquad`` over the
#: means +- 10 sd box with epsabs = epsrel = 1e-10 (reported error < 1e-10;
#: D1 equals its closed form -ln(1 - 0.4^2)/2). tests/test_datasets.py
#: recomputes them independently.
PAPER_MI = {
    "D1": 0.08717669357238889,
    "D3": 0.13238696361480196,
    "D3p": 0.3888145336922372,
    "D3_rhoneq0": 0.14826669663388134,
    "D5": 0.16805279930713485,
    "D5p": 0.1797219348570868,
}

#: strictly monotone maps of the real line for `transformed_gaussian`
TRANSFORMS = {
    "identity": lambda v: v,
    "exp": np.exp,
    "log": lambda v: np.sign(v) * np.log1p(np.abs(v)),
    "cube": lambda v: v**3,
    "square": lambda v: v * np.abs(v),
}


@dataclass(frozen=True)
class Dataset:
    """A distribution with known mutual information, and a sampler for it.

    Parameters
    ----------
    name : str
        Short label, e.g. ``"gaussian(rho=0.6)"``.
    truth : float
        The true I(x; y) (or I(x; y | z) when ``quantity == "cmi"``), in nats.
    sampler : callable
        ``sampler(n, rng) -> (x, y)`` or ``(x, y, z)``, arrays with n rows.
        Module-level functions (or partials of them) keep the dataset
        picklable, so studies can run in process pools.
    truth_error : float, default 0
        Numerical (one standard deviation or quadrature) error of ``truth``;
        0 for closed forms.
    quantity : {"mi", "cmi"}, default "mi"
    discrete_y : bool, default False
        ``y`` is a category label: estimate with ``discrete_y=True``.
    description : str
        One line on how the data are generated and where the truth comes from.
    """

    name: str
    truth: float
    sampler: Callable = field(repr=False)
    truth_error: float = 0.0
    quantity: str = "mi"
    discrete_y: bool = False
    description: str = ""

    def sample(self, n: int, rng=None) -> tuple:
        """Draw ``n`` independent points.

        Parameters
        ----------
        n : int
            Number of samples.
        rng : numpy.random.Generator, int or None
            Source of randomness (passed to ``np.random.default_rng``).

        Returns
        -------
        tuple of ndarray
            ``(x, y)`` or ``(x, y, z)``, each of shape (n,) or (n, d_block).
        """
        return self.sampler(int(n), np.random.default_rng(rng))

    @property
    def estimate_options(self) -> dict:
        """Keyword arguments ``gmmmi.estimate`` needs for this dataset's samples."""
        return {"discrete_y": True} if self.discrete_y else {}


# ---------------------------------------------------------------- mixtures
def paper_mixture(name: str) -> MixtureDraws:
    """One of the paper's mixtures as a single-draw `~gmmmi.MixtureDraws` (S=1, d=2).

    Parameters
    ----------
    name : {"D1", "D3", "D3p", "D3_rhoneq0", "D5", "D5p"}
    """
    if name not in PAPER_MIXTURES:
        raise ValueError(f"Unknown mixture {name!r}; valid names are {', '.join(PAPER_MIXTURES)}.")
    w, m, c = (np.asarray(a, dtype=float) for a in PAPER_MIXTURES[name])
    return MixtureDraws(w[None], m[None], c[None])


def _sample_mixture(n, rng, *, name):
    points = paper_mixture(name).sample(n, rng)[0]
    return points[:, 0], points[:, 1]


def paper(name: str) -> Dataset:
    """The paper's bivariate mixture ``name`` (x = first, y = second coordinate).

    Parameters
    ----------
    name : {"D1", "D3", "D3p", "D3_rhoneq0", "D5", "D5p"}
    """
    paper_mixture(name)  # validates the name
    return Dataset(
        name=name,
        truth=PAPER_MI[name],
        truth_error=1e-10,
        sampler=partial(_sample_mixture, name=name),
        description=f"Mixture {name} of Piras et al. (2023); truth by 2-d adaptive quadrature.",
    )


# --------------------------------------------------------------- Gaussians
def _log_det(cov, idx):
    return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]


def gaussian_information(cov, x_idx, y_idx, z_idx=()) -> float:
    """I(x; y | z) in nats of a multivariate Gaussian with covariance ``cov``.

    Parameters
    ----------
    cov : array_like, shape (d, d)
    x_idx, y_idx, z_idx : sequence of int
        Coordinates of each block; an empty ``z_idx`` gives the MI.

    Returns
    -------
    float
        ``[ln|S_xz| + ln|S_yz| - ln|S_xyz| - ln|S_z|] / 2``.
    """
    cov = np.asarray(cov, dtype=float)
    x, y, z = list(x_idx), list(y_idx), list(z_idx)
    out = _log_det(cov, x + z) + _log_det(cov, y + z) - _log_det(cov, x + y + z)
    if z:
        out -= _log_det(cov, z)
    return 0.5 * float(out)


def _sample_gaussian(n, rng, *, mean, cov, blocks):
    points = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
    return tuple(points[:, b] if len(b) > 1 else points[:, b[0]] for b in blocks)


def block_gaussian(cov, x_idx, y_idx, z_idx=None, *, mean=None, name=None) -> Dataset:
    """A multivariate Gaussian split into blocks x, y (and z); closed-form MI or CMI.

    Parameters
    ----------
    cov : array_like, shape (d, d)
        Symmetric positive-definite covariance.
    x_idx, y_idx : sequence of int
        Coordinates of x and y (disjoint).
    z_idx : sequence of int, optional
        Coordinates of the conditioning block; the truth is then I(x; y | z)
        and samples are ``(x, y, z)``.
    mean : array_like, shape (d,), default zeros
    name : str, optional

    Returns
    -------
    Dataset
        Blocks of one coordinate are returned as vectors (n,), others as (n, k).
    """
    cov = np.asarray(cov, dtype=float)
    d = cov.shape[0]
    if cov.shape != (d, d) or not np.allclose(cov, cov.T):
        raise ValueError(f"cov must be a symmetric (d, d) matrix; got shape {cov.shape}.")
    np.linalg.cholesky(cov)  # raises LinAlgError unless positive definite
    blocks = [list(x_idx), list(y_idx)] + ([list(z_idx)] if z_idx is not None else [])
    flat = [i for b in blocks for i in b]
    if len(set(flat)) != len(flat) or min(flat) < 0 or max(flat) >= d or not all(blocks):
        raise ValueError(
            f"x_idx, y_idx (and z_idx) must be non-empty, disjoint indices in 0..{d - 1}; "
            f"got {blocks}."
        )
    mean = np.zeros(d) if mean is None else np.asarray(mean, dtype=float)
    truth = gaussian_information(cov, *blocks)
    quantity = "cmi" if z_idx is not None else "mi"
    return Dataset(
        name=name or f"block_gaussian(d={d}, {quantity})",
        truth=truth,
        sampler=partial(_sample_gaussian, mean=mean, cov=cov, blocks=blocks),
        quantity=quantity,
        description="Multivariate Gaussian; closed-form (conditional) MI from log-determinants.",
    )


def gaussian(rho: float = 0.6) -> Dataset:
    """Standard bivariate Gaussian with correlation ``rho``: I = -ln(1 - rho^2) / 2."""
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie strictly between -1 and 1; got {rho}.")
    cov = [[1.0, rho], [rho, 1.0]]
    return block_gaussian(cov, [0], [1], name=f"gaussian(rho={rho:g})")


def gaussian_cmi(rho_xy: float = 0.5, rho_xz: float = 0.5, rho_yz: float = 0.5) -> Dataset:
    """Trivariate standard Gaussian with the given correlations; truth I(x; y | z).

    The partial correlation is r = (rho_xy - rho_xz rho_yz) /
    sqrt((1 - rho_xz^2)(1 - rho_yz^2)) and I(x; y | z) = -ln(1 - r^2) / 2.
    """
    cov = [[1.0, rho_xy, rho_xz], [rho_xy, 1.0, rho_yz], [rho_xz, rho_yz, 1.0]]
    return block_gaussian(
        cov, [0], [1], [2], name=f"gaussian_cmi(rho_xy={rho_xy:g}, rho_xz={rho_xz:g})"
    )


def _sample_transformed(n, rng, *, rho, fx, fy):
    x, y = _sample_gaussian(n, rng, mean=np.zeros(2), cov=[[1, rho], [rho, 1]], blocks=[[0], [1]])
    return TRANSFORMS[fx](x), TRANSFORMS[fy](y)


def transformed_gaussian(rho: float = 0.6, *, transform: str = "cube", transform_x="identity"):
    """A bivariate Gaussian with strictly monotone maps applied to y (and x).

    Mutual information is invariant under invertible maps of each variable,
    so the truth is the Gaussian's -ln(1 - rho^2) / 2 while the density is far
    from Gaussian: a test of how the mixture copes with skew and heavy tails.

    Parameters
    ----------
    rho : float, default 0.6
    transform, transform_x : {"identity", "exp", "log", "cube", "square"}
        ``exp``: ``e^v`` (log-normal); ``log``: ``sign(v) ln(1 + |v|)``, the log of
        the positive variable ``1 + |v|`` with its sign kept; ``cube``: ``v^3``;
        ``square``: ``v |v|``, the square of the positive ``|v|`` with its sign kept.
        ``transform`` applies to y, ``transform_x`` to x.
    """
    for label, t in (("transform", transform), ("transform_x", transform_x)):
        if t not in TRANSFORMS:
            raise ValueError(f"Unknown {label} {t!r}; valid values are {', '.join(TRANSFORMS)}.")
    base = gaussian(rho)
    return Dataset(
        name=f"{transform}-gaussian(rho={rho:g})",
        truth=base.truth,
        sampler=partial(_sample_transformed, rho=rho, fx=transform_x, fy=transform),
        description=f"Gaussian with x -> {transform_x}(x), y -> {transform}(y); MI unchanged.",
    )


# ------------------------------------------------------ exponential family
def gamma_exponential_mi(alpha: float) -> float:
    """I(x; y) = psi(alpha + 1) - ln(alpha), in nats, of the gamma-exponential law."""
    return float(special.digamma(alpha + 1) - np.log(alpha))


def _sample_gamma_exponential(n, rng, *, alpha, log):
    x = rng.gamma(alpha, 1.0, size=n)
    y = rng.exponential(1.0, size=n) / x
    return (np.log(x), np.log(y)) if log else (x, y)


def gamma_exponential(alpha: float = 1.0, *, log: bool = True) -> Dataset:
    """x ~ Gamma(alpha, 1), y | x ~ Exponential(rate x); I = psi(alpha + 1) - ln(alpha).

    Parameters
    ----------
    alpha : float, default 1
        Shape of the gamma law (> 0).
    log : bool, default True
        Return (ln x, ln y), as in the paper's comparison; MI is unchanged by
        the monotone map and the log-scale density suits a Gaussian mixture.
    """
    if alpha <= 0:
        raise ValueError(f"alpha must be positive; got {alpha}.")
    return Dataset(
        name=f"gamma_exponential(alpha={alpha:g})",
        truth=gamma_exponential_mi(alpha),
        sampler=partial(_sample_gamma_exponential, alpha=float(alpha), log=bool(log)),
        description="x ~ Gamma(alpha, 1), y | x ~ Exp(rate x)"
        + (", log of both" if log else "")
        + "; I = psi(alpha + 1) - ln(alpha).",
    )


def weinman_mi(alpha: float) -> float:
    """I(x; y) in nats of the ordered Weinman exponential law with parameter ``alpha``."""
    if alpha == 0.5:
        return float(-special.digamma(1))
    r = 2 * alpha
    if alpha < 0.5:
        return float(-np.log(r / (1 - r)) + special.digamma(1 / (1 - r)) - special.digamma(1))
    return float(np.log((r - 1) / r) + special.digamma(r / (r - 1)) - special.digamma(1))


def _sample_weinman(n, rng, *, alpha, log):
    x = rng.exponential(1.0 / (2 * alpha), size=n)
    y = x + rng.exponential(1.0, size=n)
    return (np.log(x), np.log(y)) if log else (x, y)


def weinman(alpha: float = 1.0, *, log: bool = True) -> Dataset:
    """Ordered Weinman exponential: x ~ Exp(rate 2 alpha), y = x + Exp(rate 1), so 0 < x < y.

    The truth is the closed form of the original gmm-mi's ``analytic_MI``
    (checked against a Monte Carlo integral in the tests).

    Parameters
    ----------
    alpha : float, default 1
        Rate parameter (> 0); MI grows as alpha -> 0.
    log : bool, default True
        Return (ln x, ln y); MI is unchanged.
    """
    if alpha <= 0:
        raise ValueError(f"alpha must be positive; got {alpha}.")
    return Dataset(
        name=f"weinman(alpha={alpha:g})",
        truth=weinman_mi(alpha),
        sampler=partial(_sample_weinman, alpha=float(alpha), log=bool(log)),
        description="x ~ Exp(rate 2 alpha), y = x + Exp(1)"
        + (", log of both" if log else "")
        + "; closed-form MI.",
    )


# ------------------------------------------------------------ categorical
def categorical_mi(weights, means, sds) -> float:
    """I(x; c) in nats for x | c ~ N(means[c], sds[c]^2), P(c) = weights[c].

    Computed as sum_c w_c KL[p(x | c) || p(x)] by adaptive quadrature
    (absolute error below 1e-10 for well-separated scales).
    """
    w, m, s = (np.asarray(a, dtype=float) for a in (weights, means, sds))

    def integrand(x):
        log_pc = stats.norm.logpdf(x, m, s)
        log_p = special.logsumexp(log_pc, b=w)
        return float(np.sum(w * np.exp(log_pc) * (log_pc - log_p)))

    lo, hi = float((m - 12 * s).min()), float((m + 12 * s).max())
    breaks = sorted(set(np.concatenate([m - s, m, m + s]).tolist()))
    value, _ = _quad.quad(integrand, lo, hi, points=breaks, epsabs=1e-12, epsrel=1e-12, limit=500)
    return float(value)


def _sample_categorical(n, rng, *, weights, means, sds):
    labels = rng.choice(len(weights), size=n, p=weights)
    x = rng.normal(np.asarray(means)[labels], np.asarray(sds)[labels])
    return x, labels


def categorical_mixture(
    weights=(0.6, 0.3, 0.1), means=(0.0, 1.5, -1.0), sds=(1.0, 0.7, 0.5)
) -> Dataset:
    """Continuous x with a category label y: x | y = c ~ N(means[c], sds[c]^2).

    Unequal class sizes by default (60/30/10 %). Samples are ``(x, y)`` with
    integer labels ``y``; estimate with ``discrete_y=True``
    (``dataset.estimate_options``). Truth by 1-d quadrature.

    Parameters
    ----------
    weights : sequence of float
        Class probabilities (normalised to sum to 1).
    means, sds : sequence of float
        Per-class mean and standard deviation (> 0) of x.
    """
    w = np.asarray(weights, dtype=float)
    m, s = np.asarray(means, dtype=float), np.asarray(sds, dtype=float)
    if not (w.shape == m.shape == s.shape and w.ndim == 1 and w.size >= 2):
        raise ValueError(
            "weights, means and sds must be 1-d sequences of the same length (>= 2 classes); "
            f"got lengths {w.size}, {m.size}, {s.size}."
        )
    if (w <= 0).any() or (s <= 0).any():
        raise ValueError("weights and sds must be positive.")
    w = w / w.sum()
    return Dataset(
        name=f"categorical_mixture(K={w.size})",
        truth=categorical_mi(w, m, s),
        truth_error=1e-10,
        sampler=partial(_sample_categorical, weights=w, means=m, sds=s),
        discrete_y=True,
        description="x | class ~ N(mean, sd^2), unequal class sizes; truth by 1-d quadrature.",
    )


# ------------------------------------------------------------------ lookup
_DEFAULTS = {
    "gaussian": gaussian,
    "gaussian_cmi": gaussian_cmi,
    "gamma_exponential": gamma_exponential,
    "weinman": weinman,
    "categorical_mixture": categorical_mixture,
    "transformed_gaussian": transformed_gaussian,
}


def names() -> list[str]:
    """Names accepted by `get`: the paper's mixtures, then the default generators."""
    return [*PAPER_MIXTURES, *_DEFAULTS]


def get(name: str, **params) -> Dataset:
    """A dataset by name, e.g. ``get("D3")`` or ``get("gaussian", rho=0.9)``.

    Parameters
    ----------
    name : str
        One of `names()`.
    **params
        Passed to the generator (not accepted for the paper's mixtures).
    """
    if isinstance(name, Dataset):
        return name
    if name in PAPER_MIXTURES:
        if params:
            raise TypeError(f"The paper's mixture {name!r} takes no parameters; got {params}.")
        return paper(name)
    if name in _DEFAULTS:
        return _DEFAULTS[name](**params)
    raise ValueError(f"Unknown dataset {name!r}; valid names are {', '.join(names())}.")


__all__ = [
    "Dataset",
    "PAPER_MI",
    "PAPER_MIXTURES",
    "TRANSFORMS",
    "block_gaussian",
    "categorical_mi",
    "categorical_mixture",
    "gamma_exponential",
    "gamma_exponential_mi",
    "gaussian",
    "gaussian_cmi",
    "gaussian_information",
    "get",
    "names",
    "paper",
    "paper_mixture",
    "transformed_gaussian",
    "weinman",
    "weinman_mi",
]
