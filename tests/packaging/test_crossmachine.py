"""The same seed prints the same answer under another BLAS kernel (another CPU).

numpy's OpenBLAS picks its kernels by CPU; ``OPENBLAS_CORETYPE`` makes one
machine run another CPU's kernels. The walkthrough's conditional-MI block once
printed 0.0542 ± 0.0109 under the Haswell kernel and 0.0434 ± 0.0100 under the
SkylakeX one: ``rng.multivariate_normal`` factors the covariance by SVD, and
cov3 has a repeated eigenvalue (0.5, twice), so the kernel's last bits chose
the basis of that eigenspace, and the same normal draws became another data
set. The block now samples with ``method="cholesky"`` (a unique factor), and
the data and the answer are the same under every kernel (docs/reproducibility.md).

The doc-output tests run again under other kernels and under
``NUMBA_CPU_NAME=generic`` in CI (``.ci/crossmachine``, marker ``crossmachine``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, python_blocks

pytestmark = pytest.mark.crossmachine


#: the walkthrough's conditional-MI block, run on its own (5 replicas: a few seconds)
CMI_SCRIPT = """
import json, sys, warnings
import numpy as np
from threadpoolctl import threadpool_info
from gmmmi import EstimateMI
from gmmmi.param_holders import MIDistParamHolder

warnings.simplefilter("ignore")
rng = np.random.default_rng(4)
quick = MIDistParamHolder(n_bootstrap=5, integral_method="quad")
exec(compile(sys.argv[1], "walkthrough.md", "exec"))
kernels = sorted(
    {i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"}
)
print(json.dumps({"kernels": kernels, "data": X3.tolist()}))
"""


def openblas_types() -> list[str]:
    """Two OpenBLAS kernels this CPU can run: the widest it supports, and Prescott (SSE3)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return []
    if "sse3" not in flags and "pni" not in flags:
        return []
    widest = next(
        (core for flag, core in (("avx512f", "SkylakeX"), ("avx2", "Haswell")) if flag in flags),
        "Nehalem",
    )
    return [widest, "Prescott"]


def walkthrough_cmi_block() -> str:

    text = (ROOT / "docs" / "walkthrough.md").read_text()
    blocks = [code for _, code, _ in python_blocks(text) if "X3 = " in code]
    assert len(blocks) == 1, "the walkthrough's conditional-MI block is missing"
    return blocks[0].replace("fig = cmi_estimator.plot_fitted_contours()", "")


def run_under(coretype: str, code: str) -> tuple[str, dict]:
    env = {**os.environ, "OPENBLAS_CORETYPE": coretype, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", CMI_SCRIPT, code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    *printed, last = done.stdout.strip().split("\n")
    return "\n".join(printed), json.loads(last)


@pytest.mark.slow
def test_walkthrough_cmi_prints_the_same_under_two_blas_kernels():
    types = openblas_types()
    if not types:
        pytest.skip("not an x86-64 CPU with SSE3: no other OpenBLAS kernel to run")
    code = walkthrough_cmi_block()
    (printed_a, info_a), (printed_b, info_b) = (run_under(t, code) for t in types)
    if info_a["kernels"] == info_b["kernels"]:
        pytest.skip(f"OPENBLAS_CORETYPE={types} ran the same kernel {info_a['kernels']}")
    # the data: the same draws, to the last bits of the product with the Cholesky factor
    # (with the SVD, the other kernel's data were another sample: differences of order 1)
    np.testing.assert_allclose(info_a["data"], info_b["data"], rtol=1e-12, atol=1e-12)
    assert printed_a == printed_b, (
        f"{info_a['kernels']} printed {printed_a!r}, {info_b['kernels']} printed {printed_b!r}"
    )
    assert " ± " in printed_a


def test_psd_cholesky_is_the_cholesky_factor_and_handles_singular_covariances():
    """randomized_kmeans jitters its starts with this factor: unique, so the same on any CPU."""
    from gmmmi._em.init import _mvn_draw, psd_cholesky

    rng = np.random.default_rng(0)
    for d in range(1, 7):
        A = rng.standard_normal((d, d + 2))
        cov = A @ A.T
        np.testing.assert_allclose(psd_cholesky(cov), np.linalg.cholesky(cov), rtol=1e-12)
        # rank-deficient: a cluster with fewer points than dimensions, and a single point
        B = rng.standard_normal((d, max(d - 2, 0)))
        for singular in (B @ B.T, np.zeros((d, d))):
            L = psd_cholesky(singular)
            np.testing.assert_allclose(L @ L.T, singular, atol=1e-12)
            assert np.all(np.triu(L, 1) == 0)
    # a repeated eigenvalue (the walkthrough's cov3): the draw is L z, with L unique
    cov3 = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    z = np.random.default_rng(1).standard_normal(3)
    draw = _mvn_draw(cov3, np.random.default_rng(1))
    np.testing.assert_array_equal(draw, psd_cholesky(cov3) @ z)
