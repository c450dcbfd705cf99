"""Shared fixtures: a seeded generator per test; plots to files, no progress bars."""

import os
import subprocess
import sys
import zlib
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("GMMMI_PROGRESS", "0")


@pytest.fixture
def rng(request):
    """A fresh generator per test, seeded from its file's name and its own (stable across runs).

    The folder is left out, so a test keeps its numbers when its file moves: the seed is
    that of the id ``tests/<file>::<test>`` the flat layout gave it.
    """
    path, _, name = request.node.nodeid.partition("::")
    return np.random.default_rng(zlib.crc32(f"tests/{Path(path).name}::{name}".encode()))


@pytest.fixture
def outputs_per_thread_count():
    """Run a Python script in fresh interpreters with 1 and 2 Numba threads; return both stdouts."""

    def run(script: str) -> list[str]:
        outputs = []
        for threads in ("1", "2"):
            env = {**os.environ, "NUMBA_NUM_THREADS": threads}
            proc = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True
            )
            assert proc.returncode == 0, proc.stderr
            outputs.append(proc.stdout.strip())
        return outputs

    return run
