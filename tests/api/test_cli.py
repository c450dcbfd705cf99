"""The gmmmi command line, run as a separate process on real files."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmmmi.cli import load_columns

from helpers import ROOT, interrupt_after_start

RHO = 0.6
TRUTH = -0.5 * math.log(1 - RHO**2)
FAST = ["--n-bootstrap", "5", "--n-inits", "1", "--max-components", "3", "--seed", "0"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def gmmmi(*args, cwd):
    """Run ``gmmmi ARGS`` in a fresh interpreter; return the CompletedProcess.

    The checkout under test comes first on the path: run from ``cwd``, ``-m gmmmi.cli``
    would otherwise import an installed gmmmi (another checkout's, in a second worktree).
    """
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gmmmi.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GMMMI_PROGRESS": "0", "MPLBACKEND": "Agg", "PYTHONPATH": path},
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


def test_the_top_help_lists_the_commands_once(tmp_path):
    top = gmmmi("--help", cwd=tmp_path).stdout
    listed = [ln.split()[0] for ln in top.splitlines() if ln[:4] == "    " and ln[4] != " "]
    assert listed == ["demo", "estimate", "matrix", "compare", "entropy", "divergence"]
    assert top.count("entropy of columns of a data file") == 1  # not in the description too


@pytest.mark.slow
def test_demo_prints_the_estimate_and_truth_and_writes_a_png(tmp_path):
    proc = gmmmi("demo", "--out", "demo.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0.2231 nat" in proc.stdout
    lines = proc.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("MI(X1; X2) = "))
    mi, sd = (float(v) for v in lines[i].split()[3:6:2])
    assert abs(mi - TRUTH) < 3 * sd
    # the recommended interval, named, as in print(result)
    head, bounds = lines[i + 1].split(": ")
    assert head == "  95% interval (value ± 1.96 sd)" and bounds.endswith("] nat")
    low, high = (float(v) for v in bounds[1:-5].split(", "))
    # printed mi and sd are rounded to 3 decimals
    assert (low, high) == pytest.approx((mi - 1.96 * sd, mi + 1.96 * sd), abs=2e-3)
    assert (tmp_path / "demo.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
def test_estimate_json_from_csv_and_npy_agree_with_the_truth(files):
    proc = gmmmi("estimate", "data.csv", "--x", "a", "--y", "b", "--json", *FAST, cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["quantity"] == "mi" and out["unit"] == "nat"
    assert abs(out["value"] - TRUTH) < 5 * out["sd"] + 0.05
    interval = out["interval"]
    assert interval["name"] == "95% interval (value ± 1.96 sd)"
    assert (interval["prob"], interval["method"]) == (0.95, "normal")
    half = 1.959964 * out["sd"]
    assert (interval["low"], interval["high"]) == pytest.approx(
        (out["value"] - half, out["value"] + half), rel=1e-6
    )
    # the CSV's column names label the variables, not x0/y0
    assert out["meta"]["labels"] == {"x": ["a"], "y": ["b"]}
    npy = gmmmi("estimate", "data.npy", "--x", "0", "--y", "1", "--json", *FAST, cwd=files)
    assert json.loads(npy.stdout)["value"] == pytest.approx(out["value"], rel=1e-9)
    bits = gmmmi("estimate", "data.csv", "--x", "a", "b", "--bits", "--json", *FAST, cwd=files)
    assert json.loads(bits.stdout)["value"] == pytest.approx(out["value"] / math.log(2))


@pytest.mark.slow
def test_estimate_table_cmi_categorical_and_plots(files):
    proc = gmmmi("estimate", "data.csv", "--x", "a", "--y", "b", "--z", "c", "--plot", "mi.png",
                 "--plot-fit", "fit.png", *FAST, cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CMI(a; b | c) = ") and "normal_97.5%" in proc.stdout
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
    args = [sys.executable, "-m", "gmmmi.cli", "estimate", files / "data.csv"]
    args += ["--x", "a", "--y", "b", "--n-bootstrap", "1000000", "--progress"]
    rc, _, err = interrupt_after_start(list(map(str, args)), b"bootstrap", on="stderr", wait=1.0)
    assert rc == 130, err.decode()
    assert err.decode().rstrip().endswith("gmmmi: interrupted")
    assert b"Traceback" not in err and b"SystemError" not in err


# ------------------------------------------------------ text files, JSON, refusals
def test_csv_with_a_byte_order_mark_reads_its_first_column(files):
    # Excel's "CSV UTF-8" starts with U+FEFF, which used to become part of the name "a"
    text = (files / "data.csv").read_text()
    (files / "bom.csv").write_text(text, encoding="utf-8-sig")
    assert list(load_columns(files / "bom.csv")) == ["a", "b", "c", "label"]
    proc = gmmmi("estimate", files / "bom.csv", "--x", "a", "--y", "b", *FAST, "--json", cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert abs(json.loads(proc.stdout)["value"] - TRUTH) < 0.1


def _refuse_constant(name):
    raise ValueError(f"not standard JSON: {name}")


def test_json_output_is_standard_json(files):
    # a single fit has no sd: it was printed as NaN, which strict parsers reject
    proc = gmmmi(
        "estimate", files / "data.csv", "--x", "a", "--y", "b", *FAST[2:], "--n-bootstrap", "0",
        "--json", cwd=files,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout, parse_constant=_refuse_constant)
    assert out["sd"] is None and math.isfinite(out["value"])
    assert out["interval"]["low"] is None and out["interval"]["high"] is None


def test_headerless_csv_is_refused_or_read_with_no_header(files):
    rows = np.random.default_rng(0).multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], 300)
    np.savetxt(files / "plain.csv", rows, delimiter=",")
    proc = gmmmi("matrix", files / "plain.csv", *FAST, cwd=files)
    assert_one_line_error(
        proc, "plain.csv: the first row (", ") is numbers, not column names; add a header row, "
        "or pass --no-header to name the columns 0, 1, ..."
    )  # fmt: skip
    proc = gmmmi("matrix", files / "plain.csv", "--no-header", *FAST, "--json", cwd=files)
    assert proc.returncode == 0, proc.stderr
    (pair,) = json.loads(proc.stdout, parse_constant=_refuse_constant)
    assert (pair["x"], pair["y"]) == ("0", "1")
    assert abs(pair["mean"] - TRUTH) < 0.1
    assert list(load_columns(files / "plain.csv", header=False)) == ["0", "1"]


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (b"\xff\xfe\x00garbage", ".csv", "bad.csv: not UTF-8 text (invalid start byte at byte 0)."),
        (b"not an array", ".npy", "bad.npy: not a valid .npy file ("),
        (b"PK\x03\x04broken", ".npz", "bad.npz: not a valid .npz file ("),
    ],
)
def test_unreadable_data_files_are_one_line(files, content, suffix, message):
    (files / f"bad{suffix}").write_bytes(content)
    proc = gmmmi("estimate", files / f"bad{suffix}", "--x", "a", "--y", "b", cwd=files)
    assert_one_line_error(proc, message)
    assert proc.returncode == 1


def test_bad_option_values_are_one_line(files):
    proc = gmmmi("estimate", files / "data.csv", "--x", "a", "--y", "b", "--option", "base='abc'",
                 cwd=files)  # fmt: skip
    assert_one_line_error(proc, "base must be a number; got 'abc' (str). (TypeError)")
    proc = gmmmi("matrix", files / "data.csv", "--columns", "a", "b", "--n-bootstrap", "10**9",
                 cwd=files)  # fmt: skip
    assert proc.returncode == 2 and "argument --n-bootstrap: invalid int value" in proc.stderr


# ------------------------------------------------------------- property tests
def run_in_process(argv):
    """``gmmmi.cli.main(argv)`` here (fast enough for many examples): (exit code, stderr)."""
    import contextlib
    import io
    import warnings
    from unittest import mock

    from gmmmi import cli

    err, out = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(out),
        mock.patch.object(warnings, "showwarning", warnings.showwarning),
        warnings.catch_warnings(),
    ):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, err.getvalue()


def assert_clean_outcome(code, err):
    """Success, or exit 1/2 with 'gmmmi: ...' lines ending in one error line; no traceback."""
    assert "Traceback" not in err, err
    if code == 0:
        return
    assert code in (1, 2), (code, err)
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("gmmmi: ") for line in lines), err
    assert lines[-1].startswith("gmmmi: error: "), err


_CELLS = st.one_of(
    st.sampled_from(["", "nan", "NA", "inf", "-inf", "1e308", "1e-320", "x", '"', "1,2"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="ab0123456789.-e \t\ufeff", max_size=6),
)
_FAST_OPTIONS = ["--n-bootstrap", "2", "--n-inits", "1", "--max-components", "2", "--no-progress"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_CELLS, min_size=0, max_size=4), min_size=0, max_size=8),
    suffix=st.sampled_from([".csv", ".tsv", ".txt"]),
    bom=st.booleans(),
    no_header=st.booleans(),
    command=st.sampled_from(["estimate", "matrix"]),
)
def test_any_text_file_gives_a_result_or_one_error_line(
    tmp_path_factory, rows, suffix, bom, no_header, command
):
    path = tmp_path_factory.mktemp("cli") / f"data{suffix}"
    sep = "\t" if suffix == ".tsv" else ","
    text = "\n".join(sep.join(row) for row in rows)
    path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    argv = [command, path, *_FAST_OPTIONS, "--seed", "0"]
    argv += ["--x", "a", "--y", "b"] if command == "estimate" else []
    argv += ["--no-header"] if no_header else []
    assert_clean_outcome(*run_in_process(argv))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".npy", ".npz", ".nc"]))
def test_any_bytes_give_one_error_line(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("cli") / f"data{suffix}"
    path.write_bytes(content)
    code, err = run_in_process(["estimate", path, "--x", "a", "--y", "b", *_FAST_OPTIONS])
    assert code != 0
    assert_clean_outcome(code, err)


_COUNTS = st.one_of(st.integers(-3, 3), st.integers(10**11, 10**18))
_WORDS = st.one_of(st.sampled_from(["valid", "aic", "kmeans", "mc", "quad"]), st.text(max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flags=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["--n-bootstrap", "--n-folds", "--n-inits"]), _COUNTS),
            st.tuples(st.sampled_from(["--components", "--max-iter", "--patience"]), _COUNTS),
            st.tuples(st.sampled_from(["--threshold-fit", "--reg-covar", "--scale"]), st.floats()),
            st.tuples(st.sampled_from(["--metric-method", "--init-type"]), _WORDS),
            st.tuples(st.sampled_from(["--integral-method", "--backend"]), _WORDS),
            st.tuples(st.just("--option"), st.text(max_size=12)),
            st.tuples(st.just("--mc-samples"), st.one_of(_COUNTS, st.text(max_size=4))),
        ),
        max_size=4,
    ),
    command=st.sampled_from(["estimate", "matrix"]),
)
def test_any_options_give_a_result_or_one_error_line(files_for_properties, flags, command):
    argv = [command, files_for_properties / "data.csv", *_FAST_OPTIONS, "--seed", "1"]
    argv += ["--x", "a", "--y", "b"] if command == "estimate" else ["--columns", "a", "b"]
    for flag, value in flags:
        argv += [flag, str(value)]
    assert_clean_outcome(*run_in_process(argv))


@pytest.fixture(scope="module")
def files_for_properties(tmp_path_factory):
    """A small CSV of two correlated columns a, b (60 rows: every estimate is quick)."""
    path = tmp_path_factory.mktemp("props")
    ab = np.random.default_rng(3).multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], 60)
    np.savetxt(path / "data.csv", ab, delimiter=",", header="a,b", comments="")
    return path


def test_plot_fit_labels_the_variables_with_the_column_names(files, monkeypatch):
    from gmmmi import cli

    saved = {}
    monkeypatch.setattr(cli, "_savefig", lambda fig, path: saved.setdefault(path, fig))
    monkeypatch.chdir(files)
    args = ["estimate", "data.csv", "--x", "a", "--y", "b", "--z", "c", "--plot-fit", "f.png"]
    assert cli.main([*args, *FAST]) == 0
    fig = saved["f.png"]
    assert [ax.get_xlabel() for ax in fig.axes[6:9]] == ["a", "b", "c"]
    assert [fig.axes[i].get_ylabel() for i in (3, 6)] == ["b", "c"]
