"""Shared fixtures: a seeded generator per test; plots to files, no progress bars."""

import os
import zlib

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("GMMMI_PROGRESS", "0")


@pytest.fixture
def rng(request):
    """A fresh generator per test, seeded from the test's id (stable across runs)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
