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
* `robustness_suite` — 31 distributions with known MI and hard margins
  (monotone maps, Gaussian copulas, `student_t`, `uniform_noise`,
  `bivariate_mixture`, `gaussian_blocks` up to 5 x 5), for
  ``benchmarks/bench_robustness.py`` and ``docs/robustness.md``.
* `hard_suite` — 19 tasks of the "Beyond Normal" benchmark (spirals, waves,
  galaxy, concentric Gaussians, multivariate Student-t, dense Gaussians up
  to 50 x 50), for ``benchmarks/bench_hard.py``.

``get(name)`` returns the default instance of any of them by name (used by the
command line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import integrate as _quad
from scipy import special, stats

from ._dataset import Dataset, gaussian_information, student_t_mi
from .mixture import MixtureDraws

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

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
#: D1 equals its closed form -ln(1 - 0.4^2)/2). tests/datasets/test_datasets.py
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
def _sample_gaussian(n, rng, *, mean, cov, blocks):
    points = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
    return tuple(points[:, b] if len(b) > 1 else points[:, b[0]] for b in blocks)


def block_gaussian(
    cov: ArrayLike,
    x_idx: Sequence[int],
    y_idx: Sequence[int],
    z_idx: Sequence[int] | None = None,
    *,
    mean: ArrayLike | None = None,
    name: str | None = None,
) -> Dataset:
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


def transformed_gaussian(
    rho: float = 0.6, *, transform: str = "cube", transform_x: str = "identity"
) -> Dataset:
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
    """Gamma-exponential pair: x ~ Gamma(alpha, 1), y | x ~ Exponential(rate x).

    I = psi(alpha + 1) - ln(alpha), in closed form.

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
def categorical_mi(weights: ArrayLike, means: ArrayLike, sds: ArrayLike) -> float:
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
    weights: Sequence[float] = (0.6, 0.3, 0.1),
    means: Sequence[float] = (0.0, 1.5, -1.0),
    sds: Sequence[float] = (1.0, 0.7, 0.5),
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


# ------------------------------------------------------- robustness suite
def _gaussian_to(v, *, dist):
    """Map standard normal values to quantiles of ``dist`` (a Gaussian-copula margin).

    Each tail is taken from its own side (``ppf(cdf)`` below 0, ``isf(sf)``
    above) so that values far in either tail keep full precision.
    """
    v = np.asarray(v, dtype=float)
    return np.where(v <= 0, dist.ppf(special.ndtr(v)), dist.isf(special.ndtr(-v)))


def _exp2(v):
    return np.exp(2 * v)


def _tanh2(v):
    return np.tanh(2 * v)


def _softplus3(v):
    return np.logaddexp(0.0, 3 * v)


#: name -> (strictly increasing map of the real line, description) for
#: `with_margins`: the `TRANSFORMS`, saturating maps and Gaussian-copula margins
MARGINS = {
    "identity": (TRANSFORMS["identity"], "v"),
    "exp": (TRANSFORMS["exp"], "e^v"),
    "log": (TRANSFORMS["log"], "sign(v) ln(1 + |v|)"),
    "cube": (TRANSFORMS["cube"], "v^3"),
    "square": (TRANSFORMS["square"], "v |v|"),
    "exp2": (_exp2, "e^(2v)"),
    "tanh2": (_tanh2, "tanh(2v)"),
    "logistic": (special.expit, "1 / (1 + e^-v)"),
    "softplus3": (_softplus3, "ln(1 + e^(3v)), a sensor with a dead zone"),
    "uniform": (special.ndtr, "Phi(v), uniform on (0, 1)"),
    "arcsine": (partial(_gaussian_to, dist=stats.beta(0.5, 0.5)), "Beta(1/2, 1/2) quantile"),
    "beta25": (partial(_gaussian_to, dist=stats.beta(2, 5)), "Beta(2, 5) quantile"),
    "gamma05": (partial(_gaussian_to, dist=stats.gamma(0.5)), "Gamma(1/2) quantile"),
    "cauchy": (partial(_gaussian_to, dist=stats.cauchy()), "Cauchy quantile"),
    "pareto15": (partial(_gaussian_to, dist=stats.pareto(1.5)), "Pareto(1.5) quantile"),
}


def _sample_with_margins(n, rng, *, base, map_x, map_y):
    x, y = base(n, rng)
    return MARGINS[map_x][0](x), MARGINS[map_y][0](y)


def with_margins(
    base: Dataset, map_x: str, map_y: str | None = None, *, name: str | None = None
) -> Dataset:
    """``base`` with a strictly increasing map applied to every column of x and of y.

    Mutual information is unchanged by an invertible map of each variable,
    so the truth is the base's; only the margins change (skew, heavy tails,
    bounded support, saturation). On a Gaussian, the maps named after a
    distribution (``"uniform"``, ``"beta25"``, ``"cauchy"``, ...) map
    v -> F^-1(Phi(v)): a Gaussian copula with those margins.

    Parameters
    ----------
    base : Dataset
        An MI dataset (``quantity == "mi"``) with continuous y.
    map_x : str
        A key of `MARGINS`, applied elementwise to x.
    map_y : str, optional
        A key of `MARGINS` for y; defaults to ``map_x``.
    name : str, optional

    Returns
    -------
    Dataset
        Same truth as ``base``.
    """
    map_y = map_x if map_y is None else map_y
    for label, m in (("map_x", map_x), ("map_y", map_y)):
        if m not in MARGINS:
            raise ValueError(f"Unknown {label} {m!r}; valid values are {', '.join(MARGINS)}.")
    if base.quantity != "mi" or base.discrete_y:
        raise ValueError(f"with_margins needs an MI dataset with continuous y; got {base.name!r}.")
    label = map_x if map_x == map_y else f"{map_x}|{map_y}"
    return Dataset(
        name=name or f"{label}:{base.name}",
        truth=base.truth,
        truth_error=base.truth_error,
        sampler=partial(_sample_with_margins, base=base.sampler, map_x=map_x, map_y=map_y),
        description=f"{base.name} with x -> {MARGINS[map_x][1]}, y -> {MARGINS[map_y][1]} "
        "per column; MI unchanged.",
    )


def _sample_student_t(n, rng, *, nu, cov, blocks):
    points = rng.multivariate_normal(np.zeros(len(cov)), cov, size=n, method="cholesky")
    points /= np.sqrt(rng.chisquare(nu, size=n) / nu)[:, None]
    return tuple(points[:, b] if len(b) > 1 else points[:, b[0]] for b in blocks)


def student_t(
    nu: float = 3.0,
    rho: float = 0.6,
    *,
    cov: ArrayLike | None = None,
    x_idx: Sequence[int] = (0,),
    y_idx: Sequence[int] = (1,),
) -> Dataset:
    """Multivariate Student-t with ``nu`` degrees of freedom; closed-form MI (`student_t_mi`).

    A Gaussian divided by sqrt(chi2_nu / nu): heavy tails in every direction
    and dependence even at zero correlation; ``nu=1`` is the bivariate Cauchy.

    Parameters
    ----------
    nu : float, default 3
        Degrees of freedom (> 0).
    rho : float, default 0.6
        Correlation of the bivariate scale matrix (used when ``cov`` is None).
    cov : array_like, shape (d, d), optional
        Scale matrix, for blocks x and y of any size.
    x_idx, y_idx : sequence of int
        Coordinates of x and y in ``cov``.
    """
    if nu <= 0:
        raise ValueError(f"nu must be positive; got {nu}.")
    cov = np.array([[1.0, rho], [rho, 1.0]]) if cov is None else np.asarray(cov, dtype=float)
    np.linalg.cholesky(cov)  # raises LinAlgError unless positive definite
    blocks = [list(x_idx), list(y_idx)]
    p, q = len(blocks[0]), len(blocks[1])
    shape = f"rho={rho:g}" if p + q == 2 else f"{p}x{q}"
    return Dataset(
        name=f"student_t(nu={nu:g}, {shape})",
        truth=student_t_mi(nu, cov, *blocks),
        sampler=partial(_sample_student_t, nu=float(nu), cov=cov, blocks=blocks),
        description="Multivariate Student-t (Gaussian / sqrt(chi2_nu / nu)); closed-form MI.",
    )


def uniform_noise_mi(sigma: float) -> float:
    """I(x; y) in nats for x ~ U[0, 1], y = x + N(0, sigma^2), by 1-d quadrature.

    I = h(y) - ln(2 pi e sigma^2) / 2, where y has the density
    p(y) = Phi(y / sigma) - Phi((y - 1) / sigma); h(y) is integrated
    adaptively over [-12 sigma, 1 + 12 sigma] (absolute error below 1e-10).
    """

    def integrand(y):
        p = special.ndtr(y / sigma) - special.ndtr((y - 1) / sigma)
        return -p * np.log(p) if p > 0 else 0.0

    h_y, _ = _quad.quad(
        integrand, -12 * sigma, 1 + 12 * sigma, points=[0.0, 1.0], epsabs=1e-12, limit=500
    )
    return float(h_y - 0.5 * np.log(2 * np.pi * np.e * sigma**2))


def _sample_uniform_noise(n, rng, *, sigma):
    x = rng.uniform(0.0, 1.0, size=n)
    return x, x + rng.normal(0.0, sigma, size=n)


def uniform_noise(sigma: float = 0.1) -> Dataset:
    """Uniform signal in Gaussian noise: x ~ U[0, 1], y = x + N(0, sigma^2).

    A flat bounded margin; the truth is a 1-d quadrature.

    Parameters
    ----------
    sigma : float, default 0.1
        Noise standard deviation (> 0); MI grows as sigma -> 0.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive; got {sigma}.")
    return Dataset(
        name=f"uniform_noise(sigma={sigma:g})",
        truth=uniform_noise_mi(sigma),
        truth_error=1e-10,
        sampler=partial(_sample_uniform_noise, sigma=float(sigma)),
        description="x ~ U[0, 1], y = x + N(0, sigma^2); truth by 1-d quadrature of h(y).",
    )


def bivariate_mixture_mi(
    weights: ArrayLike, means: ArrayLike, covs: ArrayLike, n_grid: int = 1601
) -> float:
    """I(x; y) in nats of a bivariate Gaussian mixture, by a fine grid integral.

    The trapezoid rule on a uniform grid spanning every component's mean
    +- 10 sd is spectrally accurate for these smooth, fast-decaying
    integrands (error far below 1e-6 nat at the default ``n_grid``; the tests
    compare it with an independent adaptive ``dblquad``).

    Parameters
    ----------
    weights : array_like, shape (K,)
    means : array_like, shape (K, 2)
    covs : array_like, shape (K, 2, 2)
    n_grid : int, default 1601
        Grid points per axis.
    """
    w, m, c = (np.asarray(a, dtype=float) for a in (weights, means, covs))
    mix = MixtureDraws(w[None], m[None], c[None])
    sd = np.sqrt(np.diagonal(c, axis1=1, axis2=2))
    lo, hi = (m - 10 * sd).min(axis=0), (m + 10 * sd).max(axis=0)
    gx, gy = (np.linspace(lo[j], hi[j], n_grid) for j in range(2))
    log_px = mix.marginal([0]).logpdf(gx[:, None])[0]
    log_py = mix.marginal([1]).logpdf(gy[:, None])[0]
    rows = []
    for chunk in np.array_split(np.arange(n_grid), 16):  # bounded memory
        xx, yy = np.meshgrid(gx[chunk], gy, indexing="ij")
        log_p = mix.logpdf(np.column_stack([xx.ravel(), yy.ravel()]))[0].reshape(xx.shape)
        ratio = log_p - log_px[chunk, None] - log_py[None, :]
        rows.append(np.trapezoid(np.exp(log_p) * ratio, gy, axis=1))
    return float(np.trapezoid(np.concatenate(rows), gx))


def _sample_bivariate_mixture(n, rng, *, weights, means, covs):
    points = MixtureDraws(weights[None], means[None], covs[None]).sample(n, rng)[0]
    return points[:, 0], points[:, 1]


def bivariate_mixture(
    weights: ArrayLike, means: ArrayLike, covs: ArrayLike, *, name: str
) -> Dataset:
    """A bivariate Gaussian mixture (x = first, y = second coordinate); truth on a fine grid.

    Parameters
    ----------
    weights : array_like, shape (K,)
    means : array_like, shape (K, 2)
    covs : array_like, shape (K, 2, 2)
    name : str
    """
    w, m, c = (np.asarray(a, dtype=float) for a in (weights, means, covs))
    MixtureDraws(w[None], m[None], c[None]).cholesky()  # raises unless positive definite
    return Dataset(
        name=name,
        truth=bivariate_mixture_mi(w, m, c),
        truth_error=1e-6,
        sampler=partial(_sample_bivariate_mixture, weights=w, means=m, covs=c),
        description="Bivariate Gaussian mixture; truth by a fine 2-d grid integral.",
    )


def _block_cov(dx: int, dy: int, within: float, cross: float) -> np.ndarray:
    """Unit variances, correlation ``within`` inside each block, ``cross`` between x_i and y_i."""
    d = dx + dy
    cov = np.eye(d)
    cov[:dx, :dx] += within * (1 - np.eye(dx))
    cov[dx:, dx:] += within * (1 - np.eye(dy))
    for i in range(min(dx, dy)):
        cov[i, dx + i] = cov[dx + i, i] = cross
    return cov


def gaussian_blocks(dx: int, dy: int, within: float = 0.3, cross: float = 0.5) -> Dataset:
    """Gaussian blocks x (dx columns) and y (dy columns): paired correlations; closed form.

    Every variable has unit variance; columns of one block correlate by
    ``within``, and x_i with y_i by ``cross`` (i < min(dx, dy)). The truth is
    `gaussian_information` of that covariance.

    Parameters
    ----------
    dx, dy : int
        Block sizes (>= 1).
    within, cross : float
        Correlations; the covariance must be positive definite.
    """
    cov = _block_cov(dx, dy, within, cross)
    return block_gaussian(
        cov, range(dx), range(dx, dx + dy), name=f"gaussian_blocks({dx}x{dy}, cross={cross:g})"
    )


_X_SHAPE = ([0.5, 0.5], [[0, 0], [0, 0]], [[[1, 0.9], [0.9, 1]], [[1, -0.9], [-0.9, 1]]])
_TWO_CLUSTERS = ([0.5, 0.5], [[-2, -2], [2, 2]], [[[1, 0.3], [0.3, 1]], [[1, -0.3], [-0.3, 1]]])


def robustness_suite() -> list[Dataset]:
    """The robustness suite: 31 distributions with known MI and hard margins.

    Gaussians (rho = 0.6 unless named) under strictly increasing maps of each
    variable (exp, cube, tanh(2 .), logistic, e^(2 .), a dead-zone sensor
    curve, signed log; truth unchanged); Gaussian copulas with uniform, Beta,
    Gamma(1/2), Cauchy and Pareto margins; multivariate Student-t (closed form,
    `student_t_mi`); a uniform with additive noise (1-d quadrature,
    `uniform_noise_mi`); mixtures (an X of two crossing Gaussians, two
    clusters, the paper's D3 under exp; grid integral or cached quadrature);
    independent Cauchy columns (truth 0); the raw gamma-exponential law; and
    Gaussian blocks from 2 x 2 to 5 x 5. Every truth is checked against an
    independent computation in ``tests/datasets/test_datasets_robustness.py``.

    Returns
    -------
    list of Dataset
        Unique names, every one an MI dataset with continuous x and y; see
        each ``description``. ``benchmarks/bench_robustness.py`` measures
        estimators on them and ``docs/robustness.md`` shows the table.
    """
    g6 = gaussian(0.6)
    monotone = [
        with_margins(g6, m) for m in ("exp", "cube", "tanh2", "logistic", "exp2", "softplus3")
    ]
    monotone += [
        with_margins(g6, "exp", "cube"),
        with_margins(g6, "log"),
        with_margins(gaussian(0.9), "exp"),
        with_margins(gaussian(0.3), "cube"),
    ]
    copulas = [
        with_margins(g6, "uniform"),
        with_margins(g6, "arcsine", "beta25"),
        with_margins(g6, "gamma05"),
        with_margins(g6, "cauchy"),
        with_margins(g6, "pareto15"),
    ]
    heavy = [
        student_t(1.0, 0.0),
        student_t(3.0, 0.6),
        student_t(5.0, 0.9),
        student_t(4.0, cov=_block_cov(2, 2, 0.3, 0.5), x_idx=(0, 1), y_idx=(2, 3)),
        with_margins(gaussian(0.0), "cauchy", name="independent_cauchy"),
        replace(gamma_exponential(1.0, log=False), name="gamma_exponential_raw(alpha=1)"),
    ]
    mixtures = [
        bivariate_mixture(*_X_SHAPE, name="x_shape_mixture"),
        bivariate_mixture(*_TWO_CLUSTERS, name="two_clusters_mixture"),
        with_margins(paper("D3"), "exp"),
    ]
    blocks = [
        gaussian_blocks(2, 2),
        gaussian_blocks(3, 3),
        gaussian_blocks(5, 5, cross=0.4),
        with_margins(gaussian_blocks(2, 2), "exp"),
    ]
    return [
        g6,
        *monotone,
        *copulas,
        *heavy,
        uniform_noise(0.1),
        uniform_noise(0.3),
        *mixtures,
        *blocks,
    ]


def hard_suite() -> list[Dataset]:
    """The hard suite: 19 tasks of the "Beyond Normal" benchmark (Czyż et al., NeurIPS 2023).

    Spiralised 2-pair Gaussians (3 x 3, 5 x 5, with and without the normal
    CDF first), waves, galaxy, concentric Gaussians (3 and 5 x 1 with 5 and
    10 rings), multivariate Student-t with identity dispersion (dof 1-3,
    2 x 2 to 5 x 5) and dense Gaussians (5 x 5, 25 x 25, 50 x 50),
    implemented from the ``bmi`` package's published definitions in
    ``gmmmi._hard_datasets``. Truths: closed forms (the spiral, shear and
    CDF maps are diffeomorphisms of x or y alone, which leave the MI
    unchanged), Monte Carlo of the base mixture's density for waves, galaxy
    and the concentric tasks (``truth_error`` its standard error); checked
    independently in ``tests/datasets/test_datasets_hard.py``.

    Returns
    -------
    list of Dataset
        ``benchmarks/bench_hard.py`` measures estimators on them and
        ``docs/robustness.md`` shows the table.
    """
    from ._hard_datasets import hard_suite as _hard_suite

    return _hard_suite()


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


def get(name: str, **params: Any) -> Dataset:
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
    "MARGINS",
    "bivariate_mixture",
    "bivariate_mixture_mi",
    "block_gaussian",
    "categorical_mi",
    "categorical_mixture",
    "gamma_exponential",
    "gamma_exponential_mi",
    "gaussian",
    "gaussian_blocks",
    "gaussian_cmi",
    "gaussian_information",
    "get",
    "hard_suite",
    "names",
    "paper",
    "paper_mixture",
    "robustness_suite",
    "student_t",
    "student_t_mi",
    "transformed_gaussian",
    "uniform_noise",
    "uniform_noise_mi",
    "weinman",
    "weinman_mi",
    "with_margins",
]
