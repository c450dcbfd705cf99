"""`MixtureDraws`: log-density against scipy, empty components, transforms, sampling, errors."""

import numpy as np
import pytest

from gmmmi.mixture import MixtureDraws

from reference import mixture_logpdf, random_covariance


def _random_draws(rng, S=3, K=3, d=3):
    w = rng.dirichlet(np.ones(K), size=S)
    m = rng.normal(size=(S, K, d))
    c = np.stack([[random_covariance(rng, d) for _ in range(K)] for _ in range(S)])
    return MixtureDraws(w, m, c)


def test_logpdf_matches_scipy(rng):
    mix = _random_draws(rng)
    X = rng.normal(size=(50, 3))
    got = mix.logpdf(X)
    for s in range(mix.n_draws):
        want = mixture_logpdf(X, mix.weights[s], mix.means[s], mix.covariances[s])
        np.testing.assert_allclose(got[s], want, rtol=1e-10, atol=1e-10)


def test_empty_component_is_ignored(rng):
    mix = _random_draws(rng, S=1, K=2, d=2)
    padded = MixtureDraws.concatenate([mix, _random_draws(rng, S=1, K=3, d=2)]).select(0)
    X = rng.normal(size=(20, 2))
    np.testing.assert_allclose(padded.logpdf(X), mix.logpdf(X), rtol=1e-12)


def test_marginal_and_affine(rng):
    mix = _random_draws(rng, S=2, K=2, d=3)
    marg = mix.marginal([2, 0])
    np.testing.assert_array_equal(marg.means, mix.means[:, :, [2, 0]])
    assert marg.covariances[0, 1, 0, 1] == mix.covariances[0, 1, 2, 0]
    A = np.array([2.0, 0.5, 3.0])
    b = np.array([1.0, -1.0, 0.0])
    moved = mix.affine(A, b)
    X = rng.normal(size=(10, 3))
    # change of variables: log p_Y(y) = log p_X(x) - log|det A|
    np.testing.assert_allclose(moved.logpdf(X * A + b), mix.logpdf(X) - np.log(A).sum(), rtol=1e-10)


def test_sample_moments(rng):
    mix = _random_draws(rng, S=1, K=2, d=2)
    x = mix.sample(200_000, rng)[0]
    mean = np.einsum("k,kd->d", mix.weights[0], mix.means[0])
    np.testing.assert_allclose(x.mean(0), mean, atol=0.03)


def test_shape_errors():
    with pytest.raises(ValueError, match="expects weights"):
        MixtureDraws(np.ones(2), np.zeros((1, 2, 1)), np.ones((1, 2, 1, 1)))


def test_not_positive_definite():
    bad = MixtureDraws(np.ones((1, 1)), np.zeros((1, 1, 2)), -np.eye(2)[None, None])
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        bad.logpdf(np.zeros((1, 2)))
