"""Sphinx extension: run a Markdown page's ```python blocks and show their figures.

For each page named in the ``run_blocks_pages`` setting, the blocks run in
order in one namespace, in a temporary working directory, with matplotlib's
Agg backend (as tests/docs/test_docs.py runs them). Every figure a block leaves
open is saved as a PNG under ``docs/_generated/<page>/`` and embedded in the
page right after that block; a block that raises fails the build. Blocks
fenced as ```python no-run are shown but not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path

from sphinx.errors import ExtensionError

#: a fenced python block (same fence syntax as tests/docs/test_docs.py)
BLOCK = re.compile(r"^```python[ \t]*(?P<tag>[\w-]*)\n(?P<code>.*?)^```[ \t]*$", re.M | re.S)
#: resolution of the embedded figures (the theme shows them at most ~ 800 px wide)
DPI = 90


def run_page(text: str, docname: str, figure_dir: Path) -> str:
    """``text`` with an image after every block that drew figures, saved in ``figure_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure_dir.mkdir(parents=True, exist_ok=True)
    for old in figure_dir.glob("*.png"):
        old.unlink()
    namespace = {"__name__": "__docs__"}
    pieces, last = [], 0
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)
        try:
            for number, match in enumerate(BLOCK.finditer(text), start=1):
                pieces.append(text[last : match.end()])
                last = match.end()
                if match["tag"] == "no-run":
                    continue
                line = text[: match.start()].count("\n") + 1
                try:
                    with contextlib.redirect_stdout(io.StringIO()):  # prints are not shown
                        exec(compile(match["code"], f"{docname}.md:{line}", "exec"), namespace)
                except Exception as err:
                    raise ExtensionError(
                        f"{docname}.md: the python block at line {line} failed: {err!r}"
                    ) from err
                for index, num in enumerate(plt.get_fignums(), start=1):
                    name = f"block{number:02d}-fig{index}.png"
                    plt.figure(num).savefig(figure_dir / name, dpi=DPI, bbox_inches="tight")
                    image = f"/_generated/{docname}/{name}"
                    pieces.append(f"\n\n![Figure drawn by the code above]({image})\n")
                plt.close("all")
        finally:
            os.chdir(cwd)
    pieces.append(text[last:])
    return "".join(pieces)


def _source_read(app, docname, source):
    if docname in app.config.run_blocks_pages:
        source[0] = run_page(source[0], docname, Path(app.srcdir) / "_generated" / docname)


def setup(app):
    """Register the extension with Sphinx: the ``run_blocks_pages`` option and its hook."""
    app.add_config_value("run_blocks_pages", [], "env")
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
