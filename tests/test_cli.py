"""The command line end to end: golden outputs, exit codes, one-line errors."""
import json
import pathlib
import re
import subprocess
import sys

import pytest

ERROR_CASES = sorted((pathlib.Path(__file__).parent / "cases" / "errors").glob("*.yaml"))


@pytest.mark.parametrize("path", ERROR_CASES, ids=lambda p: p.stem)
def test_bad_spec_gives_one_line_at_its_position_and_exit_2(path, run_cli):
    """Each case file's first line says ``# expect: LINE:COL: MESSAGE-PREFIX``."""
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    result = run_cli(str(path), "--format", "json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"{path}:{expected.split(': ', 1)[0]}: error: "), lines[0]
    assert expected.split(": ", 1)[1] in lines[0]


def test_no_traceback_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, k: 3, out: 0}\n")
    proc = subprocess.run([sys.executable, "-m", "costcalc", str(bad)], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stderr == f"{bad}:4:29: error: conv: out must be a positive integer, not 0\n"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["mobilenet", "--alpha", "0"], "costcalc: error: Invalid value for '--alpha'"),
    (["mobilenet", "--rho", "abc"], "costcalc: error: Invalid value for '--rho'"),
    (["mobilenet", "--resolution", "-3"], "costcalc: error: Invalid value for '--resolution'"),
    (["mobilenet", "--format", "xml"], "costcalc: error: Invalid value for '--format'"),
    (["mobilenet", "--set", "classes"], "costcalc: error: Invalid value for '--set'"),
    (["mobilenet", "--bogus"], "costcalc: error: No such option '--bogus'"),
    (["no_such_spec"], "no_such_spec: error: no spec file here, and no shipped spec of that name"),
])
def test_bad_options_exit_2_with_one_line(args, message, run_cli):
    result = run_cli(*args)
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(message), result.err


def test_set_of_an_undeclared_parameter_is_the_options_error(run_cli):
    """Reported against --set, not at a line of the (installed) spec file."""
    result = run_cli("mobilenet", "--set", "groups=8")
    assert result.code == 2
    assert result.err == ("costcalc: error: --set groups=8: the spec declares no parameter "
                          "'groups'; declared: classes\n")


def test_shipped_spec_resolves_by_name_and_file_name_from_anywhere(run_cli, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name = json.loads(run_cli("mobilenet", "--format", "json").out)
    by_file = json.loads(run_cli("mobilenet.yaml", "--alpha", "0.5", "--rho", "0.714",
                                 "--format", "json").out)
    assert by_name["totals"]["mult_adds"] == 568_740_352
    assert by_file["totals"]["mult_adds"] == 76_524_800
    assert by_file["input"] == [3, 160, 160]


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_report_golden(fmt, run_cli, golden):
    result = run_cli("mobilenet", "--alpha", "0.5", "--rho", "0.714", "--format", fmt)
    assert result.code == 0 and result.err == ""
    golden(f"report_mobilenet_a0.5_r0.714.{fmt}", result.out)


def test_report_golden_wide_with_flops_and_all_layers(run_cli, golden):
    result = run_cli("mobilenet", "--flops", "--all-layers", columns=140)
    assert result.code == 0
    golden("report_mobilenet_flops_all_140.table", result.out)


def test_table_fits_80_columns_and_has_no_escape_codes(run_cli):
    out = run_cli("mobilenet").out
    assert "\x1b[" not in out
    assert max(len(line) for line in out.splitlines()) <= 80 or all(
        len(line) <= 80 for line in out.splitlines() if "│" in line or "─" in line)


def test_piped_output_of_a_real_process_has_no_colour(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "costcalc", "mobilenet"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout
    assert "568.74M" in proc.stdout


def test_csv_columns_sum_to_the_json_totals(run_cli):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run_cli("mobilenet", "--format", "csv").out)))
    totals = json.loads(run_cli("mobilenet", "--format", "json").out)["totals"]
    for key in ("mult_adds", "params", "bn_params", "other_ops"):
        assert sum(int(r[key]) for r in rows) == totals[key]
    assert len(rows) == totals["layers"]


def test_flops_are_twice_the_mult_adds_and_labelled(run_cli):
    report = json.loads(run_cli("mobilenet", "--flops", "--format", "json").out)
    assert report["totals"]["flops"] == 2 * 568_740_352
    table = run_cli("mobilenet", "--flops").out
    assert "FLOPs" in table and "1.14G" in table


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_list_shows_the_shipped_specs(run_cli, columns):
    result = run_cli("list", columns=columns)
    assert result.code == 0
    lines = result.out.splitlines()
    assert any(line.startswith("mobilenet ") and "MobileNet" in line for line in lines)
    from costcalc.lang import shipped
    files = list((pathlib.Path(__file__).parent.parent / "specs").glob("*.yaml"))
    named_apart = [v for v, (family, _) in shipped.variants().items() if v != family]
    assert len(lines) == len(files) + len(named_apart)   # one line each, at any width
    assert {line.split()[0] for line in lines} == {f.stem for f in files} | set(named_apart)
    assert all(len(line) <= columns and line == line.rstrip() for line in lines)
    resnet50 = next(line for line in lines if line.startswith("resnet50 "))
    assert resnet50.split(None, 1)[1] == ("resnet family: depth=50, resolution 224"
                                          if columns >= 80 else "resnet family: depth=50, "
                                                                "resolution…")
    if columns == 60:   # a description that does not fit is cut at its end
        alexnet = next(line for line in lines if line.startswith("alexnet "))
        assert len(alexnet) == 60 and alexnet.endswith("…")
        assert "AlexNet: torchvision 0.29, " in alexnet


def test_python_dash_m_and_help(run_cli):
    proc = subprocess.run([sys.executable, "-m", "costcalc", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "Usage" in proc.stdout


@pytest.mark.parametrize("args, name", [
    (["mobilenet", "--alpha", "0.5", "--rho", "0.714"], "MobileNet"),
    (["mobilenet_v2", "--alpha", "1.4"], "MobileNetV2"),
    (["shufflenet", "--set", "groups=8"], "ShuffleNet"),
    (["squeezenet"], "SqueezeNet"),
    (["squeezenet_v1_1.yaml"], "SqueezeNet"),
    (["effnet"], "EffNet"),
    (["fd_mobilenet", "--alpha", "0.25"], "FD-MobileNet"),
])
def test_every_shipped_spec_runs_from_another_folder(args, name, tmp_path):
    """From a folder without specs/, a real process finds the specs installed with the
    package (in CI, ``pip install .`` put them in site-packages)."""
    proc = subprocess.run([sys.executable, "-m", "costcalc", *args, "--format", "json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["name"].startswith(name) and report["totals"]["mult_adds"] > 0
