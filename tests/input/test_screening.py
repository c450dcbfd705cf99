"""Screening before the fit: copies of rows, atoms, quantised columns, outliers, few rows,
few distinct rows, deterministic relations.
"""

import re
import warnings

import numpy as np
import pytest
from scipy.spatial import cKDTree

import gmmmi
from gmmmi import DataWarning, EstimateMI
from gmmmi._data import validate_data
from gmmmi._em import select as _selection
from gmmmi._rows import standardise
from gmmmi._screening import (
    FEW_VALUES,
    OUTLIER_GAP,
    SAMPLE_SIZE_FLOOR,
    curve_determination,
    determination,
    independence_floor,
    isolated_outliers,
    nearest_neighbours,
    quadratic_intercepts,
    screen,
    warn_outliers,
)

from helpers import gaussian_pair

RHO = 0.6
TRUTH = -0.5 * np.log(1 - RHO**2)


def _data_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, DataWarning)]


# --------------------------------------------------------------------------- folds and copies
def test_estimate_without_copies_is_unchanged_by_grouped_folds(monkeypatch):
    """Data without copies give the same draws as the split that ignores copies."""
    X = gaussian_pair(300, 5)
    opts = dict(random_state=3, n_bootstrap=5)
    new = gmmmi.estimate(X, **opts)
    monkeypatch.setattr(_selection, "copy_groups", lambda X: None)
    old = gmmmi.estimate(X, **opts)
    np.testing.assert_array_equal(new.draws["mi"], old.draws["mi"])
    assert new.value == old.value


# np.repeat puts the copies of a row next to each other, so the row order is autocorrelated;
# and five copies of every row are atoms that the fit check sees
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore::gmmmi.SerialDependenceWarning")
def test_every_row_five_times_gives_the_distinct_rows_estimate():
    X = gaussian_pair(1000, 1)
    distinct = gmmmi.estimate(X, random_state=0, n_bootstrap=20)
    copies = np.repeat(X, 5, axis=0)
    expected = (
        "4000 of 5000 rows (80.0%) are exact copies of another row. Cross-validation keeps all "
        "copies of a row in one fold, so they do not reward extra components; the bootstrap "
        "resamples rows and counts every copy as an independent observation. If the copies are "
        "repeated records of one observation (a merge, an oversampling), the error bar is too "
        "small, by up to sqrt(5000 / 1000) = 2.2x: drop them first (numpy.unique(X, axis=0) or "
        "DataFrame.drop_duplicates())."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)):
        repeated = gmmmi.estimate(copies, random_state=0, n_bootstrap=20)
    assert abs(repeated.value - distinct.value) < distinct.sd
    assert abs(repeated.value - TRUTH) < 3 * distinct.sd


# --------------------------------------------------------------------------- atoms and rounding
def test_binary_columns_are_refused_with_the_fix():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(500, 2)).astype(float)
    expected = (
        "Column(s) 'X1' (2 values), 'X2' (2 values) take at most 10 distinct values: they are "
        "discrete (binary, counts, an ordinal scale), and a Gaussian mixture fitted to atoms can "
        "put a component of vanishing width on each one, so the estimated MI would grow without "
        "bound (it is at most the entropy of the discrete variable). If x is continuous and y is "
        "a category label, pass the labels as y with discrete_y=True. gmmmi.estimate splits "
        "discrete columns off by the chain rule with discrete='auto' (its default) or a list of "
        "the discrete columns (docs/mixed.md)."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        gmmmi.estimate(X, discrete=None)
    with pytest.raises(ValueError, match=re.escape(expected)):
        EstimateMI().fit(X)


def test_a_discrete_conditioning_column_is_refused_with_the_split_by_category_fix():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, size=500).astype(float)
    x, y = z + rng.normal(size=500), z + rng.normal(size=500)
    fix = (
        "For a discrete z, I(x; y | z) = sum over c of p(z = c) I(x; y | z = c): estimate the "
        "MI on the rows of each value c and weight by its frequency. "
    )
    with pytest.raises(ValueError, match=r"^Column\(s\) 'z0' \(2 values\)") as e:
        gmmmi.estimate(x, y, z=z, discrete=None)
    assert fix in str(e.value)
    with pytest.raises(ValueError) as e:
        gmmmi.estimate(np.round(x), y, discrete=None)  # a discrete x is not a conditioning column
    assert "For a discrete z" not in str(e.value)


def test_discrete_x_with_discrete_y_is_refused_without_the_discrete_y_hint():
    rng = np.random.default_rng(0)
    x = rng.integers(0, FEW_VALUES, size=400).astype(float)
    with pytest.raises(ValueError, match=r"^Column\(s\) 'x0' \(10 values\) take at most 10 ") as e:
        gmmmi.estimate(x, rng.integers(0, 2, size=400), discrete_y=True)
    assert "discrete_y" not in str(e.value)


# a column of 30 values is no mixture's margin: the fit check says so too (not tested here)
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
def test_coarsely_rounded_column_warns():
    X = gaussian_pair(1000, 2)
    X[:, 0] = np.round(X[:, 0] * 4) / 4
    n_values = np.unique(X[:, 0]).size
    expected = (
        f"Column(s) 'X1' ({n_values} distinct values in 1000 distinct rows, "
        f"{1 - n_values / 1000:.0%} tied) look coarsely rounded or quantised: at most 30 distinct "
        "values, and more than 50% of their values repeat another. A Gaussian mixture can fit "
        "narrow components to the repeated values, which inflates the MI estimate without "
        "widening its error bar. Add uniform noise of one rounding step to each such column "
        "(x + rng.uniform(-q/2, q/2, n) for values rounded to multiples of q), or, for a column "
        "that is a category label, pass it as y with discrete_y=True."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)):
        gmmmi.estimate(X, n_bootstrap=0, random_state=0)


def test_fine_rounding_and_float32_do_not_warn():
    X = gaussian_pair(5000, 3)
    for data in (np.round(X, 2), X.astype(np.float32)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            gmmmi.estimate(data, n_bootstrap=0, random_state=0, max_components=2)
        assert _data_warnings(record) == []


# --------------------------------------------------------------------------- outliers
def test_warn_outliers_says_whether_it_warned():
    # the estimate hands the answer to the sharp-relation check, which stands down then
    X = gaussian_pair(1000, 1)
    names, shift, scale = ["a", "b"], np.zeros(2), np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_outliers(X, shift, scale, names) is False
    X[17, 0] = 100.0
    with pytest.warns(DataWarning, match=r"^1 row\(s\) lie far from all the others"):
        assert warn_outliers(X, shift, scale, names) is True


# the far row gets a component of its own that collapses in some replicas (refitted, warned),
# and the fit check finds the margin stretched over it
@pytest.mark.filterwarnings("ignore::gmmmi.MisfitWarning")
@pytest.mark.filterwarnings("ignore:.* EM fits had a collapsed component:gmmmi.ConvergenceWarning")
def test_far_outlier_is_named_by_row_and_column():
    X = gaussian_pair(1000, 1)
    X[17, 0] = 100.0
    column = X[:, 0]
    mad = np.median(np.abs(column - np.median(column)))
    z = (100.0 - np.median(column)) / (1.482602218505602 * mad)
    expected = (
        "1 row(s) lie far from all the others, isolated by a gap of more than 10 robust standard "
        f"deviations: column 'X1' (row 17: 100, {z:.3g} robust sd from the median) (rows counted "
        "from 0). A Gaussian mixture stretches a component over, or spends one on, an isolated "
        "row, which changes the estimate (often toward 0) without widening its error bar, so the "
        "estimate is likely wrong. Check these rows for recording errors and correct or drop "
        "them; if the column is genuinely heavy-tailed, estimate on a transformed column (e.g. "
        "its logarithm or its ranks mapped to normal scores)."
    )
    with pytest.warns(DataWarning, match=re.escape(expected)) as record:
        gmmmi.estimate(X, n_bootstrap=0, random_state=0, transform="none")
    # at the user's line, through gmmmi.estimate and through EstimateMI
    assert [w.filename for w in record if w.category is DataWarning] == [__file__]
    with pytest.warns(DataWarning, match=re.escape(expected)) as record:
        estimator = EstimateMI(random_state=0).fit(X)
        # the same data again: no second warning
        estimator.estimate(mi_dist_params=gmmmi.MIDistParamHolder(n_bootstrap=2))
    assert [w.filename for w in record if w.category is DataWarning] == [__file__]


def test_outliers_beyond_one_gap_are_all_named_and_a_far_cluster_is_not():
    rng = np.random.default_rng(7)
    column = rng.standard_normal(2000)
    column[[5, 9]] = [-60.0, -61.0]
    np.testing.assert_array_equal(isolated_outliers(column), [5, 9])
    column[:100] = rng.normal(60.0, 1.0, 100)  # 5% of the rows: a cluster, not an outlier
    assert isolated_outliers(column).size == 0


@pytest.mark.parametrize("n", [5, 31, 2000])
def test_shared_column_orders_give_what_each_check_sorts_itself(n):
    """column_orders' argsort of the raw column serves the standardised one: same outliers,
    distinct values and counts (ties and both zeros included) as each check's own sort.
    """
    from gmmmi._rows import column_orders, sorted_unique

    rng = np.random.default_rng(n)
    raw = np.column_stack([rng.standard_normal(n), np.round(rng.standard_normal(n), 1)])
    raw[:, 0][: max(1, n // 500)] = 1e3  # far rows in one tail, tied ones in the other
    raw[:, 1][-2:] = -50.0
    for X in (raw, np.column_stack([raw[:, 1], np.where(raw[:, 1] == 0.0, -0.0, raw[:, 1])])):
        orders = column_orders(X)
        Xs = standardise(X)[0]
        for j, order in enumerate(orders):
            assert np.all(np.diff(Xs[order, j]) >= 0)
            np.testing.assert_array_equal(
                isolated_outliers(Xs[:, j], order), isolated_outliers(Xs[:, j])
            )
            for got, want in zip(
                sorted_unique(X[:, j], order), np.unique(X[:, j], return_counts=True), strict=True
            ):
                np.testing.assert_array_equal(got, want)
                assert np.signbit(got).tolist() == np.signbit(want).tolist()


@pytest.mark.parametrize("n", [30, 1000, 100_000])
def test_outlier_rule_stays_quiet_on_gaussian_data(n):
    rng = np.random.default_rng(n)
    reps = 3_000_000 // n if n < 100_000 else 5
    flagged = sum(isolated_outliers(rng.standard_normal(n)).size for _ in range(min(reps, 2000)))
    assert flagged == 0
    assert OUTLIER_GAP == 10.0


# --------------------------------------------------------------------------- few rows
def test_independence_floor_matches_simulated_gaussian_fits():
    """The Wishart expectation against the mean plug-in Gaussian MI / CMI of simulated data."""
    rng = np.random.default_rng(11)
    n, dx, dy, dz = 40, 3, 2, 2

    def plug_in(X):
        S = np.cov(X, rowvar=False)
        ld = lambda idx: np.linalg.slogdet(S[np.ix_(idx, idx)])[1] if idx else 0.0  # noqa: E731
        x, y, z = list(range(dx)), list(range(dx, dx + dy)), list(range(dx + dy, dx + dy + dz))
        return 0.5 * (ld(x + z) + ld(y + z) - ld(z) - ld(x + y + z))

    values = np.array([plug_in(rng.standard_normal((n, dx + dy + dz))) for _ in range(4000)])
    se = values.std() / np.sqrt(values.size)
    assert abs(values.mean() - independence_floor(n, dx, dy, dz)) < 4 * se
    assert independence_floor(10**6, 1, 1) == pytest.approx(1 / (2 * 10**6), rel=1e-3)


# max_components=1 keeps the fit cheap; the search then says K did not converge
@pytest.mark.filterwarnings("ignore:The number of components did not:gmmmi.ConvergenceWarning")
def test_few_rows_for_the_dimension_warns():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((120, 25))
    floor = independence_floor(120, 20, 5)
    assert floor > SAMPLE_SIZE_FLOOR
    expected = (
        "Few rows for the number of columns: with 120 rows, 20 x and 5 y column(s), one Gaussian "
        f"fitted to independent blocks gives an MI of {floor:.3g} nat on average (a mixture of "
        "several components gives more), above the 0.05 nat this check allows; the estimate is "
        "dominated by this bias. Use more rows (about "
    )
    with pytest.warns(DataWarning, match=re.escape(expected) + r"(\d+) bring it below 0\.05 nat"):
        gmmmi.estimate(
            Z[:, :20],
            Z[:, 20:],
            n_bootstrap=0,
            random_state=0,
            max_components=1,
            bias_correction=False,
        )
    # a single Gaussian's bias is removed by default: no warning then
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        gmmmi.estimate(Z[:, :20], Z[:, 20:], n_bootstrap=0, random_state=0, max_components=1)


def test_ordinary_data_raise_no_data_warning():
    cases = [
        gmmmi.datasets.gaussian(0.6).sample(2000, 0),
        gmmmi.datasets.get("D3").sample(2000, 0),
        gmmmi.datasets.gaussian_cmi().sample(500, 0),
    ]
    for x, y, *z in cases:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            gmmmi.estimate(
                x, y, z=z[0] if z else None, n_bootstrap=0, random_state=0, max_components=3
            )
        assert _data_warnings(record) == []


# --------------------------------------------------------------------------- few distinct rows
def test_fewer_distinct_rows_than_the_fit_needs_are_refused():
    """1000 rows made of 12 distinct continuous rows: each column has 12 values, so the
    few-values rule passes, but a 6-dimensional fit with 2 folds needs 28 distinct rows.
    """
    rng = np.random.default_rng(0)
    distinct = rng.normal(size=(12, 6))
    X = distinct[np.r_[np.arange(12), rng.integers(0, 12, 988)]]
    expected = (
        "Only 12 of the 1000 rows are distinct; the other 988 are exact copies of them. A fit of "
        "6-dimensional data needs at least 28 = 2 folds x 2 (d + 1) distinct rows: copies of a "
        "row add no new point to the density and stay together in one cross-validation fold, so "
        "the fit would describe these few points, not a distribution, with an error bar that "
        "cannot show it. Check whether the rows were repeated by a merge or an oversampling; "
        "drop the copies (numpy.unique(X, axis=0)) and provide more distinct samples."
    )
    data = validate_data(X[:, :3], X[:, 3:])
    Xs, shift, scale = standardise(data.X)
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        screen(Xs, shift, scale, data.blocks, data.labels, categorical=False, n_folds=2)
    with pytest.raises(ValueError, match="^Only 12 of the 1000 rows are distinct; "):
        gmmmi.estimate(X[:, :3], X[:, 3:], n_bootstrap=0, random_state=0)


def test_distinct_rows_needed_count_the_folds():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))[rng.integers(0, 20, 500)]
    Xs, shift, scale = standardise(X)
    data = validate_data(X)
    args = (Xs, shift, scale, data.blocks, data.labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        screen(*args, categorical=False, n_folds=3)  # 3 x 2 x 3 = 18 <= 20 distinct rows
        with pytest.raises(
            ValueError, match=r"needs at least 24 = 4 folds x 2 \(d \+ 1\) distinct"
        ):
            screen(*args, categorical=False, n_folds=4)


# ------------------------------------------------------------------------ deterministic relations
def _standard(column):
    return (column - column.mean()) / column.std()


def _reference_determination(target, predictors):
    """Slow, obvious version of `determination`: one least-squares fit per row."""
    n, p = predictors.shape
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    k = 2 * (1 + p + len(pairs))
    residuals = np.empty(n)
    for i in range(n):
        distance = np.sqrt(((predictors - predictors[i]) ** 2).sum(axis=1))
        distance[i] = np.inf
        nearest = np.argsort(distance, kind="stable")[:k]
        offsets = predictors[nearest] - predictors[i]
        offsets = offsets / np.sqrt((offsets**2).sum(axis=1)).max()
        design = np.column_stack(
            [np.ones(k), offsets] + [offsets[:, a] * offsets[:, b] for a, b in pairs]
        )
        coef, *_ = np.linalg.lstsq(design, target[nearest], rcond=None)
        residuals[i] = target[i] - coef[0]
    spread = np.median(np.abs(target - np.median(target)))
    affine = np.column_stack([np.ones(n), predictors])
    line, *_ = np.linalg.lstsq(affine, target, rcond=None)
    return (
        np.median(np.abs(residuals)) / spread,
        np.median(np.abs(target - affine @ line)) / spread,
    )


@pytest.mark.parametrize("p", [1, 2])
def test_determination_matches_one_fit_per_row(p):
    rng = np.random.default_rng(p)
    predictors = rng.normal(size=(300, p))
    target = np.sin(predictors.sum(axis=1)) + 0.1 * rng.normal(size=300)
    np.testing.assert_allclose(
        determination(target, predictors), _reference_determination(target, predictors), rtol=1e-6
    )


@pytest.mark.parametrize("kind", ["spread", "tied", "one-sided", "all-zero"])
def test_quadratic_intercepts_are_the_stacked_solves(kind):
    """The written-out Cholesky solve of the 3 x 3 normal equations against numpy.linalg.solve."""
    rng = np.random.default_rng(7)
    t = rng.uniform(-1, 1, (400, 6))
    if kind == "tied":  # neighbours at equal distances: only the ridge keeps G invertible
        t[:, 3:] = t[:, :1]
        t[:, 1:3] = t[:, 1:2]
    elif kind == "one-sided":
        t = rng.uniform(0.9, 1.0, (400, 6))
    elif kind == "all-zero":
        t[:] = 0.0
    t /= np.where(np.abs(t).max(axis=1) > 0, np.abs(t).max(axis=1), 1.0)[:, None]
    values = np.sin(3 * t) + 0.01 * rng.normal(size=t.shape)
    ridge = 6e-10
    design = np.stack([np.ones_like(t), t, t * t], axis=2)
    gram = design.transpose(0, 2, 1) @ design + ridge * np.eye(3)
    rhs = np.concatenate([design.transpose(0, 2, 1) @ values[:, :, None], np.zeros((400, 3, 1))], 2)
    rhs[:, 0, 1] = 1.0
    solved = np.linalg.solve(gram, rhs)
    intercept, g00 = quadratic_intercepts(t, values, ridge)
    # both solve normal equations of condition up to 1e10 (tied or one-sided abscissae): they
    # agree to that condition times the rounding, as well as either agrees with exact arithmetic
    rtol = 1e-5 if kind in ("tied", "one-sided") else 1e-9
    np.testing.assert_allclose(intercept, solved[:, 0, 0], rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(g00, solved[:, 0, 1], rtol=rtol)


def _reference_curve_determination(points):
    """Slow, obvious version of `curve_determination`: one eigh and one lstsq per row."""
    deviation = np.abs(points - np.median(points, axis=0))
    points = points / np.median(deviation, axis=0)
    n, k = points.shape[0], 6
    residuals = np.empty(n)
    for i in range(n):
        distance = np.sqrt(((points - points[i]) ** 2).sum(axis=1))
        distance[i] = np.inf
        offsets = points[np.argsort(distance, kind="stable")[:k]] - points[i]
        _, axes = np.linalg.eigh(np.cov(offsets.T, bias=True))
        along, normal = offsets @ axes[:, 1], offsets @ axes[:, 0]
        t = along / np.abs(along).max()
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(k), t, t * t]), normal, rcond=None)
        residuals[i] = coef[0]
    centred = points - points.mean(axis=0)
    line = centred @ np.linalg.eigh(np.cov(points.T))[1][:, 0]
    return np.median(np.abs(residuals)), np.median(np.abs(line))


@pytest.mark.parametrize("noise", [1e-3, 0.3])
def test_curve_determination_matches_one_fit_per_row(noise):
    rng = np.random.default_rng(3)
    angle = rng.uniform(0, 2 * np.pi, 300)
    points = np.column_stack([np.cos(angle), np.sin(angle)]) + noise * rng.normal(size=(300, 2))
    np.testing.assert_allclose(
        curve_determination(points), _reference_curve_determination(points), rtol=1e-6
    )


def _refusal_text(*found, z=False):
    """The deterministic-relation message, naming ``found`` columns; numbers as patterns."""
    mi = "CMI" if z else "MI"
    number = r"[0-9.]+(e[-+][0-9]+)?"
    item = (
        ": a local quadratic fit on each row's nearest neighbours predicts it to within {n} of "
        "its spread (median absolute deviation) in half the rows, where one straight line "
        "leaves {n}"
    )
    items = "; ".join(number.join(map(re.escape, (f + item).split("{n}"))) for f in found)
    tail = (
        f". Their {mi} is unbounded: infinite for an exact function, and for noise this small "
        "above about ln(1 / 0.001) = 6.9 nat, along a curve thinner than a mixture of a few "
        "Gaussian components can follow, so a finite estimate would be set by the number of "
        f"components, not by the data. If the relation is exact, report it as such (the {mi} is "
        "infinite); if the variables are measured, add their measurement noise (e.g. y + "
        "rng.normal(0, sigma, n), sigma the instrument's resolution); if a column was computed "
        "from the others, drop it."
    )
    given = " given z" if z else ""
    return (
        "^"
        + re.escape(f"x and y are (near-)deterministically related{given}: ")
        + items
        + re.escape(tail)
        + "$"
    )


@pytest.mark.parametrize(
    ("relation", "found"),
    [
        (lambda x, e: np.sin(3 * x), "y column 'y0' is a smooth function of x"),
        (lambda x, e: x**2, "y column 'y0' is a smooth function of x"),
        (lambda x, e: np.exp(x) + 1e-9 * e, "both"),
        (lambda x, e: np.sin(3 * x) + 1e-6 * e, "y column 'y0' is a smooth function of x"),
    ],
)
@pytest.mark.parametrize("n", [200, 1000, 30_000])
def test_a_smooth_function_is_refused_as_unbounded_mi(relation, found, n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = relation(x, rng.normal(size=n))
    y_of_x = "y column 'y0' is a smooth function of x"
    # an invertible function is also refused the other way round, named first
    found = ("x column 'x0' is a smooth function of y", y_of_x) if found == "both" else (found,)
    with pytest.raises(ValueError, match=_refusal_text(*found)):
        gmmmi.estimate(x, y, n_bootstrap=0, random_state=0)


def test_x_a_function_of_y_is_named_by_its_block():
    rng = np.random.default_rng(3)
    y = rng.normal(size=1000)
    with pytest.raises(ValueError, match=_refusal_text("x column 'x0' is a smooth function of y")):
        gmmmi.estimate(np.cos(2 * y), y, n_bootstrap=0, random_state=0)


@pytest.mark.parametrize("relation", [lambda y, z: y * z, lambda y, z: np.sin(y) + z**2])
def test_x_a_function_of_y_and_z_is_refused_as_unbounded_cmi(relation):
    rng = np.random.default_rng(4)
    y, z = rng.normal(size=(2, 1000))
    with pytest.raises(
        ValueError, match=_refusal_text("x column 'x0' is a smooth function of y and z", z=True)
    ):
        gmmmi.estimate(relation(y, z), y, z=z, n_bootstrap=0, random_state=0)


def test_x_a_function_of_z_alone_is_redundant():
    rng = np.random.default_rng(5)
    y, z = rng.normal(size=(2, 1000))
    expected = (
        "Column(s) 'x0' (x) are smooth functions of z alone: a local quadratic fit on each row's "
        "nearest neighbours in z predicts each to within 0.001 of its spread (median absolute "
        "deviation) in half the rows. Given z such a column is constant, so I(x; y | z) is the "
        "same without it (0 if it is all of x or all of y), and the conditional density a "
        "mixture would fit is degenerate: drop it."
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        gmmmi.estimate(np.sin(z) + 0.1 * z**2, y, z=z, n_bootstrap=0, random_state=0)


def _screen_quietly(*blocks):
    """Run `screen` on x, y (, z) with DataWarnings silenced; raise what it raises."""
    data = validate_data(*blocks[:2], z=blocks[2] if len(blocks) > 2 else None)
    Xs, shift, scale = standardise(data.X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        screen(Xs, shift, scale, data.blocks, data.labels, categorical=False, n_folds=2)


def test_noise_of_one_thousandth_of_the_scale_is_not_refused():
    """The edge of the rule: noise 1e-4 of the scale is refused, 1e-3 is not."""
    rng = np.random.default_rng(6)
    x, e = rng.normal(size=(2, 1000))
    _screen_quietly(x, np.sin(3 * x) + 1e-3 * e)
    with pytest.raises(ValueError, match="deterministically related"):
        _screen_quietly(x, np.sin(3 * x) + 1e-4 * e)


@pytest.mark.parametrize(
    "data",
    [
        gmmmi.datasets.gaussian(0.999),  # MI 3.1 nat
        gmmmi.datasets.gaussian(0.9999),  # MI 4.3 nat
        gmmmi.datasets.transformed_gaussian(0.999, transform="cube"),
        gmmmi.datasets.transformed_gaussian(0.999, transform="exp"),
        *gmmmi.datasets.robustness_suite(),
        *(gmmmi.datasets.paper(name) for name in ("D1", "D3", "D5")),
        gmmmi.datasets.gaussian_cmi(0.9, 0.5, 0.5),
    ],
    ids=lambda data: data.name,
)
@pytest.mark.parametrize("n", [1000, 5000])
def test_high_mi_and_hard_margins_are_not_called_deterministic(data, n):
    _screen_quietly(*data.sample(n, n))


def test_a_linear_relation_with_resolvable_noise_is_estimated():
    """y = x + 1e-5 noise is as determined as the rule's cut but linear: one Gaussian follows
    it, so it is estimated, near its Gaussian truth ln(1e5) = 11.5 nat.
    """
    rng = np.random.default_rng(7)
    x, e = rng.normal(size=(2, 1000))
    _screen_quietly(x, x + 0.01 * e)
    res = gmmmi.estimate(x, x + 1e-5 * e, n_bootstrap=0, random_state=0, fixed_components_number=1)
    truth = 0.5 * np.log(1 + 1 / 1e-10)
    # the plug-in Gaussian MI has sd rho / sqrt(n) = 0.032 nat here: 0.1 is 3 sd
    assert res.value == pytest.approx(truth, abs=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_default_margins_absorb_one_far_outlier(seed):
    """x = 100 in one of 1000 rows of a Gaussian with rho = 0.6: the raw fit gives about 0.02
    (truth 0.223) and is warned about; the default maps each column through its fitted CDF,
    where the row is merely the largest, so the estimate is right and there is nothing to say.
    """
    X = gaussian_pair(1000, seed)
    X[17, 0] = 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        res = gmmmi.estimate(X, random_state=0, n_bootstrap=20)
    assert res.transform["chosen"] == "gaussianize"
    assert abs(res.value - TRUTH) < 3 * res.sd


# --------------------------------------------------------------------------- neighbours
@pytest.mark.parametrize(
    "kind", ["normal", "lognormal", "cauchy", "rounded", "grid", "two columns"]
)
def test_nearest_neighbours_are_the_trees_also_with_ties(kind):
    """One column is searched in sorted order; ties (rounded values, a grid) go to the tree."""
    rng = np.random.default_rng(len(kind))
    points = {
        "normal": rng.normal(size=(700, 1)),
        "lognormal": np.exp(3 * rng.normal(size=(700, 1))),
        "cauchy": rng.standard_cauchy(size=(700, 1)),
        "rounded": np.round(rng.normal(size=(700, 1)), 1),
        "grid": np.arange(700.0)[::-1, None],
        "two columns": rng.normal(size=(700, 2)),
    }[kind]
    for k in (2, 7, 13):
        expected = cKDTree(points).query(points, k=k)[1]
        np.testing.assert_array_equal(nearest_neighbours(points, k), expected)
    few = points[:5]
    np.testing.assert_array_equal(nearest_neighbours(few, 5), cKDTree(few).query(few, k=5)[1])
