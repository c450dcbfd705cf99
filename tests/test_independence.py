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
from gmmmi.independence import IndependenceTest, _permutations, _strata, adjust_pvalues
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


def test_null_draws_are_single_fits_with_one_k_on_permuted_y(independent):
    """Reference: rebuild each permutation and fit it with estimate directly."""
    x, y = independent
    test = gmmmi.independence_test(x, y, n_permutations=5, random_state=7, **FAST)
    fit_seq, perm_seq = np.random.SeedSequence(7).spawn(2)
    perm_rng = np.random.default_rng(perm_seq)
    perm_rng.permutation(x.size)  # the copy on which K is chosen
    seeds = _task_seeds(fit_seq, 5)
    for b in range(5):
        perm = perm_rng.permutation(x.size)
        ref = gmmmi.estimate(
            x,
            y[perm],
            n_bootstrap=0,
            fixed_components_number=test.n_components,
            random_state=seeds[b],
            **FAST,
        )
        assert test.null[b] == ref.value


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
    stratum = _strata(z, 10)
    assert np.bincount(stratum).min() >= 10 and stratum.max() == 9
    for perm in _permutations(103, z, 5, 10, np.random.default_rng(0)):
        assert sorted(perm) == list(range(103))
        np.testing.assert_array_equal(stratum[perm], stratum)
    first_pc = _strata(z[:, :1], 10)
    order = np.argsort(z[:, 0])
    assert np.all(np.diff(first_pc[order]) >= 0)  # strata are consecutive in z


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
    ],
)
def test_bad_arguments_are_refused_before_any_fit(independent, kwargs, error, match):
    x, y = independent
    with pytest.raises(error, match=match):
        gmmmi.independence_test(x, y, **kwargs)


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
    assert list(frame.columns) == ["x", "y", "mean", "sd", "unit", "pvalue", "p_adjusted", "error"]
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
        gmmmi.mi_matrix(data, pvalues=True, n_permutations=99, n_bootstrap=2, **FAST)
    assert record[0].filename == __file__  # at the user's line
    seen.clear()
    gmmmi.mi_matrix(data, pvalues=True, n_permutations=99, correction="bh", n_bootstrap=2, **FAST)
    assert set(seen) == {99}


def test_mi_matrix_refuses_an_unknown_correction(rng):
    with pytest.raises(ValueError, match="Unknown correction 'fdr'; valid values are 'holm'"):
        gmmmi.mi_matrix(rng.normal(size=(50, 2)), pvalues=True, correction="fdr")
