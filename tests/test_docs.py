"""Every ```python block of README.md and docs/*.md runs, so the docs cannot rot.

The blocks of one file run in order in one namespace, in a temporary working
directory, with matplotlib's Agg backend. A block fenced as ```python no-run
is shown to readers but skipped (for commands that need a running cluster).
"""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python[ \t]*(?P<tag>[\w-]*)\n(?P<code>.*?)^```", re.M | re.S)


def python_blocks(text):
    """(line number, code) of every runnable python block of a markdown text."""
    return [
        (text[: m.start()].count("\n") + 1, m["code"])
        for m in BLOCK.finditer(text)
        if m["tag"] != "no-run"
    ]


def test_block_parser_finds_blocks_and_skips_no_run():
    text = "a\n```python\nx = 1\n```\n```python no-run\ny = 2\n```\n```bash\nz\n```\n"
    assert python_blocks(text) == [(2, "x = 1\n")]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_runs(page, tmp_path, monkeypatch):
    if not page.exists():
        pytest.skip(f"{page.name} not written")
    blocks = python_blocks(page.read_text())
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"{page.name}, block at line {line} failed: {err!r}") from err
        finally:
            plt.close("all")
