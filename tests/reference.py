"""Slow, obviously correct oracles (numpy/scipy) that the kernels are checked against."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def mixture_logpdf(X, weights, means, covariances):
    """log p(x) of one Gaussian mixture, term by term with scipy. Shape (n,)."""
    terms = [
        np.log(w) + multivariate_normal(m, c).logpdf(X).reshape(-1)
        for w, m, c in zip(weights, means, covariances, strict=True)
        if w > 0
    ]
    return logsumexp(np.stack(terms), axis=0)


def gaussian_mi(cov, ix, iy):
    """I(x; y) in nats for a Gaussian with covariance ``cov`` and blocks ``ix``, ``iy``."""
    cov = np.asarray(cov)
    ld = lambda idx: np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]  # noqa: E731
    return 0.5 * (ld(list(ix)) + ld(list(iy)) - ld(list(ix) + list(iy)))


def gaussian_cmi(cov, ix, iy, iz):
    """I(x; y | z) in nats for a Gaussian: H(xz) + H(yz) - H(xyz) - H(z)."""
    cov = np.asarray(cov)
    ld = lambda idx: np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]  # noqa: E731
    ix, iy, iz = list(ix), list(iy), list(iz)
    return 0.5 * (ld(ix + iz) + ld(iy + iz) - ld(ix + iy + iz) - ld(iz))


def gaussian_kl(m0, c0, m1, c1):
    """KL[N(m0, c0) || N(m1, c1)] in nats."""
    m0, c0, m1, c1 = map(np.atleast_1d, (m0, c0, m1, c1))
    c0, c1 = np.atleast_2d(c0), np.atleast_2d(c1)
    d = m0.size
    inv1 = np.linalg.inv(c1)
    diff = m1 - m0
    return 0.5 * (
        np.trace(inv1 @ c0)
        + diff @ inv1 @ diff
        - d
        + np.linalg.slogdet(c1)[1]
        - np.linalg.slogdet(c0)[1]
    )


def random_covariance(rng, d, condition=10.0):
    """A random SPD matrix with eigenvalues between 1 and ``condition``, random rotation."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.exp(rng.uniform(0, np.log(condition), d))
    return (q * eig) @ q.T
