"""`MixtureDraws`: a stack of S Gaussian mixtures, the one type every backend returns.

A numba-backend fit gives one mixture per bootstrap replica; a PyMC fit gives
one mixture per posterior draw. Integrators take a `MixtureDraws` and return
one value per draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._kernels.linalg import cholesky_batch, mixture_logpdf

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


@dataclass(frozen=True, eq=False)
class MixtureDraws:
    """S Gaussian mixtures with K full-covariance components in d dimensions.

    Parameters
    ----------
    weights : ndarray, shape (S, K)
        Mixture weights; each row sums to 1. A weight of exactly 0 marks an
        empty (padding) component, so draws with fewer components can share
        one array.
    means : ndarray, shape (S, K, d)
        Component means, in the units of the data the mixture describes.
    covariances : ndarray, shape (S, K, d, d)
        Component covariance matrices (symmetric positive definite).
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        w = np.ascontiguousarray(self.weights, dtype=np.float64)
        m = np.ascontiguousarray(self.means, dtype=np.float64)
        c = np.ascontiguousarray(self.covariances, dtype=np.float64)
        if w.ndim != 2 or m.ndim != 3 or c.ndim != 4:
            raise ValueError(
                "MixtureDraws expects weights (S, K), means (S, K, d) and covariances "
                f"(S, K, d, d); got shapes {w.shape}, {m.shape} and {c.shape}."
            )
        S, K = w.shape
        d = m.shape[2]
        if m.shape != (S, K, d) or c.shape != (S, K, d, d):
            raise ValueError(
                f"Inconsistent mixture shapes: weights {w.shape}, means {m.shape}, "
                f"covariances {c.shape}; expected (S, K), (S, K, d), (S, K, d, d)."
            )
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "covariances", c)

    # ------------------------------------------------------------------ shape
    @property
    def n_draws(self) -> int:
        """S, the number of mixtures in the stack."""
        return self.weights.shape[0]

    @property
    def n_components(self) -> int:
        """K, the number of components per mixture (including empty ones)."""
        return self.weights.shape[1]

    @property
    def n_dim(self) -> int:
        """d, the dimension of the space the mixtures live in."""
        return self.means.shape[2]

    def __len__(self) -> int:
        return self.n_draws

    def __repr__(self) -> str:
        return f"MixtureDraws(S={self.n_draws}, K={self.n_components}, d={self.n_dim})"

    # ------------------------------------------------------------ transforms
    def marginal(self, idx: Sequence[int]) -> MixtureDraws:
        """The marginal mixture over the coordinates ``idx``.

        Parameters
        ----------
        idx : sequence of int
            Coordinates to keep, in the order wanted.

        Returns
        -------
        MixtureDraws with d = len(idx).
        """
        idx = np.asarray(idx, dtype=np.intp).ravel()
        if idx.size == 0 or idx.min() < -self.n_dim or idx.max() >= self.n_dim:
            raise IndexError(f"marginal indices {idx.tolist()} out of range for d={self.n_dim}.")
        return MixtureDraws(
            self.weights,
            self.means[:, :, idx],
            self.covariances[:, :, idx[:, None], idx[None, :]],
        )

    def affine(self, scale: ArrayLike, shift: ArrayLike) -> MixtureDraws:
        """The mixture of ``shift + A x`` where x follows this mixture.

        Parameters
        ----------
        scale : ndarray, shape (d,) or (d, d)
            Per-coordinate scale factors (a diagonal A) or a full matrix A.
        shift : ndarray, shape (d,)

        Returns
        -------
        MixtureDraws
            Means ``A mu + shift`` and covariances ``A Sigma A^T``.
        """
        shift = np.asarray(shift, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        if scale.ndim == 1:
            means = self.means * scale + shift
            covs = self.covariances * scale[:, None] * scale[None, :]
        else:
            means = self.means @ scale.T + shift
            covs = scale @ self.covariances @ scale.T
        return MixtureDraws(self.weights, means, covs)

    def select(self, draws: int | slice | Sequence[int] | np.ndarray) -> MixtureDraws:
        """A sub-stack: the draws at the integer index or slice ``draws``."""
        if isinstance(draws, (int, np.integer)):
            draws = [int(draws)]
        return MixtureDraws(self.weights[draws], self.means[draws], self.covariances[draws])

    @staticmethod
    def concatenate(stacks: Iterable[MixtureDraws]) -> MixtureDraws:
        """Stack several `MixtureDraws` with the same d along the draw axis.

        Stacks with fewer components are padded with empty (weight 0)
        components, identity covariance.
        """
        stacks = list(stacks)
        K = max(s.n_components for s in stacks)
        d = stacks[0].n_dim
        ws, ms, cs = [], [], []
        for s in stacks:
            pad = K - s.n_components
            ws.append(np.pad(s.weights, ((0, 0), (0, pad))))
            ms.append(np.pad(s.means, ((0, 0), (0, pad), (0, 0))))
            eye = np.broadcast_to(np.eye(d), (s.n_draws, pad, d, d))
            cs.append(np.concatenate([s.covariances, eye], axis=1))
        return MixtureDraws(np.concatenate(ws), np.concatenate(ms), np.concatenate(cs))

    @staticmethod
    def pool(mixtures: Sequence[MixtureDraws], proportions: np.ndarray) -> MixtureDraws:
        """The mixture ``sum_c proportions[:, c] p(x | c)``, one per draw.

        Parameters
        ----------
        mixtures : sequence of MixtureDraws
            C stacks p(x | c) with the same S (or S = 1, broadcast) and d.
        proportions : numpy.ndarray, shape (S, C) or (1, C)
            Weight of each stack per draw (rows sum to 1).

        Returns
        -------
        MixtureDraws
            K = the sum of the stacks' K, components grouped by stack, in order.
        """
        return MixtureDraws(
            np.concatenate([proportions[:, [c]] * m.weights for c, m in enumerate(mixtures)], 1),
            np.concatenate([m.means for m in mixtures], axis=1),
            np.concatenate([m.covariances for m in mixtures], axis=1),
        )

    # --------------------------------------------------------------- numerics
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factors of every covariance, shape (S, K, d, d).

        Raises
        ------
        np.linalg.LinAlgError
            If a covariance with a non-zero weight is not positive definite.
        """
        S, K, d = self.n_draws, self.n_components, self.n_dim
        chols, ok = cholesky_batch(self.covariances.reshape(S * K, d, d))
        ok = ok.reshape(S, K) | (self.weights == 0)
        if not ok.all():
            s, k = np.argwhere(~ok)[0]
            raise np.linalg.LinAlgError(
                f"Covariance of component {k} in draw {s} is not positive definite."
            )
        return chols.reshape(S, K, d, d)

    def log_weights(self) -> np.ndarray:
        """Natural log of the weights, shape (S, K); -inf for empty components."""
        with np.errstate(divide="ignore"):
            return np.log(self.weights)

    def logpdf(self, X: ArrayLike) -> np.ndarray:
        """Log-density log p(x) of every mixture at the points ``X``.

        Parameters
        ----------
        X : array_like, shape (n, d)

        Returns
        -------
        ndarray, shape (S, n), in nats.
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_dim:
            raise ValueError(f"X must have shape (n, {self.n_dim}); got {X.shape}.")
        chols = self.cholesky()
        logw = self.log_weights()
        return np.stack(
            [mixture_logpdf(X, logw[s], self.means[s], chols[s]) for s in range(self.n_draws)]
        )

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points from every mixture.

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (S, n, d)
        """
        chols = self.cholesky()
        out = np.empty((self.n_draws, n, self.n_dim))
        for s in range(self.n_draws):
            labels = rng.choice(
                self.n_components, size=n, p=self.weights[s] / self.weights[s].sum()
            )
            z = rng.standard_normal((n, self.n_dim))
            out[s] = self.means[s, labels] + np.einsum("nij,nj->ni", chols[s, labels], z)
        return out
