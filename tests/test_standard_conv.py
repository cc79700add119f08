"""--standard-conv: every depthwise separable pair replaced by one standard convolution
(the MobileNet paper's "Conv MobileNet", Tables 3 and 4; docs/explain.md).

Expected values are the paper's printed numbers and its formulas written out with
the sizes of Table 1, never numbers taken from the program's output.
"""
import json
import pathlib
import textwrap

import pytest

from costcalc.analysis import check
from costcalc.lang import shipped
from costcalc.build.graph import Settings, build
from costcalc.analysis.report import make_report
from costcalc.lang.spec import load_spec, spec_from_text
from costcalc.build.transform import separable_pairs, standard_conv

TABLE3 = pathlib.Path(__file__).resolve().parent / "specs" / "table3_layer.yaml"

# Table 1: the separable layers as (M, N, input side, depthwise stride)
MOBILENET_PAIRS = [(32, 64, 112, 1), (64, 128, 112, 2), (128, 128, 56, 1), (128, 256, 56, 2),
                   (256, 256, 28, 1), (256, 512, 28, 2)] + [(512, 512, 14, 1)] * 5 + \
                  [(512, 1024, 14, 2), (1024, 1024, 7, 1)]
CONV1 = (3 * 3 * 3 * 32 * 112 * 112, 3 * 3 * 3 * 32)
FC = (1024 * 1000, 1024 * 1000)          # the spec's classifier has no bias (see its notes)


def conv_mobilenet_counts():
    """Table 4's Conv MobileNet written out: conv1, 13 standard 3x3 convs, FC."""
    mult_adds = CONV1[0] + FC[0] + sum(3 * 3 * m * n * (side // s) ** 2
                                       for m, n, side, s in MOBILENET_PAIRS)
    params = CONV1[1] + FC[1] + sum(3 * 3 * m * n for m, n, _, _ in MOBILENET_PAIRS)
    return mult_adds, params


def report_of(spec, **settings):
    return make_report(build(spec, Settings(**settings)), "t")


@pytest.fixture(scope="module")
def conv_mobilenet():
    return report_of(shipped.load("mobilenet"), standard_conv=True)


# ------------------------------------------------------------------ Table 4

def test_table4_conv_mobilenet(conv_mobilenet):
    mult_adds, params = conv_mobilenet_counts()
    assert conv_mobilenet["totals"]["mult_adds"] == mult_adds == 4_867_293_184
    assert conv_mobilenet["totals"]["params"] == params == 29_281_120
    assert round(params / 1e6, 1) == 29.3                       # printed 29.3 million


def test_table4_printed_4866_is_the_count_without_the_classifier(conv_mobilenet):
    """Printed 4866 million; with the FC layer the count rounds to 4867. Without it,
    4,866,269,184 rounds to 4866 (the reason recorded under 'why' in the spec)."""
    total = conv_mobilenet["totals"]["mult_adds"]
    fc = next(r for r in conv_mobilenet["layers"] if r["name"] == "fc")["mult_adds"]
    assert fc == 1024 * 1000
    assert round(total / 1e6) == 4867
    assert round((total - fc) / 1e6) == 4866
    # no per-layer rounding reproduces 4866 (each layer in millions, then summed)
    layers = [r["mult_adds"] / 1e6 for r in conv_mobilenet["layers"] if r["mult_adds"]]
    assert sum(int(v) for v in layers) == 4862 and sum(round(v) for v in layers) == 4863


def test_table4_separable_row_is_unchanged():
    """Table 4's MobileNet row: 569 million mult-adds, 4.2 million params."""
    report = report_of(shipped.load("mobilenet"))
    assert round(report["totals"]["mult_adds"] / 1e6) == 569
    assert round(report["totals"]["params"] / 1e6, 1) == 4.2


def test_mobilenet_spec_documents_table4():
    spec = shipped.load("mobilenet")
    table4 = [r for r in check.run(spec, "mobilenet") if "Table 4" in r["source"]]
    assert len(table4) == 4 and all(r["passed"] for r in table4)
    conv = [r for r in table4 if "with standard convolutions" in r["what"]]
    assert {r["printed"] for r in conv} == {"4866M", "29.3M"}
    misprint = next(r for r in conv if r["printed"] == "4866M")
    assert misprint["expected"] == conv_mobilenet_counts()[0] and "classifier" in misprint["why"]


# ------------------------------------------------------------------ Table 3

def test_table3_formulas_match_the_printed_values():
    """462M and 2.36M for the standard 3x3 conv, 52.3M and 0.27M separable, then
    alpha = 0.75 (M = N = 384) and rho = 0.714 (D_F = 10) on top of it."""
    assert round(3 * 3 * 512 * 512 * 14 * 14 / 1e6) == 462
    assert round(3 * 3 * 512 * 512 / 1e6, 2) == 2.36
    assert round((3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14) / 1e6, 1) == 52.3
    assert round((3 * 3 * 512 + 512 * 512) / 1e6, 2) == 0.27
    assert round((3 * 3 * 384 * 14 * 14 + 384 * 384 * 14 * 14) / 1e6, 1) == 29.6
    assert round((3 * 3 * 384 + 384 * 384) / 1e6, 2) == 0.15
    assert round(14 * 0.714) == 10
    assert round((3 * 3 * 384 * 10 * 10 + 384 * 384 * 10 * 10) / 1e6, 1) == 15.1


@pytest.mark.parametrize("settings, mult_adds, params", [
    ({"standard_conv": True}, 3 * 3 * 512 * 512 * 14 * 14, 3 * 3 * 512 * 512),
    ({}, 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14, 3 * 3 * 512 + 512 * 512),
    ({"alpha": 0.75}, 3 * 3 * 384 * 14 * 14 + 384 * 384 * 14 * 14, 3 * 3 * 384 + 384 * 384),
    ({"alpha": 0.75, "rho": 0.714}, 3 * 3 * 384 * 10 * 10 + 384 * 384 * 10 * 10,
     3 * 3 * 384 + 384 * 384),
])
def test_table3_layer(settings, mult_adds, params):
    report = report_of(load_spec(TABLE3), **settings)
    (stage,) = [s for s in report["by_stage"] if s["stage"] == "layer"]
    assert (stage["mult_adds"], stage["params"]) == (mult_adds, params)


def test_table3_spec_checks(run_cli):
    result = run_cli("check", TABLE3, "--format", "json")
    assert result.code == 0, result.out + result.err
    results = json.loads(result.out)["results"]
    assert [r["printed"] for r in results] == ["462M", "2.36M", "52.3M", "0.27M", "29.6M",
                                               "0.15M", "15.1M", "0.15M"]
    assert all(r["passed"] and not r["why"] for r in results)


# ------------------------------------------------------------------ the transformation

def test_pairs_become_one_conv_and_the_rest_is_kept(conv_mobilenet):
    original = report_of(shipped.load("mobilenet"))
    names = [r["name"] for r in conv_mobilenet["layers"]]
    # each pair (dw, dw_bn, dw_relu, pw) becomes one conv; pw_bn and pw_relu stay
    assert len(names) == len(original["layers"]) - 13 * 3
    for i, (m, n, side, s) in enumerate(MOBILENET_PAIRS, 1):
        row = next(r for r in conv_mobilenet["layers"] if r["name"] == f"separable{i}/dw+pw")
        assert row["type"] == "conv" and row["category"] == "conv 3x3"
        assert row["output"] == [n, side // s, side // s]
        assert row["kernel"] == ("3x3" if s == 1 else "3x3/2")
        assert row["mult_adds"] == 3 * 3 * m * n * (side // s) ** 2
        assert f"separable{i}/dw" not in names and f"separable{i}/dw_bn" not in names
        following = names[names.index(f"separable{i}/dw+pw") + 1]
        assert following == f"separable{i}/pw_bn"
    kept = {r["name"]: r for r in original["layers"]}
    for row in conv_mobilenet["layers"]:
        if "+" not in row["name"]:
            assert row["output"] == kept[row["name"]]["output"]
            assert row["mult_adds"] == kept[row["name"]]["mult_adds"]
    assert [t["type"] for t in conv_mobilenet["by_type"] if t["mult_adds"]] == ["conv 3x3", "fc"]
    # the dropped batch norms: 2 parameters per channel of each depthwise output
    dropped_bn = sum(2 * m for m, _, _, _ in MOBILENET_PAIRS)
    assert conv_mobilenet["totals"]["bn_params"] == original["totals"]["bn_params"] - dropped_bn


def test_inputs_are_rewired(conv_mobilenet):
    rows = {r["name"]: r for r in conv_mobilenet["layers"]}
    assert rows["separable1/dw+pw"]["inputs"] == ["conv1_relu"]
    assert rows["separable2/dw+pw"]["inputs"] == ["separable1/pw_relu"]
    assert rows["separable1/pw_bn"]["inputs"] == ["separable1/dw+pw"]


def test_residual_networks_keep_their_adds():
    """A pair inside a residual block (MobileNetV2-like): the add still sees both inputs."""
    spec = spec_from_text(textwrap.dedent("""
        name: t
        input: [32, 28, 28]
        layers:
          - {name: expand, type: pointwise, out: 96}
          - {name: dw, type: depthwise, k: 3}
          - {name: dw_relu, type: relu6}
          - {name: project, type: pointwise, out: 32}
          - {name: sum, type: add, inputs: [input, project]}
    """), "t.yaml")
    graph = build(spec, Settings(standard_conv=True))
    names = [n.name for n in graph.nodes]
    assert names == ["expand", "dw+project", "sum"]
    (conv,) = [n for n in graph.nodes if n.name == "dw+project"]
    assert conv.cost.mult_adds == 3 * 3 * 96 * 32 * 28 * 28
    assert [graph.nodes[i].name if i >= 0 else "input" for i in graph.nodes[2].inputs] == \
        ["input", "dw+project"]


@pytest.mark.parametrize("name", shipped.names())
def test_every_shipped_spec_transforms_consistently(name):
    """Any spec: total after = total before - separable pairs + their standard convs."""
    spec = shipped.load(name)
    graph = build(spec, Settings())
    pairs = separable_pairs(graph)
    after = standard_conv(graph)
    assert after.replaced == len(pairs)
    separable = sum(graph.nodes[p.depthwise].cost.mult_adds + graph.nodes[p.pointwise].cost.mult_adds
                    for p in pairs)
    standard = 0
    for p in pairs:
        dw, pw = graph.nodes[p.depthwise], graph.nodes[p.pointwise]
        (kh, kw), (n, ho, wo) = dw.attrs["k"], pw.shape
        standard += kh * kw * graph.shape_of(dw.inputs[0])[0] * n * ho * wo
    before_total = sum(n.cost.mult_adds for n in graph.nodes)
    assert sum(n.cost.mult_adds for n in after.nodes) == before_total - separable + standard
    assert after.nodes[-1].shape == graph.nodes[-1].shape


def test_command_line(run_cli):
    result = run_cli("mobilenet", "--standard-conv", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["totals"]["mult_adds"], data["totals"]["params"]) == conv_mobilenet_counts()
    assert data["name"] == "MobileNet with standard convolutions"
    assert data["standard_conv"]["replaced_pairs"] == 13
    table = run_cli("mobilenet", "--standard-conv")
    assert table.code == 0 and "MobileNet with standard convolutions" in table.out
    assert "4,867,293,184" in table.out


def test_standard_conv_key_must_be_a_boolean(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = TABLE3.read_text().replace("standard_conv: true, printed: 462M",
                                      "standard_conv: yes please, printed: 462M")
    bad.write_text(text)
    result = run_cli("check", bad)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "yes please" in t)
    assert result.code == 2
    assert result.err.startswith(f"{bad}:{line}:") and "standard_conv must be true or false" \
        in result.err


def test_standard_conv_says_what_it_did_not_replace(run_cli):
    """MobileNetV3-Small (torchvision's bneck table): the blocks with squeeze-and-excitation
    (1 and 4 to 11) read the depthwise output twice, so only blocks 2 and 3 are plain
    depthwise separable pairs; the others are listed with the reason."""
    data = json.loads(run_cli("mobilenet_v3_small", "--standard-conv", "--format", "json").out)
    record = data["standard_conv"]
    assert record["replaced_pairs"] == 2
    expected = [f"block{b}/dw" for b in (1, 4, 5, 6, 7, 8, 9, 10, 11)]
    assert [k["depthwise"] for k in record["not_replaced"]] == expected
    assert all("is read by 2 layers" in k["why"] for k in record["not_replaced"])
    table = run_cli("mobilenet_v3_small", "--standard-conv").out
    assert "Not replaced: block4/dw: block4/dw_act is read by 2 layers." in table
