"""The gmmmi command line, run as a separate process on real files."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from gmmmi.cli import load_columns

RHO = 0.6
TRUTH = -0.5 * math.log(1 - RHO**2)
FAST = ["--n-bootstrap", "5", "--n-inits", "1", "--max-components", "3", "--seed", "0"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def gmmmi(*args, cwd):
    """Run ``gmmmi ARGS`` in a fresh interpreter; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "gmmmi.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GMMMI_PROGRESS": "0", "MPLBACKEND": "Agg"},
    )


def assert_one_line_error(proc, *fragments):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gmmmi: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.fixture
def files(tmp_path, rng):
    """A CSV (columns a, b correlated RHO; c independent; label text), and the same as .npy/.npz."""
    n = 400
    ab = rng.multivariate_normal([0.0, 0.0], [[1.0, RHO], [RHO, 1.0]], n)
    c = rng.normal(size=n)
    label = np.where(ab[:, 0] > 0, "up", "down")
    with (tmp_path / "data.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "c", "label"])
        w.writerows(zip(ab[:, 0], ab[:, 1], c, label, strict=True))
    np.save(tmp_path / "data.npy", np.column_stack([ab, c]))
    np.savez(tmp_path / "data.npz", ab=ab, c=c)
    return tmp_path


def test_reader_handles_csv_npy_npz(files):
    csv_cols = load_columns(files / "data.csv")
    assert list(csv_cols) == ["a", "b", "c", "label"]
    assert csv_cols["a"].dtype == float and csv_cols["label"].dtype.kind == "U"
    npy_cols = load_columns(files / "data.npy")
    assert list(npy_cols) == ["0", "1", "2"]
    np.testing.assert_allclose(npy_cols["0"], csv_cols["a"], rtol=1e-12)
    npz_cols = load_columns(files / "data.npz")
    assert npz_cols["ab"].shape == (400, 2)


@pytest.mark.parametrize("command", ["demo", "estimate", "matrix", "compare"])
def test_every_command_documents_its_options(command, tmp_path):
    proc = gmmmi(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert f"usage: gmmmi {command}" in proc.stdout
    if command != "demo":
        assert "--n-bootstrap" in proc.stdout and "--seed" in proc.stdout
    top = gmmmi("--help", cwd=tmp_path)
    assert command in top.stdout


@pytest.mark.slow
def test_demo_prints_the_estimate_and_truth_and_writes_a_png(tmp_path):
    proc = gmmmi("demo", "--out", "demo.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0.2231 nat" in proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("MI = "))
    mi, sd = (float(v) for v in line.split()[2:5:2])
    assert abs(mi - TRUTH) < 3 * sd
    assert (tmp_path / "demo.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
def test_estimate_json_from_csv_and_npy_agree_with_the_truth(files):
    proc = gmmmi("estimate", "data.csv", "--x", "a", "--y", "b", "--json", *FAST, cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["quantity"] == "mi" and out["unit"] == "nat"
    assert abs(out["value"] - TRUTH) < 5 * out["sd"] + 0.05
    lo, hi = out["hdi_94"]
    assert lo <= out["draws_mean"] <= hi
    npy = gmmmi("estimate", "data.npy", "--x", "0", "--y", "1", "--json", *FAST, cwd=files)
    assert json.loads(npy.stdout)["value"] == pytest.approx(out["value"], rel=1e-9)
    bits = gmmmi("estimate", "data.csv", "--x", "a", "b", "--bits", "--json", *FAST, cwd=files)
    assert json.loads(bits.stdout)["value"] == pytest.approx(out["value"] / math.log(2))


@pytest.mark.slow
def test_estimate_table_cmi_categorical_and_plots(files):
    proc = gmmmi("estimate", "data.csv", "--x", "a", "--y", "b", "--z", "c", "--plot", "mi.png",
                 "--plot-fit", "fit.png", *FAST, cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CMI = ") and "estimate" in proc.stdout
    assert (files / "mi.png").read_bytes()[:8] == PNG_MAGIC
    assert (files / "fit.png").read_bytes()[:8] == PNG_MAGIC
    npz = gmmmi("estimate", "data.npz", "--x", "ab", "--json", *FAST, cwd=files)  # a 2D block
    assert abs(json.loads(npz.stdout)["value"] - TRUTH) < 0.1
    cat = gmmmi("estimate", "data.csv", "--x", "a", "--y", "label", "--categorical", "--json",
                *FAST, cwd=files)  # fmt: skip
    assert cat.returncode == 0, cat.stderr
    # I(a; sign(a)) = H(sign) = log 2 for a continuous a
    out = json.loads(cat.stdout)
    assert abs(out["value"] - math.log(2)) < 5 * out["sd"] + 0.05


def test_bad_input_is_one_line_and_a_nonzero_exit(files):
    assert_one_line_error(
        gmmmi("estimate", "data.csv", "--x", "a", "--y", "nope", cwd=files), "'nope'", "--y"
    )
    assert_one_line_error(gmmmi("estimate", "missing.csv", "--x", "a", cwd=files), "missing.csv")
    (files / "notes.xlsx").write_text("x")
    assert_one_line_error(gmmmi("matrix", "notes.xlsx", cwd=files), ".xlsx")
    usage = gmmmi("estimate", "data.csv", cwd=files)  # a malformed command line: status 2
    assert_one_line_error(usage, "the following arguments are required: --x", "--help")
    assert usage.returncode == 2


def test_invalid_data_error_comes_from_the_estimator_in_one_line(files):
    proc = gmmmi("estimate", "data.csv", "--x", "a", "--y", "label", *FAST, cwd=files)
    assert_one_line_error(proc)


@pytest.mark.slow
def test_matrix_writes_csv_and_heatmap(files):
    proc = gmmmi(
        "matrix", "data.csv", "--columns", "a", "b", "c", "--out", "mi.csv", "--plot", "mi.png",
        "--workers", "2", *FAST, cwd=files,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "±" in proc.stdout
    with (files / "mi.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["x"], r["y"]) for r in rows] == [("a", "b"), ("a", "c"), ("b", "c")]
    ab = rows[0]
    assert abs(float(ab["mean"]) - TRUTH) < 5 * float(ab["sd"]) + 0.05
    assert (files / "mi.png").read_bytes()[:8] == PNG_MAGIC
    # the same seed gives the same numbers in-process
    serial = gmmmi("matrix", "data.csv", "--columns", "a", "b", "c", "--json", *FAST, cwd=files)
    assert [r["mean"] for r in json.loads(serial.stdout)] == [float(r["mean"]) for r in rows]


def test_matrix_against_a_second_file_splits_npz_blocks(files):
    proc = gmmmi("matrix", "data.csv", "--columns", "a", "c", "--against", "data.npz",
                 "--against-columns", "ab:1", "--json", *FAST, cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["x"], r["y"]) for r in rows] == [("a", "ab:1"), ("c", "ab:1")]
    assert abs(rows[0]["mean"] - TRUTH) < 5 * rows[0]["sd"] + 0.05
    assert rows[1]["mean"] < 0.05


@pytest.mark.slow
def test_matrix_scheduler_errors(files):
    bad = gmmmi("matrix", "data.npy", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2",
                cwd=files)  # fmt: skip
    assert_one_line_error(bad, "--scheduler", "--workers")
    unreachable = gmmmi("matrix", "data.npy", "--scheduler", "tcp://127.0.0.1:9", cwd=files)
    assert_one_line_error(unreachable, "tcp://127.0.0.1:9")


@pytest.mark.slow
def test_compare_prints_one_row_per_method(files):
    proc = gmmmi("compare", "data.csv", "--x", "a", "--y", "b", "--methods", "bootstrap", "single",
                 "--truth", TRUTH, "--json", "--plot", "cmp.png", *FAST, cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["method"] for r in rows] == ["bootstrap", "single"]
    boot = rows[0]
    assert boot["error"] == pytest.approx(boot["value"] - TRUTH)
    assert abs(boot["error"]) < 5 * boot["sd"] + 0.05
    assert (files / "cmp.png").read_bytes()[:8] == PNG_MAGIC
    bad = gmmmi("compare", "data.csv", "--x", "a", "--y", "b", "--methods", "nope", cwd=files)
    assert_one_line_error(bad, "nope")


def test_ctrl_c_prints_interrupted_and_exits_130(files):
    from test_backend_numba import _interrupt_after_start

    args = [sys.executable, "-m", "gmmmi.cli", "estimate", files / "data.csv"]
    args += ["--x", "a", "--y", "b", "--n-bootstrap", "1000000", "--progress"]
    rc, _, err = _interrupt_after_start(list(map(str, args)), b"bootstrap", on="stderr", wait=1.0)
    assert rc == 130, err.decode()
    assert err.decode().rstrip().endswith("gmmmi: interrupted")
    assert b"Traceback" not in err and b"SystemError" not in err
