"""Property-based tests of `gmmmi.estimate`'s inputs (issue 10).

Whatever the input (random shapes; float, int, bool, complex, object,
masked and pandas containers; NaN, inf, pandas NA, values of 1e±300,
constant columns, duplicated rows, near-duplicate columns, missing labels),
every call either returns a `Result` whose reported numbers are all finite,
or raises a gmmmi ``ValueError``/``TypeError`` with a message: an exception
of exactly those types, raised from gmmmi's own code, never another type,
never numpy's or numba's error passed through, never a NaN.

Hypothesis runs derandomized (fixed examples, reproducible in CI) with small
data and ``n_bootstrap=2`` so that the whole module stays fast.
"""

import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmmmi

GMMMI_DIR = os.path.dirname(gmmmi.__file__)

#: cheap settings: a few small fits per example
OPTIONS = {"n_bootstrap": 2, "n_inits": 1, "max_components": 2, "max_iter": 200}
#: warnings gmmmi may legitimately raise on odd data
GMMMI_WARNINGS = (gmmmi.ConvergenceWarning, gmmmi.IntegrationWarning, gmmmi.DataUnitsWarning)

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONTAINERS = ("float64", "float32", "int", "bool", "complex", "object", "list", "masked", "pandas")
SPECIALS = (np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-300, 0.0)


@st.composite
def columns(draw, n, d):
    """(n, d) float64 values: Gaussian with perturbations that break or stress a fit."""
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).normal(size=(n, d))
    for _ in range(draw(st.integers(0, 3))):
        _perturb(values, draw)
    return values


def _perturb(values, draw):
    """One perturbation of ``values`` in place: a special value, a constant column..."""
    n, d = values.shape
    kind = draw(st.sampled_from(["special", "constant", "duplicates", "scale", "copy", "round"]))
    j = draw(st.integers(0, d - 1))
    with np.errstate(over="ignore", under="ignore"):
        if kind == "special":
            values[draw(st.integers(0, n - 1)), j] = draw(st.sampled_from(SPECIALS))
        elif kind == "constant":
            values[:, j] = draw(st.sampled_from([0.0, 1.0, 1e300]))
        elif kind == "duplicates":
            values[n // 2 :] = values[: n - n // 2]
        elif kind == "scale":
            values[:, j] *= 10.0 ** draw(st.integers(-300, 300))
        elif kind == "copy" and d > 1:  # a near-duplicate column
            noise = draw(st.sampled_from([0.0, 1e-12, 1e-9, 1e-3]))
            values[:, (j + 1) % d] = values[:, j] + noise * values[:, (j + 1) % d]
        elif kind == "round":
            values[:, j] = np.round(values[:, j])


def as_container(values, kind, draw):
    """``values`` (n, d) in one of CONTAINERS, 1-D when d == 1 and the draw says so."""
    if values.shape[1] == 1 and draw(st.booleans()):
        values = values[:, 0]
    with np.errstate(all="ignore"):
        if kind == "float32":
            return values.astype(np.float32)
        if kind == "int":
            safe = np.isfinite(values) & (np.abs(values) < 1e15)
            return np.where(safe, np.round(values), 0).astype(np.int64)
        if kind == "bool":
            return values > 0
        if kind == "complex":
            return values + 1j * draw(st.sampled_from([0.0, 1.0]))
        if kind == "object":
            out = values.astype(object)
            if draw(st.booleans()):
                out.flat[0] = draw(st.sampled_from(["1.5", None, pd.NA, "a"]))
            return out
        if kind == "list":
            return values.tolist()
        if kind == "masked":
            mask = np.zeros(values.shape, dtype=bool)
            if draw(st.booleans()):
                mask.flat[draw(st.integers(0, mask.size - 1))] = True
            return np.ma.array(values, mask=mask, fill_value=1e30)
        if kind == "pandas":
            frame = pd.DataFrame(np.atleast_2d(values.T).T).astype("Float64")
            frame = frame.mask(frame.isna() | ~np.isfinite(frame.to_numpy(float, na_value=0)))
            if draw(st.booleans()):
                frame.index = frame.index[::-1]
            return frame.iloc[:, 0] if values.ndim == 1 else frame
    return values


@st.composite
def labels(draw, n):
    """Category labels of mixed kinds, with missing ones now and then."""
    kind = draw(st.sampled_from(["int", "str", "bool", "Int64", "datetime"]))
    seed = draw(st.integers(0, 2**32 - 1))
    codes = np.random.default_rng(seed).integers(0, draw(st.integers(1, 3)), size=n)
    out = {
        "int": list(codes),
        "str": [f"c{c}" for c in codes],
        "bool": list(codes > 0),
        "Int64": pd.Series(codes, dtype="Int64"),
        "datetime": list(pd.to_datetime(codes, unit="D")),
    }[kind]
    if draw(st.booleans()):
        missing = draw(st.sampled_from([None, np.nan, pd.NA, pd.NaT]))
        out = list(out)
        out[draw(st.integers(0, n - 1))] = missing
    return out


@st.composite
def estimate_inputs(draw):
    """Positional and keyword arguments of one `gmmmi.estimate` call."""
    n = draw(st.integers(1, 12) | st.integers(24, 60))  # too few rows, or enough for most
    form = draw(st.sampled_from(["single", "xy", "xyz", "discrete", "kl"]))
    dx = draw(st.integers(1, 2))
    dy = dx if form == "kl" else draw(st.integers(1, 2))

    def variable(d):
        return as_container(draw(columns(n, d)), draw(st.sampled_from(CONTAINERS)), draw)

    if form == "single":
        return (variable(draw(st.integers(1, 4))),), {}
    if form == "discrete":
        return (variable(dx), draw(labels(n))), {"discrete_y": True}
    kwargs = {"kl": True} if form == "kl" else {}
    if form == "xyz":
        kwargs["z"] = variable(draw(st.integers(1, 2)))
    return (variable(dx), variable(dy)), kwargs


def _raised_in_gmmmi(err: BaseException) -> bool:
    """True when the innermost frame of the traceback is gmmmi's own code."""
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return os.path.dirname(tb.tb_frame.f_code.co_filename).startswith(GMMMI_DIR)


def check_call(args, kwargs):
    """The property: a finite Result, or a gmmmi ValueError/TypeError with a message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GMMMI_WARNINGS)
        warnings.simplefilter("error", RuntimeWarning)  # numpy overflow/invalid leaking out
        try:
            result = gmmmi.estimate(*args, random_state=0, **kwargs, **OPTIONS)
        except (ValueError, TypeError) as err:
            assert type(err) in (ValueError, TypeError), f"{type(err).__name__}: {err}"
            assert _raised_in_gmmmi(err), f"raised outside gmmmi: {type(err).__name__}: {err}"
            assert len(str(err)) > 20, f"no message: {err!r}"
            return None
    assert isinstance(result, gmmmi.Result)
    for key, draws in result.draws.items():
        assert np.isfinite(draws).all(), f"non-finite {key} draws: {draws}"
        assert np.isfinite(result.point[key]), f"non-finite {key}: {result.point[key]}"
    assert np.isfinite(result.sd)
    return result


@PROPERTY_SETTINGS
@given(estimate_inputs())
def test_estimate_returns_a_finite_result_or_a_gmmmi_error(call):
    args, kwargs = call
    check_call(args, kwargs)


@PROPERTY_SETTINGS
@given(st.integers(6, 40), st.integers(-300, 300), st.integers(-300, 300))
def test_rescaled_columns_give_the_same_mi(n, power_x, power_y):
    """MI is invariant under per-column scaling, at any scale float64 holds."""
    values = np.random.default_rng(n).multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=n)
    scaled = values * [10.0**power_x, 10.0**power_y]
    reference = check_call((values,), {})
    result = check_call((scaled,), {})
    if reference is None:  # too few rows: the scaled data must be refused alike
        assert result is None
        return
    assert result is not None
    assert result.value == pytest.approx(reference.value, rel=1e-9, abs=1e-9 * reference.sd)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(estimate_inputs())
def test_estimate_mi_validates_like_estimate(call):
    """`EstimateMI.fit` accepts and refuses what `estimate` does, with the same messages."""
    args, kwargs = call
    if set(kwargs) - {"discrete_y"}:
        return  # EstimateMI has no z and no kl at fit time
    categorical = kwargs.get("discrete_y", False)
    est = gmmmi.EstimateMI(
        gmmmi.GMMFitParamHolder(max_iter=200),
        gmmmi.SelectComponentsParamHolder(n_inits=1, max_components=2),
        random_state=0,
    )
    fit = est.fit_categorical if categorical else est.fit
    expected = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GMMMI_WARNINGS)
        try:
            gmmmi.estimate(*args, random_state=0, **kwargs, **OPTIONS)
        except (ValueError, TypeError) as err:
            expected = err
        if expected is None:
            fit(*args)
            assert np.isfinite(est.fit_result.value)
        else:
            with pytest.raises(type(expected)) as caught:
                fit(*args)
            # EstimateMI keeps arrays, so pandas column names become positional ones
            assert _unnamed(str(caught.value)) == _unnamed(str(expected))


def _unnamed(message: str) -> str:
    return re.sub(r"'[^']*'", "'...'", message)
