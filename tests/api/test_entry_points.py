"""The layered public API: entry points per estimand, one options object, one seed resolver."""

import math
import pickle
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

import gmmmi
from gmmmi._estimate_options import EstimateOptions, resolve_estimate_options, resolve_options
from gmmmi._seeds import check_random_state, resolve_generator, resolve_sequence

from reference import gaussian_kl

FAST = {"n_bootstrap": 3, "max_components": 2}


# ----------------------------------------------------------------------------- seeds
def test_one_seed_resolver_gives_the_seeds_each_call_site_gave():
    # the formulas the five former resolvers used, number for number
    seed, seq = resolve_sequence(7, words=1)
    assert seed == 7 and seq.entropy == 7 and seq.spawn_key == ()
    _, branched = resolve_sequence(7, words=4, branch=2**31)  # mi_matrix's test stream
    old = np.random.SeedSequence(7, spawn_key=(2**31,))
    assert branched.generate_state(4).tolist() == old.generate_state(4).tolist()
    child = np.random.SeedSequence(3).spawn(2)[1]
    _, branched = resolve_sequence(child, words=4, branch=2**31)
    old = np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, 2**31))
    assert branched.generate_state(4).tolist() == old.generate_state(4).tolist()
    for words in (1, 4):
        seed, seq = resolve_sequence(np.random.default_rng(5), words=words)
        draws = np.random.default_rng(5).integers(2**63, size=words).tolist()
        assert seed is None and seq.entropy == draws
    seed, rng = resolve_generator(11)
    assert seed == 11 and rng.random() == np.random.default_rng(11).random()
    given = np.random.default_rng(0)
    assert resolve_generator(given) == (None, given)
    seed, _ = resolve_generator(None)  # a fresh seed, recorded
    assert isinstance(seed, int) and 0 <= seed < 2**63
    assert check_random_state(5.0) == 5  # a float with an integral value, as everywhere


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            "x",
            TypeError,
            r"^random_state must be an integer, a numpy Generator, a SeedSequence or None; "
            r"got 'x' \(str\)\.$",
        ),
        (
            True,
            TypeError,
            r"^random_state must be an integer, a numpy Generator, a SeedSequence or None; "
            r"got True \(bool\)\.$",
        ),
        (-1, ValueError, r"^random_state must be at least 0; got -1\.$"),
        (1.5, ValueError, r"^random_state must be an integer; got 1\.5\.$"),
    ],
)
def test_every_function_refuses_a_bad_random_state_alike(rng, value, error, message):
    x = rng.normal(size=(40, 2))
    with pytest.raises(error, match=message):
        gmmmi.estimate(x, random_state=value, n_bootstrap=0)
    with pytest.raises(error, match=message):
        gmmmi.estimate_many([(x[:, 0], x[:, 1])], random_state=value)
    with pytest.raises(error, match=message):
        gmmmi.independence_test(x[:, 0], x[:, 1], random_state=value)


# --------------------------------------------------------------------------- options
def test_options_are_resolved_once_into_a_frozen_picklable_object():
    resolved = resolve_estimate_options({"discrete_y": True, "n_bootstrap": 7, "base": 2})
    assert isinstance(resolved, EstimateOptions)
    assert resolved.estimand == "categorical" and resolved.discrete_y and not resolved.kl
    assert resolved.fit_options["n_bootstrap"] == 7 and resolved.base == 2.0
    assert resolved.n_components is None and resolved.n_folds == 2
    with pytest.raises(FrozenInstanceError):
        resolved.base = math.e
    resolved.fit_options["n_bootstrap"] = 1  # a copy: the object does not change
    assert resolved.fit_options["n_bootstrap"] == 7
    assert pickle.loads(pickle.dumps(resolved)) == resolved  # ships to worker processes
    assert resolve_options(fixed_components_number=2).n_components == 2


def test_estimate_many_hands_every_task_the_one_resolved_object(rng, monkeypatch):
    seen = []

    def record(x, y, z, options, random_state):
        seen.append(options)
        return "done"

    monkeypatch.setattr("gmmmi.parallel.run._estimate", record)
    x = rng.normal(size=(30, 3))
    tasks = [(x[:, 0], x[:, 1]), (x[:, 0], x[:, 2])]
    assert gmmmi.estimate_many(tasks, n_bootstrap=4) == ["done", "done"]
    assert len(seen) == 2 and seen[0] is seen[1]
    assert seen[0].fit_options["n_bootstrap"] == 4


def test_kl_with_discrete_y_is_refused_before_any_work():
    with pytest.raises(
        ValueError,
        match=r"^kl=True compares the marginals of two continuous variables; it cannot be "
        r"combined with discrete_y=True\.$",
    ):
        resolve_estimate_options({"kl": True, "discrete_y": True})


# ----------------------------------------------------------------------- entry points
def test_categorical_mi_is_estimate_with_discrete_y(rng):
    labels = rng.integers(0, 2, 300)
    x = rng.normal(size=300) + 2.0 * labels
    new = gmmmi.categorical_mi(x, labels, random_state=0, **FAST)
    old = gmmmi.estimate(x, labels, discrete_y=True, random_state=0, **FAST)
    assert new.value == old.value and np.array_equal(new.draws["mi"], old.draws["mi"])
    assert new.meta["categories"] == ["0", "1"]
    pooled = gmmmi.categorical_mi(
        x, np.where(np.arange(300) < 5, 2, labels), min_category_size=10, random_state=0, **FAST
    )
    assert len(pooled.meta["categories"]) == 2  # the 5 rows of label 2 joined a neighbour


def test_marginal_kl_is_estimate_with_kl_and_near_the_closed_form(rng):
    x = rng.normal(size=400)
    y = 2.0 * rng.normal(size=400)
    new = gmmmi.marginal_kl(x, y, random_state=0, n_bootstrap=20, max_components=2)
    old = gmmmi.estimate(x, y, kl=True, random_state=0, n_bootstrap=20, max_components=2)
    assert new.kl == old.kl
    truth = gaussian_kl(np.zeros(1), np.eye(1), np.zeros(1), 4.0 * np.eye(1))
    kl_sd = float(np.std(new.draws["kl_xy"]))
    assert abs(new.kl[0] - truth) < 4 * kl_sd, (new.kl, truth, kl_sd)


def test_estimate_signature_holds_only_mi_and_cmi_options():
    import inspect

    names = set(inspect.signature(gmmmi.estimate).parameters)
    assert not names & {"kl", "discrete_y"}
    assert {"x", "y", "z", "backend", "random_state", "progress", "options"} <= names
    assert "z" not in inspect.signature(gmmmi.categorical_mi).parameters


def test_compare_and_calibration_resolve_each_methods_options_once():
    from gmmmi.studies import METHODS, _check_method_options, _split_options

    methods = [METHODS["bootstrap"], METHODS["single"]]
    resolved = _check_method_options(methods, _split_options(methods, {"n_bootstrap": 7}))
    assert all(isinstance(r, EstimateOptions) for r in resolved.values())
    assert resolved["bootstrap"].fit_options["n_bootstrap"] == 7  # the user's
    assert resolved["single"].fit_options["n_bootstrap"] == 0  # the method's own wins


def test_series_functions_need_an_int_seed_and_say_so(rng):
    x, y = rng.normal(size=(2, 60))
    message = r"^random_state must be an integer or None here; got Generator\.$"
    with pytest.raises(TypeError, match=message):
        gmmmi.transfer_entropy(x, y, random_state=np.random.default_rng(0))
    with pytest.raises(TypeError, match=message):
        gmmmi.lagged_mi(x, y, lags=[1], random_state=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^random_state must be at least 0; got -3\.$"):
        gmmmi.lagged_mi(x, y, lags=[1], random_state=-3)
