"""The helper process that compiles the E-step of a cold first estimate (`gmmmi._precompile`)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from numba.core import config

from gmmmi import _precompile
from gmmmi._kernels.em import _e_step

ROOT = Path(__file__).resolve().parents[2]
#: with the JIT off nothing is compiled, and no helper is ever started
needs_jit = pytest.mark.skipif(config.DISABLE_JIT, reason="no compilation with NUMBA_DISABLE_JIT")


@pytest.fixture
def helper(monkeypatch):
    """`_precompile` with a helper that runs the given code, whatever the cache holds."""
    monkeypatch.delenv(_precompile.ENV, raising=False)
    monkeypatch.setattr(_precompile, "_worth_starting", lambda dispatcher: True)
    monkeypatch.setattr(_precompile, "_helper", None)

    def run(code):
        monkeypatch.setattr(_precompile, "_HELPER_CODE", code)
        return _precompile.start()

    return run


def _fake_kernel(index: Path) -> SimpleNamespace:
    """A compiled-nowhere dispatcher whose cache index would be ``index``."""
    cache = SimpleNamespace(_cache_file=SimpleNamespace(_index_path=str(index)))
    return SimpleNamespace(signatures=[], _cache=cache)


@needs_jit
def test_a_helper_is_started_only_where_it_can_help(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    assert _precompile._worth_starting(_fake_kernel(tmp_path / "k.nbi"))
    assert not _precompile._worth_starting(_fake_kernel(tmp_path / "absent" / "k.nbi"))
    (tmp_path / "k.nbi").touch()  # already in the cache
    assert not _precompile._worth_starting(_fake_kernel(tmp_path / "k.nbi"))
    no_cache = SimpleNamespace(signatures=[], _cache=None)  # cache=False, or no cache directory
    assert not _precompile._worth_starting(no_cache)
    compiled = _fake_kernel(tmp_path / "j.nbi")
    compiled.signatures = ["compiled here"]
    assert not _precompile._worth_starting(compiled)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # one CPU
    assert not _precompile._worth_starting(_fake_kernel(tmp_path / "j.nbi"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)  # a task of a process pool
    assert not _precompile._worth_starting(_fake_kernel(tmp_path / "j.nbi"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_forgets_the_helper(helper, monkeypatch):
    monkeypatch.setattr(_precompile, "WAIT_SECONDS", 0.2)
    assert helper("import time; time.sleep(30)")
    with _precompile._lock:  # held while the fork happens, as by a thread in wait()
        pid = os.fork()
        if pid == 0:  # the child: no helper, a free lock, Numba's own compile
            free = _precompile._lock.acquire(timeout=1)
            if free:
                _precompile._lock.release()
            ok = free and _precompile._helper is None and "compile" not in _e_step.__dict__
            os._exit(0 if ok and _precompile.wait() is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _precompile.wait() is False  # the parent's helper, stopped after WAIT_SECONDS
    assert "compile" not in _e_step.__dict__


def test_no_helper_when_turned_off(monkeypatch):
    monkeypatch.setattr(_precompile, "_helper", None)
    monkeypatch.setattr(_precompile, "_worth_starting", lambda dispatcher: True)
    monkeypatch.setenv(_precompile.ENV, "0")
    assert not _precompile.start()
    assert _precompile.wait() is None


def test_a_failing_helper_is_reaped_and_changes_nothing(helper):
    assert helper("import sys; sys.exit(3)")
    assert "compile" in _e_step.__dict__  # a compilation of the E-step waits for the helper
    process = _precompile._helper
    assert _precompile.wait() is False
    assert "compile" not in _e_step.__dict__
    assert process.returncode == 3
    assert _precompile.wait() is None  # forgotten: nothing to wait for


def test_a_helper_that_ends_unwaited_for_leaves_no_zombie(helper):
    assert helper("pass")
    process = _precompile._helper
    deadline = time.monotonic() + 60
    while process.returncode is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the reaper thread waits for it
    assert process.returncode == 0
    assert _precompile.wait() is True


def test_a_slow_helper_is_stopped(helper, monkeypatch):
    monkeypatch.setattr(_precompile, "WAIT_SECONDS", 0.2)
    assert helper("import time; time.sleep(60)")
    process = _precompile._helper
    start = time.monotonic()
    assert _precompile.wait() is False
    assert time.monotonic() - start < 30
    assert process.returncode is not None


_COLD = """
import json, numpy as np, gmmmi
from numba.core.caching import NullCache
from gmmmi import _precompile
from gmmmi._kernels.em import _e_step
kernels = _precompile._leaves() + _precompile._later_kernels()
for kernel, signature in kernels:  # as start() and the wait do when there is a helper
    kernel.compile(signature)
rng = np.random.default_rng(0)
X = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], 200)
mi, sd = gmmmi.estimate(X[:, :1], X[:, 1:], random_state=0, progress=False)
hits = sum(_e_step._cache_hits.values())
# what this process compiled for the helper or while waiting for it is what the estimate and
# the E-step (compiled here too, past the cache) call: no kernel has a second signature
_e_step._cache = NullCache()
exec(_precompile._HELPER_CODE)
print(json.dumps([mi, sd, hits, [len(kernel.signatures) for kernel, _ in kernels]]))
"""


@pytest.mark.slow
@needs_jit
def test_a_cold_estimate_loads_the_e_step_its_helper_compiled(tmp_path):
    """Fresh process, empty cache: the E-step comes from the cache, the answer is unchanged.

    The kernels this process compiles for the helper (the E-step's last callees) and while
    it waits (k-means, Cholesky factors) have the signatures the estimate uses.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), GMMMI_PROGRESS="0", PYTHONPATH=str(ROOT))
    env.pop(_precompile.ENV, None)
    out = subprocess.run(
        [sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, check=True
    )
    mi, sd, hits, signatures = json.loads(out.stdout.strip().splitlines()[-1])
    import gmmmi

    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], 200)
    want_mi, want_sd = gmmmi.estimate(X[:, :1], X[:, 1:], random_state=0, progress=False)
    assert (mi, sd) == (want_mi, want_sd)  # bit for bit
    assert signatures == [1, 1, 1, 1]
    if len(os.sched_getaffinity(0)) >= 2:
        assert hits == 1  # loaded from the cache the helper filled, not compiled here
