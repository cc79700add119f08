"""``costcalc compare``: column syntax, values against the MobileNet paper and Table 1
written out, golden outputs in every format, errors."""
import csv
import io
import json
import math

import pytest

from costcalc.analysis.compare import parse_column
from costcalc.core.errors import SpecError
from costcalc.output.compare import chosen_sections, column_groups, column_widths, header_lines

# MobileNet Table 1, after the 3x3 stem: (pointwise out channels, depthwise stride)
MOBILENET_BODY = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 \
    + [(1024, 2), (1024, 1)]


def mobilenet_counts(alpha=1.0, side=224):
    """(mult_adds, params) of MobileNet written out from Table 1: 'same' padding, the
    TF-slim width rule max(int(c * alpha), 8), a 1000-way FC without bias."""
    def ch(c):
        return c if alpha == 1 else max(int(c * alpha), 8)

    h = math.ceil(side / 2)
    cin = ch(32)
    mult_adds, params = 3 * 3 * 3 * cin * h * h, 3 * 3 * 3 * cin
    for out, stride in MOBILENET_BODY:
        h = math.ceil(h / stride)
        cout = ch(out)
        mult_adds += 3 * 3 * cin * h * h + cin * cout * h * h   # depthwise + pointwise
        params += 3 * 3 * cin + cin * cout
        cin = cout
    return mult_adds + cin * 1000, params + cin * 1000


def test_the_written_out_counts_are_the_papers():
    """Table 6: 569M / 4.2M at 1.0, 149M / 1.3M at 0.5; Table 7: 418M at 192."""
    assert round(mobilenet_counts()[0] / 1e6) == 569
    assert round(mobilenet_counts()[1] / 1e5) == 42
    assert round(mobilenet_counts(0.5)[0] / 1e6) == 149
    assert round(mobilenet_counts(0.5)[1] / 1e5) == 13
    assert round(mobilenet_counts(1.0, 192)[0] / 1e6) == 418


# ---------------------------------------------------------------- column syntax

@pytest.mark.parametrize("text, spec, alpha, rho, resolution, sets", [
    ("mobilenet", "mobilenet", None, None, None, {}),
    ("mobilenet@alpha=0.5", "mobilenet", 0.5, None, None, {}),
    ("mobilenet@alpha=0.5, rho=0.714", "mobilenet", 0.5, 0.714, None, {}),
    ("mobilenet.yaml@resolution=160", "mobilenet.yaml", None, None, 160, {}),
    ("shufflenet@groups=8,alpha=2", "shufflenet", 2.0, None, None, {"groups": "8"}),
    ("dir@x/spec.yaml@classes=10", "dir@x/spec.yaml", None, None, None, {"classes": "10"}),
])
def test_column_syntax(text, spec, alpha, rho, resolution, sets):
    column = parse_column(text)
    assert (column.spec, column.alpha, column.rho, column.resolution, column.sets) == \
        (spec, alpha, rho, resolution, sets)


def test_an_existing_file_with_at_in_its_name_is_just_a_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net@alpha=2").write_text("")
    column = parse_column("net@alpha=2")
    assert (column.spec, column.alpha) == ("net@alpha=2", None)


@pytest.mark.parametrize("text, message", [
    ("mobilenet@", "nothing after '@'"),
    ("@alpha=0.5", "no spec before '@'"),
    ("mobilenet@alpha", "expected NAME=VALUE after '@', got 'alpha'"),
    ("mobilenet@alpha=", "expected NAME=VALUE after '@', got 'alpha='"),
    ("mobilenet@alpha=0.5,", "expected NAME=VALUE after '@', got ''"),
    ("mobilenet@alpha=x", "alpha must be a positive number, not 'x'"),
    ("mobilenet@alpha=0", "alpha must be a positive number, not '0'"),
    ("mobilenet@rho=-1", "rho must be a positive number, not '-1'"),
    ("mobilenet@rho=inf", "rho must be a positive number, not 'inf'"),
    ("mobilenet@resolution=1.5", "resolution must be a positive whole number of pixels"),
    ("mobilenet@alpha=1,alpha=2", "alpha is given twice"),
])
def test_bad_column_syntax(text, message):
    """The library's SpecError (never click's), in the command line's words."""
    with pytest.raises(SpecError, match=r"^costcalc: error: Invalid value for 'SPEC\.\.\.': .*"
                       + message.replace("(", r"\(")):
        parse_column(text)


@pytest.mark.parametrize("args, message", [
    (["mobilenet@alpha=x"], "costcalc: error: Invalid value for 'SPEC...': "
                            "'mobilenet@alpha=x': alpha must be a positive number, not 'x'"),
    (["mobilenet", "mobilenet@groups=8"],
     "costcalc: error: Invalid value for 'SPEC...': 'mobilenet@groups=8': MobileNet declares "
     "no parameter 'groups' (declared: classes)"),
    (["mobilenet", "--set", "groups=8"],
     "costcalc: error: Invalid value for '--set': none of the compared specs declares a "
     "parameter 'groups'"),
    (["mobilenet", "--set", "groups"], "costcalc: error: Invalid value for '--set'"),
    (["mobilenet", "--format", "xml"], "costcalc: error: Invalid value for '--format'"),
    (["mobilenet", "--by", "layer"], "costcalc: error: Invalid value for '--by'"),
    ([], "costcalc: error: Missing argument 'SPEC[@SETTINGS]...'"),
    (["no_such_spec@alpha=0.5"], "no_such_spec: error: no spec file here"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, run_cli):
    result = run_cli("compare", *args)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(message), result.err
    assert "Traceback" not in result.err


# ---------------------------------------------------------------- values

def compare_json(run_cli, *args):
    result = run_cli("compare", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)["reports"]


def compare_csv(run_cli, *args):
    result = run_cli("compare", *args, "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))
    return rows[0], {tuple(row[:3]): row[3:] for row in rows[1:]}


def test_each_report_is_exactly_what_the_report_command_gives(run_cli):
    reports = compare_json(run_cli, "mobilenet", "mobilenet@alpha=0.5,rho=0.714")
    for report, args in zip(reports, ([], ["--alpha", "0.5", "--rho", "0.714"])):
        single = run_cli("mobilenet", *args, "--format", "json")
        assert single.code == 0
        assert report == json.loads(single.out)


def test_width_multiplier_column_and_ratio(run_cli):
    """Table 6: 569M and 149M; the ratio column is 149,497,088 / 568,740,352."""
    full, half = mobilenet_counts(), mobilenet_counts(0.5)
    assert (full[0], half[0]) == (568_740_352, 149_497_088)
    header, rows = compare_csv(run_cli, "mobilenet", "mobilenet@alpha=0.5")
    assert header == ["section", "item", "measure", "MobileNet", "MobileNet a0.5"]
    assert rows[("total", "", "mult_adds")] == [str(full[0]), str(half[0])]
    assert rows[("total", "", "params")] == [str(full[1]), str(half[1])]
    assert float(rows[("ratio", "", "mult_adds")][1]) == 149_497_088 / 568_740_352
    assert float(rows[("ratio", "", "params")][1]) == half[1] / full[1]
    assert rows[("ratio", "", "mult_adds")][0] == "1.0"
    table = run_cli("compare", "mobilenet", "mobilenet@alpha=0.5")
    assert "0.263x" in table.out   # 0.26286 to three places


def test_breakdown_by_type_is_table_2(run_cli):
    """MobileNet Table 2: conv 1x1 94.86% of mult-adds and 74.59% of params; depthwise
    3.06% / 1.06%; FC 0.18% / 24.33% (conv 3x3 is printed 1.19%, a misprint of 1.91%)."""
    _, rows = compare_csv(run_cli, "mobilenet")
    shares = {(key, measure): float(values[0]) for (section, key, measure), values in
              rows.items() if section == "type" and measure.endswith("_share")}
    expected = {("conv 1x1", "mult_adds_share"): 94.86, ("conv 1x1", "params_share"): 74.59,
                ("depthwise 3x3", "mult_adds_share"): 3.06,
                ("depthwise 3x3", "params_share"): 1.06,
                ("conv 3x3", "mult_adds_share"): 1.91, ("conv 3x3", "params_share"): 0.02,
                ("fc", "mult_adds_share"): 0.18, ("fc", "params_share"): 24.33}
    for key, printed in expected.items():
        assert abs(100 * shares[key] - printed) <= 0.005, key


def test_column_settings_win_over_the_global_ones(run_cli):
    reports = compare_json(run_cli, "mobilenet", "mobilenet@alpha=1", "mobilenet@rho=0.857",
                           "mobilenet@resolution=128", "--alpha", "0.5", "--resolution", "160")
    assert [r["alpha"] for r in reports] == [0.5, 1.0, 0.5, 0.5]
    assert [r["input"][1] for r in reports] == [160, 160, 192, 128]   # rho= drops --resolution
    assert [r["totals"]["mult_adds"] for r in reports] == [
        mobilenet_counts(0.5, 160)[0], mobilenet_counts(1.0, 160)[0],
        mobilenet_counts(0.5, 192)[0], mobilenet_counts(0.5, 128)[0]]
    # the exact count at 160 (the paper prints 290M for rho^2-scaled 568.74M; see the spec)
    assert reports[1]["totals"]["mult_adds"] == 290_675_200


def test_global_set_goes_to_the_specs_that_declare_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    reports = compare_json(run_cli, "tiny.yaml", "mobilenet", "tiny.yaml@width=8",
                           "--set", "classes=10", "--set", "width=4")
    assert [r["params"] for r in reports] == [
        {"width": 4, "classes": 10}, {"classes": 10}, {"width": 8, "classes": 10}]
    # conv 3x3 from 3 to `width` channels at 8x8 (stride 1, same), then fc width -> classes
    assert [r["totals"]["mult_adds"] for r in (reports[0], reports[2])] == [
        9 * 3 * 4 * 64 + 4 * 10, 9 * 3 * 8 * 64 + 8 * 10]
    assert reports[1]["totals"]["mult_adds"] == mobilenet_counts()[0] - 1024 * 990


TINY = """\
name: Tiny
input: [3, 8, 8]
params: {width: 4, classes: 5}
layers:
  - {name: conv1, type: conv, k: 3, out: $width, stage: stem}
  - {name: relu1, type: relu, stage: stem}
  - {name: pool, type: global_avgpool, stage: head}
  - {name: fc, type: fc, out: $classes, bias: false, stage: head}
"""


def test_headers_name_the_settings_and_stay_unique(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    header, _ = compare_csv(run_cli, "tiny.yaml", "tiny.yaml@width=8", "tiny.yaml@width=4",
                            "tiny.yaml@alpha=0.5,resolution=16", "tiny.yaml")
    # width=4 is the default: not a difference; repeated labels are numbered
    assert header[3:] == ["Tiny", "Tiny width=8", "Tiny (2)", "Tiny a0.5 16px", "Tiny (3)"]
    result = run_cli("compare", "tiny.yaml", "tiny.yaml", "--format", "markdown")
    assert "|  | Tiny | Tiny (2) |" in result.out


def test_sections_follow_what_the_specs_name(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    _, rows = compare_csv(run_cli, "tiny.yaml", "mobilenet")
    assert {key[0] for key in rows} == {"setting", "param", "total", "ratio", "type", "stage"}
    # stage rows: the spec that names none has empty cells
    assert rows[("stage", "stem", "mult_adds")] == [str(9 * 3 * 4 * 64), ""]
    assert rows[("stage", "head", "params")] == [str(4 * 5), ""]
    _, rows = compare_csv(run_cli, "mobilenet", "mobilenet@alpha=0.25")
    assert rows[("resolution", "112x112", "mult_adds")] == [
        str(3 * 3 * 3 * 32 * 112 * 112 + 3 * 3 * 32 * 112 * 112 + 32 * 64 * 112 * 112),
        str(3 * 3 * 3 * 8 * 112 * 112 + 3 * 3 * 8 * 112 * 112 + 8 * 16 * 112 * 112)]
    _, rows = compare_csv(run_cli, "mobilenet", "mobilenet@rho=0.5")  # sizes would not align
    assert {key[0] for key in rows} == {"setting", "param", "total", "ratio", "type"}
    _, rows = compare_csv(run_cli, "mobilenet", "mobilenet@rho=0.5", "--by", "resolution")
    assert {key[0] for key in rows} == {"setting", "param", "total", "ratio", "resolution"}
    assert rows[("resolution", "112x112", "mult_adds")][1] == ""   # 224 -> 112, 112 -> 56
    assert rows[("resolution", "56x56", "mult_adds")][0] != ""
    assert rows[("resolution", "4x4", "mult_adds")] == [
        "", str(3 * 3 * 512 * 4 * 4 + 512 * 1024 * 4 * 4 + 3 * 3 * 1024 * 4 * 4
                + 1024 * 1024 * 4 * 4)]


def test_chosen_sections():
    same = [("a", {"input": [3, 8, 8]}), ("b", {"input": [3, 8, 8]})]
    assert chosen_sections(same) == ["type", "resolution"]
    assert chosen_sections([("a", {"input": [3, 8, 8]}), ("b", {"input": [3, 9, 9]})]) == \
        ["type"]
    assert chosen_sections(same + [("c", {"input": [3, 9, 9], "by_stage": []})]) == \
        ["type", "stage"]
    assert chosen_sections(same, ("resolution", "type")) == ["type", "resolution"]


def test_column_widths_hold_whole_cells_and_header_words():
    sections = [("Totals", [["Mult-adds", "568.74M", "1.00M"]]),
                ("Mult-adds by layer type", [["conv 1x1", "539.49M 94.86%", "9K 0.9%"]])]
    # each column as wide as its longest cell or header word ('FD-' 'MobileNet' 'a0.5')
    assert column_widths(["MobileNet", "FD-MobileNet a0.5"], sections) == (9, [14, 9])
    assert header_lines("FD-MobileNet a0.5", 9) == ["FD-", "MobileNet", "a0.5"]
    # groups of columns that fit beside the label column, never splitting one
    assert column_groups(9, [14, 9], 36, 2) == [[0, 1]]
    assert column_groups(9, [14, 9], 30, 2) == [[0], [1]]


# ---------------------------------------------------------------- golden outputs

COLUMNS = ("mobilenet", "mobilenet@alpha=0.5", "mobilenet@alpha=0.25", "mobilenet@alpha=0.75")


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_golden_width_multipliers(fmt, run_cli, golden):
    columns = COLUMNS[:2] if fmt == "json" else COLUMNS
    result = run_cli("compare", *columns, "--format", fmt)
    assert result.code == 0, result.err
    golden(f"compare_mobilenet_alphas.{fmt}", result.out)


def test_golden_table_wide_and_mixed_resolutions(run_cli, golden):
    result = run_cli("compare", "mobilenet", "mobilenet@rho=0.714", "mobilenet@resolution=128",
                     "mobilenet@alpha=0.5,resolution=160", columns=140)
    assert result.code == 0, result.err
    golden("compare_mobilenet_resolutions_140.table", result.out)


def test_golden_table_stages(run_cli, golden, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    result = run_cli("compare", "tiny.yaml", "tiny.yaml@width=8,classes=10")
    assert result.code == 0, result.err
    golden("compare_tiny_stages.table", result.out)


def test_table_fits_80_columns_and_has_no_escape_codes(run_cli):
    result = run_cli("compare", *COLUMNS)
    assert "\x1b" not in result.out
    table_lines = result.out.splitlines()[:-2]  # the notes are soft-wrapped prose
    assert max(len(line) for line in table_lines) <= 80
