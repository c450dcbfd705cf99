"""Packaging: the README's set-up commands, CI, the console script, lazy imports, version."""

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points, version
from pathlib import Path

import pytest

import gmmmi

from helpers import ROOT

SETUP_BLOCK = re.compile(r"^## Set-up\n.*?^```bash\n(?P<code>.*?)^```", re.M | re.S)


def setup_commands(readme_text):
    """The command lines (comments and blank lines dropped) of the README's set-up block."""
    match = SETUP_BLOCK.search(readme_text)
    assert match, "README.md needs a '## Set-up' section with a ```bash block of commands"
    lines = (line.strip() for line in match["code"].splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_setup_parser_reads_only_the_setup_block():
    text = (
        "## Usage\n```bash\nnot this\n```\n"
        "## Set-up\ntext\n```bash\n# c\na\n\nb\n```\n```bash\nc\n```"
    )
    assert setup_commands(text) == ["a", "b"]


def test_readme_has_exactly_two_setup_commands():
    demo, tests = setup_commands((ROOT / "README.md").read_text())
    assert demo == "pip install . && gmmmi demo"
    assert tests == 'pip install ".[test]" && python -m pytest'


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = setup_commands((ROOT / "README.md").read_text())
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in ci
    command_lines = [line.strip() for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert any(line.startswith(tests) for line in command_lines), (
        f".ci/run must run the README's test command verbatim: {tests}"
    )


def test_ci_script_is_executable_in_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-s", ".ci/run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    if not out:
        pytest.skip(".ci/run is not committed yet")
    assert out.split()[0] == "100755", f"git mode of .ci/run is {out.split()[0]}, not 100755"


def test_console_script_is_declared_and_installed():
    (script,) = entry_points(group="console_scripts", name="gmmmi")
    assert script.value == "gmmmi.cli:main"
    assert callable(script.load())
    assert shutil.which("gmmmi") or (Path(sys.executable).parent / "gmmmi").exists()


def test_version_matches_installed_metadata():
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", gmmmi.__version__)
    assert gmmmi.__version__ == version("gmmmi")


def imported_modules_after(code):
    """Top-level module names present in ``sys.modules`` after running `code` in a fresh Python."""
    probe = code + "\nimport sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, f"{code!r} failed in a fresh interpreter:\n{out.stderr}"
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    ["import gmmmi", "from gmmmi import estimate, EstimateMI, Result, load"],
    ids=["import", "core-names"],
)
def test_core_import_does_not_pull_optional_extras(code):
    modules = imported_modules_after(code)
    assert "gmmmi" in modules
    pulled = modules & {"pymc", "pytensor", "dask", "distributed"}
    assert not pulled, f"{code!r} imported optional extras {sorted(pulled)}; import them lazily"


def test_an_estimate_does_not_import_arviz_or_matplotlib():
    # ArviZ (which imports matplotlib) cost every fresh process 1.5 s of CPU and 93 MB before
    # its first answer; an estimate never calls it (gmmmi._arviz imports it when first used)
    code = (
        "import numpy as np, gmmmi; gmmmi.estimate(np.random.default_rng(0).normal(size=(200, 2)),"
        " n_bootstrap=0, random_state=0, progress=False)"
    )
    pulled = imported_modules_after(code) & {"arviz", "matplotlib"}
    assert not pulled, f"an estimate imported {sorted(pulled)}; import them where they are used"


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_import_lets_openmp_threads_sleep_unless_the_caller_chose(given, expected):
    # idle OpenMP threads that spin doubled an estimate's CPU time on a loaded machine
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update({} if given is None else {"OMP_WAIT_POLICY": given})
    code = "import os, gmmmi; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr


def test_public_functions_are_not_shadowed_by_submodules():
    # importing a submodule binds it on the package: a public function must never share
    # its name with a submodule (gmmmi.compare once became a module after import).
    import importlib
    import pkgutil
    import types

    import gmmmi

    for info in pkgutil.walk_packages(gmmmi.__path__, "gmmmi."):
        if not info.name.startswith("gmmmi.backends.pymc"):
            importlib.import_module(info.name)
    for name in gmmmi._PUBLIC:
        assert not isinstance(getattr(gmmmi, name), types.ModuleType), name


def test_built_package_ships_the_pep561_marker(tmp_path):
    # type checkers read gmmmi's annotations only if the installed package holds py.typed.
    # setuptools' build_py (what a wheel is made of) on a copy of the project, so that
    # nothing is written into the checkout and no newer setuptools must be downloaded.
    assert (ROOT / "gmmmi" / "py.typed").is_file()
    src = tmp_path / "src"
    shutil.copytree(ROOT / "gmmmi", src / "gmmmi", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE.txt", "LICENSE_EXT.txt"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py"]
        + ["--build-lib", str(tmp_path / "lib")],
        capture_output=True,
        text=True,
        cwd=src,
    )
    assert build.returncode == 0, f"setuptools build_py failed:\n{build.stderr}"
    assert (tmp_path / "lib" / "gmmmi" / "api.py").is_file()
    assert (tmp_path / "lib" / "gmmmi" / "py.typed").is_file()


def test_ci_measures_the_kernels_with_the_jit_off():
    ci = (ROOT / ".ci" / "run").read_text()
    script = (ROOT / ".ci" / "kernel_coverage").read_text()
    assert ".ci/kernel_coverage" in ci
    assert "NUMBA_DISABLE_JIT=1 python -m coverage run --source=gmmmi -m pytest" in script
    kernel_tests = re.search(r"KERNEL_TESTS=\((.*?)\)", script)[1].split()
    paths = [path.split("::")[0] for path in kernel_tests]  # a folder, a file, or one test
    assert kernel_tests and all((ROOT / path).exists() for path in paths)
