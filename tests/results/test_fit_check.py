"""Goodness of fit by probability integral transforms: exact PIT, calibrated tests, real fits."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import integrate

import gmmmi
from gmmmi.datasets import paper
from gmmmi.fit_check import check_fit, pit
from gmmmi.mixture import MixtureDraws


def two_component_mixture():
    """A correlated, skewed 2-D mixture (weights 0.3, 0.7)."""
    return MixtureDraws(
        np.array([[0.3, 0.7]]),
        np.array([[[0.0, 0.0], [2.0, 1.0]]]),
        np.array([[[[1.0, 0.6], [0.6, 1.0]], [[0.5, -0.2], [-0.2, 0.8]]]]),
    )


def test_pit_matches_numerical_integration_of_the_density():
    """F(x) and F(y | x) against quadrature of the joint density: an obviously right reference."""
    mix = two_component_mixture()
    points = np.array([[-1.0, 0.5], [0.3, -0.7], [2.5, 1.8]])
    marginal, conditional = pit(mix, points)

    def joint(x, y):
        return float(np.exp(mix.logpdf([[x, y]])[0, 0]))

    for (x, y), m, c in zip(points, marginal, conditional, strict=True):
        p_x = integrate.quad(lambda t, x=x: joint(x, t), -np.inf, np.inf)[0]
        f_x = integrate.dblquad(lambda t, s: joint(s, t), -np.inf, x, -np.inf, np.inf)[0]
        f_y = integrate.dblquad(lambda t, s: joint(s, t), -np.inf, np.inf, -np.inf, y)[0]
        f_y_given_x = integrate.quad(lambda t, x=x: joint(x, t), -np.inf, y)[0] / p_x
        np.testing.assert_allclose(m, [f_x, f_y], atol=1e-7)
        np.testing.assert_allclose(c, [f_x, f_y_given_x], atol=1e-7)


def test_pit_of_one_gaussian_is_its_closed_form():
    """K = 1 takes no logsumexp: marginal and conditional PITs are normal CDFs of z-scores."""
    from scipy.stats import norm

    mean, cov = np.array([0.5, -1.0]), np.array([[2.0, 0.9], [0.9, 1.5]])
    mix = MixtureDraws(np.ones((1, 1)), mean[None, None], cov[None, None])
    points = np.random.default_rng(1).normal(size=(50, 2))
    marginal, conditional = pit(mix, points)
    np.testing.assert_allclose(marginal, norm.cdf((points - mean) / np.sqrt(np.diag(cov))))
    slope = cov[0, 1] / cov[0, 0]
    given_x = mean[1] + slope * (points[:, 0] - mean[0])
    sd_given_x = np.sqrt(cov[1, 1] - slope * cov[0, 1])
    np.testing.assert_allclose(conditional[:, 0], marginal[:, 0])
    np.testing.assert_allclose(conditional[:, 1], norm.cdf((points[:, 1] - given_x) / sd_given_x))


def test_draws_of_the_mixture_pass_and_another_mixture_fails():
    mix = two_component_mixture()
    X = mix.sample(4000, np.random.default_rng(0))[0]
    good = check_fit(mix, X, names=["u", "v"])
    assert good.ok and good.bins == 20
    assert list(good.table.index) == [("marginal", "u"), ("marginal", "v"), ("joint", "u & v")]
    assert (good.table["z"].abs() < 3).all()  # chi-squared excess within 3 sd
    # the same marginals without the correlation: the conditional PIT sees it
    uncorrelated = MixtureDraws(mix.weights, mix.means, mix.covariances * np.eye(2))
    bad = check_fit(uncorrelated, X, names=["u", "v"])
    assert not bad.ok
    assert not bad.table.loc["marginal", "misfit"].any()
    assert bad.table.loc[("joint", "u & v"), "z"] > 10
    assert "MISFIT in 1 of 3 tests (worst: joint u & v, z = +" in repr(bad)
    assert "no misfit at level 0.01" in repr(good)


def test_false_alarm_rate_of_the_check_is_near_its_level():
    """With the true density, each test flags about alpha of the time (here 0.1)."""
    mix = two_component_mixture()
    rng = np.random.default_rng(5)
    flags = [
        check_fit(mix, mix.sample(500, rng)[0], alpha=0.1).table["misfit"].to_numpy()
        for _ in range(200)
    ]
    rate = np.mean(flags)  # 3 tests x 200 repeats, not independent: bound with 200
    assert abs(rate - 0.1) < 3 * np.sqrt(0.1 * 0.9 / 200)


BAD_ARGUMENTS = [
    ({"alpha": "0.05"}, TypeError, r"alpha must be a number; got '0\.05' \(str\)\."),
    ({"alpha": None}, TypeError, r"alpha must be a number; got None \(NoneType\)\."),
    ({"alpha": True}, TypeError, r"alpha must be a number; got True \(bool\)\."),
    ({"alpha": float("nan")}, ValueError, r"alpha must be finite; got nan\."),
    ({"alpha": 5}, ValueError, r"alpha must be in \(0, 1\); got 5\.0\."),
    ({"alpha": 0}, ValueError, r"alpha must be in \(0, 1\); got 0\.0\."),
    ({"bins": "10"}, TypeError, r"bins must be an integer; got '10' \(str\)\."),
    ({"bins": 2.5}, ValueError, r"bins must be an integer; got 2\.5\."),
    ({"bins": 1}, ValueError, r"bins must be at least 2; got 1\."),
    ({"bins": True}, TypeError, r"bins must be an integer; got True \(bool\)\."),
    ({"pair_bins": 1}, ValueError, r"pair_bins must be at least 2; got 1\."),
    ({"pair_bins": [3]}, TypeError, r"pair_bins must be an integer; got \[3\] \(list\)\."),
    ({"names": "uv"}, TypeError, r"names must be a sequence of 2 column names; got str\."),
    ({"names": ["u"]}, ValueError, r"names must hold one name per column \(2\); got 1\."),
    ({"names": 3}, TypeError, r"names must be a sequence of 2 column names; got int\."),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_ARGUMENTS)
def test_check_fit_refuses_each_bad_argument_with_its_own_message(kwargs, error, message):
    mix = two_component_mixture()
    X = np.zeros((10, 2))
    with pytest.raises(error, match=f"^{message}$"):
        check_fit(mix, X, **kwargs)


def test_check_fit_refuses_bad_data_and_mixtures():
    mix = two_component_mixture()
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\) with n >= 2; got \(10, 3\)"):
        check_fit(mix, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"^X must be finite; got 2 NaN or infinite values\.$"):
        check_fit(mix, np.where(np.eye(10, 2) > 0, np.nan, X))
    with pytest.raises(TypeError, match=r"^X must be a numeric array of shape \(n, 2\); got list"):
        check_fit(mix, [["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match=r"^mixture must be a gmmmi\.MixtureDraws .*; got ndarray"):
        check_fit(X, X)


def test_result_check_fit_gives_the_same_errors(d3_fits):
    x, y, good, _ = d3_fits
    with pytest.raises(TypeError, match=r"^alpha must be a number; got '0\.05' \(str\)\.$"):
        good.check_fit(x, y, alpha="0.05")
    with pytest.raises(ValueError, match=r"^bins must be at least 2; got 0\.$"):
        good.check_fit(x, y, bins=0)


@pytest.fixture(scope="module")
def d3_fits():
    """The paper's D3 (N = 1000) fitted with K chosen by cross-validation, and with K = 1."""
    x, y = paper("D3").sample(1000, rng=0)
    good = gmmmi.estimate(x, y, n_bootstrap=0, random_state=1)
    # one Gaussian on the raw data (the default would map the margins): a misfit on purpose,
    # which the estimate's own check reports
    with pytest.warns(gmmmi.MisfitWarning, match="the dependence of x0 & y0 departs"):
        bad = gmmmi.estimate(
            x, y, n_bootstrap=0, random_state=1, fixed_components_number=1, transform="none"
        )
    assert not bad.fit_check.ok and good.fit_check.ok
    return x, y, good, bad


def test_a_good_fit_passes_and_a_forced_single_gaussian_is_flagged(d3_fits, tmp_path):
    x, y, good, bad = d3_fits
    assert good.n_components > 1 and bad.n_components == 1
    ok = good.check_fit(x, y)
    assert ok.ok and (ok.table["z"] < 3).all(), ok
    flagged = bad.check_fit(x, y)
    assert not flagged.ok and (flagged.table["z"] > 5).all(), flagged
    assert list(flagged.table.index.get_level_values("column")) == ["x0", "y0", "x0 & y0"]
    axes = flagged.plot()
    assert axes.shape == (2, 2) and not axes[1, 1].axison
    assert axes[1, 0].get_ylabel() == "F(y0 | x0)"
    assert axes[1, 0].get_title().startswith("z = +") and "MISFIT" in axes[1, 0].get_title()
    axes[0, 0].figure.savefig(tmp_path / "pit.png", dpi=60)
    assert (tmp_path / "pit.png").stat().st_size > 5000
    plt.close("all")


def test_verdict_and_worst_test_are_the_tables():
    """ok, worst() and n_flagged read the test arrays; the lazily built table says the same."""
    from gmmmi.fit_check import relabel

    mix = two_component_mixture()
    X = mix.sample(3000, np.random.default_rng(4))[0]
    one = MixtureDraws(np.ones((1, 1)), X.mean(axis=0)[None, None], np.cov(X.T)[None, None])
    for check in (check_fit(mix, X), check_fit(one, X), relabel(check_fit(one, X), ["a", "b"])):
        table = check.table
        assert check.ok == (not table["misfit"].any())
        assert check.n_flagged == int(table["misfit"].sum())
        rows = table[table["misfit"]] if table["misfit"].any() else table
        kind, column = rows["z"].idxmax()
        assert check.worst() == (kind, column, float(rows.loc[(kind, column), "z"]))
    assert not check.ok and check.worst()[1] == "a & b"
    assert list(table.index.get_level_values("column")) == ["a", "b", "a & b"]


def test_first_conditional_pit_takes_one_rows_responsibilities_for_all():
    """Bit for bit what the logsumexp over every row's (equal) log weights gives."""
    from scipy.special import logsumexp, ndtr

    w = np.array([0.2, 0.5, 0.3])
    means = np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 0.5]])
    covs = np.array([np.eye(2) + 0.3, np.diag([0.5, 2.0]), [[1.0, 0.4], [0.4, 1.0]]])
    X = np.random.default_rng(2).normal(size=(500, 2)) * 2
    log_resp = np.broadcast_to(np.log(w), (500, 3))
    resp = np.exp(log_resp - logsumexp(log_resp, axis=1, keepdims=True))
    standard = (X[:, 0, None] - means[None, :, 0]) / np.sqrt(covs[:, 0, 0])
    expected = np.clip(np.sum(resp * ndtr(standard), axis=1), 0.0, 1.0)
    _, conditional = pit(MixtureDraws(w[None], means[None], covs[None]), X)
    np.testing.assert_array_equal(conditional[:, 0], expected)
