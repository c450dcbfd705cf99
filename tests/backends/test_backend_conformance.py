"""The backend contract: `gmmmi.testing.check_backend` on every built-in backend, and on
small broken backends, each of which it must reject with a message naming the broken rule.
"""

import dataclasses

import numpy as np
import pytest

import gmmmi
from gmmmi.backends import BaseBackend
from gmmmi.diagnostics import DrawKind, FitDiagnostics
from gmmmi.mixture import MixtureDraws
from gmmmi.testing import check_backend

#: (backend name, options keeping it CI-sized) per variant under test; the PyMC
#: backend runs with each of its NUTS samplers
VARIANTS = {
    "numba": ("numba", {"n_bootstrap": 20}),
    "numba-single": ("numba", {"n_bootstrap": 0}),
    "pymc": ("pymc", {"draws": 300, "tune": 300, "sampler": "pymc"}),
    "pymc-nutpie": ("pymc", {"draws": 300, "tune": 300, "sampler": "nutpie"}),
}


@pytest.mark.parametrize(
    "variant",
    [
        "numba",
        "numba-single",
        pytest.param("pymc", marks=pytest.mark.slow),
        pytest.param("pymc-nutpie", marks=pytest.mark.slow),
    ],
)
def test_builtin_backends_keep_the_contract(variant):
    name, options = VARIANTS[variant]
    if name == "pymc":
        pytest.importorskip("pymc")
    if options.get("sampler") == "nutpie":
        pytest.importorskip("nutpie")
    check_backend(name, options=options)


class GaussianBootstrap(BaseBackend):
    """A correct backend: one Gaussian (K = 1) per bootstrap replica, in plain numpy."""

    name = "gaussian-bootstrap"
    options = {"n_bootstrap": 30}

    def fit(self, X, *, n_components, rng, progress, **options):
        opts = self.check_options(options)
        n, d = X.shape
        fits = [X] + [X[rng.integers(0, n, n)] for _ in range(opts["n_bootstrap"])]
        means = np.array([f.mean(axis=0) for f in fits])[:, None]
        covs = np.array([np.cov(f, rowvar=False).reshape(d, d) for f in fits])[:, None]
        mixtures = MixtureDraws(np.ones((len(fits), 1)), means, covs)
        S = opts["n_bootstrap"]
        return self._draws(mixtures.select(slice(1, None))), self._diagnostics(mixtures, S)

    def _draws(self, draws):
        return draws

    def _diagnostics(self, mixtures, S):
        return FitDiagnostics(
            kind=DrawKind.BOOTSTRAP,
            n_components=1,
            sample_shape=(1, S),
            reference_fit=mixtures.select(0),
            n_iter=np.ones(S, dtype=int),
            converged=np.ones(S, dtype=bool),
        )


def test_a_correct_small_backend_passes():
    check_backend(GaussianBootstrap())


class WrongShape(GaussianBootstrap):
    def _diagnostics(self, mixtures, S):
        return dataclasses.replace(super()._diagnostics(mixtures, S), sample_shape=(2, S))


class WrongKind(GaussianBootstrap):
    def _diagnostics(self, mixtures, S):
        return dataclasses.replace(super()._diagnostics(mixtures, S), kind=DrawKind.SINGLE_FIT)


@dataclasses.dataclass
class LooseDiagnostics:
    """A mutable look-alike of FitDiagnostics."""

    kind: DrawKind
    n_components: int
    sample_shape: tuple


class Unfrozen(GaussianBootstrap):
    def _diagnostics(self, mixtures, S):
        return LooseDiagnostics(DrawKind.BOOTSTRAP, 1, (1, S))


class MutatingCheck(GaussianBootstrap):
    def check(self, diagnostics):
        diagnostics.extra["checked"] = True
        return []


class IgnoresRng(GaussianBootstrap):
    def fit(self, X, *, n_components, rng, progress, **options):
        return super().fit(
            X, n_components=n_components, rng=np.random.default_rng(), progress=progress, **options
        )


class DataUnits(GaussianBootstrap):
    def _draws(self, draws):
        return draws.affine(np.full(draws.n_dim, 10.0), np.full(draws.n_dim, 3.0))


class MutatesX(GaussianBootstrap):
    def fit(self, X, **kwargs):
        X *= 1.0 + 1e-12
        return super().fit(X, **kwargs)


class LaxOptions(GaussianBootstrap):
    def check_options(self, options):
        return {**self.options, **options}


class OwnOptionError(GaussianBootstrap):
    def check_options(self, options):
        if set(options) - set(self.options):
            raise TypeError(f"unexpected options {sorted(options)}")
        return super().check_options(options)


class GaussianHeldout(GaussianBootstrap):
    """A correct optional hook: the held-out log-likelihood of one Gaussian, 2 folds."""

    def heldout_loglik(self, X, *, n_components, rng, **options):
        from scipy.stats import multivariate_normal

        order = rng.permutation(X.shape[0])
        folds = order[: X.shape[0] // 2], order[X.shape[0] // 2 :]
        scores = []
        for train, test in (folds, folds[::-1]):
            mean, cov = X[train].mean(axis=0), np.cov(X[train], rowvar=False)
            scores.append(multivariate_normal(mean, cov).logpdf(X[test]).sum())
        return float(sum(scores) / X.shape[0])


class SummedHeldout(GaussianHeldout):
    def heldout_loglik(self, X, **kwargs):
        return super().heldout_loglik(X, **kwargs) * X.shape[0]


class NoisyHeldout(GaussianHeldout):
    def heldout_loglik(self, X, *, rng, **kwargs):
        return super().heldout_loglik(X, rng=np.random.default_rng(), **kwargs)


class NoMembers:
    name = "bare"
    options = {}

    def fit(self, X, **kwargs):
        raise AssertionError("never called")


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        (WrongShape(), r"sample_shape \(2, 30\) holds 60 draws but fit returned 30 mixtures"),
        (WrongKind(), r"a SINGLE_FIT has S = 1 draw; got 30\."),
        (Unfrozen(), r"must be a \(frozen\) gmmmi\.diagnostics\.FitDiagnostics; got Loose"),
        (MutatingCheck(), r"check changed the diagnostics it was given\."),
        (IgnoresRng(), r"the same seed gave different draws; all randomness must come from rng"),
        (DataUnits(), r"the draws must be in the standardised units of X"),
        (MutatesX(), r"fit changed its input X\."),
        (LaxOptions(), r"check_options accepted the unknown option 'gmmmi_no_such_option'\."),
        (OwnOptionError(), r"an unknown option must be refused in gmmmi's format"),
        (SummedHeldout(), r"heldout_loglik gave -\d+\.\d+ nat per row .* a mean per row"),
        (NoisyHeldout(), r"heldout_loglik gave .* for the same seed; all randomness must come"),
        (NoMembers(), r"NoMembers lacks supports_init, check, check_options; subclass"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else "",
)
def test_check_backend_rejects_a_broken_backend(backend, message):
    with pytest.raises(AssertionError, match=message):
        check_backend(backend)


def test_a_correct_heldout_hook_passes():
    check_backend(GaussianHeldout())


# one Gaussian on exponential margins (the backend cannot map them): both checks are right
@pytest.mark.filterwarnings("ignore:.*The fitted mixture does not describe:gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_auto_margins_ask_the_backend_and_keep_raw_data_when_it_cannot_compare():
    """transform="auto" compares raw and mapped data with the backend's own heldout_loglik; a
    backend without one (BaseBackend's None) keeps the raw data and the record says why.
    """
    from gmmmi.datasets import gaussian, with_margins

    x, y = with_margins(gaussian(0.6), "exp").sample(600, 1)
    plain = gmmmi.estimate(x, y, backend=GaussianBootstrap(), random_state=0)
    assert plain.transform["chosen"] == "none"
    assert plain.transform["reason"] == (
        "the 'gaussian-bootstrap' backend cannot compare raw and mapped data (its heldout_loglik "
        "gives no score); pass transform='gaussianize' to map the margins"
    )
    asked = gmmmi.estimate(x, y, backend=GaussianHeldout(), random_state=0)
    crit = asked.transform["criterion"]
    assert asked.transform["chosen"] == "gaussianize" and crit["gaussianize"] > crit["none"]
    truth = -0.5 * np.log(1 - 0.6**2)
    assert abs(asked.value - truth) < 3 * asked.sd < abs(plain.value - truth)


def test_frozen_diagnostics_refuse_changes_and_a_string_kind():
    diag = GaussianBootstrap()._diagnostics(
        MixtureDraws(np.ones((3, 1)), np.zeros((3, 1, 2)), np.tile(np.eye(2), (3, 1, 1, 1))), 2
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        diag.n_components = 2
    with pytest.raises(ValueError, match="read-only"):
        diag.converged[0] = False
    with pytest.raises(
        TypeError, match=r"kind must be a gmmmi\.diagnostics\.DrawKind .*got 'jackknife'"
    ):
        FitDiagnostics(kind="jackknife", n_components=1, sample_shape=(1, 2))
    with pytest.raises(ValueError, match=r"sample_shape must be \(chains, draws\), two positive"):
        FitDiagnostics(kind=DrawKind.POSTERIOR, n_components=1, sample_shape=(4,))


def test_estimate_refuses_draws_that_do_not_match_their_sample_shape(rng):
    X = rng.normal(size=(200, 2))
    with pytest.raises(
        ValueError,
        match=r"^The 'gaussian-bootstrap' backend returned 30 mixtures but its diagnostics' "
        r"sample_shape \(2, 30\) holds 60; chains \* draws must equal the number of mixtures\.$",
    ):
        gmmmi.estimate(X, backend=WrongShape(), random_state=0)


def test_init_needs_a_backend_that_declares_it(rng):
    X = rng.normal(size=(200, 2))
    fit = gmmmi.estimate(X, n_bootstrap=0, random_state=0).diagnostics.reference_fit
    with pytest.raises(
        ValueError,
        match=r"^The 'gaussian-bootstrap' backend does not accept init=; use backend='numba' or "
        r"drop init\.$",
    ):
        # no bootstrap: no serial-dependence check either (this seed's iid rows are one of its
        # 1 % false alarms, and the refusal is what is tested)
        gmmmi.estimate(X, backend=GaussianBootstrap(), init=fit, n_bootstrap=0, random_state=0)


def test_estimate_leaves_the_backends_diagnostics_as_they_were(rng):
    """Regression: estimate mapped reference_fit to data units in the backend's own object."""

    class Keeper(GaussianBootstrap):
        def _diagnostics(self, mixtures, S):
            self.returned = super()._diagnostics(mixtures, S)
            return self.returned

    X = rng.multivariate_normal([100.0, -50.0], [[4.0, 1.2], [1.2, 1.0]], 300)
    keeper = Keeper()
    res = gmmmi.estimate(X, backend=keeper, random_state=0)
    standardised = keeper.returned.reference_fit.means[0, 0]
    np.testing.assert_allclose(standardised, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(res.diagnostics.reference_fit.means[0, 0], X.mean(axis=0))
    assert res.diagnostics is not keeper.returned


def test_a_backend_without_the_declared_members_is_refused(rng):
    with pytest.raises(
        TypeError,
        match=r"^backend must be a name or an object with `name`, `options`, `supports_init`, "
        r"`fit`, `check` and `check_options` \(subclass gmmmi\.backends\.BaseBackend for the "
        r"defaults of the last three\); got NoMembers\.$",
    ):
        gmmmi.estimate(rng.normal(size=(100, 2)), backend=NoMembers())
