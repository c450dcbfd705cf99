"""Imports only run downwards: the layer picture of docs/architecture.md is checked here.

The picture (the first ```text block under "## Layers" of docs/architecture.md)
is the one place that assigns each module of `gmmmi` to a layer, top layer
first. This test reads every import of every module with `ast`, those inside
functions included, and checks that

* no module imports, directly or through others, a module that imports it
  (no cycle), and
* every import lands in the importer's layer or a lower one.

What counts as an import: ``import`` and ``from ... import`` statements
anywhere in a module (importing ``gmmmi.a.b`` also runs ``gmmmi.a``, so the
package counts too); ``from gmmmi import name`` and ``gmmmi.name`` after
``import gmmmi`` count as imports of the module that `gmmmi/__init__.py`
lazily takes ``name`` from; ``importlib.import_module("gmmmi....")`` with a
literal name. Imports under ``if TYPE_CHECKING:`` never run and do not count
for these two checks; a third allows them to reach up only from ``gmmmi.plot``,
whose functions annotate the objects they draw (a `gmmmi.Result`, read through
its public members only, which a fourth check enforces).

Run ``python tests/packaging/test_layering.py`` to print each module's layer and the
lowest layer its imports allow (the place for a new module).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

import pytest


def _root() -> Path:
    """The repository root: the closest parent holding gmmmi/ and docs/architecture.md."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "gmmmi" / "__init__.py").is_file() and (
            parent / "docs" / "architecture.md"
        ).is_file():
            return parent
    raise FileNotFoundError("No parent of this test holds gmmmi/ and docs/architecture.md.")


ROOT = _root()
PACKAGE = ROOT / "gmmmi"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
WHERE = "the layer picture of docs/architecture.md (## Layers)"


# ------------------------------------------------------------------ modules
def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The syntax tree of a source file (parsed once per run)."""
    return ast.parse(path.read_text(), filename=str(path))


def _type_checking_ids(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (never run)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                out.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    return out


def _lazy_names(modules: dict[str, Path]) -> dict[str, str]:
    """``gmmmi.<name>`` → the module `gmmmi/__init__.py` imports it from when asked."""
    tree = ast.parse(modules["gmmmi"].read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id == "_PUBLIC":
                out.update(ast.literal_eval(node.value))
            elif isinstance(target, ast.Name) and target.id == "_SUBMODULES":
                out.update({name: f"gmmmi.{name}" for name in ast.literal_eval(node.value)})
    return out


def _named(name: str, modules: dict[str, Path], lazy: dict[str, str]) -> str:
    """The module an imported dotted name runs: itself, its lazy home, or its parent's."""
    if name in modules:
        return name
    head, _, last = name.rpartition(".")
    if head == "gmmmi" and last in lazy:
        return lazy[last]
    return _named(head, modules, lazy) if head else name


def _with_packages(importer: str, target: str) -> list[str]:
    """``target`` and the packages importing it runs, less those ``importer`` is inside."""
    parts = target.split(".")
    out = []
    for i in range(2, len(parts) + 1):
        package = ".".join(parts[:i])
        if not (importer == package or importer.startswith(package + ".")):
            out.append(package)
    return out or ([target] if target != importer else [])


def _imported(module: str, node: ast.AST, modules: dict[str, Path]) -> list[str]:
    """Dotted names an import node imports (gmmmi's only)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "gmmmi"]
    if node.level:
        package = module if modules[module].name == "__init__.py" else module.rpartition(".")[0]
        base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
        base += f".{node.module}" if node.module else ""
    else:
        base = node.module or ""
    if base.split(".")[0] != "gmmmi":
        return []
    return [f"{base}.{a.name}" for a in node.names]


def _attribute_uses(tree: ast.AST) -> list[str]:
    """``gmmmi.<name>`` of every attribute read ``gmmmi.<name>``."""
    return [
        f"gmmmi.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "gmmmi"
    ]


def import_graph(
    modules: dict[str, Path] | None = None, *, type_checking: bool = False
) -> dict[str, dict[str, int]]:
    """Runtime imports: module → {imported module: line of the first such import}.

    With ``type_checking``, the imports under ``if TYPE_CHECKING:`` too.
    """
    modules = module_files() if modules is None else modules
    lazy = _lazy_names(modules)
    graph = {}
    for module, path in modules.items():
        tree = _tree(path)
        skip = set() if type_checking else _type_checking_ids(tree)
        edges: dict[str, int] = {}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            names = []
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = _imported(module, node, modules)
                if any(a.name == "gmmmi" for a in getattr(node, "names", [])) and isinstance(
                    node, ast.Import
                ):
                    names += _attribute_uses(tree)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).startswith("gmmmi")
            ):
                names = [node.args[0].value]
            for name in names:
                for target in _with_packages(module, _named(name, modules, lazy)):
                    if target != module:
                        edges[target] = min(edges.get(target, node.lineno), node.lineno)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in graph:
                continue
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


# ------------------------------------------------------------------- layers
def picture(text: str) -> str:
    """The first ```text block after the "## Layers" heading."""
    match = re.search(r"^## Layers\n.*?^```text\n(.*?)^```", text, re.M | re.S)
    if match is None:
        raise ValueError(f"No ```text block under '## Layers' in {ARCHITECTURE.name}.")
    return match.group(1)


def parse_layers(block: str) -> list[tuple[str, list[str]]]:
    """(layer name, entries) from the top layer down.

    A line starting in column 0 opens a layer: its name, two or more spaces,
    then entries separated by ``·``; an indented line continues the layer
    above it. Text in parentheses is a comment. An entry is a module relative
    to `gmmmi` (``_em.fit``) or a package with all its modules (``plot/``);
    a line of box-drawing characters only is a connector.
    """
    layers: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        body = re.sub(r"\([^)]*\)", "", line)
        if not body.strip() or not re.search(r"[\w/]", body):
            continue
        if not line[0].isspace():
            name, _, body = body.strip().partition("  ")
            layers.append((name.strip(), []))
        elif not layers:
            raise ValueError(f"An indented line before the first layer: {line!r}.")
        layers[-1][1].extend(e.strip() for e in body.split("·") if e.strip())
    return layers


def layer_of(
    layers: list[tuple[str, list[str]]], modules: dict[str, Path]
) -> tuple[dict[str, int], list[str]]:
    """Module → layer number (0 = the bottom layer), and the picture's errors."""
    where, errors = {}, []
    for number, (name, entries) in enumerate(reversed(layers)):
        for entry in entries:
            dotted = "gmmmi" if entry == "gmmmi" else "gmmmi." + entry.rstrip("/")
            if dotted not in modules:
                errors.append(f"Layer {name!r} names {dotted}, which is not a module of gmmmi.")
                continue
            members = [dotted]
            if entry.endswith("/"):
                members += [m for m in modules if m.startswith(dotted + ".")]
            for member in members:
                if member in where:
                    errors.append(f"{member} is in two layers of {WHERE}.")
                where[member] = number
    return where, errors


def load_layers() -> list[tuple[str, list[str]]]:
    """The layers of docs/architecture.md, top first."""
    return parse_layers(picture(ARCHITECTURE.read_text()))


def _lowest_allowed(module, graph, where, names):
    """The name of the lowest layer that may hold ``module``, by what it imports."""
    levels = [where[t] for t in graph[module] if t in where]
    return names[max(levels, default=0)]


def violations(graph, where, layers) -> list[str]:
    """Every unassigned module and every import that reaches up a layer."""
    names = [name for name, _ in reversed(layers)]
    out = []
    for module in sorted(graph):
        if module not in where:
            out.append(
                f"{module} is in no layer: add it to {WHERE}, in layer "
                f"{_lowest_allowed(module, graph, where, names)!r} or above (the lowest "
                "its imports allow) and below every module that imports it."
            )
            continue
        for target, line in sorted(graph[module].items()):
            if target in where and where[target] > where[module]:
                out.append(
                    f"{module} (layer {names[where[module]]!r}) imports {target} (layer "
                    f"{names[where[target]]!r}, higher) at line {line}."
                )
    return out


# -------------------------------------------------------------------- tests
MODULES = module_files()
GRAPH = import_graph(MODULES)


def test_no_import_cycle():
    found = cycles(GRAPH)
    assert not found, "Import cycles (function-level imports included):\n" + "\n".join(
        " ↔ ".join(component) for component in found
    )


def test_every_module_has_a_layer_and_imports_only_run_downwards():
    layers = load_layers()
    where, errors = layer_of(layers, MODULES)
    problems = errors + violations(GRAPH, where, layers)
    assert not problems, "\n".join(problems)


def private_reads(tree: ast.AST) -> list[str]:
    """``arg._name`` reads of a function's arguments in ``tree`` (dunders aside)."""
    out = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
            out += [
                f"{node.value.id}.{node.attr} (line {node.lineno})"
                for node in ast.walk(function)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in args
                and node.attr.startswith("_")
                and not node.attr.endswith("__")
            ]
    return out


def test_plot_functions_read_only_public_members_of_what_they_draw():
    assert private_reads(ast.parse("def f(result):\n    return result._draws_of('mi')\n")) == [
        "result._draws_of (line 2)"
    ]
    found = {
        module: private_reads(_tree(path))
        for module, path in MODULES.items()
        if module == "gmmmi.plot" or module.startswith("gmmmi.plot.")
    }
    assert not any(found.values()), {m: reads for m, reads in found.items() if reads}


def test_pointwise_reads_no_private_member_of_the_result():
    # Result maps the rows to its fit's coordinates and hands over the fit (pointwise.py)
    assert private_reads(_tree(MODULES["gmmmi.pointwise"])) == []


def test_the_mi_matrix_left_parallel_which_only_runs_tasks():
    import gmmmi
    import gmmmi.parallel

    assert gmmmi.mi_matrix.__module__ == gmmmi.MIMatrix.__module__ == "gmmmi.matrix"
    message = (
        "gmmmi.parallel.mi_matrix moved to gmmmi.mi_matrix (module gmmmi.matrix): gmmmi.parallel "
        "only runs tasks, and the MI matrix is built on it."
    )
    with pytest.raises(AttributeError, match=f"^{re.escape(message)}$"):
        gmmmi.parallel.mi_matrix  # noqa: B018


def test_only_plots_name_a_higher_layer_and_only_in_annotations():
    # a plot function annotates the object it draws (Result, FitCheck, MIMatrix, ...), of a
    # layer above plot/; nothing else reaches up, not even in an annotation
    layers = load_layers()
    where, _ = layer_of(layers, MODULES)
    annotated = import_graph(MODULES, type_checking=True)
    upward = [
        f"{module} -> {target} (line {line})"
        for module, edges in sorted(annotated.items())
        for target, line in sorted(edges.items())
        if target not in GRAPH[module]
        and module in where
        and where.get(target, -1) > where[module]
        and not module.startswith("gmmmi.plot.")
    ]
    assert not upward, "Type-only imports reaching up a layer:\n" + "\n".join(upward)


# The checker itself, on small made-up packages: it must see what it claims to.
def _fake_package(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "gmmmi" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return module_files(tmp_path / "gmmmi")


FAKE_INIT = '_PUBLIC = {"estimate": "gmmmi.api"}\n_SUBMODULES = {"plot"}\n'


def test_function_level_lazy_and_package_imports_are_seen_but_type_checking_ones_are_not(
    tmp_path,
):
    modules = _fake_package(
        tmp_path,
        {
            "__init__.py": FAKE_INIT,
            "api.py": "def f():\n    from .result import Result\n",
            "result.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .api import f\n"
                "def g():\n    from gmmmi import estimate\n"
            ),
            "cli.py": "import gmmmi\ndef main():\n    gmmmi.estimate()\n",
            "plot/__init__.py": "from .figures import draw\n",
            "plot/figures.py": "from gmmmi.plot._style import COLOR\n",
            "plot/_style.py": "COLOR = 1\n",
            "low.py": "import importlib\nimportlib.import_module('gmmmi.plot._style')\n",
        },
    )
    graph = import_graph(modules)
    assert graph["gmmmi.api"] == {"gmmmi.result": 2}
    assert graph["gmmmi.result"] == {"gmmmi.api": 5}  # the lazy name, not the TYPE_CHECKING one
    assert graph["gmmmi.cli"] == {"gmmmi": 1, "gmmmi.api": 1}
    assert graph["gmmmi.plot.figures"] == {"gmmmi.plot._style": 1}  # its own package not counted
    assert graph["gmmmi.low"] == {"gmmmi.plot": 2, "gmmmi.plot._style": 2}
    assert cycles(graph) == [["gmmmi.api", "gmmmi.result"]]


def test_an_unassigned_module_and_an_upward_import_fail_with_where_to_fix(tmp_path):
    modules = _fake_package(
        tmp_path,
        {
            "__init__.py": FAKE_INIT,
            "api.py": "from .result import Result\n",
            "result.py": "def plot():\n    from .api import estimate\n",
            "new.py": "from . import result\n",
        },
    )
    block = "entry   api (the estimate)\n   │\nresults  result · gmmmi\n"
    layers = parse_layers(block)
    assert layers == [("entry", ["api"]), ("results", ["result", "gmmmi"])]
    where, errors = layer_of(layers, modules)
    assert errors == []
    assert violations(import_graph(modules), where, layers) == [
        f"gmmmi.new is in no layer: add it to {WHERE}, in layer 'results' or above (the lowest "
        "its imports allow) and below every module that imports it.",
        "gmmmi.result (layer 'results') imports gmmmi.api (layer 'entry', higher) at line 2.",
    ]
    _, errors = layer_of(parse_layers("top  gone · api\nlow  api/\n"), modules)
    assert errors == [
        "Layer 'top' names gmmmi.gone, which is not a module of gmmmi.",
        f"gmmmi.api is in two layers of {WHERE}.",
    ]


def test_the_picture_names_every_layer_once():
    names = [name for name, _ in load_layers()]
    assert len(names) == len(set(names)) > 3, names


if __name__ == "__main__":
    _layers = load_layers()
    _where, _ = layer_of(_layers, MODULES)
    _names = [name for name, _ in reversed(_layers)]
    for _module in sorted(MODULES):
        _here = _names[_where[_module]] if _module in _where else "-"
        print(f"{_module:36s} {_here:16s} lowest allowed: ", end="")
        print(_lowest_allowed(_module, GRAPH, _where, _names))
    sys.exit(pytest.main([__file__, "-q"]))
