"""Time series (docs/timeseries.md): block bootstrap, block length, warning, lagged MI, TE."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import signal, stats

import gmmmi
from gmmmi._em.bootstrap import draw_rows
from gmmmi._intervals import fixed_b
from gmmmi.block_length import optimal_block_length
from gmmmi.serial import holm_reject, ljung_box, normal_scores, serially_dependent

RHO = 0.6
TRUTH = -0.5 * math.log(1 - RHO**2)


def ar1_pair(phi, n, seed):
    """Stationary bivariate AR(1) whose rows are N(0, [[1, RHO], [RHO, 1]])."""
    rng = np.random.default_rng(seed)
    e = rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], size=n)
    e[1:] *= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e, axis=0)


# ------------------------------------------------------------------ resampled rows
def test_circular_blocks_are_runs_of_the_asked_length_from_uniform_starts():
    rows = draw_rows(np.random.default_rng(1), 20, 5000, 12)
    runs = rows[:, : 416 * 12].reshape(20, 416, 12)  # whole blocks; the last one is cut
    np.testing.assert_array_equal(np.diff(runs, axis=2) % 5000, 1)
    # block starts uniform on the 5000 rows: mean 2499.5, sd 1443 / sqrt(8320) = 16
    assert abs(runs[:, :, 0].mean() - 2499.5) < 80


def test_iid_rows_are_the_generators_integers():
    a = draw_rows(np.random.default_rng(3), 4, 100, None)
    b = np.random.default_rng(3).integers(0, 100, size=(4, 100))
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ block length
def _slow_block_length(x):
    """The authors' rule (opt_block_length_REV_dec07.m), transcribed with plain loops."""
    n = len(x)
    kn = max(5, int(math.sqrt(math.log10(n))))
    mmax = int(math.ceil(math.sqrt(n))) + kn
    bmax = math.ceil(min(3 * math.sqrt(n), n / 3))
    threshold = 2 * math.sqrt(math.log10(n) / n)
    rho = [np.corrcoef(x[mmax:], x[mmax - k : n - k])[0, 1] for k in range(1, mmax + 1)]
    mhat = None
    for j in range(1, mmax - kn + 2):
        if all(abs(rho[j - 1 + i]) < threshold for i in range(kn)):
            mhat = j
            break
    if mhat is None:
        mhat = max(k for k in range(1, mmax + 1) if abs(rho[k - 1]) >= threshold)
    M = min(2 * mhat, mmax)
    g = d = 0.0
    for k in range(-M, M + 1):
        s = abs(k / M)
        lam = 1.0 if s < 0.5 else 2 * (1 - s)
        a, b = x[M:], x[M - abs(k) : n - abs(k)]
        acv = np.cov(a, b)[0, 1]
        g += lam * abs(k) * acv
        d += lam * acv
    return min((2 * g**2 / (4 / 3 * d**2)) ** (1 / 3) * n ** (1 / 3), bmax)  # b_CB


@pytest.mark.parametrize("phi, n", [(0.0, 500), (0.5, 1000), (0.9, 3000), (-0.4, 800)])
def test_block_length_matches_the_slow_reference(phi, n):
    x = ar1_pair(phi, n, seed=int(100 * abs(phi)) + n)[:, 0]
    assert optimal_block_length(x) == pytest.approx(max(1.0, _slow_block_length(x)), rel=1e-10)


def test_block_length_near_its_ar1_closed_form():
    # circular block bootstrap, AR(1): G = 2 phi / (1 - phi)^2, g = (1 + phi) / (1 - phi)
    # (unit variance), so b = (2 G^2 / (4/3 g^2))^(1/3) n^(1/3)
    # = (3/2)^(1/3) (2 phi / (1 - phi^2))^(2/3) n^(1/3)
    n, phi = 20_000, 0.5
    values = [optimal_block_length(ar1_pair(phi, n, seed)[:, 0]) for seed in range(8)]
    truth = 1.5 ** (1 / 3) * (2 * phi / (1 - phi**2)) ** (2 / 3) * n ** (1 / 3)
    assert np.mean(values) == pytest.approx(truth, rel=0.15)


# ------------------------------------------------------------------ serial dependence
def test_normal_scores_share_ranks_of_ties():
    z = normal_scores(np.array([3.0, 1.0, 3.0, 2.0]))
    assert z[0] == z[2] and z[1] < z[3] < z[0]


def test_normal_scores_from_a_given_order_or_without_ties_are_the_rank_definition():
    from scipy.special import ndtri
    from scipy.stats import rankdata

    rng = np.random.default_rng(2)
    for x in (rng.normal(size=500), np.round(rng.normal(size=500), 1)):
        expected = ndtri((rankdata(x) - 0.5) / x.size)  # mean ranks of ties
        np.testing.assert_array_equal(normal_scores(x), expected)
        # another order of x (ties by decreasing row) gives the same scores
        order = np.lexsort((-np.arange(x.size), x))
        np.testing.assert_array_equal(normal_scores(x, order=order), expected)


def _slow_ljung_box(z, m):
    n = len(z)
    z = z - z.mean()
    q = sum((z[:-k] @ z[k:] / (z @ z)) ** 2 / (n - k) for k in range(1, m + 1))
    return n * (n + 2) * q


def test_ljung_box_statistic_matches_its_formula():
    from scipy import stats

    X = ar1_pair(0.2, 300, seed=4)
    p, lag, r = ljung_box(X, 5)
    for j in range(2):
        z = normal_scores(X[:, j])
        q = _slow_ljung_box(z, 5)
        assert p[j] == pytest.approx(stats.chi2.sf(q, 5), rel=1e-9)
        z = z - z.mean()
        autocorrelations = [z[:-k] @ z[k:] / (z @ z) for k in range(1, 6)]
        assert lag[j] == 1 + np.argmax(np.abs(autocorrelations))
        assert r[j] == pytest.approx(autocorrelations[lag[j] - 1])


def test_holm_rejects_step_down():
    np.testing.assert_array_equal(
        holm_reject(np.array([0.003, 0.03, 0.0049]), 0.01), [True, False, True]
    )
    np.testing.assert_array_equal(holm_reject(np.array([0.006, 0.004]), 0.01), [True, True])
    np.testing.assert_array_equal(holm_reject(np.array([0.0051, 0.02]), 0.01), [False, False])


def test_false_alarms_on_iid_rows_are_near_one_percent():
    # 400 data sets of IID rows (n = 500, d = 3): the family-wise level is 0.01, so about
    # 4 alarms are expected; 12 or more has probability < 1e-3 under Binomial(400, 0.01)
    rng = np.random.default_rng(11)
    alarms = sum(serially_dependent(rng.standard_normal((500, 3)))[0].any() for _ in range(400))
    assert alarms <= 11


def test_estimate_warns_on_a_time_series_at_the_users_line():
    X = ar1_pair(0.9, 600, seed=2)
    with pytest.warns(gmmmi.SerialDependenceWarning) as caught:
        gmmmi.estimate(X, random_state=0, n_bootstrap=3)
    (w,) = [w for w in caught if w.category is gmmmi.SerialDependenceWarning]
    assert w.filename == __file__
    assert str(w.message) == (
        "The rows look serially dependent (a time series?): column(s) 'X1' (r1 = 0.84), 'X2' "
        "(r1 = 0.87) are autocorrelated in row order (Ljung-Box test on normal scores, lags "
        "1-6, Holm-corrected at 0.01). Resampling rows one by one treats them as independent "
        'draws, so the uncertainty is too small; use bootstrap="block" (a circular block '
        "bootstrap of runs of consecutive rows). If the row order carries no meaning (e.g. rows "
        "sorted by a variable), ignore this."
    )


def test_no_warning_on_shuffled_rows_with_the_block_bootstrap_or_without_a_bootstrap():
    X = ar1_pair(0.9, 600, seed=2)
    shuffled = X[np.random.default_rng(0).permutation(600)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.SerialDependenceWarning)
        gmmmi.estimate(shuffled, random_state=0, n_bootstrap=3)
        gmmmi.estimate(X, random_state=0, n_bootstrap=3, bootstrap="block")
        gmmmi.estimate(X, random_state=0, n_bootstrap=0)  # a single fit: no interval


# ------------------------------------------------------------------ block bootstrap
def test_block_bootstrap_records_its_kind_and_length(tmp_path):
    X = ar1_pair(0.9, 800, seed=5)
    r = gmmmi.estimate(X, random_state=1, bootstrap="block", n_bootstrap=20)
    L = round(optimal_block_length((X - X.mean(0)) / X.std(0)))
    assert r.diagnostics.extra["bootstrap"] == "block"
    assert r.diagnostics.extra["block_length"] == L
    assert f"(numba, 20 block bootstrap, blocks of {L} rows, K=" in str(r)
    # the fixed-b critical value (gmmmi._intervals), recorded and used by every interval
    assert r.interval_correction == fixed_b(L, 800, replicas=20)
    b = L / 800
    c = stats.t.ppf(0.975, 1 / (2 * b / 3 + 1 / 19)) / math.sqrt(1 - b + b * b / 3)
    assert L == 31 and c / 1.959964 == pytest.approx(1.126, abs=1e-3)  # 12.6% wider than 1.96
    low, high = r.interval()
    assert (high - r.value, r.value - low) == pytest.approx((c * r.sd, c * r.sd), rel=1e-12)
    assert f"  95% interval (value ± {c:.2f} sd, fixed-b): [{low:.3f}, {high:.3f}] nat" in str(r)
    table = r.summary()
    assert table.loc["mi", ["normal_2.5%", "normal_97.5%"]].tolist() == [low, high]
    assert table.attrs["interval"] == f"95% interval (value ± {c:.2f} sd, fixed-b)"
    path = tmp_path / "r.nc"
    r.to_netcdf(path)
    back = gmmmi.load(path)
    assert back.diagnostics.extra["block_length"] == L
    assert back.interval() == (low, high)
    assert str(back) == str(r)
    again = gmmmi.estimate(X, random_state=1, bootstrap="block", n_bootstrap=20)
    np.testing.assert_array_equal(again.draws["mi"], r.draws["mi"])
    given = gmmmi.estimate(X, random_state=1, bootstrap="block", block_length=5.4, n_bootstrap=20)
    assert given.diagnostics.extra["block_length"] == 5  # whole rows
    with pytest.warns(gmmmi.SerialDependenceWarning):
        iid = gmmmi.estimate(X, random_state=1, n_bootstrap=20, fixed_components_number=1)
    assert iid.diagnostics.extra["bootstrap"] == "iid"
    assert iid.diagnostics.extra["block_length"] is None
    assert iid.interval_correction is None
    assert iid.interval()[1] - iid.value == pytest.approx(1.959964 * iid.sd, rel=1e-6)
    block = gmmmi.estimate(
        X, random_state=1, n_bootstrap=20, fixed_components_number=1, bootstrap="block"
    )
    # the same full-data fit up to rounding (different folds start it); only the replicas differ
    assert iid.value == pytest.approx(block.value, rel=1e-9)
    # blocks keep the autocorrelation the IID bootstrap ignores: a wider spread at phi = 0.9
    assert block.sd > 1.5 * iid.sd


def test_block_bootstrap_chooses_k_on_consecutive_segments():
    # random folds put a row's near copies (its neighbours) in the training part, and the
    # validation score rewards spurious components; segments do not (one Gaussian: K = 1)
    X = ar1_pair(0.9, 800, seed=5)
    assert gmmmi.estimate(X, random_state=1, n_bootstrap=0).n_components > 1
    assert gmmmi.estimate(X, random_state=1, n_bootstrap=0, bootstrap="block").n_components == 1


def test_block_bootstrap_with_k_chosen_again_per_replica():
    X = ar1_pair(0.8, 300, seed=6)
    r = gmmmi.estimate(
        X,
        random_state=0,
        bootstrap="block",
        block_length=8,
        n_bootstrap=3,
        reselect_components=True,
    )
    assert r.diagnostics.extra["bootstrap"] == "block"
    assert len(r.diagnostics.extra["replica_n_components"]) == 3


_THREADS_SCRIPT = """
import hashlib, numpy as np
import gmmmi._threads as threads
from gmmmi.backends.numba import NumbaBackend
threads.PARALLEL_MIN_WORK = 0.0
from scipy import signal, stats
rng = np.random.default_rng(5)
X = signal.lfilter([1.0], [1.0, -0.8], rng.standard_normal((600, 2)), axis=0)
X = (X - X.mean(0)) / X.std(0)
draws, diag = NumbaBackend().fit(X, rng=np.random.default_rng(7), n_bootstrap=6, block_length=9)
h = hashlib.sha256()
for a in (draws.weights, draws.means, draws.covariances):
    h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())
"""


@pytest.mark.slow
def test_block_bootstrap_is_bit_identical_across_thread_counts(outputs_per_thread_count):
    outputs = outputs_per_thread_count(_THREADS_SCRIPT)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (
            {"bootstrap": "blocks"},
            ValueError,
            "bootstrap must be 'iid' (rows resampled one by one: independent rows) or 'block' "
            "(the circular block bootstrap: blocks of consecutive rows, for time series); got "
            "'blocks'.",
        ),
        (
            {"bootstrap": "block", "block_length": 0.5},
            ValueError,
            "block_length must be a block length in rows between 1 and the number of rows "
            "(200); got 0.5. None chooses it from the data (Politis-White).",
        ),
        (
            {"bootstrap": "block", "block_length": 201},
            ValueError,
            "block_length must be a block length in rows between 1 and the number of rows "
            "(200); got 201. None chooses it from the data (Politis-White).",
        ),
        (
            {"bootstrap": "block", "block_length": "5"},
            TypeError,
            "block_length must be a number of rows (float) or None; got '5' (str).",
        ),
        (
            {"block_length": 5},
            ValueError,
            "block_length=5 is only used with bootstrap='block'; pass bootstrap='block' or drop "
            "block_length.",
        ),
        (
            {"bootstrap": "block", "backend": "pymc"},
            ValueError,
            "bootstrap='block' is not available with backend='pymc': its likelihood treats the "
            "rows as independent draws, so its uncertainty is too small for a time series. Use "
            "backend='numba' with bootstrap='block' (a circular block bootstrap of runs of "
            "consecutive rows).",
        ),
    ],
)
def test_bad_bootstrap_options(kwargs, error, text):
    X = np.random.default_rng(0).standard_normal((200, 2))
    with pytest.raises(error) as info:
        gmmmi.estimate(X, random_state=0, **kwargs)
    assert str(info.value) == text


def test_block_bootstrap_refuses_a_discrete_label():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError) as info:
        gmmmi.estimate(
            rng.standard_normal(300), rng.integers(0, 2, 300), discrete_y=True, bootstrap="block"
        )
    assert str(info.value) == (
        "bootstrap='block' cannot be combined with discrete_y=True: each category is fitted on "
        "its own rows, which are not consecutive in time. Use bootstrap='iid', or treat y as "
        "continuous."
    )


def test_estimate_many_refuses_a_bad_bootstrap_before_any_task():
    with pytest.raises(ValueError, match="bootstrap must be 'iid'"):
        gmmmi.estimate_many([(np.zeros(10), np.ones(10))], bootstrap="circular")


# ------------------------------------------------------------------ transfer entropy
def _var1(n, seed, a=0.5, b=0.6, c=0.4):
    """x_t = c x_{t-1} + e, y_t = a y_{t-1} + b x_{t-1} + e': x drives y, and TE(x → y)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n, 2))
    x, y = np.zeros(n), np.zeros(n)
    for t in range(1, n):
        x[t] = c * x[t - 1] + e[t, 0]
        y[t] = a * y[t - 1] + b * x[t - 1] + e[t, 1]
    A = np.array([[c, 0.0], [b, a]])
    S = np.eye(2)
    for _ in range(500):  # stationary covariance of (x, y)
        S = A @ S @ A.T + np.eye(2)
    lag1 = A @ S
    residual_without = S[1, 1] - lag1[1, 1] ** 2 / S[1, 1]  # var(y_t | y_{t-1})
    return x[100:], y[100:], 0.5 * math.log(residual_without / 1.0)


def test_transfer_entropy_of_a_gaussian_var1(tmp_path):
    x, y, truth = _var1(3100, seed=0)
    te = gmmmi.transfer_entropy(x, y, random_state=0, n_bootstrap=40, surrogates=19)
    back = gmmmi.transfer_entropy(y, x, random_state=0, n_bootstrap=40)
    assert abs(te.value - truth) < 3 * te.sd
    assert abs(back.value) < 3 * back.sd + 2e-3  # 0 within the interval (bias of 1/N order)
    assert str(te).startswith("TE(x → y) = ")
    assert te.diagnostics.extra["bootstrap"] == "block"
    assert te.meta["transfer_entropy"] == {
        "source": "x",
        "target": "y",
        "history": 1,
        "source_history": 1,
        "delay": 1,
        "rows_used": 2999,
    }
    assert te.meta["p_value"] == pytest.approx(1 / 20)  # no surrogate reaches the coupling
    assert "  p = 0.05 (19 time-shifted surrogates)" in str(te)
    te.to_netcdf(tmp_path / "te.nc")
    assert str(gmmmi.load(tmp_path / "te.nc")) == str(te)


@pytest.mark.slow
# near-deterministic maps: the sharp-relation check says the TE is a lower bound, and it is
# right (audited): y(t) is a map of y(t-1), x(t-1) up to 1e-3 noise, so the true TE(x -> y) is
# large (KSG, ennemi k=3: 1.4 nat at n = 1000, still rising, 2.5 at n = 20000), beyond what a
# few-component mixture resolves. Only the direction is tested here
@pytest.mark.filterwarnings("ignore::gmmmi.SharpRelationWarning")
def test_transfer_entropy_direction_of_coupled_logistic_maps():
    # x drives y (coupling 0.3), y does not drive x; about 40 s on 2 busy cores
    rng = np.random.default_rng(4)
    n = 1000
    x, y = np.empty(n), np.empty(n)
    x[0], y[0] = rng.uniform(0.1, 0.9, 2)
    for t in range(1, n):
        x[t] = 3.9 * x[t - 1] * (1 - x[t - 1])
        y[t] = (1 - 0.3) * 3.6 * y[t - 1] * (1 - y[t - 1]) + 0.3 * 3.9 * x[t - 1] * (1 - x[t - 1])
    x, y = x + 1e-3 * rng.standard_normal(n), y + 1e-3 * rng.standard_normal(n)
    import pandas as pd

    x, y = pd.Series(x, name="x"), pd.Series(y, name="y")
    xy = gmmmi.transfer_entropy(x, y, random_state=0, n_bootstrap=10)
    yx = gmmmi.transfer_entropy(y, x, random_state=0, n_bootstrap=10)
    assert str(yx).startswith("TE(y → x) = ")
    assert xy.interval()[0] > 10 * yx.interval()[1]


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"history": 0}, ValueError, "history must be at least 1 (time steps); got 0."),
        (
            {"source_history": 0},
            ValueError,
            "source_history must be at least 1 (time steps); got 0.",
        ),
        ({"delay": 1.5}, TypeError, "delay must be an integer of at least 1; got 1.5."),
        (
            {"history": 60},
            ValueError,
            "history=60, source_history=1 and delay=1 reach 60 steps into the past, but the "
            "series have 50 values: fewer than 2 rows would remain. Use shorter histories or a "
            "longer series.",
        ),
    ],
)
def test_transfer_entropy_bad_embedding(kwargs, error, text):
    rng = np.random.default_rng(0)
    with pytest.raises(error) as info:
        gmmmi.transfer_entropy(rng.standard_normal(50), rng.standard_normal(50), **kwargs)
    assert str(info.value) == text


def test_transfer_entropy_bad_series():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError) as info:
        gmmmi.transfer_entropy(rng.standard_normal((50, 2)), rng.standard_normal(50))
    assert str(info.value) == (
        "source must be one series: a 1-D array of values in time order; got shape (50, 2). For "
        "several series, call once per series (or condition on the others with z=)."
    )
    gap = rng.standard_normal(50)
    gap[[7, 8, 9]] = np.nan
    with pytest.raises(ValueError) as info:
        gmmmi.transfer_entropy(rng.standard_normal(50), gap)
    assert str(info.value) == (
        "target has 3 missing value(s) (NaN or inf) at row(s) 7, 8, 9. A series with gaps "
        "cannot be shifted in time without pairing the wrong times: fill the gaps (e.g. "
        "interpolate) or analyse the complete segments separately."
    )
    with pytest.raises(ValueError) as info:
        gmmmi.transfer_entropy(rng.standard_normal(50), rng.standard_normal(40))
    assert str(info.value) == (
        "The series must cover the same times (one value each); source has 50, target has 40."
    )


# ------------------------------------------------------------------ lagged MI
def test_lagged_mi_peaks_at_the_coupling_lag(tmp_path):
    rng = np.random.default_rng(3)
    n = 1500
    x = signal.lfilter([1.0], [1.0, -0.5], rng.standard_normal(n))
    y = np.roll(x, 3) + 0.8 * rng.standard_normal(n)  # y(t) = x(t - 3) + noise
    lm = gmmmi.lagged_mi(x, y, lags=range(0, 7), random_state=0, n_bootstrap=20, surrogates=9)
    t = lm.table
    assert list(t.columns) == ["lag", "mi", "sd", "low", "high", "p_value"]
    assert lm.rows_used == n - 6
    assert int(t.loc[t["mi"].idxmax(), "lag"]) == 3
    # the truth at lag 3: Gaussian, var x = 1 / (1 - 0.5^2), correlation^2 = var x / (var x + 0.64)
    var_x = 1 / (1 - 0.25)
    truth = -0.5 * math.log(1 - var_x / (var_x + 0.64))
    row = t[t["lag"] == 3].iloc[0]
    assert abs(row["mi"] - truth) < 3 * row["sd"] + 0.01
    assert row["p_value"] == pytest.approx(0.1)
    assert all(r.diagnostics.extra["bootstrap"] == "block" for r in lm.results)
    ax = lm.plot()
    assert ax.get_xlabel().startswith("lag")
    ax.figure.savefig(tmp_path / "lagged.png")
    assert "rows per lag" in repr(lm)


def test_lagged_mi_bad_lags():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError) as info:
        gmmmi.lagged_mi(rng.standard_normal(30), rng.standard_normal(30), lags=range(-5, 40))
    assert str(info.value) == (
        "lags from -5 to 39 span 44 time steps, but the series have 30 values: fewer than 2 "
        "rows would be shared by every lag. Use shorter lags or a longer series."
    )
    with pytest.raises(TypeError) as info:
        gmmmi.lagged_mi(rng.standard_normal(30), rng.standard_normal(30), lags=[0, 1.5])
    assert str(info.value) == "lags must be integers (time steps); got 1.5."


# ------------------------------------------------------------------ independence_test
def test_independence_test_warns_on_a_time_series_only_when_permuting_rows():
    X = ar1_pair(0.9, 300, seed=8)
    options = {"n_permutations": 9, "random_state": 0, "fixed_components_number": 1}
    with pytest.warns(gmmmi.SerialDependenceWarning) as caught:
        gmmmi.independence_test(X[:, 0], X[:, 1], **options)
    (w,) = [w for w in caught if w.category is gmmmi.SerialDependenceWarning]
    assert w.filename == __file__
    assert str(w.message).endswith(
        "Permuting rows one by one treats them as exchangeable, so the p-value is too small; "
        "use permutation='block' or 'circular' (reorderings that keep each series' "
        "autocorrelation). If the row order carries no meaning (e.g. rows sorted by a "
        "variable), ignore this."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", gmmmi.SerialDependenceWarning)
        gmmmi.independence_test(X[:, 0], X[:, 1], permutation="circular", **options)
