"""Every ```python block of README.md and docs/*.md runs, so the docs cannot rot.

The blocks of one file run in order in one namespace, in a temporary working
directory, with matplotlib's Agg backend. A block fenced as ```python no-run
is shown to readers but skipped (for commands that need a running cluster).

A python block followed directly (blank lines aside) by an ```output block
quotes what it prints: its standard output must equal that block exactly
(trailing spaces of each line aside). Every such block is seeded, and gmmmi's
results do not depend on the number of threads, so no tolerance is needed;
a change of the numbers shows here and the page is updated with it.
"""

import contextlib
import io
import re
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import ROOT, python_blocks

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _lines(text):
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def test_block_parser_finds_blocks_outputs_and_skips_no_run():
    text = (
        "a\n```python\nx = 1\n```\n```python no-run\ny = 2\n```\n```bash\nz\n```\n"
        "```python\nprint(3)\n```\n\n```output\n3\n```\n"
    )
    assert python_blocks(text) == [(2, "x = 1\n", None), (11, "print(3)\n", "3\n")]


class _CheckedGenerator(np.random.Generator):
    """A Generator whose ``multivariate_normal`` refuses a CPU-dependent factor.

    numpy's default factor of the covariance is an SVD; with a repeated
    eigenvalue, the basis of that eigenspace comes from the last bits of the
    BLAS kernel, so the same seed gives another data set on another CPU (the
    walkthrough's conditional-MI block did). ``method="cholesky"`` is unique.
    """

    def multivariate_normal(self, mean, cov, size=None, check_valid="warn", tol=1e-8, **kw):
        if kw.get("method", "svd") != "cholesky":
            values = np.linalg.eigvalsh(np.asarray(cov, dtype=np.float64))
            scale = max(float(np.abs(values).max()), np.finfo(float).tiny)
            if np.any(np.diff(values) <= 1e-6 * scale):
                raise AssertionError(
                    f"multivariate_normal with a repeated eigenvalue ({values}) and the SVD "
                    "factor gives other data on another CPU; pass method='cholesky'."
                )
        return super().multivariate_normal(mean, cov, size, check_valid, tol, **kw)


def _checked_default_rng(real):
    """``numpy.random.default_rng`` that gives the docs' own code a `_CheckedGenerator`."""

    def default_rng(seed=None):
        if ".md:" not in sys._getframe(1).f_code.co_filename:  # not a page's block
            return real(seed)
        if isinstance(seed, np.random.Generator):
            return seed
        bits = seed if isinstance(seed, np.random.BitGenerator) else np.random.PCG64(seed)
        return _CheckedGenerator(bits)

    return default_rng


@pytest.mark.slow
@pytest.mark.crossmachine
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_runs_and_prints_what_the_page_quotes(page, tmp_path, monkeypatch):
    if not page.exists():
        pytest.skip(f"{page.name} not written")
    blocks = python_blocks(page.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(np.random, "default_rng", _checked_default_rng(np.random.default_rng))
    namespace = {"__name__": "__docs__"}
    # A page's code runs as a reader runs it: the warnings it raises are shown, not errors
    # (the pages explain theirs); numerical warnings inside gmmmi stay errors, as everywhere.
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.filterwarnings("error", category=RuntimeWarning, module="gmmmi")
        for line, code, quoted in blocks:
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"{page.name}, block at line {line} failed: {err!r}") from err
            finally:
                plt.close("all")
            if quoted is not None:
                assert _lines(printed.getvalue()) == _lines(quoted), (
                    f"{page.name}, block at line {line} printed\n{printed.getvalue()}"
                    f"but the page quotes\n{quoted}"
                )


def test_install_commands_work_from_a_clone():
    """gmmmi is not on PyPI: extras are installed from the clone, ``pip install ".[pymc]"``."""
    from_index = re.compile(r"pip install [\"']?gmmmi\[")
    offending = [
        f"{page.name}:{number}"
        for page in PAGES
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if from_index.search(line)
    ]
    assert offending == [], f'write pip install ".[extra]" instead of "gmmmi[extra]" at {offending}'
