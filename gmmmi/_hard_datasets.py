"""The hard suite: the "Beyond Normal" benchmark's task families, from their published definitions.

Czyż, Grabowski, Vogt, Beerenwinkel and Marx, "Beyond Normal: On the
Evaluation of Mutual Information Estimators", NeurIPS 2023, and the mixture
tasks of its ``bmi`` package (waves, galaxy, concentric Gaussians). Every
task is written here in numpy from those definitions:

* spirals: a 2-pair Gaussian (x_i and y_i correlated 0.8 for i < 2) whose
  x and y each go through the spiral x -> exp(speed |x|^2 A) x, A the
  generator of rotations in one coordinate plane (so(d)), speed 1/3;
  optionally after the normal CDF of every coordinate;
* waves: twelve Gaussians in (x1, x2, y) with x1 sheared by 5 sin(3 x2);
* galaxy: two Gaussian balls with x spun by the spiral at speed 0.5;
* concentric Gaussians: y picks a ring i = 1..n (y ~ N(i, 1e-4)), x ~ N(0, i^2 I);
* multivariate Student-t with identity dispersion (dof 1-3, 2x2 to 5x5);
* dense Gaussians (every correlation 0.5) of 5x5, 25x25 and 50x50.

The spiral, shear and normal-CDF maps are diffeomorphisms of x (of y) alone,
so the MI is that of the base law: closed forms for the Gaussians and the
Student-t, and for the mixtures a Monte Carlo average of
ln p(x, y) - ln p(x) - ln p(y) over 2 000 000 points of the base mixture with
scipy's densities (``MIXTURE_MI``; tests/datasets/test_datasets_hard.py recomputes it
independently, and against gmmmi's own integrator).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy import special

from ._dataset import Dataset, gaussian_information, student_t_mi

#: speed of the spiral of the spiralised Gaussian tasks ("Beyond Normal", v1)
SPIRAL_SPEED = 1.0 / 3.0

#: task name -> (I(x; y) in nats, its Monte Carlo standard error): 2 000 000
#: points of the base mixture, seed 20231210 (see `mixture_mi_monte_carlo`)
MIXTURE_MI = {
    "waves(2x1)": (1.3072010074054399, 0.0002707965428415638),
    "galaxy(2x1)": (0.4939751384885909, 0.00036146890719902694),
    "concentric(3x1, 5 rings)": (0.4545954419535297, 0.0004725725395872568),
    "concentric(5x1, 5 rings)": (0.6264483312616116, 0.0005023044935287854),
    "concentric(3x1, 10 rings)": (0.5599098370603137, 0.0005279431543670365),
    "concentric(5x1, 10 rings)": (0.7514022537048058, 0.0005622938453806965),
}


# ------------------------------------------------------------------ maps
def spiral(points: np.ndarray, speed: float, i: int = 0, j: int = 1) -> np.ndarray:
    """The spiral diffeomorphism x -> exp(speed |x|^2 A) x of each row.

    A is the generator of so(d) with A[i, j] = 1, A[j, i] = -1, so the map
    turns the (i, j) plane by the angle speed |x|^2 (clockwise for speed > 0)
    and keeps |x|: its inverse turns back by the same angle.

    Parameters
    ----------
    points : ndarray, shape (n, d)
    speed : float
    i, j : int
        The plane of the rotation, i < j < d.

    Returns
    -------
    ndarray, shape (n, d)
    """
    points = np.array(points, dtype=float)
    angle = speed * np.einsum("ij,ij->i", points, points)
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = points[:, i].copy(), points[:, j].copy()
    points[:, i] = cos * a + sin * b
    points[:, j] = -sin * a + cos * b
    return points


# ------------------------------------------------------------- Gaussians
def _two_pair_cov(dx: int, dy: int, strength: float = 2.0) -> np.ndarray:
    """bmi's 2-pair Gaussian: unit variances, corr(x_i, y_i) = s^2 / (1 + s^2) for i < 2."""
    cov = np.eye(dx + dy)
    rho = strength**2 / (1.0 + strength**2)
    for i in range(2):
        cov[i, dx + i] = cov[dx + i, i] = rho
    return cov


def _dense_cov(dx: int, dy: int, off_diag: float = 0.5) -> np.ndarray:
    return np.eye(dx + dy) * (1 - off_diag) + off_diag


def _split(points, dx):
    x, y = points[:, :dx], points[:, dx:]
    return (x[:, 0] if dx == 1 else x), (y[:, 0] if y.shape[1] == 1 else y)


def _sample_spiral(n, rng, *, cov, dx, normal_cdf):
    points = rng.multivariate_normal(np.zeros(len(cov)), cov, size=n, method="cholesky")
    if normal_cdf:
        points = special.ndtr(points)
    x = spiral(points[:, :dx], SPIRAL_SPEED, 0, 1)
    y = spiral(points[:, dx:], SPIRAL_SPEED, 1, 2)
    return x, y


def spiral_gaussian(dx: int, dy: int, *, normal_cdf: bool = False) -> Dataset:
    """bmi's "Spiral @ Multinormal (2-pair)" (and "@ Normal CDF @"), dx >= 2, dy >= 3.

    x goes through `spiral` in the plane (0, 1), y in the plane (1, 2), both
    at speed 1/3; with ``normal_cdf`` every coordinate is first mapped by the
    standard normal CDF. Truth: the base Gaussian's closed form, 2 x
    -ln(1 - 0.8^2) / 2 = 1.0217 nat.
    """
    if dx < 2 or dy < 3:
        raise ValueError(f"spiral_gaussian needs dx >= 2 and dy >= 3; got {dx} and {dy}.")
    cov = _two_pair_cov(dx, dy)
    label = "spiral_normal_cdf" if normal_cdf else "spiral"
    return Dataset(
        name=f"{label}(2-pair {dx}x{dy})",
        truth=gaussian_information(cov, range(dx), range(dx, dx + dy)),
        sampler=partial(_sample_spiral, cov=cov, dx=dx, normal_cdf=normal_cdf),
        description="2-pair Gaussian (corr 0.8) under spirals of x and y (bmi, speed 1/3)"
        + (" after the normal CDF" if normal_cdf else "")
        + "; closed-form MI.",
    )


def _sample_dense(n, rng, *, cov, dx):
    points = rng.multivariate_normal(np.zeros(len(cov)), cov, size=n, method="cholesky")
    return _split(points, dx)


def dense_gaussian(dx: int, dy: int, off_diag: float = 0.5) -> Dataset:
    """bmi's "Multinormal (dense)": unit variances, every correlation ``off_diag``; closed form."""
    cov = _dense_cov(dx, dy, off_diag)
    return Dataset(
        name=f"dense_gaussian({dx}x{dy})",
        truth=gaussian_information(cov, range(dx), range(dx, dx + dy)),
        sampler=partial(_sample_dense, cov=cov, dx=dx),
        description=f"Gaussian, every correlation {off_diag:g} (bmi); closed-form MI.",
    )


def _sample_student(n, rng, *, dof, dx, dy):
    points = rng.standard_normal((n, dx + dy))
    points /= np.sqrt(rng.chisquare(dof, size=n) / dof)[:, None]
    return _split(points, dx)


def student_identity(dx: int, dy: int, dof: float) -> Dataset:
    """bmi's "Student-t (identity dispersion)": uncorrelated, dependent through a shared scale.

    Truth: `gmmmi.datasets.student_t_mi` with the identity scale matrix (only
    its shape term, the Gaussian part being 0).
    """
    return Dataset(
        name=f"student_identity({dx}x{dy}, dof={dof:g})",
        truth=student_t_mi(dof, np.eye(dx + dy), range(dx), range(dx, dx + dy)),
        sampler=partial(_sample_student, dof=float(dof), dx=dx, dy=dy),
        description="Multivariate Student-t, identity dispersion (bmi); closed-form MI.",
    )


# --------------------------------------------------------------- mixtures
def waves_mixture(n_components: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (K,), means (K, 3) and covariances (K, 3, 3) of the waves task's base law."""
    k = np.arange(n_components)
    means = 1.5 * np.stack([k, np.zeros(n_components), k % 4], axis=1).astype(float)
    covs = np.broadcast_to(np.diag([0.1, 1.0, 0.1]), (n_components, 3, 3)).copy()
    return np.full(n_components, 1.0 / n_components), means, covs


def galaxy_mixture(distance: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The galaxy task's base law: two unit balls at +-(1, 1, 1) distance / 2."""
    means = np.array([[-1.0, -1, -1], [1, 1, 1]]) * distance / 2
    return np.full(2, 0.5), means, np.broadcast_to(np.eye(3), (2, 3, 3)).copy()


def concentric_mixture(dx: int, n_rings: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concentric Gaussians: ring i = 1..n has x ~ N(0, i^2 I_dx), y ~ N(i, 1e-4)."""
    rings = np.arange(1, n_rings + 1, dtype=float)
    means = np.zeros((n_rings, dx + 1))
    means[:, -1] = rings
    covs = np.zeros((n_rings, dx + 1, dx + 1))
    for r, i in enumerate(rings):
        covs[r] = np.diag([i**2] * dx + [1e-4])
    return np.full(n_rings, 1.0 / n_rings), means, covs


def _sample_base(n, rng, weights, means, covs):
    labels = rng.choice(len(weights), size=n, p=weights)
    chol = np.linalg.cholesky(covs)
    noise = rng.standard_normal((n, means.shape[1]))
    return means[labels] + np.einsum("nij,nj->ni", chol[labels], noise)


def _sample_waves(n, rng):
    points = _sample_base(n, rng, *waves_mixture())
    x = points[:, :2].copy()
    x[:, 0] += 5.0 * np.sin(3.0 * x[:, 1])
    x = np.stack([0.1 * x[:, 0] - 0.8, 0.5 * x[:, 1]], axis=1)
    return x, points[:, 2]


def _sample_galaxy(n, rng):
    points = _sample_base(n, rng, *galaxy_mixture())
    # bmi's generator [[0, -1], [1, 0]] at speed 0.5: the plane (0, 1) turned the other way
    return spiral(points[:, :2], -0.5, 0, 1), points[:, 2]


def _sample_concentric(n, rng, *, dx, n_rings):
    points = _sample_base(n, rng, *concentric_mixture(dx, n_rings))
    return _split(points, dx)


def _mixture_dataset(name, sampler, description):
    truth, error = MIXTURE_MI[name]
    return Dataset(
        name=name, truth=truth, truth_error=error, sampler=sampler, description=description
    )


def waves() -> Dataset:
    """bmi's "Waves 2 x 1": 12 Gaussians, x1 sheared by 5 sin(3 x2), then x rescaled."""
    return _mixture_dataset(
        "waves(2x1)",
        _sample_waves,
        "Twelve Gaussians with x1 -> 5 sin(3 x2) + x1 (bmi); Monte Carlo truth of the base law.",
    )


def galaxy() -> Dataset:
    """bmi's "Galaxy 2 x 1": two Gaussian balls, x spun by a spiral at speed 0.5."""
    return _mixture_dataset(
        "galaxy(2x1)",
        _sample_galaxy,
        "Two Gaussian balls, x spun by a spiral (bmi); Monte Carlo truth of the base law.",
    )


def concentric(dx: int, n_rings: int) -> Dataset:
    """bmi's "Concentric dx x 1": y picks a ring, x is isotropic with that ring's scale."""
    return _mixture_dataset(
        f"concentric({dx}x1, {n_rings} rings)",
        partial(_sample_concentric, dx=dx, n_rings=n_rings),
        "Concentric isotropic Gaussians, y the ring's label plus N(0, 1e-4) noise (bmi); "
        "Monte Carlo truth.",
    )


def _mixture_logpdf(points, weights, means, covs):
    """ln of a Gaussian mixture's density at each row, with scipy's densities."""
    from scipy import stats

    logs = [
        np.log(w) + stats.multivariate_normal(m, c).logpdf(points)
        for w, m, c in zip(weights, means, covs, strict=True)
    ]
    return special.logsumexp(np.stack(logs), axis=0)


def mixture_mi_monte_carlo(
    weights: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    dx: int,
    n: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """I(x; y) of a Gaussian mixture, by Monte Carlo: (estimate, standard error) in nats.

    Averages ln p(x, y) - ln p(x) - ln p(y) over ``n`` points drawn from the
    mixture, x being the first ``dx`` coordinates.
    """
    weights, means, covs = (np.asarray(a, dtype=float) for a in (weights, means, covs))
    points = _sample_base(n, rng, weights, means, covs)
    bx, by = slice(0, dx), slice(dx, None)
    ratio = _mixture_logpdf(points, weights, means, covs)
    ratio -= _mixture_logpdf(points[:, bx], weights, means[:, bx], covs[:, bx, bx])
    ratio -= _mixture_logpdf(points[:, by], weights, means[:, by], covs[:, by, by])
    return float(ratio.mean()), float(ratio.std(ddof=1) / np.sqrt(n))


def hard_suite() -> list[Dataset]:
    """The hard suite: 19 "Beyond Normal" tasks with known MI (see the module's text)."""
    return [
        spiral_gaussian(3, 3),
        spiral_gaussian(5, 5),
        spiral_gaussian(3, 3, normal_cdf=True),
        spiral_gaussian(5, 5, normal_cdf=True),
        waves(),
        galaxy(),
        concentric(3, 5),
        concentric(5, 5),
        concentric(3, 10),
        concentric(5, 10),
        student_identity(2, 2, 1),
        student_identity(2, 2, 2),
        student_identity(3, 3, 2),
        student_identity(3, 3, 3),
        student_identity(5, 5, 2),
        student_identity(5, 5, 3),
        dense_gaussian(5, 5),
        dense_gaussian(25, 25),
        dense_gaussian(50, 50),
    ]
