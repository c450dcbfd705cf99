"""The `~gmmmi.datasets.Dataset` record and the closed-form truths the suites share.

`gmmmi.datasets` (the paper's, default and robustness suites) and
``gmmmi._hard_datasets`` (the hard suite, which `gmmmi.datasets.hard_suite`
returns) both build on them, so neither imports the other's caller. Public
under ``gmmmi.datasets``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


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
    sampler: Callable[[int, np.random.Generator], tuple[np.ndarray, ...]] = field(repr=False)
    truth_error: float = 0.0
    quantity: str = "mi"
    discrete_y: bool = False
    description: str = ""

    def sample(
        self, n: int, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, ...]:
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


def _log_det(cov, idx):
    return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]


def gaussian_information(
    cov: ArrayLike, x_idx: Sequence[int], y_idx: Sequence[int], z_idx: Sequence[int] = ()
) -> float:
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


def student_t_mi(nu: float, cov: ArrayLike, x_idx: Sequence[int], y_idx: Sequence[int]) -> float:
    """I(x; y) in nats of a multivariate Student-t with ``nu`` degrees of freedom.

    The marginals of a Student-t are Student-t with the same ``nu`` and the
    sub-matrices of the scale matrix, so with p = len(x_idx), q = len(y_idx)
    the closed-form entropies give I = H(x) + H(y) - H(x, y) =

    ::

        ln(det S_x det S_y / det S) / 2
        + ln G(nu/2) + ln G((nu+p+q)/2) - ln G((nu+p)/2) - ln G((nu+q)/2)
        + (nu+p)/2 psi((nu+p)/2) + (nu+q)/2 psi((nu+q)/2)
        - (nu+p+q)/2 psi((nu+p+q)/2) - nu/2 psi(nu/2),

    with G the gamma function and psi the digamma function. The first line is
    the Gaussian MI of the scale matrix; the rest is positive (x and y share
    the chi-square scale) and vanishes as nu -> infinity.

    Parameters
    ----------
    nu : float
        Degrees of freedom (> 0).
    cov : array_like, shape (d, d)
        Scale matrix (the covariance is ``nu / (nu - 2)`` times it for nu > 2).
    x_idx, y_idx : sequence of int
        Coordinates of x and y.
    """
    p, q = len(x_idx), len(y_idx)
    h, hp, hq, hpq = 0.5 * nu, 0.5 * (nu + p), 0.5 * (nu + q), 0.5 * (nu + p + q)
    lg, psi = special.gammaln, special.digamma
    shape_term = lg(h) + lg(hpq) - lg(hp) - lg(hq)
    shape_term += hp * psi(hp) + hq * psi(hq) - hpq * psi(hpq) - h * psi(h)
    return gaussian_information(cov, x_idx, y_idx) + float(shape_term)
