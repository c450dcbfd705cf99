"""Sphinx configuration of the gmmmi documentation site.

Build it from the repository root with (see README.md)::

    sphinx-build -W -n docs docs/_build/html

``-W -n``: every warning is an error and every cross-reference must resolve.
The build needs no network: intersphinx is not used, and references to other
libraries' names (numpy, xarray, ...) are accepted as plain text through
``nitpick_ignore_regex`` below.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # run_blocks: executes pages, embeds their figures
sys.path.insert(0, str(HERE.parent))  # the gmmmi of this checkout, not an installed one

import gmmmi  # noqa: E402

project = "gmmmi"
author = "gmmmi developers"
copyright = "2026, gmmmi developers"  # noqa: A001
version = release = gmmmi.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "run_blocks",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "api/_templates"]
templates_path = ["api/_templates"]

# --------------------------------------------------------------- Markdown pages
myst_heading_anchors = 3
# The Markdown pages are also read on GitHub, where they link to source files
# (tests/..., benchmarks/...) that are not part of the site; MyST would report
# each such link as an unresolved cross-reference.
suppress_warnings = ["myst.xref_missing"]

#: pages whose ```python blocks run during the build; the figures each block
#: draws are embedded right after it (see _ext/run_blocks.py)
run_blocks_pages = ["walkthrough"]

# ------------------------------------------------------------------ API pages
autosummary_generate = True
autodoc_preserve_defaults = True  # signatures show "base=math.e", not its digits
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
autodoc_default_options = {"members": True, "member-order": "bysource"}
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    # numpydoc's defaults send builtins and "array_like" to the Python and NumPy
    # inventories ("python:str"), which would print as such offline: plain names
    **{name: name for name in ("None", "True", "False", "bool", "int", "float", "str", "dict")},
    **{name: name for name in ("list", "tuple", "callable", "iterable", "sequence")},
    "boolean": "bool",
    "string": "str",
    "array_like": "array_like",
    "array-like": "array_like",
    "scalar": "scalar",
    "Result": "gmmmi.Result",
    "MixtureDraws": "gmmmi.MixtureDraws",
    "MIMatrix": "gmmmi.MIMatrix",
    "TaskError": "gmmmi.TaskError",
    "EstimateMI": "gmmmi.EstimateMI",
    "Backend": "gmmmi.backends.Backend",
    "FitDiagnostics": "gmmmi.diagnostics.FitDiagnostics",
    "DrawKind": "gmmmi.diagnostics.DrawKind",
    "EMSelection": "gmmmi.diagnostics.EMSelection",
    "Dataset": "gmmmi.datasets.Dataset",
    "IntegralResult": "gmmmi.integrate.IntegralResult",
    "ndarray": "numpy.ndarray",
    "Generator": "numpy.random.Generator",
    "DataFrame": "pandas.DataFrame",
}
#: only the names above (and numpydoc's builtin ones) become links; the other words of a
#: type field ("array_like", "shape (n, d)", "optional", ...) describe and stay text
numpydoc_xref_ignore = "all"
numpydoc_validation_checks = set()

nitpicky = True
#: other libraries' names: shown as text (their inventories would need the network)
nitpick_ignore_regex = [
    # informal type words of numpydoc type fields
    (r"py:.*", r"(array_like|scalar|iterable|sequence|callable)"),
    (
        r"py:.*",
        r"(numpy|np|scipy|xarray|arviz|pandas|matplotlib|mpl_toolkits|dask"
        r"|distributed|pymc|pytensor|nutpie|h5netcdf|concurrent|sklearn|functools)(\..+)?",
    ),
    # builtins and typing names (no Python inventory offline)
    (
        r"py:.*",
        r"(int|float|str|bool|dict|list|tuple|set|None|object|bytes|type|slice"
        r"|complex|Exception|ValueError|TypeError|ImportError|KeyError|RuntimeError"
        r"|RuntimeWarning|UserWarning|Warning|os\.PathLike|pathlib\.Path|Path"
        r"|collections\.abc\..+|typing\..+|Callable|Iterable|Sequence|Mapping|Any)",
    ),
]

# ----------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"gmmmi {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 2,  # the guides' titles are long: the rest under "More"
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
#: the guides (top-level pages, "*" does not match "api/...") have no section navigation
#: to show: no empty left column, so code blocks get the width
html_sidebars = {"*": []}
html_static_path = []
html_show_sourcelink = False
default_role = "py:obj"  # `name` in a docstring links to that name
