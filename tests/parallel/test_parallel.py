"""estimate_many / mi_matrix: identical results on every executor, failures kept in their slots."""

import gc
import math
import multiprocessing
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import gmmmi
from gmmmi.exceptions import TaskFailedWarning
from gmmmi.matrix import MIMatrix
from gmmmi.parallel import TaskError
from gmmmi.parallel.shipping import _Shipment
from gmmmi.parallel.tasks import _task_seeds
from gmmmi.result import Result, format_pm

#: small and fast: the point is the plumbing, not the statistics
FAST = {"n_bootstrap": 4, "n_inits": 1, "max_components": 3}
RHO = 0.8
TRUTH = -0.5 * math.log(1 - RHO**2)


def correlated(rng, n=300):
    """Columns a, b (correlation RHO), c (independent of both)."""
    ab = rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], n)
    return {"a": ab[:, 0], "b": ab[:, 1], "c": rng.normal(size=n)}


def values(results):
    """(point, draws) of each result, None for a TaskError: what 'identical' compares."""
    return [
        None if isinstance(r, TaskError) else (r.value, r.draws[r.quantity].tolist())
        for r in results
    ]


def tasks_with_failures(data):
    bad = data["a"].copy()
    bad[5] = np.nan
    return [("a", "b"), ("a", "nope"), (bad, data["b"]), ("b", "c")]


def run_quietly(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TaskFailedWarning)
        return gmmmi.estimate_many(**kwargs)


def test_task_seeds_depend_on_position_only():
    assert _task_seeds(7, 3) == _task_seeds(7, 5)[:3]
    assert len(set(_task_seeds(7, 50))) == 50
    assert _task_seeds(7, 3) != _task_seeds(8, 3)
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert _task_seeds(g1, 3) == _task_seeds(g2, 3)


def test_each_task_is_the_estimate_with_its_own_recorded_seed(rng):
    d = correlated(rng)
    (res,) = gmmmi.estimate_many([(d["a"], d["b"])], random_state=3, **FAST)
    assert isinstance(res, Result)
    seed = res.meta["random_state"]
    assert seed == _task_seeds(3, 1)[0]
    direct = gmmmi.estimate(d["a"], d["b"], random_state=seed, **FAST)
    assert values([res]) == values([direct])


def test_column_names_dataframe_and_arrays_give_the_same_results(rng):
    d = correlated(rng)
    by_name = gmmmi.estimate_many([("a", "b"), (["a", "c"], "b")], data=d, random_state=1, **FAST)
    frame = gmmmi.estimate_many(
        [("a", "b"), (["a", "c"], "b")], data=pd.DataFrame(d), random_state=1, **FAST
    )
    arrays = gmmmi.estimate_many(
        [(d["a"], d["b"]), (np.column_stack([d["a"], d["c"]]), d["b"])], random_state=1, **FAST
    )
    assert values(by_name) == values(frame) == values(arrays)
    assert by_name[1].mixture.n_dim == 3


def test_failing_tasks_are_reported_in_their_slots_and_counted(rng):
    d = correlated(rng)
    with pytest.warns(TaskFailedWarning, match="2 of 4 tasks failed"):
        res = gmmmi.estimate_many(tasks_with_failures(d), data=d, random_state=0, **FAST)
    assert [type(r).__name__ for r in res] == ["Result", "TaskError", "TaskError", "Result"]
    assert (res[1].index, res[1].type) == (1, "KeyError")
    assert "'nope'" in res[1].message and "'a', 'b', 'c'" in res[1].message
    assert res[2].index == 2 and "nan" in res[2].message.lower()
    assert "Traceback" in res[2].traceback
    assert str(res[1]).startswith("task 1 failed: KeyError")
    # the survivors are what they would have been without the failures
    alone = gmmmi.estimate_many([("a", "b")], data=d, random_state=0, **FAST)
    assert values(res[:1]) == values(alone)
    assert abs(res[0].value - TRUTH) < 5 * res[0].sd + 0.05


def test_malformed_tasks_are_errors_in_their_slots(rng):
    d = correlated(rng, n=100)
    res = run_quietly(tasks=[(), "ab", ("a", "b", "c", "a")], data=d, **FAST)
    assert all(isinstance(r, TaskError) for r in res)
    assert [r.type for r in res] == ["ValueError", "TypeError", "ValueError"]
    with pytest.raises(TypeError, match="tasks must be a list"):
        gmmmi.estimate_many(np.zeros((3, 2)))


def test_process_pool_columns_are_files_except_python_objects(rng):
    store = {"c0": rng.normal(size=50), "c1": np.array(["up", "down"] * 25, dtype=object)}
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with _Shipment(store, pool) as ship:
        folder = ship._tmp
        np.testing.assert_array_equal(ship.refs["c0"].load(), store["c0"])
        assert ship.refs["c1"] is store["c1"]
    assert not Path(folder).exists()
    pool.shutdown()


@pytest.mark.slow
def test_process_pool_gives_the_serial_results(rng):
    d = correlated(rng)
    tasks = tasks_with_failures(d)
    serial = run_quietly(tasks=tasks, data=d, random_state=11, **FAST)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = run_quietly(tasks=tasks, data=d, random_state=11, executor=pool, **FAST)
    assert values(pooled) == values(serial)
    assert [r.type for r in pooled if isinstance(r, TaskError)] == ["KeyError", "ValueError"]


def test_fork_pool_after_openmp_is_refused_with_advice(rng):
    numba = pytest.importorskip("numba")
    gmmmi.estimate(rng.normal(size=(200, 2)), random_state=0, **FAST)
    if numba.threading_layer() != "omp":
        pytest.skip("only the OpenMP threading layer aborts forked children")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        with pytest.raises(RuntimeError, match="spawn"):
            gmmmi.estimate_many([(np.zeros(10), np.ones(10))], executor=pool)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_results(rng):
    distributed = pytest.importorskip("distributed")
    d = correlated(rng)
    tasks = tasks_with_failures(d)
    serial = run_quietly(tasks=tasks, data=d, random_state=5, **FAST)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = run_quietly(
            tasks=tasks, data=d, random_state=5, executor=client.get_executor(), **FAST
        )
        # a Client is accepted too; the data stay scattered only while the call runs
        again = run_quietly(tasks=tasks[:1], data=d, random_state=5, executor=client, **FAST)
        deadline = time.monotonic() + 30  # releases reach the scheduler asynchronously
        while client.who_has() and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.2)
        assert not client.who_has()
    assert values(remote) == values(serial)
    assert values(again) == values(serial[:1])
    assert isinstance(remote[1], TaskError) and remote[1].type == "KeyError"
    assert isinstance(remote[2], TaskError) and remote[2].type == "ValueError"


def test_mi_matrix_is_labelled_symmetric_and_near_the_truth(rng):
    d = correlated(rng, n=500)
    mat = gmmmi.mi_matrix(pd.DataFrame(d), random_state=2, **FAST)
    assert isinstance(mat, MIMatrix) and mat.symmetric and mat.unit == "nat"
    assert list(mat.mean.index) == list(mat.mean.columns) == ["a", "b", "c"]
    assert np.all(np.isnan(np.diag(mat.mean))) and np.all(np.isnan(np.diag(mat.sd)))
    np.testing.assert_array_equal(mat.mean.to_numpy(), mat.mean.to_numpy().T)
    np.testing.assert_array_equal(mat.sd.to_numpy(), mat.sd.to_numpy().T)
    ab, sd_ab = mat.mean.loc["a", "b"], mat.sd.loc["a", "b"]
    assert abs(ab - TRUTH) < 5 * sd_ab + 0.05
    assert mat.mean.loc["a", "c"] < 0.05 and mat.mean.loc["b", "c"] < 0.05
    # pair k is task k of estimate_many, whatever the executor
    direct = gmmmi.estimate_many(
        [("a", "b"), ("a", "c"), ("b", "c")], data=d, random_state=2, **FAST
    )
    assert [mat.results[p].value for p in [("a", "b"), ("a", "c"), ("b", "c")]] == [
        r.value for r in direct
    ]
    long = mat.to_frame()
    assert list(long[["x", "y"]].itertuples(index=False, name=None)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    assert (long["error"] == "").all()


def test_mi_matrix_against_and_array_names(rng):
    d = correlated(rng, n=300)
    X = np.column_stack([d["a"], d["c"]])
    mat = gmmmi.mi_matrix(X, against={"b": d["b"]}, random_state=0, base=2, **FAST)
    assert not mat.symmetric and mat.unit == "bit"
    assert mat.mean.shape == (2, 1)
    assert list(mat.mean.index) == ["x0", "x1"] and list(mat.mean.columns) == ["b"]
    assert abs(mat.mean.loc["x0", "b"] - TRUTH / math.log(2)) < 5 * mat.sd.loc["x0", "b"] + 0.07
    named = gmmmi.mi_matrix(X, labels=["u", "v"], random_state=0, **FAST)
    assert list(named.mean.columns) == ["u", "v"]
    with pytest.raises(ValueError, match="same number of samples"):
        gmmmi.mi_matrix(X, against={"b": d["b"][:-1]})


def test_mi_matrix_keeps_failed_pairs_and_plots_them(rng):
    d = correlated(rng, n=300)
    d["c"] = d["c"].copy()
    d["c"][0] = np.inf
    with pytest.warns(TaskFailedWarning, match="2 of 3"):
        mat = gmmmi.mi_matrix(d, random_state=0, **FAST)
    assert set(mat.errors) == {("a", "c"), ("b", "c")}
    assert np.isnan(mat.mean.loc["c", "a"]) and np.isfinite(mat.mean.loc["a", "b"])
    assert mat.to_frame()["error"].str.startswith("ValueError").sum() == 2
    ax = mat.plot()
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("failed") == 4  # both triangles
    assert format_pm(mat.mean.loc["a", "b"], mat.sd.loc["a", "b"], sep="±") in texts
    plt.close("all")


def test_heatmap_marks_estimates_within_two_sd_of_zero():
    labels = ["p", "q"]
    mat = MIMatrix(
        mean=pd.DataFrame([[0.5, 0.03]], index=["r"], columns=labels),
        sd=pd.DataFrame([[0.05, 0.04]], index=["r"], columns=labels),
        errors={},
        results={},
        symmetric=False,
    )
    ax = mat.plot()
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_x() == pytest.approx(0.5)  # the q cell
    assert {t.get_text() for t in ax.texts} == {"0.500±0.050", "0.030±0.040"}  # sd to 2 digits
    plt.close("all")


class _FreshLists(Sequence):
    """Tasks built on demand: every access makes new Python lists (freed after use)."""

    def __init__(self, columns):
        self.columns = columns

    def __len__(self):
        return len(self.columns)

    def __getitem__(self, i):
        x, y = self.columns[i]
        return (x.tolist(), y.tolist())


def test_tasks_built_on_demand_each_get_their_own_data(rng):
    # freed lists' ids are reused by the next ones: keying on id() mixed tasks up
    rhos = (0.0, 0.9, 0.3, 0.6)
    columns = [tuple(rng.multivariate_normal([0, 0], [[1, r], [r, 1]], 120).T) for r in rhos]
    fast = {"n_bootstrap": 2, "fixed_components_number": 1}
    results = gmmmi.estimate_many(_FreshLists(columns), random_state=5, **fast)
    for res, (x, y) in zip(results, columns, strict=True):
        direct = gmmmi.estimate(x, y, random_state=res.meta["random_state"], **fast)
        assert values([res]) == values([direct])


def test_colliding_column_names_are_refused_unless_relabelled(rng):
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=[1, "1"])
    with pytest.raises(ValueError, match=r"columns 1 and '1' would both be labelled '1'; rename"):
        gmmmi.mi_matrix(frame, **FAST)
    repeated = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "a"])
    with pytest.raises(ValueError, match=r"columns 'a' and 'a' would both be labelled 'a'"):
        gmmmi.mi_matrix(repeated, **FAST)
    with pytest.raises(ValueError, match="data has two columns named 'a'; rename one"):
        gmmmi.estimate_many([("a", 0)], data=repeated, **FAST)
    mat = gmmmi.mi_matrix(frame, labels=["int 1", "str 1"], random_state=0, **FAST)
    assert list(mat.mean.columns) == ["int 1", "str 1"] and len(mat.results) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"executor": "threads"}, TypeError, r"executor must be None \(run here\), a concurrent"),
        ({"base": "abc"}, TypeError, r"base must be a number; got 'abc' \(str\)"),
        ({"base": 1}, ValueError, "base must be a positive number other than 1"),
        ({"n_bootsrap": 3}, TypeError, r"Unknown option 'n_bootsrap' \(did you mean 'n_bootstrap'"),
        ({"backend": "nope"}, ValueError, "Unknown backend 'nope'"),
        ({"integral_method": "simpson"}, ValueError, "Unknown integral_method 'simpson'"),
        ({"MC_samples": 0}, ValueError, "MC_samples must be at least 1; got 0"),
        ({"max_iter": 0}, ValueError, "max_iter must be at least 1; got 0"),
        ({"backend": "pymc", "draws": 0}, ValueError, "draws must be at least 1; got 0"),
        ({"task_threads": 0}, ValueError, "task_threads must be at least 1; got 0"),
        ({"z": np.zeros(3)}, TypeError, "z is part of each task, not an option of estimate_many"),
    ],
)
def test_bad_options_are_refused_before_any_task_runs(rng, monkeypatch, kwargs, error, message):
    def no_work(*args, **kw):
        raise AssertionError("no task may run with a bad option")

    monkeypatch.setattr("gmmmi.parallel.run._estimate", no_work)
    d = correlated(rng, n=50)
    with pytest.raises(error, match=message):
        gmmmi.estimate_many([("a", "b"), ("a", "c")], data=d, **kwargs)
    with pytest.raises(error, match=message):
        gmmmi.mi_matrix(d, **kwargs)
