"""entropy, divergence, pointwise MI, dequantised counts, and their commands."""

import json
import re

import numpy as np
import pytest
from scipy import integrate, stats

import gmmmi
from gmmmi.cli import main

from helpers import assert_within_sd

FAST = {"n_bootstrap": 30, "n_inits": 2}
#: seed 0 runs everywhere; the others are marked slow (CI runs them)
SEEDS = (0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow))


# ------------------------------------------------------------ entropy
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_entropy_of_a_gaussian_in_data_units(seed):
    rng = np.random.default_rng(seed)
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    x = rng.multivariate_normal([3.0, -1.0], cov, 1500) * [10.0, 1.0]  # x0 in other units
    scaled = cov * np.outer([10.0, 1.0], [10.0, 1.0])
    truth = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * scaled))
    res = gmmmi.entropy(x, random_state=seed, **FAST)
    assert_within_sd(res, truth)
    assert res.quantity == "entropy" and str(res).startswith("H(x0, x1) = ")
    bits = gmmmi.entropy(x, random_state=seed, base=2, **FAST)
    assert bits.value == pytest.approx(res.value / np.log(2), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_entropy_of_a_mixture_against_quadrature(seed):
    rng = np.random.default_rng(seed)
    c = rng.random(2000) < 0.3
    x = np.where(c, rng.normal(3.0, 0.5, 2000), rng.normal(0.0, 1.0, 2000))

    def pdf(t):
        return 0.3 * stats.norm.pdf(t, 3, 0.5) + 0.7 * stats.norm.pdf(t, 0, 1)

    truth = integrate.quad(lambda t: -pdf(t) * np.log(pdf(t)), -12, 12, limit=200)[0]
    assert_within_sd(gmmmi.entropy(x, random_state=seed, **FAST), truth)


def test_entropy_with_a_discrete_column_by_the_chain_rule(rng, tmp_path):
    d = rng.integers(0, 3, 2000)
    x = rng.normal(d, 1.0 + d)
    # H(d) + sum_d p(d) h(x | d)
    truth = np.log(3) + np.mean([0.5 * np.log(2 * np.pi * np.e * (1 + k) ** 2) for k in range(3)])
    res = gmmmi.entropy(np.column_stack([d, x]), random_state=0, **FAST)
    assert_within_sd(res, truth)
    assert res.discrete["columns"] == ["x0"]
    res.to_netcdf(tmp_path / "h.nc")
    back = gmmmi.load(tmp_path / "h.nc")
    assert str(back) == str(res) and back.discrete == res.discrete
    np.testing.assert_array_equal(back.draws["entropy"], res.draws["entropy"])


def test_entropy_of_a_tied_continuous_column_is_refused(rng):
    x = np.round(rng.normal(size=500), 1)
    message = (
        "Column 'x0' is treated as continuous but 89% of its values repeat another: a variable "
        "with point masses has no density, so its differential entropy is -inf and any finite "
        "estimate would only measure the fit. Declare it discrete (discrete=['x0']) for the "
        "entropy of its values, or, for counts, add U(0, 1) noise (the entropy of the count is "
        "then that of the noisy column)."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        gmmmi.entropy(x, discrete=None)


# ------------------------------------------------------------ divergences
def gaussian_kl(m1, s1, m2, s2):
    inv = np.linalg.inv(s2)
    d = m2 - m1
    logdet = np.log(np.linalg.det(s2) / np.linalg.det(s1))
    return 0.5 * (np.trace(inv @ s1) + d @ inv @ d - len(m1) + logdet)


M1, S1 = np.zeros(2), np.array([[1.0, 0.5], [0.5, 1.0]])
M2, S2 = np.array([0.5, -0.3]), np.array([[1.5, 0.0], [0.0, 1.2]])


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_between_two_gaussian_samples(seed):
    rng = np.random.default_rng(seed)
    p = rng.multivariate_normal(M1, S1, 2000)
    q = rng.multivariate_normal(M2, S2, 1500)
    res = gmmmi.divergence(p, q, random_state=seed, **FAST)
    assert_within_sd(res, gaussian_kl(M1, S1, M2, S2))
    assert str(res).startswith("KL(p || q) = ") and res.meta["samples"] == {"p": 2000, "q": 1500}


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_js_between_two_gaussian_samples(seed):
    rng = np.random.default_rng(seed)
    p = rng.multivariate_normal(M1, S1, 2000)
    q = rng.multivariate_normal(M2, S2, 2000)
    # JS by Monte Carlo of the true laws (2e5 points each)
    fp, fq = stats.multivariate_normal(M1, S1), stats.multivariate_normal(M2, S2)
    mc = np.random.default_rng(99)
    a, b = fp.rvs(200_000, random_state=mc), fq.rvs(200_000, random_state=mc)

    def log_m(t):
        return np.logaddexp(fp.logpdf(t), fq.logpdf(t)) - np.log(2)

    truth = 0.5 * np.mean(fp.logpdf(a) - log_m(a)) + 0.5 * np.mean(fq.logpdf(b) - log_m(b))
    res = gmmmi.divergence(p, q, kind="js", random_state=seed, **FAST)
    assert_within_sd(res, truth)
    assert str(res).startswith("JS(p, q) = ")


def test_divergence_of_samples_of_different_dimensions_is_refused(rng):
    message = (
        "A divergence compares two distributions on the same space; p_sample has 2 column(s) "
        "and q_sample 3. Pass samples of the same variables."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        gmmmi.divergence(rng.normal(size=(100, 2)), rng.normal(size=(100, 3)))


def test_kl_dominated_by_thin_tails_of_q_warns(rng):
    p = rng.standard_t(2, size=(2000, 1))
    q = rng.normal(size=(2000, 1))
    with pytest.warns(gmmmi.DataWarning, match=r"^KL\[p \|\| q\]: \d+% of the estimate comes"):
        gmmmi.divergence(p, q, random_state=0, n_bootstrap=5)


def test_divergence_saves_and_loads(tmp_path, rng):
    p, q = rng.normal(size=(400, 1)), rng.normal(0.5, 1.0, size=(300, 1))
    res = gmmmi.divergence(p, q, kind="js", random_state=0, n_bootstrap=5)
    res.to_netcdf(tmp_path / "js.nc")
    back = gmmmi.load(tmp_path / "js.nc")
    assert str(back) == str(res) and back.meta["samples"] == {"p": 400, "q": 300}
    assert len(back.diagnostics.per_category) == 2


# ------------------------------------------------------------ pointwise MI
def test_pointwise_mi_of_a_gaussian_fit_is_its_closed_form(rng):
    X = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 1000) * [2.0, 5.0] + [1.0, 3.0]
    res = gmmmi.estimate(X, random_state=0, n_bootstrap=5)
    ref = res.diagnostics.reference_fit
    assert ref.n_components == 1
    m, s = ref.means[0, 0], ref.covariances[0, 0]
    direct = (
        stats.multivariate_normal(m, s).logpdf(X)
        - stats.norm(m[0], np.sqrt(s[0, 0])).logpdf(X[:, 0])
        - stats.norm(m[1], np.sqrt(s[1, 1])).logpdf(X[:, 1])
    )
    np.testing.assert_allclose(res.pointwise(X), direct, atol=1e-10)


def test_pointwise_cmi_averages_to_the_estimate_under_the_fit(rng):
    W = rng.multivariate_normal([0, 0, 0], [[1, 0.3, 0.5], [0.3, 1, 0.2], [0.5, 0.2, 1]], 1500)
    res = gmmmi.estimate(W[:, 0], W[:, 1], z=W[:, 2], random_state=0, n_bootstrap=5)
    draws = res.diagnostics.reference_fit.sample(200_000, np.random.default_rng(1))[0]
    values = res.pointwise(draws[:, 0], draws[:, 1], z=draws[:, 2])
    assert abs(values.mean() - res.value) < 4 * values.std() / np.sqrt(values.size)


def test_pointwise_of_a_discrete_result_is_refused(rng):
    z = rng.integers(0, 2, 400).astype(float)
    x, y = rng.normal(size=(2, 400))
    res = gmmmi.estimate(x, y, z=z, random_state=0, n_bootstrap=5)
    with pytest.raises(ValueError, match=r"^This result has discrete columns or point masses"):
        res.pointwise(x, y, z=z)


# ------------------------------------------------------------ counts
def poisson_gaussian_truth(lam, a):
    """I(c; a c + N(0, 1)) for c ~ Poisson(lam): h(mixture) - h(noise), on a grid."""
    k = np.arange(0, 80)
    pk = stats.poisson.pmf(k, lam)
    g = np.linspace(-8.0, a * 80 + 8.0, 40001)
    f = np.sum(pk[:, None] * stats.norm.pdf(g[None], a * k[:, None], 1.0), axis=0)
    h = -np.sum(np.where(f > 0, f * np.log(np.where(f > 0, f, 1.0)), 0.0)) * (g[1] - g[0])
    return h - 0.5 * np.log(2 * np.pi * np.e)


# Poisson counts are 19 values: the screen and the fit check say so unless they are dequantised
# (the screen's own test is in test_screening); seed 1's dequantised rows are one of the serial
# check's 1 % false alarms
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore:Column\\(s\\) 'x0' .* look coarsely rounded:gmmmi.DataWarning")
@pytest.mark.filterwarnings("ignore::gmmmi.SerialDependenceWarning")
@pytest.mark.parametrize("dequantize", (None, ["x0"]))
def test_counts_with_and_without_dequantisation(dequantize):
    truth = poisson_gaussian_truth(8.0, 0.3)
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        c = rng.poisson(8.0, 1500).astype(float)
        y = 0.3 * c + rng.normal(size=c.size)
        res = gmmmi.estimate(c, y, random_state=seed, dequantize=dequantize, **FAST)
        assert_within_sd(res, truth)
        if dequantize:
            assert res.meta["dequantized"] == ["x0"]
            assert "dequantized: 'x0' + U(0, 1) noise" in str(res)


def test_dequantize_true_takes_every_integer_column_with_many_values(rng):
    c = rng.poisson(8.0, 600).astype(float)
    res = gmmmi.estimate(c, rng.normal(size=600), dequantize=True, random_state=0, n_bootstrap=5)
    assert res.meta["dequantized"] == ["x0"]


def test_dequantize_refuses_non_integer_columns(rng):
    with pytest.raises(ValueError, match=r"^dequantize: column 'x0' has values that are not"):
        gmmmi.estimate(rng.normal(size=300), rng.normal(size=300), dequantize=["x0"])


@pytest.mark.parametrize("option", ("discrete", "dequantize"))
def test_column_selections_name_the_bad_column_and_the_columns(option, rng):
    x, y = rng.integers(0, 30, size=(2, 300)).astype(float)
    with pytest.raises(ValueError) as info:
        gmmmi.estimate(x, y, **{option: [2]})
    assert str(info.value) == (
        f"{option}: column index 2 is out of range for 2 columns ('x0', 'y0')."
    )
    with pytest.raises(ValueError) as info:
        gmmmi.estimate(x, y, **{option: ["w"]})
    assert str(info.value) == (
        f"{option}: 'w' is not a column; the columns are 'x0', 'y0' (names, or indices 0 to 1)."
    )


# ------------------------------------------------------------ command line
@pytest.fixture
def two_files(tmp_path, rng):
    paths = []
    for name, shift in (("p.csv", 0.0), ("q.csv", 0.5)):
        path = tmp_path / name
        np.savetxt(
            path, rng.normal(shift, 1.0, size=(400, 2)), delimiter=",", header="a,b", comments=""
        )
        paths.append(str(path))
    return paths


def test_cli_entropy_and_divergence_json(two_files, capsys):
    p, q = two_files
    assert main(["entropy", p, "--x", "a", "b", "--seed", "0", "--n-bootstrap", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quantity"] == "entropy" and out["meta"]["labels"] == {"x": ["a", "b"]}
    same = gmmmi.entropy(np.loadtxt(p, delimiter=",", skiprows=1), random_state=0, n_bootstrap=5)
    assert out["value"] == pytest.approx(same.value, rel=1e-12)
    args = ["divergence", p, q, "--columns", "a", "--kind", "js", "--seed", "0"]
    assert main([*args, "--n-bootstrap", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["quantity"] == "js" and out["meta"]["samples"] == {"p": 400, "q": 400}
    assert main(["entropy", p, "--x", "a", "--transform", "none"]) == 1
    assert capsys.readouterr().err == (
        "gmmmi: error: --transform does not apply to gmmmi entropy: the quantity is not "
        "invariant under maps of the columns.\n"
    )


def test_cli_estimate_json_records_discrete_columns(tmp_path, rng, capsys):
    path = tmp_path / "mixed.csv"
    b = rng.integers(0, 2, 400)
    data = np.column_stack([rng.normal(0.8 * b, 1.0), b])
    np.savetxt(path, data, delimiter=",", header="a,flag", comments="")
    args = ["estimate", str(path), "--x", "a", "--y", "flag", "--seed", "0", "--json"]
    assert main([*args, "--n-bootstrap", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["meta"]["discrete"]["columns"] == ["flag"]
    assert out["meta"]["discrete"]["levels"] == {"flag": ["0", "1"]}
