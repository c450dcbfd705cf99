"""Helpers shared by the test files: paths, data makers, assertions and hand-built results.

Fixtures live in ``conftest.py``; the slow, obviously correct oracles in ``reference.py``.
Test files import from here (``from helpers import ...``); a test file never imports another.
"""

import os
import pickle
import re
import signal
import subprocess
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from scipy import stats

import gmmmi
from gmmmi.diagnostics import DrawKind, EMSelection, FitDiagnostics
from gmmmi.mixture import MixtureDraws
from gmmmi.result import Result

from reference import random_covariance

#: the tests folder, the repository root, and the data files the tests read
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"


# ------------------------------------------------------------------ docs pages
#: a fenced python block, and the output block quoted after it if there is one
BLOCK = re.compile(
    r"^```python[ \t]*(?P<tag>[\w-]*)\n(?P<code>.*?)^```[ \t]*\n"
    r"(?:\s*^```output[ \t]*\n(?P<output>.*?)^```)?",
    re.M | re.S,
)


def python_blocks(text):
    """(line number, code, quoted output or None) of every runnable python block."""
    return [
        (text[: m.start()].count("\n") + 1, m["code"], m["output"])
        for m in BLOCK.finditer(text)
        if m["tag"] != "no-run"
    ]


# ------------------------------------------------------------------ data
def gaussian_pair(n, seed, rho=0.6):
    """n rows of a bivariate Gaussian with unit variances and correlation ``rho``, seeded."""
    return np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)


# ------------------------------------------------------------------ saved files
def forbid_unpickling(monkeypatch):
    """From here on in the test, ``pickle.load(s)`` fail: loading a saved file must not unpickle."""

    def refuse(*args, **kwargs):
        raise AssertionError("loading must not unpickle anything")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


# ------------------------------------------------------------------ mixed data
def zero_inflated(rng, n=2000, dependent=True):
    """x, e ~ G(rho = 0.6); y = 0 with probability sigmoid(2x), else exp(e) (or exp of noise).

    A point mass at 0 in a continuous y (tests/estimands/test_mixed.py and
    benchmarks/bench_mixed.py); its MI is `zero_inflated_truth`. Returns x, y of shape (n,).
    """
    x, e = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], n).T
    if not dependent:
        e = rng.normal(size=n)
    zero = rng.random(n) < 1 / (1 + np.exp(-2 * x))
    return x, np.where(zero, 0.0, np.exp(e))


def zero_inflated_truth(dependent=True):
    """I(x; y) of `zero_inflated` in nats, on a grid.

    ``I(x; 1[y = 0]) + P(y != 0) I(x; y | y != 0)``.
    """
    g = np.linspace(-9, 9, 1201)
    dx = g[1] - g[0]
    s = 1 / (1 + np.exp(-2 * g))
    px = stats.norm.pdf(g)

    def hb(p):
        return -(p * np.log(p) + (1 - p) * np.log1p(-p))

    i_atom = hb((px * s).sum() * dx) - (px * hb(np.clip(s, 1e-300, 1 - 1e-16))).sum() * dx
    if not dependent:
        return i_atom
    X, E = np.meshgrid(g, g, indexing="ij")
    f = stats.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]]).pdf(np.dstack([X, E]))
    w = f * (1 - s)[:, None]
    p0 = w.sum() * dx * dx
    w /= p0
    outer = w.sum(1)[:, None] * w.sum(0)[None, :] * dx * dx
    i_rest = np.sum(np.where(w > 0, w * np.log(np.where(w > 0, w, 1) / outer), 0)) * dx * dx
    return i_atom + p0 * i_rest


def standardise(X):
    """Each column to mean 0 and sd 1 (ddof=0), as the backends receive the data."""
    return (X - X.mean(axis=0)) / X.std(axis=0)


# ------------------------------------------------------------- assertions
def assert_within_sd(result, truth, k=3.0):
    """The estimate is within ``k`` of its own (finite, positive) sd of the truth."""
    assert np.isfinite(result.sd) and result.sd > 0, result
    assert abs(result.value - truth) < k * result.sd, f"{result} vs truth {truth:.4f}"


def mc_check(log_ratio, truth, n_se=4.0):
    """Assert the MC mean of a log density ratio is within n_se standard errors of truth."""
    mean = log_ratio.mean()
    se = log_ratio.std(ddof=1) / np.sqrt(log_ratio.size)
    assert abs(mean - truth) < n_se * se, (mean, truth, se)
    return mean, se


def interrupt_after_start(args, started, *, on="stdout", wait=2.0):
    """Run ``args``; SIGINT ``wait`` s after ``started`` appears on ``on``; (rc, out, err)."""
    # the checkout under test first on the path, wherever pytest was started
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # a shell without job control starts children with SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = b""
    stream = getattr(proc, on)
    while started not in seen:
        chunk = os.read(stream.fileno(), 256)
        assert chunk, f"the process ended before {started!r}"
        seen += chunk
    time.sleep(wait)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    if on == "stdout":
        out = seen + out
    else:
        err = seen + err
    return proc.returncode, out.decode(), err


def render(fig, path, *, dpi=90, min_bytes=5_000):
    """Save ``fig`` to PNG (drawing errors surface here), check it is a real image, close it."""
    fig.savefig(path, dpi=dpi)
    assert path.stat().st_size > min_bytes  # a real image, not an empty canvas
    plt.close(fig)


# ------------------------------------------------ results built by hand (known numbers)
def make_mixture(rng, S, K, d):
    w = rng.dirichlet(np.ones(K), size=S)
    m = rng.normal(size=(S, K, d))
    c = np.stack([[random_covariance(rng, d, condition=4.0) for _ in range(K)] for _ in range(S)])
    return MixtureDraws(w, m, c)


def exact_sample(rng, shape, mean, sd):
    """Draws whose sample mean and sample sd (ddof=1) are exactly ``mean`` and ``sd``."""
    z = rng.standard_normal(shape)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


def make_meta(**changes):
    meta = {
        "backend": "numba",
        "method": "bootstrap",
        "quantity": "mi",
        "unit": "nat",
        "base": float(np.e),
        "n_samples": 500,
        "labels": {"x": ["height"], "y": ["weight"]},
        "blocks": {"x": [0], "y": [1]},
        "integral_method": "quad",
        "options": {"n_inits": 3, "reg_covar": 1e-15, "init_type": "random_sklearn", "scale": None},
        "random_state": 12345,
        "gmmmi_version": gmmmi.__version__,
    }
    meta.update(changes)
    return meta


def make_bootstrap_result(rng, *, B=50, K=2, kl=True):
    """A fake 50-replica bootstrap: MI draws with mean 0.2 and sd exactly 0.04, point 0.21."""
    mixture = make_mixture(rng, B, K, 2)
    mi = exact_sample(rng, (1, B), 0.2, 0.04)
    draws, point = {"mi": mi}, {"mi": 0.21}
    if kl:
        draws.update(kl_xy=exact_sample(rng, (1, B), 0.5, 0.05), kl_yx=2 * mi)
        point.update(kl_xy=0.52, kl_yx=0.43)
    curves = [rng.normal(size=n).cumsum() for n in (7, 3, 12, 5)]
    diagnostics = FitDiagnostics(
        kind=DrawKind.BOOTSTRAP,
        n_components=K,
        sample_shape=(1, B),
        reference_fit=make_mixture(rng, 1, K, 2),
        n_iter=rng.integers(5, 200, size=B),
        converged=rng.random(B) < 0.9,
        extra={"init": "random_sklearn", "seconds": 1.25, "not_json": object()},
        selection=EMSelection(
            metric_per_k={"n_components": [1, 2, 3], "valid": [-2.9, -2.7, -2.71]},
            metric_method="valid",
            loss_curves={"train": curves[:2], "valid": curves[2:]},
            reached_max_components=False,
        ),
    )
    return Result(
        draws=draws,
        point=point,
        integration_error={k: np.abs(rng.normal(scale=1e-7, size=(1, B))) for k in draws},
        mixture=mixture,
        diagnostics=diagnostics,
        meta=make_meta(),
    )


def make_posterior_result(rng, *, chains=2, draws=200, K=3):
    """A fake NUTS posterior of a CMI (d = 3: x, y, z), with sampler stats."""
    S = chains * draws
    cmi = rng.normal(0.3, 0.05, size=(chains, draws))
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), rng.random((chains, draws)) < 0.01),
            "step_size": (("chain", "draw"), rng.uniform(0.1, 0.3, (chains, draws))),
            "tree_depth": (("chain", "draw"), rng.integers(1, 6, (chains, draws))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
        attrs={"sampling_time": 12.5},
    )
    diagnostics = FitDiagnostics(
        kind=DrawKind.POSTERIOR,
        n_components=K,
        sample_shape=(chains, draws),
        method="NUTS",
        n_iter=np.full(S, 1000),
        converged=np.ones(S, dtype=bool),
        sample_stats=stats,
        extra={"tune": 1000},
    )
    meta = make_meta(
        backend="pymc",
        method="NUTS",
        quantity="cmi",
        labels={"x": ["a"], "y": ["b"], "z": ["c"]},
        blocks={"x": [0], "y": [1], "z": [2]},
        random_state=None,
    )
    return Result(
        draws={"cmi": cmi},
        point={"cmi": float(cmi.mean())},
        integration_error={"cmi": np.full((chains, draws), 1e-9)},
        mixture=make_mixture(rng, S, K, 3),
        diagnostics=diagnostics,
        meta=meta,
    )


def make_single_fit_result(rng):
    diagnostics = FitDiagnostics(kind=DrawKind.SINGLE_FIT, n_components=1, sample_shape=(1, 1))
    return Result(
        draws={"mi": np.array([[0.213456]])},
        point={"mi": 0.213456},
        integration_error={"mi": np.array([[1e-8]])},
        mixture=make_mixture(rng, 1, 1, 2),
        diagnostics=diagnostics,
        meta=make_meta(method="single fit"),
    )
