"""The documentation site: it builds with warnings as errors, and its pages hold what they must.

The build is the README's command (``sphinx-build -W -n docs <out>``) into a
temporary directory; the estimate page must show every numpydoc section and no
text of an unresolved reference, every public name must have a page, and the
walkthrough's figures must be on its page.
"""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import gmmmi
from gmmmi.api import API_OPTIONS

from helpers import ROOT

DOCS = ROOT / "docs"
#: the numpydoc sections of the estimate page, as the theme titles them
ESTIMATE_SECTIONS = [
    "Parameters",
    "Other Parameters",
    "Returns",
    "Raises",
    "Warns",
    "See also",
    "Notes",
    "References",
    "Examples",
]
#: the PyMC backend's options that the estimate page lists one by one
PYMC_OPTIONS = ["draws", "tune", "chains", "target_accept", "sampler", "cores"]
#: what a reference that did not resolve leaves in the text: a role, or an inventory prefix
UNRESOLVED = re.compile(r":(?:func|class|meth|obj|mod|attr|data|ref|term):`|\b(?:python|numpy):\w")


class _Text(HTMLParser):
    """The visible text of an HTML page (scripts and styles dropped) and its image sources."""

    def __init__(self):
        super().__init__()
        self.parts, self.images, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _read(page: Path) -> _Text:
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _api_names_in_sources() -> set[str]:
    """Names listed in the API reference sources (autosummary entries and module pages)."""
    names = set()
    for rst in (DOCS / "api").glob("*.rst"):
        text = rst.read_text()
        names |= set(re.findall(r"^   (\w+)$", text, re.M))  # autosummary entries
        names |= set(re.findall(r"^\.\. automodule:: gmmmi\.(\w+)$", text, re.M))
    return names


def test_every_public_name_is_in_the_api_reference():
    missing = sorted(set(gmmmi.__all__) - _api_names_in_sources())
    assert not missing, f"public names without a page in docs/api/: {missing}"


def test_readme_gives_the_build_command():
    readme = (ROOT / "README.md").read_text()
    assert 'pip install ".[docs]" && sphinx-build -W -n docs docs/_build/html' in readme
    assert "docs/_build/html/index.html" in readme


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built by sphinx-build -W -n from a fresh environment."""
    pytest.importorskip("sphinx")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-E", str(DOCS), str(out / "html")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stderr[-4000:]}"
    return out / "html"


@pytest.mark.slow
def test_estimate_page_has_every_section_and_no_unresolved_reference(site):
    page = _read(site / "api" / "generated" / "gmmmi.estimate.html")
    text = " ".join(page.parts)
    for section in ESTIMATE_SECTIONS:
        assert re.search(rf"(^|\s){section}:?\s", text), f"no {section!r} section"
    assert not UNRESOLVED.findall(text), UNRESOLVED.findall(text)
    options = [*gmmmi.get_backend("numba").options, *API_OPTIONS, *PYMC_OPTIONS]
    for option in options:  # "name" then "type, default value" in the rendered entry
        assert re.search(rf"\b{option} +[^\n]{{0,80}}?\bdefault\b", text), option
    assert "doi.org/10.1088/2632-2153/acc444" in text
    assert ">>>res=gmmmi.estimate(X,random_state=0)" in "".join(text.split())  # the example


@pytest.mark.slow
def test_every_public_name_has_a_page(site):
    for name in gmmmi.__all__:
        pages = [site / "api" / "generated" / f"gmmmi.{name}.html", site / "api" / f"{name}.html"]
        assert any(p.exists() for p in pages), f"no page for gmmmi.{name}"
        text = " ".join(_read(next(p for p in pages if p.exists())).parts)
        assert not UNRESOLVED.findall(text), (name, UNRESOLVED.findall(text))


@pytest.mark.slow
def test_walkthrough_shows_its_figures(site):
    page = _read(site / "walkthrough.html")
    figures = [src for src in page.images if src.endswith(".png")]
    assert len(figures) >= 8, figures  # the three diagnostic plots of D3, pitfalls, CMI, ...
    for src in figures:
        assert (site / src).is_file(), f"{src} is referenced but not in the build"


@pytest.mark.slow
def test_every_markdown_guide_is_in_the_site(site):
    for md in DOCS.glob("*.md"):
        assert (site / f"{md.stem}.html").is_file(), f"{md.name} is not in the site"


def test_estimate_examples_print_what_they_show():
    import doctest

    from gmmmi import api

    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(api.estimate, "estimate", globs={}):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted >= 8 and results.failed == 0, results
