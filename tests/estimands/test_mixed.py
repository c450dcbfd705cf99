"""Discrete columns and point masses by the chain rule (gmmmi.mixed, gmmmi.contingency)."""

import re

import numpy as np
import pytest

import gmmmi
from gmmmi.contingency import entropy_from_counts
from gmmmi.datasets import categorical_mi
from gmmmi.mixed import find_atoms

from helpers import assert_within_sd, zero_inflated, zero_inflated_truth

FAST = {"n_bootstrap": 30, "n_inits": 2}
#: seed 0 runs everywhere; the others are marked slow (CI runs them)
SEEDS = (0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow))


# ------------------------------------------------------------ contingency
def test_entropy_from_counts_matches_the_definitions():
    counts = np.array([[5.0, 0.0, 3.0, 2.0], [1.0, 1.0, 4.0, 4.0]])
    p = counts / 10.0
    plug = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0), axis=1)
    np.testing.assert_allclose(entropy_from_counts(counts, "none"), plug)
    np.testing.assert_allclose(
        entropy_from_counts(counts, "miller-madow"), plug + (np.array([3, 4]) - 1) / 20
    )
    # the jackknife against leaving out each row of the data in turn
    rows = np.repeat(np.arange(4), counts[0].astype(int))
    loo = [np.bincount(np.delete(rows, i), minlength=4) for i in range(rows.size)]
    jack = 10 * plug[0] - 9 / 10 * sum(entropy_from_counts(c.astype(float), "none") for c in loo)
    assert entropy_from_counts(counts[0], "jackknife") == pytest.approx(jack, rel=1e-12)


def test_entropy_from_counts_refuses_unknown_correction():
    with pytest.raises(ValueError, match=r"^Unknown correction 'nsb'; valid values are"):
        entropy_from_counts(np.ones(3), "nsb")


TABLE = np.array([[0.2, 0.05, 0.05], [0.05, 0.2, 0.05], [0.05, 0.05, 0.3]])


@pytest.mark.parametrize("seed", SEEDS)
def test_three_by_three_table(seed):
    rng = np.random.default_rng(seed)
    cells = rng.choice(9, size=1000, p=TABLE.ravel())
    px, py = TABLE.sum(1, keepdims=True), TABLE.sum(0, keepdims=True)
    truth = float((TABLE * np.log(TABLE / (px * py))).sum())
    res = gmmmi.estimate((cells // 3).astype(float), (cells % 3).astype(float), random_state=seed)
    assert_within_sd(res, truth)
    assert res.discrete["columns"] == ["x0", "y0"] and res.discrete["cells"] == 9
    assert res.mixture.n_dim == 0 and res.n_components == 0


# ------------------------------------------------------------ discrete columns
LEVELS, RHOS = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.5, 0.8])


@pytest.mark.parametrize("seed", SEEDS)
def test_cmi_given_a_three_level_z(seed):
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=1500, p=LEVELS)
    x = rng.normal(size=z.size)
    y = RHOS[z] * x + np.sqrt(1 - RHOS[z] ** 2) * rng.normal(size=z.size)
    res = gmmmi.estimate(x, y, z=z.astype(float), random_state=seed, **FAST)
    assert_within_sd(res, float(np.sum(LEVELS * -0.5 * np.log(1 - RHOS**2))))
    assert res.quantity == "cmi" and res.discrete["levels"] == {"z0": ["0", "1", "2"]}
    # each level's full-data fit is stored in data units: its mean is the level's mean
    for c, diag in enumerate(res.diagnostics.per_category):
        ref = diag.reference_fit
        mean = (ref.weights[0][:, None] * ref.means[0]).sum(axis=0)
        np.testing.assert_allclose(mean, [x[z == c].mean(), y[z == c].mean()], atol=1e-3)


P4, MU4 = np.array([0.5, 0.25, 0.15, 0.1]), np.array([0.0, 1.0, 2.0, -1.5])


@pytest.mark.parametrize("seed", SEEDS)
def test_four_level_unbalanced_x_against_continuous_y(seed):
    rng = np.random.default_rng(seed)
    c = rng.choice(4, size=1500, p=P4)
    y = rng.normal(MU4[c], 1.0)
    truth = categorical_mi(P4, MU4, np.ones(4))
    res = gmmmi.estimate(c.astype(float), y, random_state=seed, **FAST)
    assert_within_sd(res, truth)
    # the same chain as the category path on the other side (same draws, same integrals)
    same = gmmmi.estimate(y, c, discrete_y=True, random_state=seed, **FAST)
    assert res.value == pytest.approx(same.value, abs=1e-12)
    np.testing.assert_allclose(res.draws["mi"], same.draws["mi"], atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_block_of_a_continuous_and_a_binary_column(seed):
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 2, size=1500)
    xc = rng.normal(size=b.size)
    rho = np.where(b == 1, 0.7, 0.2)
    y = 0.8 * b + rho * xc + np.sqrt(1 - rho**2) * rng.normal(size=b.size)
    # I(b; y) + sum_b p(b) I(xc; y | b)
    truth = (
        categorical_mi([0.5, 0.5], [0.0, 0.8], [1.0, 1.0])
        + 0.5 * (-0.5 * np.log(1 - 0.49))
        + 0.5 * (-0.5 * np.log(1 - 0.04))
    )
    res = gmmmi.estimate(np.column_stack([xc, b]), y, random_state=seed, **FAST)
    assert_within_sd(res, truth)
    assert res.discrete["columns"] == ["x1"] and res.discrete["mixture_columns"] == ["x0", "y0"]


def test_an_explicit_list_overrides_auto(rng):
    z = rng.integers(0, 3, size=600).astype(float)
    x, y = rng.normal(size=(2, 600))
    res = gmmmi.estimate(x, y, z=z, discrete=["z0"], random_state=0, n_bootstrap=5)
    assert res.discrete["requested"] == "list" and res.discrete["columns"] == ["z0"]
    same = gmmmi.estimate(x, y, z=z, discrete=[2], random_state=0, n_bootstrap=5)
    assert same.value == res.value
    with pytest.raises(ValueError, match="take at most 10 distinct values"):
        gmmmi.estimate(x, y, z=z, discrete=None, n_bootstrap=5)


def test_continuous_data_take_the_old_path_bit_for_bit(rng):
    X = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 400)
    a = gmmmi.estimate(X, random_state=3, n_bootstrap=10)
    b = gmmmi.estimate(X, random_state=3, n_bootstrap=10, discrete=None)
    assert a.value == b.value and np.array_equal(a.draws["mi"], b.draws["mi"])
    assert a.discrete is None and "discrete" not in str(a)


# ------------------------------------------------------------ point masses
@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("dependent", (False, True))
def test_zero_inflated_column_gives_the_truth(seed, dependent):
    x, y = zero_inflated(np.random.default_rng(seed), dependent=dependent)
    res = gmmmi.estimate(x, y, random_state=seed, **FAST)
    # the sweep's case (independent log-normal part): 0.2311, was 0.108 +- 0.010
    assert_within_sd(res, zero_inflated_truth(dependent))
    assert res.discrete["atoms"] == {"y0": [0.0]} and res.discrete["columns"] == []
    assert res.discrete["mixture_columns"] == ["x0", "y0"]


def test_a_column_that_is_95_percent_one_value_is_estimated(rng):
    x = rng.normal(size=2000)
    y = np.where(rng.random(2000) < 0.95, 1.0, x + rng.normal(size=2000))
    # I(x; y) = 0.05 I(x; x + noise) = 0.05 ln(2) / 2 (was refused as deterministic)
    res = gmmmi.estimate(x, y, random_state=0, **FAST)
    assert_within_sd(res, 0.05 * 0.5 * np.log(2))


def test_find_atoms_tells_point_masses_from_rounding(rng):
    assert find_atoms(rng.normal(size=1000)) == ()
    assert find_atoms(np.round(rng.normal(size=1000), 1)) == ()  # quantised: every value repeats
    censored = np.minimum(rng.normal(size=1000), 1.0)
    assert find_atoms(censored) == (1.0,)


# ------------------------------------------------------------ refusals and records
def test_a_declared_discrete_column_with_one_level_is_refused(rng):
    x, y = rng.normal(size=(2, 300))
    z = np.zeros(300)
    message = (
        "Column 'z0' is declared discrete but takes a single value (0) in all 300 rows: a "
        "constant carries no information, so its MI with anything is 0 and a conditional MI "
        "given it is the plain MI. Drop the column."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        gmmmi.estimate(x, y, z=z, discrete=["z0"])


def test_unknown_discrete_columns_are_refused(rng):
    x, y = rng.normal(size=(2, 300))
    with pytest.raises(ValueError, match=r"^discrete: 'w' is not a column; the columns are 'x0'"):
        gmmmi.estimate(x, y, discrete=["w"])
    with pytest.raises(ValueError, match=r"^discrete must be 'auto', None or a list"):
        gmmmi.estimate(x, y, discrete="yes")


def test_cells_with_too_few_rows_are_named(rng):
    x, y = rng.normal(size=(2, 300))
    z = np.where(np.arange(300) < 5, 2.0, np.arange(300) % 2)
    message = (
        "Too few rows in 1 cell(s) of the discrete columns for a fit of their continuous "
        "columns: z0=2 (5 rows, needs 12). Each combination of discrete values is fitted on its "
        "own rows. Pass min_category_size=... to pool rare levels"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        gmmmi.estimate(x, y, z=z)
    res = gmmmi.estimate(x, y, z=z, min_category_size=20, random_state=0, n_bootstrap=5)
    assert res.discrete["levels"]["z0"] == ["0", "1-2"] and res.discrete["pooled_below"] == 20


def test_kl_with_discrete_columns_is_refused(rng):
    x = rng.normal(size=300)
    with pytest.raises(ValueError, match=r"^kl=True \(KL between the marginals"):
        gmmmi.estimate(x, rng.integers(0, 3, 300).astype(float), kl=True)
    message = (
        "bootstrap='block' (runs of consecutive rows) cannot be combined with discrete columns "
        "or point masses ('y0'), which are split off by the chain rule with one fit per cell "
        "of discrete values. Drop the option, or pass discrete=None to fit every column as "
        "continuous."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        gmmmi.estimate(x, rng.integers(0, 3, 300).astype(float), bootstrap="block")


def test_mixed_result_prints_saves_and_loads(tmp_path):
    x, y = zero_inflated(np.random.default_rng(0), n=800)
    z = (np.arange(800) % 2).astype(float)
    res = gmmmi.estimate(x, y, z=z, random_state=0, n_bootstrap=10)
    text = str(res).splitlines()
    assert text[-1] == (
        "  discrete (auto): 'z0' (2 levels); 'y0' has point mass(es) at 0; chain rule over "
        "4 cells, miller-madow correction"
    )
    path = tmp_path / "mixed.nc"
    res.to_netcdf(path)
    back = gmmmi.load(path)
    assert back.discrete == res.discrete and str(back) == str(res)
    np.testing.assert_array_equal(back.draws["cmi"], res.draws["cmi"])
    assert len(back.diagnostics.per_category) == 4
    with pytest.raises(ValueError, match=r"^This result has discrete columns or point masses"):
        res.check_fit(x, y, z=z)


def test_each_cell_is_screened_and_named(rng):
    z = rng.integers(0, 2, 1000).astype(float)
    x = rng.normal(size=1000)
    message = (
        "Cell z0=0: x and y are (near-)deterministically related: y column 'y0' is a smooth "
        "function of x"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        gmmmi.estimate(x, np.sin(3 * x), z=z, n_bootstrap=5)


def test_point_mass_beside_values_near_float64_limit_warns_about_data_units():
    """A continuous part at 1e300 (the property test's case): moments in units of the largest
    magnitude, and the data-unit mixture's overflow is a DataUnitsWarning, not a RuntimeWarning.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 1e300 * (1 + 0.1 * rng.normal(size=200))
    y[:100] = 0.0
    with pytest.warns(gmmmi.DataUnitsWarning, match="cannot be stored in data units"):
        result = gmmmi.estimate(x, y, random_state=0)
    assert np.isfinite(result.value) and result.discrete
