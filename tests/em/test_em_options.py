"""One home for the EM options' defaults and checks, seeds and thread limits."""

import dataclasses
import multiprocessing

import numba
import numpy as np
import pytest

from gmmmi import _cli_common
from gmmmi._em.fit import EMSettings, fit_batch
from gmmmi._em.options import (
    ESTIMATE_DEFAULTS,
    ESTIMATE_OVERRIDES,
    ORIGINAL_DEFAULTS,
    check_options,
)
from gmmmi._seeds import int_seed, sequence_from_generator, spawn_int_seeds
from gmmmi._threads import PARALLEL_MIN_WORK, numba_threads, run_split, threads_for
from gmmmi.backends import get_backend
from gmmmi.backends.pymc import PyMCBackend
from gmmmi.param_holders import (
    GMMFitParamHolder,
    MIDistParamHolder,
    SelectComponentsParamHolder,
)


@pytest.mark.parametrize(
    "holder", [GMMFitParamHolder, SelectComponentsParamHolder, MIDistParamHolder]
)
def test_holders_read_the_original_defaults(holder):
    fields = {f.name: f.default for f in dataclasses.fields(holder) if f.name in ORIGINAL_DEFAULTS}
    assert fields
    assert fields == {name: ORIGINAL_DEFAULTS[name] for name in fields}


def test_estimate_defaults_are_the_originals_with_the_overrides():
    assert ESTIMATE_DEFAULTS == {**ORIGINAL_DEFAULTS, **ESTIMATE_OVERRIDES}
    assert get_backend("numba").options is ESTIMATE_DEFAULTS
    pymc_em = {k: v for k, v in PyMCBackend.options.items() if k in ESTIMATE_DEFAULTS}
    assert pymc_em == {
        k: v
        for k, v in ESTIMATE_DEFAULTS.items()
        if k not in ("n_bootstrap", "reselect_components")
    }
    settings = EMSettings()
    assert (settings.reg_covar, settings.threshold_fit, settings.max_iter) == (
        ESTIMATE_DEFAULTS["reg_covar"],
        ESTIMATE_DEFAULTS["threshold_fit"],
        ESTIMATE_DEFAULTS["max_iter"],
    )


def test_cli_help_shows_the_estimate_defaults():
    helps = {name: text for _, name, _, text in _cli_common._ESTIMATE_FLAGS}
    assert helps["n_inits"] == "initialisations per K (default 1; GMM-MI's 3)"
    assert helps["init_type"] == "initialisation scheme (default kmeans; GMM-MI's random_sklearn)"
    assert helps["threshold_fit"] == "EM log-likelihood tolerance (default 1e-5)"
    assert helps["reg_covar"] == "added to covariance diagonals (default 1e-15)"
    assert helps["scale"] == "initialisation scale (default: none)"
    for name in ("max_components", "n_folds", "metric_method", "patience", "max_iter"):
        assert f"{ESTIMATE_DEFAULTS[name]})" in helps[name]


def test_threshold_fit_zero_is_accepted_everywhere_and_negative_nowhere():
    # GMM-MI 0.8.2 accepts any threshold_fit; 0 means "run every fit to max_iter"
    assert GMMFitParamHolder(threshold_fit=0.0).threshold_fit == 0.0
    assert get_backend("numba").check_options({"threshold_fit": 0.0})["threshold_fit"] == 0.0
    message = r"threshold_fit must be at least 0.0; got -1e-05\."
    with pytest.raises(ValueError, match=message):
        GMMFitParamHolder(threshold_fit=-1e-5)
    with pytest.raises(ValueError, match=message):
        get_backend("numba").check_options({"threshold_fit": -1e-5})


def test_check_options_converts_and_refuses():
    assert check_options({"n_inits": 4.0, "reselect_components": np.True_}) == {
        "n_inits": 4,
        "reselect_components": True,
    }
    with pytest.raises(ValueError, match=r"Unknown metric_method 'loss'; valid values are"):
        SelectComponentsParamHolder(metric_method="loss")
    with pytest.raises(ValueError, match=r"n_folds must be at least 2; got 1\."):
        check_options({"n_folds": 1})


def test_one_word_generator_seed_is_the_old_scalar_draw():
    for seed in range(20):
        old = np.random.SeedSequence(int(np.random.default_rng(seed).integers(2**63)))
        new = sequence_from_generator(np.random.default_rng(seed), words=1)
        np.testing.assert_array_equal(old.generate_state(4), new.generate_state(4))


def test_int_seeds_stay_below_2_to_the_63():
    root = np.random.SeedSequence(12345)
    seeds = spawn_int_seeds(root, 50)
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    first = int(np.random.SeedSequence(12345).spawn(1)[0].generate_state(1, np.uint64)[0])
    assert spawn_int_seeds(np.random.SeedSequence(12345), 1) == [first % 2**63]
    assert int_seed(np.random.SeedSequence(7)) == int(
        np.random.SeedSequence(7).generate_state(1, np.uint64)[0] >> np.uint64(1)
    )


def test_thread_limits_restore_the_count():
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    with numba_threads(10**6):
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    with numba_threads(None):
        assert numba.get_num_threads() == before
    with threads_for(0.0):
        assert numba.get_num_threads() == 1
    with threads_for(1e12):
        assert numba.get_num_threads() == before
    assert numba.get_num_threads() == before


def _split_in_child(queue):
    queue.put(run_split(lambda part: (part.start, part.stop), 5, 2))


def test_run_split_keeps_the_order_and_works_in_a_forked_child():
    assert run_split(lambda part: (part.start, part.stop), 10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert run_split(lambda part: (part.start, part.stop), 2, 8) == [(0, 1), (1, 2)]
    # the parent's worker threads are not in a forked child: the pool starts afresh there
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_split_in_child, args=(queue,))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
    assert queue.get(timeout=5) == [(0, 2), (2, 5)]


def test_one_component_work_counts_its_closed_form_pass_and_scores():
    """K = 1: a small bootstrap stays on one thread, K > 1 or scored large batches do not."""
    from gmmmi._em.fit import _em_work

    def work(n_rows, n_fits, k, valid=0, score=False):
        ptr = np.arange(n_fits + 1) * n_rows
        vptr = np.arange(n_fits + 1) * valid
        rows, vrows = np.zeros(ptr[-1], np.int64), np.zeros(vptr[-1], np.int64)
        return _em_work(rows, vrows, np.arange(n_fits), ptr, vptr, k, score)

    # rho=0.6 N=1e4: 50 unscored replicas, one closed-form pass each (0.25 E-step a row)
    assert work(10_000, 50, 1) == 0.25 * 500_000 < PARALLEL_MIN_WORK
    # scored fits add an E-step pass over the training and one over the validation rows
    assert work(300_000, 2, 1, valid=300_000, score=True) == 600_000 * 1.25 + 600_000
    assert work(10_000, 50, 2) == 2 * 100 * 500_000 >= PARALLEL_MIN_WORK


def test_threaded_em_and_quadrature_do_not_depend_on_the_thread_count():
    from gmmmi.datasets import paper_mixture
    from gmmmi.integrate._quadrature import quad_rule, quad_term
    from gmmmi.mixture import MixtureDraws

    rng = np.random.default_rng(5)
    X = paper_mixture("D3").sample(600, rng)[0]
    sets = [(rng.integers(0, 600, 600), np.ones(600)) for _ in range(10)]
    init = (
        np.full((10, 2), 0.5),
        X[None, :2].repeat(10, axis=0),
        np.tile(np.eye(2), (10, 2, 1, 1)),
    )
    assert 10 * 600 * 2 * 100 >= PARALLEL_MIN_WORK  # _em_work: the batch runs in threads
    names = ("D3", "D5", "D3p", "D5p") * 4
    draws = MixtureDraws.concatenate([paper_mixture(n) for n in names])
    nodes = quad_rule(2)[0].shape[0]
    assert draws.n_draws * draws.n_components**2 * nodes >= PARALLEL_MIN_WORK
    runs = []
    for threads in (1, 2):
        with numba_threads(threads):
            fit = fit_batch(X, sets, np.arange(10), init, EMSettings(), score_final=True)
            runs.append((fit.weights, fit.means, fit.covariances, fit.n_iter, fit.train_ll))
            runs[-1] += quad_term(draws, draws)
    for one, two in zip(*runs, strict=True):
        np.testing.assert_array_equal(one, two)
