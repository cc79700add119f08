"""Tables that fit (issue 11): at 60, 80 and 140 columns one line per layer, no number or
shape split, names shortened in the middle, dropped columns named, no trailing space, no
escape codes; and tables that tell (--all-layers columns, --by, --depth, --flops, check)."""
import re

import pytest

from costcalc import analyze
from costcalc.core.units import human
from costcalc.output.render import shape_text
from costcalc.output.textable import elide

LONG = "efficientnet_b0"  # names such as stage6/3/residual/stochastic_depth


def layer_lines(out):
    """The lines between the first table's rule and its closing rule."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("─"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("─"))
    return lines[start + 1:end]


def assert_plain(out, columns):
    for line in out.splitlines():
        assert len(line) <= columns, line
        assert line == line.rstrip(), repr(line)
    assert "\x1b" not in out


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_long_names_one_line_per_layer(run_cli, golden, columns):
    result = run_cli(LONG, "--all-layers", columns=columns)
    assert result.code == 0, result.err
    assert_plain(result.out, columns)
    report = analyze(LONG)
    lines = layer_lines(result.out)
    # stem conv, bn, act; block 1: dw, bn, act, squeeze-and-excitation (6), project, bn;
    # 15 blocks of expand, bn, act, dw, bn, act, SE (6), project, bn; 9 residuals of
    # stochastic depth + add; head conv, bn, act; avgpool, flatten, dropout, fc
    assert len(lines) == len(report["layers"]) == 3 + 11 + 15 * 14 + 9 * 2 + 3 + 4
    for line, row in zip(lines, report["layers"]):
        cells = line.split()
        # the name whole or shortened in the middle, its shape and counts as whole tokens
        name = cells[0]
        assert name == row["name"] or ("…" in name and row["name"].startswith(
            name.split("…")[0]) and row["name"].endswith(name.split("…")[-1])), (name, row)
        assert shape_text(row["output"]) in cells
        assert human(row["mult_adds"]) in cells and human(row["params"]) in cells
        # what --all-layers is asked for outlasts Type and MA %
        assert cells[-1 if columns == 60 else -2] == human(row["bn_params"]), (line, row)
    if columns == 60:
        assert "Not shown at 60 columns: Type, MA %, Other ops (" in result.out
    if columns == 80:
        assert "Not shown at 80 columns: Type, MA % (" in result.out
        assert all(line.split()[-1] == human(row["other_ops"])
                   for line, row in zip(lines, report["layers"]))
    if columns == 140:
        assert "Not shown" not in result.out
    golden(f"report_{LONG}_all_{columns}.table", result.out)


def test_all_layers_count_batch_norm_and_other_ops(run_cli):
    result = run_cli("mobilenet", "--all-layers", columns=140)
    lines = layer_lines(result.out)
    header = result.out.splitlines()[1].split()
    assert header[-4:] == ["BN", "params", "Other", "ops"]
    bn = next(line for line in lines if line.startswith("conv1_bn"))
    # batch norm of 32 channels: 2 * 32 learned params; 32 x 112 x 112 outputs
    assert bn.split()[-2:] == ["64", human(32 * 112 * 112)]
    total = result.out.splitlines()[len(lines) + 4].split()
    report = analyze("mobilenet")
    assert total[-2:] == [human(report["totals"]["bn_params"]), human(report["totals"]["other_ops"])]
    assert human(sum(r["bn_params"] for r in report["layers"])) == total[-2]


def test_flops_adds_a_column_and_a_total(run_cli):
    result = run_cli("mobilenet", "--flops", columns=140)
    header = result.out.splitlines()[1].split()
    assert header[3:6] == ["Mult-adds", "FLOPs", "Params"]
    first = layer_lines(result.out)[0].split()  # conv1: 3*3*3*32*112*112 = 10,838,016
    assert first[4:6] == ["10.84M", "21.68M"]
    assert "FLOPs = 2 x mult-adds = 1.14G (1,137,480,704)." in result.out


def test_by_stage_and_resolution_tables(run_cli):
    result = run_cli("mobilenet_v2", "--by", "stage", "--by", "resolution", columns=100)
    assert "By stage" in result.out and "By output size" in result.out
    assert "By layer type" not in result.out
    section = result.out[result.out.index("By stage"):]
    stage = next(line for line in section.splitlines() if line.startswith("conv1 "))
    # conv1 (conv, batch norm, relu6): 3*3*3*32*112*112 = 10,838,016 mult-adds, 3.60% of 300.77M
    assert stage.split()[:4] == ["conv1", "3", "10.84M", "3.60%"]
    no_stage = run_cli("mobilenet", "--by", "stage")
    assert "By stage: no layer of this spec names a stage." in no_stage.out


def test_depth_folds_blocks_with_subtotals(run_cli):
    result = run_cli("mobilenet", "--depth", "1", columns=100)
    lines = layer_lines(result.out)
    assert [line.split()[0] for line in lines] == (
        ["conv1"] + [f"separable{i}" for i in range(1, 14)] + ["fc"])
    s1 = lines[1].split()  # dw 3*3*32*112*112 + pw 32*64*112*112, 6 layers with bn and relu
    assert s1[1:3] == ["6", "layers"] and s1[4] == human(3 * 3 * 32 * 112 * 112
                                                        + 32 * 64 * 112 * 112)
    layers = 3 + 13 * 6 + 3   # conv1, bn, relu; 13 x (dw, bn, relu, pw, bn, relu); pool, fc, softmax
    assert f"{layers} layers, folded to depth 1 of their names (15 rows)." in result.out


def test_elide_keeps_indices_and_ends():
    assert elide("stage5/1/residual/stochastic_depth", 28) == "stage5/1/…/stochastic_depth"
    assert elide("bottleneck17/expand/project", 22) == "bottleneck17/…/project"
    assert elide("short", 10) == "short"
    assert len(elide("abcdefghijklmnopqrstuvwxyz", 10)) == 10


def test_compare_six_specs_at_80(run_cli, golden):
    names = ("mobilenet", "mobilenet_v2", "shufflenet", "squeezenet", "effnet", "fd_mobilenet")
    result = run_cli("compare", *names, columns=80)
    assert result.code == 0, result.err
    assert_plain(result.out, 80)
    lines = result.out.splitlines()
    assert "MobileNet" in lines[2] and "MobileNetV2" in lines[2]  # header words whole
    assert lines[4].split() == ["Input", "3x224x224", "3x224x224", "3x224x224", "3x227x227",
                                "3x32x32", "3x224x224"]
    golden("compare_six_80.table", result.out)


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_sweep_and_explain_fit(run_cli, columns):
    sweep = run_cli("sweep", "mobilenet", "--alpha", "1,0.75,0.5,0.25", "--rho",
                    "1,0.857,0.714,0.571", "--layout", "long", columns=columns)
    assert_plain(sweep.out, columns)
    assert "568,740,352" in sweep.out  # Table 6 of the MobileNet paper, whole
    explain = run_cli("mobilenet", "--explain", columns=columns)
    assert_plain(explain.out, columns)
    assert "3*3*3*32*112*112 = 10,838,016" in explain.out.replace("\n      ", " ")


def test_no_argument_prints_the_help(run_cli):
    result = run_cli()
    assert result.code == 0 and result.out.startswith("Usage: costcalc SPEC [OPTIONS]")
    assert "Report options (costcalc SPEC [OPTIONS]):" in result.out and "--depth N" in result.out
    assert run_cli("mobilenet", "--help").out.startswith("Usage: costcalc SPEC [OPTIONS]")


def test_escape_codes_only_on_a_terminal(monkeypatch):
    import io

    from costcalc.output.textable import styled

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert styled(Terminal()) and not styled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not styled(Terminal())


def test_the_escape_codes_are_bold_and_bold_red_and_reset():
    """ECMA-48 SGR: ESC [ 1 m bold, ESC [ 1 ; 31 m bold red, ESC [ 0 m reset; around an
    empty line too."""
    from costcalc.output.textable import bold

    assert bold("Layer", True) == "\x1b[1mLayer\x1b[0m"
    assert bold("FAIL", True, red=True) == "\x1b[1;31mFAIL\x1b[0m"
    assert bold("", True, red=True) == "\x1b[1;31m\x1b[0m"
    assert bold("Layer", False) == "Layer"


@pytest.mark.parametrize("colour, imported", [("never", False), ("auto", False),
                                              ("always", True)])
def test_rich_is_imported_only_for_a_styled_table(colour, imported):
    """Start-up: a table to a pipe (auto, NO_COLOR unset) or without colour does not import
    rich; a coloured one takes its codes from rich's Style."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys; from costcalc.cli import cli\n"
            "try:\n    cli.main(['mobilenet', '--color', %r], standalone_mode=False)\n"
            "finally:\n    sys.stderr.write(str('rich.style' in sys.modules))") % colour
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env=env)
    assert run.stderr == str(imported)
    assert ("\x1b[1m" in run.stdout) is imported


def test_json_is_the_same_data_streamed_and_compact(run_cli):
    import json

    pretty = run_cli("mobilenet", "--format", "json").out
    compact = run_cli("mobilenet", "--format", "json", "--compact").out
    assert json.loads(pretty) == json.loads(compact) == analyze("mobilenet")
    assert compact == json.dumps(analyze("mobilenet"), separators=(",", ":")) + "\n"


def test_check_columns(run_cli, tmp_path, monkeypatch):
    spec = tmp_path / "t3.yaml"
    text = open(re.sub(r"tests/.*", "tests/specs/table3_layer.yaml", __file__)).read()
    spec.write_text(text.replace("printed: 52.3M,", "printed: 52.5M,"))
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "t3.yaml", columns=100)
    assert_plain(result.out, 100)
    lines = result.out.splitlines()
    assert lines[0] == "t3.yaml"  # relative to where the user stands
    assert lines[1].split() == ["Line", "What", "Documented", "Computed", "Tolerance",
                                "Deviation", "Verdict"]
    bad = next(line for line in lines if line.rstrip().endswith("FAIL")).split()
    # dw 3*3*512*14*14 + pw 512*512*14*14 = 52,283,392: 52.3M at 52.5M's one decimal,
    # half a unit of that decimal as tolerance, 52.28M - 52.5M = -0.217M
    assert bad[-5:] == ["52.5M", "52.3M", "±0.05M", "-0.217M", "FAIL"]


def test_a_deviation_that_prints_as_zero_has_no_sign():
    from costcalc.core.units import in_unit, signed

    # binary units too: 0.001 B is 0 KiB at no decimals; 512 B is 512 / 1024 = 0.5 KiB
    assert signed(0.001, in_unit(0.001, "KiB", 0), "KiB") == "0KiB"
    assert signed(512, in_unit(512, "KiB", 1), "KiB") == "+0.5KiB"
    assert signed(-0.004e6, in_unit(-0.004e6, "M", 2), "M") == "0M"
    assert signed(4.2e5, in_unit(4.2e5, "M", 2), "M") == "+0.42M"
