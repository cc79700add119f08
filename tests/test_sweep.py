"""``costcalc sweep``: the MobileNet paper's Tables 6 and 7 as a grid, every point equal
to a full analysis, golden outputs, the plot, errors and speed."""
import csv
import io
import json
import sys

import pytest

from costcalc.lang import shipped
from costcalc.analysis import sweep
from costcalc.build.graph import Settings, build
from costcalc.core.limits import LIMITS
from costcalc.analysis.report import make_report
from costcalc.output import sweep as sweep_text

ALPHAS = "1,0.75,0.5,0.25"
RHOS = "1,0.857,0.714,0.571"


def sweep_json(run_cli, *args):
    result = run_cli("sweep", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)["points"]


def test_mobilenet_tables_6_and_7(run_cli):
    """Table 6 (224, alpha 1/0.75/0.5/0.25): 569M/325M/149M/41M mult-adds, 4.2M/2.6M/1.3M/
    0.5M params. Table 7 (alpha 1, 224/192/160/128): 569M/418M/290M/186M; the exact count
    at 160 is 290,675,200 (291M): the paper scaled the 224 count by rho^2 (see
    specs/mobilenet.yaml)."""
    points = sweep_json(run_cli, "mobilenet", "--alpha", ALPHAS, "--rho", RHOS)
    grid = {(p["alpha"], p["rho"]): p for p in points}
    assert [p["resolution"] for p in points[:4]] == [224, 192, 160, 128]
    assert [round(grid[(a, 1.0)]["mult_adds"] / 1e6) for a in (1, 0.75, 0.5, 0.25)] == \
        [569, 325, 149, 41]
    assert [round(grid[(a, 1.0)]["params"] / 1e5) / 10 for a in (1, 0.75, 0.5, 0.25)] == \
        [4.2, 2.6, 1.3, 0.5]
    assert [round(grid[(1.0, r)]["mult_adds"] / 1e6) for r in (1, 0.857, 0.571)] == [569, 418, 186]
    assert grid[(1.0, 0.714)]["mult_adds"] == 290_675_200
    assert grid[(1.0, 1.0)]["mult_adds"] == 568_740_352
    # Table 9: 0.50 MobileNet-160 has 1.32M params (76M mult-adds printed; exact 76,524,800)
    assert round(grid[(0.5, 0.714)]["params"] / 1e4) / 100 == 1.32
    assert grid[(0.5, 0.714)]["mult_adds"] == 76_524_800
    # params do not depend on the resolution
    assert {p["params"] for p in points if p["alpha"] == 1.0} == {4_209_088}


def test_resolution_list_and_rho_of_each_point(run_cli):
    points = sweep_json(run_cli, "mobilenet", "--resolution", "224,160", "--alpha", "0.5")
    assert [(p["alpha"], p["rho"], p["resolution"]) for p in points] == [
        (0.5, 1.0, 224), (0.5, 160 / 224, 160)]
    assert [p["mult_adds"] for p in points] == [149_497_088, 76_524_800]


def test_lists_may_be_repeated_and_default_to_1(run_cli):
    points = sweep_json(run_cli, "mobilenet", "--alpha", "1", "--alpha", "0.5,0.25")
    assert [(p["alpha"], p["rho"], p["resolution"]) for p in points] == [
        (1.0, 1.0, 224), (0.5, 1.0, 224), (0.25, 1.0, 224)]


def full_analysis(spec, alpha, rho=1.0, resolution=None, overrides=None):
    report = make_report(build(spec, Settings(alpha, rho, resolution, overrides)), "x")
    return report["totals"]["mult_adds"], report["totals"]["params"], report["resolution"]


@pytest.mark.parametrize("name", shipped.names())
def test_every_point_equals_a_full_analysis(name):
    """The grid re-runs the layer formulas on new inputs instead of re-building; each
    point must be what ``costcalc SPEC --alpha A --rho R`` reports."""
    spec = shipped.load(name)
    alphas, rhos, sides = [1.0, 0.75, 0.5, 0.35], [1.0, 0.857, 0.714, 0.571, 1.3], [224, 97]
    if spec.width.rule == "none":   # no width multiplier: alpha other than 1 is refused
        alphas = [1.0]
    points = sweep.points(spec, alphas, rhos)
    assert len(points) == len(alphas) * len(rhos)
    for p in points:
        assert (p["mult_adds"], p["params"], p["resolution"]) == \
            full_analysis(spec, p["alpha"], p["rho"]), p
    for p in sweep.points(spec, alphas, resolutions=sides):
        assert (p["mult_adds"], p["params"], p["resolution"]) == \
            full_analysis(spec, p["alpha"], resolution=p["resolution"]), p


SIZE_AWARE = """\
name: SizeAware
input: [3, 32, 32]
layers:
  - {name: conv1, type: conv, k: 3, out: 8}
  - {name: big, type: conv, k: 3, out: 16, when: "${in_height >= 32}"}
  - {name: pool, type: global_avgpool}
  - {name: fc, type: fc, out: 10}
"""


def test_a_spec_that_reads_the_input_size_is_built_at_every_point(tmp_path):
    path = tmp_path / "size_aware.yaml"
    path.write_text(SIZE_AWARE)
    spec = shipped.load(str(path))
    assert sweep.uses_input_size(spec)
    assert not sweep.uses_input_size(shipped.load("mobilenet"))
    points = sweep.points(spec, [1.0], resolutions=[32, 16])
    # at 32 the 'big' layer is there, at 16 it is not ('same' padding, stride 1)
    assert [p["mult_adds"] for p in points] == [
        9 * 3 * 8 * 32 * 32 + 9 * 8 * 16 * 32 * 32 + 16 * 10,
        9 * 3 * 8 * 16 * 16 + 8 * 10]
    assert [p["params"] for p in points] == [
        9 * 3 * 8 + 9 * 8 * 16 + 16 * 10 + 10, 9 * 3 * 8 + 8 * 10 + 10]


def test_a_point_without_output_names_the_point(run_cli, tmp_path):
    path = tmp_path / "valid.yaml"
    path.write_text("name: Valid\ninput: [3, 32, 32]\nlayers:\n"
                    "  - {name: conv1, type: conv, k: 7, out: 8, padding: valid}\n")
    result = run_cli("sweep", str(path), "--resolution", "32,8,4", "--alpha", "1,0.5")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:4:5: error: conv1 (conv): ")
    assert lines[0].endswith("(sweep point alpha 1, input 4x4)")


@pytest.mark.parametrize("args, message", [
    (["--alpha", "1,x"], "costcalc: error: Invalid value for '--alpha': 'x' is not a positive "
                         "number"),
    (["--alpha", "0"], "costcalc: error: Invalid value for '--alpha': '0' is not a positive"),
    (["--rho", "1,,0.5"], "costcalc: error: Invalid value for '--rho': '' is not a positive"),
    (["--resolution", "224,160.5"], "costcalc: error: Invalid value for '--resolution': "
                                    "'160.5' is not a positive whole number"),
    (["--rho", "1", "--resolution", "224"], "costcalc: error: Invalid value for "
                                            "'--resolution': give --rho or --resolution"),
    (["--set", "groups=8"], "costcalc: error: --set groups=8: the spec declares no parameter"),
    (["--plot", "out.pdf"], "costcalc: error: Invalid value for '--plot': 'out.pdf': the file "
                            "name must end in .png or .svg"),
    (["--format", "xml"], "costcalc: error: Invalid value for '--format'"),
])
def test_bad_options_exit_2_with_one_line(args, message, run_cli):
    result = run_cli("sweep", "mobilenet", *args)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(message), result.err


def test_plot_without_matplotlib_says_how_to_get_it(run_cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    result = run_cli("sweep", "mobilenet", "--alpha", "1,0.5", "--plot", tmp_path / "p.png")
    assert result.code == 2
    assert result.err == "costcalc: error: --plot needs matplotlib: pip install 'costcalc[plot]'\n"
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("extension", ["png", "svg"])
def test_plot_writes_a_valid_file(extension, run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"sweep.{extension}"
    result = run_cli("sweep", "mobilenet", "--alpha", ALPHAS, "--rho", RHOS, "--plot", path)
    assert result.code == 0, result.err
    assert result.err == f"costcalc: wrote {path}\n"
    assert "568.74M" in result.out        # the table is still printed
    data = path.read_bytes()
    if extension == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert data[12:16] == b"IHDR"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (750, 550)
    else:
        text = data.decode()
        assert text.lstrip().startswith("<?xml") and "<svg" in text and text.rstrip().endswith(
            "</svg>")
        assert "MobileNet: mult-adds vs parameters" in text   # the title, as a comment


def test_a_20_by_20_mobilenet_v2_grid_has_400_points_in_alpha_major_order():
    # its speed is measured in bench/bench.py, against one report in the same run
    spec = shipped.load("mobilenet_v2")
    alphas = [0.25 + 0.05 * i for i in range(20)]
    sides = [96 + 16 * i for i in range(20)]
    points = sweep.points(spec, alphas, resolutions=sides)
    assert len(points) == 400
    assert [(p["alpha"], p["resolution"]) for p in points[:2]] == [(0.25, 96), (0.25, 112)]


# ---------------------------------------------------------------- golden outputs

@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_golden_mobilenet_grid(fmt, run_cli, golden):
    result = run_cli("sweep", "mobilenet", "--alpha", ALPHAS, "--rho", RHOS, "--format", fmt)
    assert result.code == 0, result.err
    golden(f"sweep_mobilenet.{fmt}", result.out)


def test_golden_long_layout_and_resolutions(run_cli, golden):
    result = run_cli("sweep", "mobilenet", "--alpha", "1,0.5", "--resolution", "224,160",
                     "--layout", "long")
    assert result.code == 0, result.err
    golden("sweep_mobilenet_long.table", result.out)
    result = run_cli("sweep", "mobilenet", "--alpha", "1,0.5", "--resolution", "224,160",
                     "--layout", "long", "--format", "markdown")
    golden("sweep_mobilenet_long.markdown", result.out)


FLATTEN = """\
name: Flat
input: [3, 16, 16]
layers:
  - {name: conv1, type: conv, k: 3, out: 4, stride: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: fc, out: 10, bias: false}
"""


def test_params_that_depend_on_the_resolution_get_their_own_grid(run_cli, tmp_path,
                                                                 monkeypatch, golden):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flat.yaml").write_text(FLATTEN)
    points = sweep_json(run_cli, "flat.yaml", "--alpha", "1,0.5", "--resolution", "16,8")
    # conv 3x3/2 'same': 16 -> 8, 8 -> 4; the fc sees C*H*W inputs
    assert [p["params"] for p in points] == [27 * 4 + 4 * 8 * 8 * 10, 27 * 4 + 4 * 4 * 4 * 10,
                                             27 * 2 + 2 * 8 * 8 * 10, 27 * 2 + 2 * 4 * 4 * 10]
    result = run_cli("sweep", "flat.yaml", "--alpha", "1,0.5", "--resolution", "16,8")
    golden("sweep_flat_params_grid.table", result.out)


def test_csv_is_one_row_per_point_with_exact_counts(run_cli):
    result = run_cli("sweep", "mobilenet", "--alpha", "1,0.5", "--rho", "1,0.714",
                     "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["alpha"], r["rho"], r["resolution"], r["mult_adds"]) for r in rows] == [
        ("1.0", "1.0", "224", "568740352"), ("1.0", "0.714", "160", "290675200"),
        ("0.5", "1.0", "224", "149497088"), ("0.5", "0.714", "160", "76524800")]


def test_a_grid_too_wide_for_the_terminal_is_split_into_parts(run_cli, golden):
    args = ("sweep", "mobilenet", "--alpha", "1,0.5", "--resolution",
            "224,208,192,176,160,144,128,112,96")
    result = run_cli(*args)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines[:-2]) <= 80   # the last two are prose notes
    assert "MobileNet: mult-adds and params (1 of 2)" in lines
    assert "MobileNet: mult-adds and params (2 of 2)" in lines
    golden("sweep_mobilenet_split_80.table", result.out)
    wide = run_cli(*args, columns=140)
    assert "(1 of 2)" not in wide.out
    assert "96px  Params" in wide.out


def test_split_columns_keeps_the_first_column_and_no_lone_last_column():
    header = ["Alpha", "a", "b", "c", "Params"]
    rows = [["1", "12345", "12345", "12345", "9"]]
    # each column needs 3 + 5 (the alpha column 2 + 5): 7 + 8 + 8 = 23 fits, 31 does not
    parts = sweep_text.split_columns("T", header, rows, 30)
    assert [p[1] for p in parts] == [["Alpha", "a", "b"], ["Alpha", "c", "Params"]]
    assert [p[0] for p in parts] == ["T (1 of 2)", "T (2 of 2)"]
    assert parts[1][2] == [["1", "12345", "9"]]
    assert sweep_text.split_columns("T", header, rows, 80) == [("T", header, rows)]


# ---------------------------------------------------------------- limits, repeats, progress

TINY = "name: tiny\ninput: [3, 8, 8]\nlayers: [{type: conv, k: 1, out: 4}]\n"


def _count_builds(monkeypatch, most):
    """Count the full builds of the sweep; fail at build number ``most + 1``."""
    builds = []
    real = sweep._build

    def counted(*args):
        builds.append(args[2])
        assert len(builds) <= most, f"more than {most} full builds: {builds[:3]}..."
        return real(*args)

    monkeypatch.setattr(sweep, "_build", counted)
    return builds


def test_a_repeated_value_is_one_point_computed_once(monkeypatch):
    """alphas=[0.5] * 200000 ran past 60 s: the same point 200,000 times. It is one point,
    built once, equal to the analysis at alpha 0.5."""
    import costcalc

    builds = _count_builds(monkeypatch, most=1)
    grid = costcalc.sweep("mobilenet", alphas=[0.5] * 200_000)
    assert len(builds) == 1 and len(grid.points) == 1
    expected = costcalc.analyze("mobilenet", alpha=0.5)["totals"]
    assert (grid.points[0].alpha, grid.points[0].mult_adds, grid.points[0].params) == (
        0.5, expected["mult_adds"], expected["params"])


def test_repeated_values_keep_the_first_order_and_get_a_note(run_cli):
    """--alpha 1,0.5,1 --alpha 0.5 --rho 1,0.5,1 is 2 x 2 points, in the order each value
    first appears; a note on stderr says which values came more than once."""
    result = run_cli("sweep", "mobilenet", "--alpha", "1,0.5,1", "--alpha", "0.5",
                     "--rho", "1,0.5,1", "--format", "csv")
    assert result.code == 0
    rows = list(csv.reader(io.StringIO(result.out)))[1:]
    assert [(float(r[0]), float(r[1])) for r in rows] == [(1, 1), (1, 0.5), (0.5, 1), (0.5, 0.5)]
    assert result.err.splitlines() == [
        "costcalc: note: --alpha gives 1, 0.5 more than once; each point is computed and "
        "listed once",
        "costcalc: note: --rho gives 1 more than once; each point is computed and listed once"]


def test_the_number_of_points_is_limited_before_anything_is_built(tmp_path, run_cli,
                                                                   monkeypatch):
    """docs/errors.md: at most 10,000 points. 120,000 alphas took 82 s; 100 x 101 points
    are refused at once (no build), 100 x 100 of a one-layer spec are computed."""
    import costcalc

    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    alphas = [1 + i / 1000 for i in range(100)]
    rhos = [1 + i / 100 for i in range(101)]
    builds = _count_builds(monkeypatch, most=100)
    with pytest.raises(ValueError) as info:
        costcalc.sweep(str(spec), alphas, rhos=rhos)
    assert str(info.value) == ("costcalc: error: the sweep has 10,100 points (100 alphas x "
                               "101 rhos), more than the limit of 10,000 (docs/errors.md)")
    assert builds == []
    result = run_cli("sweep", spec, "--alpha", ",".join(map(str, alphas)),
                     "--resolution", ",".join(str(8 + i) for i in range(101)))
    assert (result.code, result.out, builds) == (2, "", [])
    assert result.err == ("costcalc: error: the sweep has 10,100 points (100 alphas x 101 "
                          "resolutions), more than the limit of 10,000 (docs/errors.md)\n")
    grid = costcalc.sweep(str(spec), alphas, rhos=rhos[:100])
    assert len(grid.points) == 10_000 and len(builds) == 100   # one build per alpha
    # conv 1x1, 3 -> int(4 * alpha) channels (no width rule: int(c * alpha)) on the input
    last = grid.points[-1]
    side = round(8 * rhos[99])
    assert last.resolution == side and last.mult_adds == 3 * int(4 * alphas[-1]) * side * side


def test_points_times_layers_is_limited_after_the_first_build(tmp_path, run_cli, monkeypatch):
    """docs/errors.md: at most 5 x 10^6 layer results (points x the first point's layers;
    a 5 x 5 grid of a 200,000-layer spec took 9.3 s). 1,001 points of 5,000 layers are
    refused after one build."""
    spec = tmp_path / "deep.yaml"
    spec.write_text("name: deep\ninput: [1, 2, 2]\nlayers:\n  - {repeat: 5000, "
                    "layers: [{type: relu}]}\n")
    builds = _count_builds(monkeypatch, most=1)
    alphas = ",".join(str(1 + i / 10000) for i in range(1001))
    result = run_cli("sweep", spec, "--alpha", alphas, "--format", "json")
    assert (result.code, result.out, len(builds)) == (2, "", 1)
    assert result.err == ("costcalc: error: the sweep would compute 5,005,000 layer results "
                          "(1,001 points x 5,000 layers), more than the limit of 5,000,000 "
                          "(docs/errors.md)\n")


def test_the_limit_of_layer_results_is_inclusive(tmp_path, monkeypatch):
    """With the limit set to 20: 10 points of 2 layers are computed, 11 are refused."""
    import costcalc

    monkeypatch.setitem(LIMITS, "layer_results", 20)
    spec = tmp_path / "two.yaml"
    spec.write_text("name: two\ninput: [3, 8, 8]\nlayers: [{type: conv, k: 1, out: 4}, "
                    "{type: relu}]\n")
    assert len(costcalc.sweep(str(spec), [1], rhos=[1 + i / 10 for i in range(10)]).points) == 10
    with pytest.raises(ValueError, match=r"22 layer results \(11 points x 2 layers\), more "
                                         r"than the limit of 20 \(docs/errors\.md\)"):
        costcalc.sweep(str(spec), [1], rhos=[1 + i / 10 for i in range(11)])


SWEEP_CODE = """
import sys
import costcalc.analysis.sweep as sweep
sweep.PROGRESS_FROM = {start}
from costcalc.cli import main
try:
    main(["sweep", "mobilenet", "--alpha", "1,0.75,0.5", "--rho", "1,0.5", "--format", "csv"])
except SystemExit:
    pass
print("rich.progress" in sys.modules)
"""


def test_a_long_sweep_shows_progress_on_a_terminal_only():
    """stderr a terminal (a pty) and 6 points x 84 layers past PROGRESS_FROM (set to 1
    here): rich draws a bar on stderr, stdout is the CSV alone. Piped, or a sweep below
    PROGRESS_FROM on a terminal, gets no bar and rich.progress is never imported (start-up
    and short sweeps unchanged)."""
    from terminal_support import on_a_terminal, piped

    shown, drawn = on_a_terminal(SWEEP_CODE.format(start=1))
    out = shown.stdout.decode().splitlines()
    assert out[0] == "alpha,rho,resolution,mult_adds,params" and len(out) == 1 + 6 + 1, drawn
    assert out[-1] == "True"
    assert b"sweep" in drawn and b"6/6" in drawn and b"points" in drawn, drawn
    into_a_pipe = piped(SWEEP_CODE.format(start=1))
    short, drawn = on_a_terminal(SWEEP_CODE.format(start=10**9))
    for quiet in (into_a_pipe, short):
        lines = quiet.stdout.decode().splitlines()
        assert lines[:7] == out[:7] and lines[7:] == ["False"]
    assert into_a_pipe.stderr == b"" and drawn == b""
