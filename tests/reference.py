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


def em_step(X, sample_weight, weights, means, covariances, reg_covar):
    """One weighted EM iteration, written the textbook way with scipy densities.

    Returns (weighted mean log-likelihood under the old parameters, new weights,
    new means, new covariances); 10 * eps is added to the effective counts as in
    scikit-learn.
    """
    log_comp = np.stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(weights, means, covariances, strict=True)
        ],
        axis=1,
    ).reshape(len(X), -1)
    log_norm = logsumexp(log_comp, axis=1)
    resp = np.exp(log_comp - log_norm[:, None]) * sample_weight[:, None]
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    new_means = resp.T @ X / nk[:, None]
    new_covs = np.empty_like(np.asarray(covariances, dtype=float))
    for k in range(len(nk)):
        diff = X - new_means[k]
        new_covs[k] = (resp[:, k, None] * diff).T @ diff / nk[k] + reg_covar * np.eye(X.shape[1])
    mean_ll = np.sum(sample_weight * log_norm) / np.sum(sample_weight)
    return mean_ll, nk / nk.sum(), new_means, new_covs


def kmeans_step(X, centers):
    """One Lloyd iteration with numpy: (labels, new centres, inertia); empty clusters stay put."""
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    labels = np.argmin(d2, axis=1)
    new = np.array(
        [
            X[labels == k].mean(axis=0) if np.any(labels == k) else centers[k]
            for k in range(len(centers))
        ]
    )
    return labels, new, d2[np.arange(len(X)), labels].sum()


def log_det(cov):
    """log |cov| via numpy's slogdet (cov must be positive definite)."""
    sign, value = np.linalg.slogdet(cov)
    assert sign > 0
    return value


def mixture_entropy(weights, means, covariances, tol=1e-11):
    """Differential entropy in nats of a 1-d or 2-d Gaussian mixture by adaptive quadrature.

    scipy ``quad`` (d=1) or ``dblquad`` (d=2) of ``-p log p`` over the box of
    +-12 standard deviations around every component, with absolute and
    relative tolerance ``tol``; the density is evaluated term by term.
    """
    import math

    from scipy import integrate

    w = np.asarray(weights, dtype=float)
    m = np.asarray(means, dtype=float).reshape(len(w), -1)
    c = np.asarray(covariances, dtype=float).reshape(len(w), m.shape[1], m.shape[1])
    keep = w > 0
    w, m, c = w[keep], m[keep], c[keep]
    sd = np.sqrt(np.diagonal(c, axis1=1, axis2=2))
    lo, hi = (m - 12 * sd).min(axis=0), (m + 12 * sd).max(axis=0)
    inv = np.linalg.inv(c)
    const = np.log(w) - 0.5 * np.linalg.slogdet(2 * np.pi * c)[1]
    # plain-float terms: scipy calls the integrand point by point
    terms = [
        (float(k0), *map(float, mu), *map(float, a.ravel()))
        for k0, mu, a in zip(const, m, inv, strict=True)
    ]

    def log_density(x, y=0.0):
        vals = []
        for t in terms:
            if len(t) == 3:  # d = 1: (const, mean, precision)
                q = t[2] * (x - t[1]) ** 2
            else:  # d = 2: (const, mean_x, mean_y, P_xx, P_xy, P_yx, P_yy)
                u, v = x - t[1], y - t[2]
                q = t[3] * u * u + (t[4] + t[5]) * u * v + t[6] * v * v
            vals.append(t[0] - 0.5 * q)
        top = max(vals)
        return top + math.log(sum(math.exp(v - top) for v in vals))

    def neg_plogp(*x):
        logp = log_density(*x[::-1])  # dblquad passes (y, x)
        return -math.exp(logp) * logp

    if m.shape[1] == 1:
        points = sorted(set(m[:, 0]))
        return integrate.quad(
            neg_plogp, lo[0], hi[0], epsabs=tol, epsrel=tol, limit=1000, points=points
        )[0]
    return integrate.dblquad(neg_plogp, lo[0], hi[0], lo[1], hi[1], epsabs=tol, epsrel=tol)[0]


def mixture_mi_2d(weights, means, covariances, tol=1e-11):
    """I(x; y) in nats of a 2-d Gaussian mixture: H(x) + H(y) - H(x, y) by adaptive quadrature."""
    means, covariances = np.asarray(means, dtype=float), np.asarray(covariances, dtype=float)
    h_x, h_y = (
        mixture_entropy(weights, means[:, [i]], covariances[:, [i]][:, :, [i]], tol) for i in (0, 1)
    )
    return h_x + h_y - mixture_entropy(weights, means, covariances, tol)
