"""Every warning gmmmi raises points at the user's line (docs/trust.md explains each one).

Each case triggers one warning from this file and checks the exact message
and that ``w.filename`` is this test file: a wrong ``stacklevel`` would name
a file inside gmmmi instead.
"""

import warnings

import numpy as np
import pytest

import gmmmi
from gmmmi.backends.numba import NumbaBackend
from gmmmi.exceptions import (
    ConvergenceWarning,
    DataUnitsWarning,
    IntegrationWarning,
    TaskFailedWarning,
)

QUICK = {"n_bootstrap": 2, "n_inits": 1, "max_components": 2}


def caught(call):
    """The warnings ``call()`` raises, all of them (no de-duplication)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    return record


def assert_at_user_line(record, category, match):
    hits = [w for w in record if issubclass(w.category, category) and match in str(w.message)]
    assert hits, f"no {category.__name__} matching {match!r} in {[str(w.message) for w in record]}"
    for w in hits:
        assert w.filename == __file__, f"{category.__name__} points at {w.filename}:{w.lineno}"


@pytest.fixture
def xy(rng):
    x = rng.normal(size=200)
    return x, x + rng.normal(size=200)


def test_max_iter(xy):
    record = caught(lambda: gmmmi.estimate(*xy, max_iter=1, random_state=0, **QUICK))
    assert_at_user_line(record, ConvergenceWarning, "EM fits stopped at max_iter=1")


def test_component_search_stopped_at_max_components(xy):
    x, y = xy
    record = caught(
        lambda: gmmmi.estimate(
            np.r_[x, x + 8], np.r_[y, y - 8], max_components=1, n_bootstrap=2, random_state=0
        )
    )
    assert_at_user_line(record, ConvergenceWarning, "did not converge up to K=1")


def test_short_cross_validation_fits(xy):
    x, y = xy  # two clusters: K=2 is chosen although its fits stopped at once
    two = np.r_[x, x + 8], np.r_[y, y - 8]
    record = caught(lambda: gmmmi.estimate(*two, threshold_fit=1e3, random_state=0, **QUICK))
    assert_at_user_line(record, ConvergenceWarning, "stopped within 2 EM iterations")


def test_degenerate_and_collapsed_fits_on_repeated_rows(rng):
    x, y = np.repeat(rng.normal(size=(2, 20)), 10, axis=1)
    # K forced above the 20 distinct points' support (cross-validation would keep K=1)
    record = caught(
        lambda: gmmmi.estimate(
            x, y, n_bootstrap=5, reg_covar=0, fixed_components_number=4, random_state=0
        )
    )
    assert_at_user_line(record, ConvergenceWarning, "data may be degenerate")
    assert_at_user_line(record, ConvergenceWarning, "had a collapsed component")


def test_data_units(xy):
    x, y = xy
    record = caught(lambda: gmmmi.estimate(x * 1e200, y, random_state=0, **QUICK))
    assert_at_user_line(record, DataUnitsWarning, "cannot be stored in data units")


def test_integral_error_above_tolerance(monkeypatch):
    # no real fit needs this: a tolerance of 1e-12 nat makes every quadrature error too large
    monkeypatch.setattr(gmmmi.integrate.rules, "TOLERANCE", 1e-12)
    monkeypatch.setattr(gmmmi.integrate.rules, "_QMC_LEVELS", (9,))
    X = gmmmi.datasets.paper_mixture("D3").sample(300, np.random.default_rng(0))[0]
    record = caught(
        lambda: gmmmi.integrate.mutual_information(gmmmi.datasets.paper_mixture("D3"), 0, 1)
    )
    assert_at_user_line(record, IntegrationWarning, "even after refinement")
    record = caught(lambda: gmmmi.estimate(X, random_state=0, **QUICK))
    assert_at_user_line(record, IntegrationWarning, "even after refinement")


class _CheckedBackend(NumbaBackend):
    """The numba backend with a sampler-style check, the path the PyMC backend's warnings take."""

    def check(self, diagnostics):
        return ["3 of 50 draws followed a divergent transition."]


def test_backend_check(xy):
    record = caught(lambda: gmmmi.estimate(*xy, backend=_CheckedBackend(), random_state=0, **QUICK))
    assert_at_user_line(record, ConvergenceWarning, "3 of 50 draws followed a divergent")


def test_task_warnings_and_failures_of_estimate_many_and_mi_matrix(xy):
    x, y = xy
    tasks = [(x, y), (x, y[:10])]
    record = caught(lambda: gmmmi.estimate_many(tasks, max_iter=1, random_state=0, **QUICK))
    assert_at_user_line(record, ConvergenceWarning, "task 0: ")
    assert_at_user_line(record, TaskFailedWarning, "1 of 2 tasks failed")
    data = {"a": x, "b": y}
    record = caught(lambda: gmmmi.mi_matrix(data, max_iter=1, random_state=0, **QUICK))
    assert_at_user_line(record, ConvergenceWarning, "task 0 (a; b): ")


def test_tasks_on_named_columns_carry_the_names_into_estimates_and_warnings(xy):
    """Not x0/y0: a warning about a pair of a matrix names the user's columns."""
    x, y = xy
    data = {"speed": x, "size": y, "mass": (x - y) ** 2}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = gmmmi.estimate_many(
            [("speed", "size", "mass"), (x, y)], data=data, max_iter=1, random_state=0, **QUICK
        )
        plain = gmmmi.estimate_many([(x, y, (x - y) ** 2)], max_iter=1, random_state=0, **QUICK)
    assert str(res[0]).startswith("CMI(speed; size | mass) = ")
    assert str(res[1]).startswith("MI(x0; y0) = ")
    shown = [str(w.message).split(": ", 1)[0] for w in record]
    assert "task 0 (speed; size | mass)" in shown and "task 1" in shown
    assert float(res[0].value) == float(plain[0].value)  # names change no number


def test_independence_test_reissues_its_fits_warnings(xy):
    record = caught(
        lambda: gmmmi.independence_test(
            *xy, n_permutations=3, max_iter=1, fixed_components_number=2, random_state=0
        )
    )
    assert_at_user_line(record, ConvergenceWarning, "independence_test (the observed data's fit")
    assert_at_user_line(record, ConvergenceWarning, "3 of 3 permuted fits")
