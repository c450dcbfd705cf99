"""One suite over every built-in backend: the `Backend` contract and a truth check.

Each backend fits the same small Gaussian data (standardised, as the API passes
them) with K = 1; the MI of its draws must agree with the analytic MI within
the draws' own spread.
"""

import numpy as np
import pytest

from gmmmi.backends import Backend, FitDiagnostics, get_backend
from gmmmi.integrate import mutual_information
from gmmmi.mixture import MixtureDraws

from reference import gaussian_mi

#: (backend name, options keeping it CI-sized) per variant under test; the PyMC
#: backend runs with each of its NUTS samplers
VARIANTS = {
    "numba": ("numba", {"n_bootstrap": 20}),
    "pymc": ("pymc", {"draws": 300, "tune": 300, "sampler": "pymc"}),
    "pymc-nutpie": ("pymc", {"draws": 300, "tune": 300, "sampler": "nutpie"}),
}
BACKENDS = [
    pytest.param("numba"),
    pytest.param("pymc", marks=pytest.mark.slow),
    pytest.param("pymc-nutpie", marks=pytest.mark.slow),
]
METHODS = {"bootstrap", "single fit", "nuts", "advi"}
COV2 = np.array([[1.0, 0.6], [0.6, 1.0]])


def _gaussian_data(seed, cov, n=300):
    X = np.random.default_rng(seed).multivariate_normal(np.zeros(len(cov)), cov, n)
    return np.ascontiguousarray((X - X.mean(0)) / X.std(0))


def _fit(variant, X, seed):
    name, options = VARIANTS[variant]
    if name == "pymc":
        pytest.importorskip("pymc")
    if options.get("sampler") == "nutpie":
        pytest.importorskip("nutpie")
    be = get_backend(name)
    return be.fit(X, n_components=1, rng=np.random.default_rng(seed), progress=False, **options)


@pytest.fixture(scope="module")
def fits():
    """(draws, diagnostics) per variant, fitted once per module."""
    cache = {}

    def get(variant):
        if variant not in cache:
            cache[variant] = _fit(variant, _gaussian_data(0, COV2), seed=0)
        return cache[variant]

    return get


@pytest.mark.parametrize("variant", BACKENDS)
def test_backend_object(variant):
    name, options = VARIANTS[variant]
    be = get_backend(name)
    assert isinstance(be, Backend) and be.name == name
    assert isinstance(be.options, dict) and set(options) <= set(be.options)


@pytest.mark.parametrize("variant", BACKENDS)
def test_shapes_and_diagnostics(variant, fits):
    draws, diag = fits(variant)
    assert isinstance(draws, MixtureDraws) and isinstance(diag, FitDiagnostics)
    assert draws.n_dim == 2 and draws.n_components == 1 and draws.n_draws > 1
    assert diag.n_components == 1 and diag.method in METHODS
    np.testing.assert_allclose(draws.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(draws.covariances, np.swapaxes(draws.covariances, -1, -2))
    assert np.all(np.linalg.eigvalsh(draws.covariances) > 0)
    chains = int(diag.extra.get("chains", 1))
    assert draws.n_draws % chains == 0
    if "draws" in diag.extra:
        assert draws.n_draws == chains * diag.extra["draws"]
    sampler = VARIANTS[variant][1].get("sampler")
    if sampler is not None:
        assert diag.extra["sampler"] == sampler


@pytest.mark.parametrize("variant", BACKENDS)
def test_dimension_follows_the_data(variant):
    X = _gaussian_data(1, np.eye(3) + 0.3, n=200)
    draws, diag = _fit(variant, X, seed=1)
    assert draws.n_dim == 3 and draws.covariances.shape[-2:] == (3, 3)
    assert diag.n_components == 1


@pytest.mark.parametrize("variant", BACKENDS)
def test_same_seed_same_draws(variant, fits):
    draws, _ = fits(variant)
    again, _ = _fit(variant, _gaussian_data(0, COV2), seed=0)
    np.testing.assert_array_equal(draws.weights, again.weights)
    np.testing.assert_array_equal(draws.means, again.means)
    np.testing.assert_array_equal(draws.covariances, again.covariances)


@pytest.mark.parametrize("variant", BACKENDS)
def test_mi_near_the_truth(variant, fits):
    draws, _ = fits(variant)
    mi = mutual_information(draws, [0], [1]).values
    truth = gaussian_mi(COV2, [0], [1])
    assert np.all(np.isfinite(mi)) and mi.std() > 0
    assert abs(mi.mean() - truth) < 3 * mi.std()
