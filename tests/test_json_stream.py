"""JSON and CSV written from report.LayerRows (issue 11's speed): each row made from its node
as it is written, the parts repeats share encoded once. The text must be the one the
standard library writes from the plain list of row dicts, byte for byte."""
import csv
import io
import json

import pytest

from costcalc import analyze
from costcalc.analysis.pipeline import Options, report
from costcalc.output.render import render_csv, write_json
from costcalc.analysis.report import LayerRows


def _report(name, **options):
    return report(name, Options(**options))

# plain chains, residual adds (two inputs), concats, stages, a repeat with a block
SPECS = ["mobilenet", "mobilenet_v2", "googlenet", "efficientnet_b0", "shufflenet"]
# conv1 + bn + relu6; bottleneck 1: dw, bn, relu6, project, bn; 16 bottlenecks of expand,
# bn, relu6, dw, bn, relu6, project, bn; 10 residual adds; conv + bn + relu6; pool; classifier
MOBILENET_V2_LAYERS = 3 + 5 + 16 * 8 + 10 + 3 + 1 + 1
OPTIONS = [{}, {"flops": True}, {"convention": "fvcore"}, {"alpha": 0.5, "rho": 0.714}]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "flops", "fvcore", "alpha-rho"])
def test_streamed_json_is_the_standard_librarys(run_cli, spec, options):
    if spec == "googlenet" and "alpha" in options:   # GoogLeNet defines no width multiplier
        options = {"rho": options["rho"]}
    args = [spec, "--format", "json"]
    for key, value in options.items():
        args += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    expected = analyze(spec, **options)   # rows as a list of dicts
    compact = run_cli(*args, "--compact").out
    assert compact == json.dumps(expected, separators=(",", ":")) + "\n"
    pretty = run_cli(*args).out
    assert json.loads(pretty) == expected
    listed = io.StringIO()
    write_json(expected, listed)          # the list-of-dicts path of the same writer
    assert pretty == listed.getvalue()
    assert all(line == line.rstrip() for line in pretty.splitlines())


def test_lazy_rows_read_as_the_list(monkeypatch):
    monkeypatch.setattr(LayerRows, "CACHE", 3)   # the shared parts cleared again and again
    lazy = _report("mobilenet_v2", lazy_rows=True)
    listed = analyze("mobilenet_v2")["layers"]
    rows = lazy["layers"]
    assert isinstance(rows, LayerRows) and len(rows) == len(listed) == MOBILENET_V2_LAYERS
    assert list(rows) == listed
    assert rows[-1] == listed[-1] and rows[3:7] == listed[3:7] and rows[::50] == listed[::50]
    assert rows[0]["inputs"] == ["input"]
    add = next(r for r in rows if r["type"] == "add")
    assert len(add["inputs"]) == 2
    with pytest.raises(IndexError):
        rows[len(listed)]
    first, second = rows[2], rows[2]   # each read a row of its own
    first["output"].append(0)
    assert second["output"] == listed[2]["output"] and len(rows[2]["output"]) == 3
    out = io.StringIO()
    write_json(lazy, out, compact=True)
    assert json.loads(out.getvalue())["layers"] == listed


def test_csv_from_lazy_rows_is_the_same(run_cli):
    out = run_cli("mobilenet_v2", "--format", "csv").out
    expected = io.StringIO()
    render_csv(analyze("mobilenet_v2"), expected)
    assert out == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == MOBILENET_V2_LAYERS and rows[0]["name"] == "conv1"


def test_an_option_that_annotates_rows_gets_a_list():
    report = _report("mobilenet", explain=True, lazy_rows=True)
    assert isinstance(report["layers"], list) and "explain" in report["layers"][0]
    report = _report("mobilenet", activation_bits=8, lazy_rows=True)
    assert isinstance(report["layers"], list) and "activation_bytes" in report["layers"][0]


def test_a_report_without_layers(run_cli, tmp_path):
    spec = tmp_path / "empty.yaml"
    spec.write_text("name: empty\ninput: [3, 8, 8]\nlayers:\n  - {type: relu, when: false}\n")
    for compact in ((), ("--compact",)):
        data = json.loads(run_cli(spec, "--format", "json", *compact).out)
        assert data["layers"] == [] and data["totals"]["layers"] == 0
