"""independence_test: the permutation p-value, its reproducibility, and the p-values of mi_matrix.

The false-positive rate itself needs thousands of fits; it is measured by
benchmarks/bench_independence.py and reported in docs/independence.md.
"""

import math
import re
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import numba
import numpy as np
import pytest

import gmmmi
from gmmmi._permutations import block_length_rule, reordering, strata
from gmmmi.independence import CHUNK, IndependenceTest, adjust_pvalues
from gmmmi.parallel.tasks import _task_seeds

FAST = {"n_inits": 1, "max_components": 3}


@pytest.fixture
def independent(rng):
    return rng.normal(size=300), rng.exponential(size=300)


def test_pvalue_counts_the_null_draws_at_or_above_the_statistic(independent):
    x, y = independent
    test = gmmmi.independence_test(x, y, n_permutations=19, random_state=1, **FAST)
    assert isinstance(test, IndependenceTest)
    assert test.null.shape == (19,) and test.n_permutations == 19
    expected = (1 + np.sum(test.null >= test.statistic)) / 20
    assert test.pvalue == pytest.approx(expected, abs=0)
    assert test.quantity == "mi" and test.scheme == "permutation" and test.unit == "nat"
    assert "p = " in str(test) and "19 permutations" in str(test)


# FAST caps max_components at 3, below the search's plateau
@pytest.mark.filterwarnings("ignore:.*did not converge up to K=3:gmmmi.ConvergenceWarning")
def test_every_copy_runs_the_whole_search_on_permuted_y(independent):
    """Reference: rebuild each permutation and its seed, run estimate's search directly."""
    x, y = independent
    test = gmmmi.independence_test(x, y, n_permutations=5, random_state=7, transform="none", **FAST)
    fit_seq, perm_seq, _ = np.random.SeedSequence(7).spawn(3)
    observed = gmmmi.estimate(
        x,
        y,
        n_bootstrap=0,
        transform="none",
        random_state=int(fit_seq.generate_state(1, np.uint64)[0] % 2**63),
        **FAST,
    )
    assert test.statistic == observed.value
    assert test.n_components == observed.diagnostics.n_components
    perm_rng = np.random.default_rng(perm_seq)
    seeds = _task_seeds(fit_seq.spawn(1)[0], 5)
    for b in range(5):
        perm = perm_rng.permutation(x.size)
        ref = gmmmi.estimate(
            x, y[perm], n_bootstrap=0, transform="none", random_state=seeds[b], **FAST
        )
        assert test.null[b] == ref.value
        assert test.null_components[b] == ref.diagnostics.n_components


def test_margins_are_mapped_once_from_the_sorted_columns(rng):
    """Skewed y: every copy is fitted on the maps of the sorted columns (a function of values)."""
    from gmmmi.margins import fit_marginal_map

    x, y = rng.normal(size=300), rng.lognormal(size=300)
    test = gmmmi.independence_test(x, y, n_permutations=3, random_state=2, **FAST)
    assert test.margins == "gaussianize"
    _, _, map_seq = np.random.SeedSequence(2).spawn(3)
    sx, sy = map_seq.spawn(2)
    mx = fit_marginal_map(np.sort(x), "", np.random.default_rng(sx))
    my = fit_marginal_map(np.sort(y), "", np.random.default_rng(sy))
    assert mx.affine and not my.affine
    fit_seq = np.random.SeedSequence(2).spawn(3)[0]
    observed = gmmmi.estimate(
        mx(x),
        my(y),
        n_bootstrap=0,
        transform="none",
        random_state=int(fit_seq.generate_state(1, np.uint64)[0] % 2**63),
        **FAST,
    )
    assert test.statistic == observed.value
    shuffled = gmmmi.independence_test(x, y[::-1], n_permutations=3, random_state=2, **FAST)
    assert shuffled.margins == "gaussianize"  # the same maps whatever the row order


@pytest.mark.parametrize(
    "relation",
    [
        lambda x, e, t: (x, (0.3 + np.abs(x)) * e),  # heteroscedastic (issue 24: power 0.3)
        lambda x, e, t: (np.cos(t) + 0.1 * x, np.sin(t) + 0.1 * e),  # noisy ring (power 0.0)
        lambda x, e, t: (x, x**2 + e),
        lambda x, e, t: (x, np.cos(3 * x) + e),
    ],
    ids=["heteroscedastic", "ring", "quadratic", "cosine"],
)
def test_dependence_without_correlation_is_detected(rng, relation):
    """K is chosen on the data too, so a relation a single Gaussian misses is seen."""
    x, e, t = rng.normal(size=400), rng.normal(size=400), rng.uniform(0, 2 * np.pi, 400)
    a, b = relation(x, e, t)
    test = gmmmi.independence_test(a, b, n_permutations=19, random_state=0)
    assert test.pvalue == pytest.approx(1 / 20)
    assert test.n_components > 1 and test.statistic > 5 * test.null.max()
    # far above what a correlation test sees: the MI of a Gaussian with the sample correlation
    assert test.statistic > 5 * -0.5 * np.log(1 - np.corrcoef(a, b)[0, 1] ** 2)


def test_strong_dependence_gives_the_smallest_pvalue(rng):
    x = rng.normal(size=300)
    y = 0.8 * x + 0.6 * rng.normal(size=300)
    test = gmmmi.independence_test(x, y, n_permutations=19, random_state=0, **FAST)
    truth = -0.5 * math.log(1 - 0.8**2)
    assert test.pvalue == pytest.approx(1 / 20)
    assert abs(test.statistic - truth) < 0.1
    assert test.null.max() < 0.05


def test_same_seed_same_pvalue_whatever_the_executor_and_threads(independent):
    x, y = independent
    serial = gmmmi.independence_test(x, y, n_permutations=9, random_state=3, **FAST)
    with ThreadPoolExecutor(2) as pool:
        threaded = gmmmi.independence_test(
            x, y, n_permutations=9, random_state=3, executor=pool, **FAST
        )
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one_thread = gmmmi.independence_test(x, y, n_permutations=9, random_state=3, **FAST)
    finally:
        numba.set_num_threads(old)
    for other in (threaded, one_thread):
        assert other.statistic == serial.statistic and other.pvalue == serial.pvalue
        np.testing.assert_array_equal(other.null, serial.null)
    different = gmmmi.independence_test(x, y, n_permutations=9, random_state=4, **FAST)
    assert not np.array_equal(different.null, serial.null)


def test_fixed_components_number_skips_the_choice_of_k(independent):
    x, y = independent
    test = gmmmi.independence_test(
        x, y, n_permutations=4, random_state=0, fixed_components_number=2, n_inits=1
    )
    assert test.n_components == 2


def test_single_array_form_and_conditional_scheme(rng):
    z = rng.normal(size=400)
    x, y = z + rng.normal(size=400), z + rng.normal(size=400)  # x and y independent given z
    test = gmmmi.independence_test(np.column_stack([x, y, z]), n_permutations=9, random_state=0)
    assert test.quantity == "cmi" and test.scheme == "stratified permutation"
    two = gmmmi.independence_test(np.column_stack([x, y]), n_permutations=9, random_state=0)
    assert two.quantity == "mi" and two.pvalue == pytest.approx(0.1)  # x, y share z


def test_stratified_permutations_stay_within_strata(rng):
    z = rng.normal(size=(103, 2))
    x, y = rng.normal(size=(2, 103, 1))
    stratum = strata(z, 10)
    assert np.bincount(stratum).min() >= 10 and stratum.max() == 9
    order = reordering("iid", np.hstack([x, y, z]), x, y, z, 10, None)
    assert order.kind == "stratified permutation"
    draws = np.random.default_rng(0)
    for _ in range(5):
        perm = order.draw(draws)
        assert sorted(perm) == list(range(103))
        np.testing.assert_array_equal(stratum[perm], stratum)
    first_pc = strata(z[:, :1], 10)
    zorder = np.argsort(z[:, 0])
    assert np.all(np.diff(first_pc[zorder]) >= 0)  # strata are consecutive in z


# the copies are the point of the test
@pytest.mark.filterwarnings("ignore:.*rows .* are exact copies of another row:gmmmi.DataWarning")
def test_copies_of_a_row_move_together(rng):
    """Issue 24, 3.8: permuting rows broke the pairing of repeated records."""
    x, y = rng.normal(size=(2, 60))
    counts = rng.integers(1, 4, size=60)  # each record 1-3 times
    x, y = np.repeat(x, counts)[:, None], np.repeat(y, counts)[:, None]
    order = reordering("iid", np.hstack([x, y]), x, y, None, 10, None)
    assert order.kind == "grouped permutation"
    draws = np.random.default_rng(1)
    for _ in range(5):
        perm = order.draw(draws)
        new_rows = np.hstack([x, y[perm]])
        # every record of c copies is paired with one y, which came from a record of c copies
        for g in range(60):
            rows = order.units == g
            assert np.unique(new_rows[rows], axis=0).shape[0] == 1
            source = order.units[perm[rows][0]]
            assert np.sum(order.units == source) == rows.sum()
    test = gmmmi.independence_test(x, y, n_permutations=9, random_state=0, **FAST)
    assert test.scheme == "grouped permutation"


def test_block_and_circular_reorderings_keep_the_autocorrelation(rng):
    n, e = 2000, rng.normal(size=(2, 2000))
    s = np.zeros((2, n))
    for t in range(1, n):
        s[:, t] = 0.9 * s[:, t - 1] + e[:, t]
    x, y = s[0][:, None], s[1][:, None]

    def lag1(v):
        return np.corrcoef(v[1:], v[:-1])[0, 1]

    draws = np.random.default_rng(0)
    block = reordering("block", s.T, x, y, None, 10, None)
    circular = reordering("circular", s.T, x, y, None, 10, None)
    assert block.kind == "block permutation" and circular.kind == "circular shift"
    length = block.block_length
    assert length == block_length_rule(x, y) and circular.block_length == length
    for _ in range(3):
        perm = block.draw(draws)
        assert sorted(perm) == list(range(n))
        # consecutive within blocks: only the block junctions jump
        assert np.sum(np.diff(perm) != 1) <= -(-n // length)
        assert abs(lag1(y[perm, 0]) - lag1(y[:, 0])) < 2 / length
        shift = circular.draw(draws)
        lag = (shift[0] - 0) % n
        assert length <= lag <= n - length
        np.testing.assert_array_equal(shift, (np.arange(n) + lag) % n)
    assert abs(lag1(y[np.random.default_rng(0).permutation(n), 0])) < 0.1  # iid: lost
    fixed = reordering("block", s.T, x, y, None, 10, 40)
    assert fixed.block_length == 40
    short = reordering("block", s.T[:80], x[:80], y[:80], None, 10, 40)
    assert short.block_length == 10  # at least 8 blocks


def test_block_length_rule_against_the_ar1_formula(rng):
    """L = ceil(2a / ((1 - a^2) 0.05)), a = the product of the lag-1 rank autocorrelations."""
    n = 40_000
    e = rng.normal(size=(2, n))
    s = np.zeros((2, n))
    for t in range(1, n):
        s[:, t] = 0.9 * s[:, t - 1] + e[:, t]
    a = (6 / np.pi * np.arcsin(0.45)) ** 2  # Spearman's rho of a Gaussian pair, correlation 0.9
    expected = 2 * a / ((1 - a * a) * 0.05)
    assert block_length_rule(s[0], s[1]) == pytest.approx(expected, rel=0.15)
    assert block_length_rule(e[0], e[1]) <= 2  # white noise: (almost) single rows


def test_discrete_labels_are_permuted(rng):
    x = rng.normal(size=300)
    labels = np.where(x + 0.5 * rng.normal(size=300) > 0, "up", "down")
    test = gmmmi.independence_test(
        x, labels, discrete_y=True, n_permutations=9, random_state=0, **FAST
    )
    assert test.pvalue == pytest.approx(0.1) and test.statistic > 5 * test.null.max()


def test_plot_shows_the_null_histogram_and_the_statistic(independent):
    x, y = independent
    test = gmmmi.independence_test(x, y, n_permutations=19, random_state=1, **FAST)
    ax = test.plot()
    assert sum(p.get_height() for p in ax.patches) == 19
    assert ax.lines[0].get_xdata()[0] == test.statistic
    assert f"p = {test.pvalue:.3g}" in ax.get_title()
    plt.close(ax.figure)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_permutations": 0}, ValueError, "n_permutations must be at least 1; got 0"),
        ({"n_bootstrap": 10}, TypeError, "independence_test sets n_bootstrap itself"),
        ({"stratum_size": 1}, ValueError, "stratum_size must be at least 2; got 1"),
        ({"executor": 3}, TypeError, "executor must be None"),
        ({"n_inist": 1}, TypeError, "n_inist"),
        ({"permutation": "shift"}, ValueError, "Unknown permutation 'shift'"),
        ({"block_length": 0}, ValueError, "block_length must be at least 1; got 0"),
        (
            {"block_length": 20},
            ValueError,
            re.escape(
                "block_length applies to permutation='block' or 'circular' (time series); "
                "permutation='iid' shuffles single rows."
            ),
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_fit(independent, kwargs, error, match):
    x, y = independent
    with pytest.raises(error, match=match):
        gmmmi.independence_test(x, y, **kwargs)


#: issue 24, 3.9: 10**9 built every permutation up front (11.8 GB, then a raw MemoryError)
TOO_MANY = (
    "n_permutations=1000000000 is more than 1,000,000 permuted copies, each a whole component "
    "search (milliseconds to seconds): days of work for a p-value resolved to 1/(B + 1). "
    "B = 999 resolves p = 0.001; a matrix of m pairs with Holm's correction needs about 40 m "
    "(or use correction='bh')."
)


def test_absurd_permutation_counts_are_refused_at_once(independent, rng):
    x, y = independent
    with pytest.raises(ValueError, match=re.escape(TOO_MANY)):
        gmmmi.independence_test(x, y, n_permutations=10**9)
    with pytest.raises(ValueError, match=re.escape(TOO_MANY)):
        gmmmi.mi_matrix(rng.normal(size=(50, 3)), pvalues=True, n_permutations=10**9)


def test_permutations_are_drawn_chunk_by_chunk(independent, monkeypatch):
    import gmmmi.parallel as parallel

    sizes, real = [], parallel.estimate_many

    def counting(tasks, **kwargs):
        sizes.append(len(tasks))
        return real(tasks, **kwargs)

    monkeypatch.setattr(parallel, "estimate_many", counting)
    x, y = independent
    test = gmmmi.independence_test(
        x, y, n_permutations=CHUNK + 3, random_state=0, fixed_components_number=1, n_inits=1
    )
    assert sizes == [CHUNK, 3] and test.null.shape == (CHUNK + 3,)


def test_pymc_backend_is_refused_with_a_reason(independent):
    """Issue 24, 3.12: it failed with "Unknown option 'n_bootstrap'"."""
    x, y = independent
    message = (
        "independence_test runs one single fit per permuted copy (B + 1 fits); the 'pymc' "
        "backend has no single fit (backend='pymc' would sample a posterior for every copy). "
        "Test with the default backend='numba', and estimate the MI with backend='pymc'."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        gmmmi.independence_test(x, y, backend="pymc")
    with pytest.raises(ValueError, match=re.escape(message)):
        gmmmi.mi_matrix({"a": x, "b": y}, pvalues=True, backend="pymc")


def test_time_series_reorderings_refuse_z(independent):
    x, y = independent
    with pytest.raises(
        ValueError,
        match=re.escape(
            "permutation='block' reorders a time series and cannot keep y's relation to z; the "
            "conditional test needs permutation='iid' (within strata of z)."
        ),
    ):
        gmmmi.independence_test(x, y, z=x + y, permutation="block")


def test_progress_bar_counts_the_permuted_copies(independent, monkeypatch):
    import gmmmi.independence as module

    bars = []
    real = module.progress_bar

    def recording(total, desc, enabled, unit="it"):
        bar = real(total, desc, False, unit)
        bars.append({"total": total, "desc": desc, "enabled": enabled, "done": 0})
        update = bar.update

        def counted(k=1):
            bars[-1]["done"] += k
            return update(k)

        bar.update = counted
        return bar

    monkeypatch.setattr(module, "progress_bar", recording)
    x, y = independent
    gmmmi.independence_test(x, y, n_permutations=7, random_state=0, progress=True, **FAST)
    assert bars == [{"total": 7, "desc": "gmmmi permutations", "enabled": True, "done": 7}]
    gmmmi.independence_test(x, y, n_permutations=3, random_state=0, progress=False, **FAST)
    assert bars[-1]["enabled"] is False


def _holm_reference(p):
    m, order = len(p), np.argsort(p)
    out, running = np.empty(m), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def _bh_reference(p):
    m = len(p)
    return np.array(
        [
            min(1.0, min(m * p[j] / (np.sum(p <= p[j])) for j in range(m) if p[j] >= p[i]))
            for i in range(m)
        ]
    )


def test_adjust_pvalues_matches_slow_references(rng):
    p = rng.uniform(size=12) ** 3
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), _holm_reference(p))
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), _bh_reference(p))
    np.testing.assert_array_equal(adjust_pvalues(p, "none"), p)
    with pytest.raises(ValueError, match="Unknown correction 'bonf'"):
        adjust_pvalues(p, "bonf")


# iid rows: a false alarm of the serial check on a and b (r1 = 0.20 at n = 300, 3.5 se)
@pytest.mark.filterwarnings("ignore:.*look serially dependent:gmmmi.SerialDependenceWarning")
@pytest.mark.filterwarnings("ignore::gmmmi.PValueResolutionWarning")  # B = 19 on purpose
def test_mi_matrix_pvalues_mark_the_independent_pairs(rng):
    ab = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], 300)
    data = {"a": ab[:, 0], "b": ab[:, 1], "c": rng.normal(size=300)}
    m = gmmmi.mi_matrix(
        data, pvalues=True, n_permutations=19, random_state=0, n_bootstrap=4, **FAST
    )
    assert m.correction == "holm"
    raw = np.array([m.tests[k].pvalue for k in [("a", "b"), ("a", "c"), ("b", "c")]])
    np.testing.assert_allclose(m.pvalues.loc["a", ["b", "c"]], raw[:2])
    np.testing.assert_allclose(m.p_adjusted.loc["c", "b"], adjust_pvalues(raw)[2])
    assert m.p_adjusted.loc["a", "b"] == pytest.approx(3 / 20)  # Holm: 3 x 1/20
    frame = m.to_frame()
    assert list(frame.columns) == [
        "x",
        "y",
        "mean",
        "sd",
        "unit",
        "fit_ok",
        "pvalue",
        "p_adjusted",
        "error",
    ]
    ax = m.plot(alpha=0.2)
    hatched = {(p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches if p.get_hatch()}
    expected = {(j, i) for i in range(3) for j in range(3) if m.p_adjusted.iloc[i, j] > 0.2}
    assert hatched == expected and (1, 0) not in hatched
    assert "hatched: holm-corrected p > 0.2" in ax.get_title()
    plt.close(ax.figure)
    again = gmmmi.mi_matrix(
        data, pvalues=True, n_permutations=19, random_state=0, n_bootstrap=4, **FAST
    )
    assert again.pvalues.equals(m.pvalues)


def test_mi_matrix_takes_enough_permutations_for_the_correction(rng, monkeypatch):
    import gmmmi.independence as module

    seen = []
    real = module.independence_test

    def counting(*args, **kwargs):
        seen.append(kwargs["n_permutations"])
        return real(*args, **{**kwargs, "n_permutations": 3})

    monkeypatch.setattr(module, "independence_test", counting)
    data = rng.normal(size=(100, 5))  # 10 pairs: B = 40 x 10 - 1
    gmmmi.mi_matrix(data, pvalues=True, random_state=0, n_bootstrap=2, **FAST)
    assert set(seen) == {399}
    with pytest.warns(
        module.PValueResolutionWarning,
        match=re.escape(
            "With n_permutations=99 and 10 pairs, the smallest Holm-corrected p-value is "
            "10 / 100 = 0.1 > 0.05: no pair can be declared dependent at 0.05. Use "
            "n_permutations >= 199 (or None for 399), or correction='bh'."
        ),
    ) as record:
        gmmmi.mi_matrix(
            data, pvalues=True, n_permutations=99, random_state=0, n_bootstrap=2, **FAST
        )
    assert record[0].filename == __file__  # at the user's line
    seen.clear()
    options = {"n_permutations": 99, "random_state": 0, "n_bootstrap": 2, **FAST}
    gmmmi.mi_matrix(data, pvalues=True, correction="bh", **options)
    assert set(seen) == {99}


def test_mi_matrix_refuses_an_unknown_correction(rng):
    with pytest.raises(ValueError, match="Unknown correction 'fdr'; valid values are 'holm'"):
        gmmmi.mi_matrix(rng.normal(size=(50, 2)), pvalues=True, correction="fdr")
