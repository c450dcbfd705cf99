"""gmmmi.sklearn: the MI score function and MISelector in scikit-learn's conventions."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.feature_selection import SelectFpr, SelectKBest  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from gmmmi.feature_selection import select_features  # noqa: E402
from gmmmi.sklearn import MISelector, mutual_info_scores  # noqa: E402

#: cheap options for the tests: few bootstrap replicas and permutations
FAST = {"n_bootstrap": 5}


def _copies(n=400, seed=0):
    """x0 (linear), x1 (through sin), x2 a near copy of x0, x3 noise; y continuous."""
    rng = np.random.default_rng(seed)
    a, b, noise = rng.normal(size=(3, n))
    X = np.column_stack([a, b, a + 0.05 * rng.normal(size=n), noise])
    y = a + np.sin(2 * b) + 0.3 * rng.normal(size=n)
    return X, y


def test_import_gmmmi_does_not_import_sklearn():
    code = (
        "import sys, gmmmi, gmmmi.feature_selection, gmmmi.parallel, gmmmi.independence; "
        "gmmmi.estimate; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mrmr_skips_a_near_copy_that_marginal_keeps():
    X, y = _copies()
    mrmr = MISelector(2, method="mrmr", random_state=0, **FAST).fit(X, y)
    marginal = MISelector(2, method="marginal", random_state=0, **FAST).fit(X, y)
    # the copy carries the same information as x0: mRMR takes x1 instead
    assert sorted(mrmr.get_support(indices=True)) == [0, 1] or sorted(
        mrmr.get_support(indices=True)
    ) == [1, 2]
    assert sorted(marginal.get_support(indices=True)) == [0, 2]
    path = mrmr.path_
    assert [s.selected for s in path.steps] == [True, True]
    # the MI of the chosen set rises, and each interval contains its value
    assert path.steps[1].mi > path.steps[0].mi
    for s in path.steps:
        assert s.interval[0] < s.mi < s.interval[1]
    assert path.stop_reason == "k=2 features chosen."


# exact copies of a feature: a bootstrap replica's fit loses a component
@pytest.mark.filterwarnings("ignore:.*EM fits had a collapsed component:gmmmi.ConvergenceWarning")
@pytest.mark.parametrize("method", ["jmi", "cmim"])
def test_conditional_criteria_skip_the_copy(method):
    X, y = _copies(seed=1)
    sel = MISelector(2, method=method, random_state=0, **FAST).fit(X, y)
    chosen = set(sel.get_support(indices=True).tolist())
    assert 1 in chosen and len(chosen & {0, 2}) == 1


# exact copies of a feature: a bootstrap replica's fit loses a component
@pytest.mark.filterwarnings("ignore:.*EM fits had a collapsed component:gmmmi.ConvergenceWarning")
def test_k_none_stops_at_the_first_feature_that_adds_nothing():
    X, y = _copies(n=300, seed=2)
    sel = MISelector(method="mrmr", random_state=0, n_permutations=99, **FAST).fit(X, y)
    kept = sel.get_support(indices=True).tolist()
    assert 1 in kept and len(set(kept) & {0, 2}) == 1 and 3 not in kept
    last = sel.path_.steps[-1]
    assert not last.selected and last.pvalue > last.threshold
    assert sel.stop_reason_ == (
        f"stopped: none of the {last.n_candidates} candidates adds significant information "
        f"given those chosen (the best by the criterion, {last.name!r}, has p = "
        f"{last.pvalue:.3g} > alpha / {last.n_candidates} = {last.threshold:.3g})."
    )
    # the level is alpha over the number of candidates
    assert [s.threshold for s in sel.path_.steps] == [0.05 / 4, 0.05 / 3, 0.05 / 2]
    # the same choices with k given: the tests' draws do not shift the estimates' seeds
    fixed = MISelector(2, method="mrmr", random_state=0, **FAST).fit(X, y)
    assert fixed.path_.selected == sel.path_.selected
    assert [s.score for s in fixed.path_.steps] == [s.score for s in sel.path_.steps[:2]]


def test_k_none_on_noise_keeps_nothing():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(300, 6)), rng.normal(size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn: no features selected
        sel = MISelector(random_state=0, **FAST).fit(X, y)
        assert sel.transform(X).shape == (300, 0)
    assert not sel.get_support().any()
    assert sel.path_.steps[0].pvalue > 0.05 / 6


def test_categorical_target_with_conditional_test():
    rng = np.random.default_rng(4)
    a, b, noise = rng.normal(size=(3, 400))
    X = np.column_stack([a, b, a + 0.05 * rng.normal(size=400), noise])
    labels = np.array(["low", "mid", "high"])[np.digitize(a + b, [-0.7, 0.7])]
    sel = MISelector(method="cmim", random_state=0, n_permutations=79, **FAST).fit(X, labels)
    kept = set(sel.get_support(indices=True).tolist())
    assert 1 in kept and len(kept & {0, 2}) == 1 and 3 not in kept
    assert list(sel.classes_) == ["high", "low", "mid"]


def test_pandas_pipeline_and_cross_val_score():
    pd = pytest.importorskip("pandas")
    X, y = _copies(n=300)
    df = pd.DataFrame(X, columns=["a", "b", "a_copy", "noise"])
    sel = MISelector(2, random_state=0, **FAST).set_output(transform="pandas")
    out = sel.fit_transform(df, y)
    assert list(out.columns) == list(sel.get_feature_names_out())
    assert set(out.columns) in ({"a", "b"}, {"a_copy", "b"})
    assert [s.name for s in sel.path_.steps] == list(sel.path_.steps[i].name for i in (0, 1))
    pipe = make_pipeline(MISelector(1, random_state=0, **FAST), LinearRegression())
    scores = cross_val_score(pipe, df, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_estimate_options_are_parameters():
    sel = MISelector(3, method="jmi", n_bootstrap=7, max_components=4)
    assert sel.get_params()["n_bootstrap"] == 7
    twin = clone(sel)
    assert twin.get_params() == sel.get_params()
    twin.set_params(n_bootstrap=3, k=2)
    assert (twin.k, twin.get_params()["n_bootstrap"]) == (2, 3)
    assert sel.get_params()["n_bootstrap"] == 7


# one permuted fit of 19 reaches max_iter; the test is about the scores
@pytest.mark.filterwarnings("ignore:.*EM fits stopped at max_iter:gmmmi.ConvergenceWarning")
def test_score_function_for_select_k_best_and_select_fpr():
    X, y = _copies(n=300)
    scores, pvalues = mutual_info_scores(X, y, n_permutations=19, random_state=0)
    assert scores.shape == pvalues.shape == (4,)
    assert np.argsort(scores)[0] == 3  # the noise feature scores lowest
    assert pvalues[0] == pvalues[1] == 1 / 20 and pvalues[3] > 1 / 20
    kbest = SelectKBest(lambda X, y: mutual_info_scores(X, y, n_permutations=0), k=2).fit(X, y)
    assert sorted(kbest.get_support(indices=True)) == [0, 2]  # scored alone, copies tie
    fpr = SelectFpr(
        lambda X, y: mutual_info_scores(X, y, n_permutations=19, random_state=0), alpha=0.06
    ).fit(X, y)
    assert not fpr.get_support()[3]


def test_plot_of_the_path():
    import matplotlib.pyplot as plt

    X, y = _copies(n=300)
    sel = MISelector(method="mrmr", random_state=0, n_permutations=99, **FAST).fit(X, y)
    ax = sel.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == [s.name for s in sel.path_.steps]
    assert "kept" in ax.get_title()
    plt.close("all")
    assert str(sel.path_).startswith("Greedy selection (mrmr): 2 of 4 features kept;")


def test_sample_weight_decides_which_population_counts():
    """y follows x0 in the first half of the rows and x1 in the second; weights pick a half."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 3))
    y = np.r_[X[:300, 0], X[300:, 1]] + 0.3 * rng.normal(size=600)
    first = np.r_[np.ones(300), np.zeros(300)]
    picks = [
        MISelector(1, random_state=0, **FAST).fit(X, y, sample_weight=w).get_support(indices=True)
        for w in (first, 1.0 - first)
    ]
    assert [p.tolist() for p in picks] == [[0], [1]]


def test_candidates_are_tested_in_order_and_one_that_adds_nothing_is_passed_over():
    from gmmmi.feature_selection import _first_significant

    class Work:  # the p-value of each candidate's test, and the order they were asked in
        def __init__(self, pvalues):
            self.pvalues, self.asked = pvalues, []

        def test(self, j, chosen, level, n_permutations):
            self.asked.append(j)
            return self.pvalues[j], None

        def gain(self, j, chosen):  # equal plug-in gains: nothing is overruled
            return 0.1

    work = Work({3: 0.5, 1: 0.01, 2: 0.01})
    assert _first_significant(work, [3, 1, 2], [0], 0.01, 99, True) == (
        1,
        0.01,
        [(3, 0.5), (1, 0.01)],
        None,
    )
    assert work.asked == [3, 1]
    work = Work({3: 0.5, 1: 0.2})
    best, p, tried, why = _first_significant(work, [3, 1], [0], 0.01, 99, True)
    assert (best, tried, why) == (None, [(3, 0.5), (1, 0.2)], None) and np.isnan(p)
    best, p, tried, why = _first_significant(work, [3, 1], [0], 0.01, 99, False)
    assert (best, tried, why) == (3, [], None) and np.isnan(p)


def test_a_later_candidate_with_a_larger_gain_overrules_the_first_that_passes():
    from gmmmi.feature_selection import _first_significant

    class Work:  # p-values and plug-in gains of each candidate
        def __init__(self, pvalues, gains):
            self.pvalues, self.gains, self.asked = pvalues, gains, []

        def test(self, j, chosen, level, n_permutations):
            self.asked.append(j)
            return self.pvalues[j], None

        def gain(self, j, chosen):
            return self.gains[j]

    # 5 fails; 3 passes with gain 0.01; 1 (gain 0.3) and 2 (0.2) have larger gains: 1 is
    # tested first and passes; 4 (gain 0.001) and 2 (never reached) are not tested
    work = Work({5: 0.5, 3: 0.01, 1: 0.01, 2: 0.01, 4: 0.01}, {3: 0.01, 1: 0.3, 2: 0.2, 4: 1e-3})
    assert _first_significant(work, [5, 3, 4, 1, 2], [0], 0.01, 99, True) == (
        1,
        0.01,
        [(5, 0.5), (3, 0.01), (1, 0.01)],
        None,
    )
    assert work.asked == [5, 3, 1]
    # a larger gain that is not significant does not overrule
    work = Work({3: 0.01, 1: 0.4}, {3: 0.01, 1: 0.3})
    assert _first_significant(work, [3, 1], [0], 0.01, 99, True)[:2] == (3, 0.01)
    # at the first step every criterion is the relevance itself: no plug-in gains
    work = Work({3: 0.01, 1: 0.01}, {})
    assert _first_significant(work, [3, 1], [], 0.01, 99, True)[:2] == (3, 0.01)


def test_with_k_given_the_tests_stop_at_the_first_step_where_none_passes():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] + 0.5 * rng.normal(size=300)
    sel = MISelector(3, random_state=0, **FAST).fit(X, y)
    steps = sel.path_.steps
    assert steps[0].feature == 0 and steps[0].pvalue <= steps[0].threshold
    assert steps[1].pvalue > steps[1].threshold  # tested, nothing passed: the criterion's best
    assert np.isnan(steps[2].pvalue) and np.isnan(steps[2].threshold)  # not tested
    assert sel.stop_reason_ == (
        "k=3 features chosen. No candidate was significant at step 2; the steps after it took "
        "the criterion's best untested."
    )


def test_the_original_of_a_chosen_monotone_near_copy_gives_way_to_a_larger_gain():
    """JMI's order puts the original of a chosen copy first; its small real gain loses to b's.

    The copy is exp of the original plus 0.1 sd of noise: given it, the original still adds
    about 0.01 nat (y follows the original), significant at N = 800 (p = 1 / 100 here), while
    b adds about 0.2 nat through a sine.
    """
    from gmmmi.feature_selection import _first_significant, _Work

    rng = np.random.default_rng(11)
    n = 800
    a, b, c, noise = rng.normal(size=(4, n))
    copy = np.exp(a + 0.1 * rng.normal(size=n))
    X = np.column_stack([a, b, c, copy, noise])
    y = a + np.sin(2 * b) + 0.7 * c**2 + 0.3 * rng.normal(size=n)
    work = _Work(X, y, False, {}, np.random.SeedSequence(0), None)
    best, p, tried, why = _first_significant(work, [0, 4, 1], [3, 2], 0.05 / 3, 99, True)
    assert tried[0] == (0, 1 / 100)  # the original's small gain is significant ...
    assert work.gain(0, [3, 2]) < 0.05 < work.gain(1, [3, 2])  # ... and ~20x smaller than b's
    assert (best, p, why) == (1, 1 / 100, None) and [j for j, _ in tried] == [0, 1]


@pytest.mark.parametrize("discrete", [False, True])
def test_stopping_test_sees_a_gain_and_not_a_copy(discrete):
    from gmmmi._stopping import MIN_EXCEEDANCES, conditional_pvalue

    rng = np.random.default_rng(6)
    n = 300
    a, b = rng.normal(size=(2, n))
    copy = a + 0.05 * rng.normal(size=n)
    y = a + np.sin(2 * b) + 0.3 * rng.normal(size=n)
    y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3])) if discrete else (y - y.mean()) / y.std()
    kw = dict(discrete=discrete, level=0.05 / 2, n_permutations=79)
    # b adds what a does not (a sine): no reordered copy reaches it, p = 1 / (B + 1)
    assert conditional_pvalue(b, a[:, None], y, rng=np.random.default_rng(0), **kw) == (1 / 80, 79)
    # a near copy of a adds nothing: the test stops at the h-th copy reaching it, p = h / L
    p, drawn = conditional_pvalue(copy, a[:, None], y, rng=np.random.default_rng(0), **kw)
    assert drawn < 79 and p == MIN_EXCEEDANCES / drawn > 0.05


def test_plug_in_log_density_matches_scipy():
    from scipy.stats import multivariate_normal

    from gmmmi._stopping import _mixture_logpdf

    rng = np.random.default_rng(7)
    X = rng.normal(size=(50, 3))
    weights = np.array([0.3, 0.7])
    means = rng.normal(size=(2, 3))
    covs = np.stack([np.eye(3) * 0.5 + 0.1, np.diag([1.0, 2.0, 0.3])])
    want = np.log(
        sum(
            w * multivariate_normal(m, c).pdf(X)
            for w, m, c in zip(weights, means, covs, strict=True)
        )
    )
    np.testing.assert_allclose(_mixture_logpdf(X, weights, means, covs), want, rtol=1e-10)


# repeated rows are the point of the test; 60 rows of exact copies make a sharp relation
@pytest.mark.filterwarnings("ignore:.*rows .* are exact copies of another row:gmmmi.DataWarning")
@pytest.mark.filterwarnings("ignore:.*The relation is sharper:gmmmi.SharpRelationWarning")
def test_row_order_and_whole_number_weights():
    """The fit depends on the rows, not their order; weight 2 is a repeated row, 0 no row."""
    X, y = _copies(n=60, seed=8)
    w = np.random.default_rng(9).integers(0, 3, size=60)
    order = np.random.default_rng(10).permutation(60)
    fits = [
        MISelector(2, random_state=0, **FAST).fit(*data, **kw)
        for data, kw in (
            ((X, y), {}),
            ((X[order], y[order]), {}),
            ((X.repeat(w, 0), y.repeat(w)), {}),
            ((X, y), {"sample_weight": w}),
        )
    ]
    assert str(fits[0].path_) == str(fits[1].path_)
    assert str(fits[2].path_) == str(fits[3].path_)


# --------------------------------------------------------------------------- bad input


def test_bad_sample_weight():
    X, y = _copies(n=50)
    cases = [
        (
            MISelector(2),
            np.ones(49),
            "sample_weight must be a vector of one weight per row (50); got shape (49,).",
        ),
        (
            MISelector(2),
            np.r_[np.ones(49), -2.0],
            "sample_weight must be non-negative; row 49 has weight -2.",
        ),
        (
            MISelector(),
            np.full(50, 0.5),  # not whole numbers: the weighted EM, which needs k
            "sample_weight with k=None: the stopping test permutes rows, "
            "which breaks the link between a row and its weight; give k.",
        ),
    ]
    for selector, w, message in cases:
        with pytest.raises(ValueError) as err:
            selector.fit(X, y, sample_weight=w)
        assert str(err.value) == message
    with pytest.raises(ValueError) as err:
        MISelector(2, discrete_target=True).fit(X, y > 0, sample_weight=np.full(50, 0.5))
    assert str(err.value).startswith("sample_weight cannot be used with discrete_y=True: ")


def test_target_with_one_class():
    X, _ = _copies(n=50)
    with pytest.raises(ValueError) as err:
        MISelector(discrete_target=True).fit(X, np.zeros(50, dtype=int))
    assert (
        str(err.value) == "MISelector needs a target with at least two classes; got one class (0)."
    )
    with pytest.raises(ValueError) as err:
        mutual_info_scores(X, np.full(50, 2.5), discrete_target=False)
    assert str(err.value) == "mutual_info_scores needs a target that varies; got one value (2.5)."


def test_k_larger_than_the_number_of_features():
    X, y = _copies(n=50)
    with pytest.raises(ValueError) as err:
        MISelector(5).fit(X, y)
    assert str(err.value) == (
        "k=5 is larger than the number of features (4); choose k <= 4, or k=None to let the "
        "stopping test decide."
    )
    with pytest.raises(ValueError) as err:
        select_features(X, y, 5)
    assert str(err.value) == (
        "k=5 is larger than the number of features (4); choose k <= 4, or k=None to let the "
        "stopping test decide."
    )


def test_unknown_method_and_too_few_rows():
    X, y = _copies(n=50)
    with pytest.raises(ValueError) as err:
        MISelector(method="mim").fit(X, y)
    assert str(err.value) == (
        "method must be one of ('mrmr', 'jmi', 'cmim', 'marginal'); got 'mim'."
    )
    with pytest.raises(ValueError) as err:
        MISelector(n_permutations=49).fit(X, y)
    assert str(err.value) == (
        "n_permutations=49 cannot reach the stopping test's first level, alpha / 4 = 0.0125 "
        "(the smallest p-value is 1 / 50); give at least 79, or None."
    )
    with pytest.raises(ValueError) as err:
        MISelector().fit(X[:1], y[:1])
    assert str(err.value) == "MISelector needs at least 10 samples; got 1 sample."


def test_check_estimator():
    """Every check passes, the sample-weight ones included (whole-number weights repeat rows)."""
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(MISelector(random_state=0), on_fail=None)
    status = {r["check_name"]: r["status"] for r in results}
    assert {s for s in status.values()} <= {"passed", "skipped"}, status
    weights = {name for name in status if "sample_weight" in name}
    assert len(weights) >= 6 and {status[name] for name in weights} == {"passed"}
    assert sum(s == "passed" for s in status.values()) >= 46
