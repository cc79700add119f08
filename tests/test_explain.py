"""--explain: each layer's formula with its values, and each depthwise separable pair
beside the standard convolution it replaces (docs/explain.md).

Expected numbers are the formulas of the MobileNet paper (eq. 1-5) written out
with the sizes of its Table 1, never the program's own output.
"""
import csv
import io
import json
import pathlib
import re
import textwrap
from fractions import Fraction

import pytest

from costcalc.lang import shipped
from costcalc.analysis.explain import annotate, layer_formulas
from costcalc.build.graph import Settings, build
from costcalc.analysis.report import make_report
from costcalc.lang.spec import spec_from_text
from costcalc.build.transform import separable_pairs

TABLE3 = pathlib.Path(__file__).resolve().parent / "specs" / "table3_layer.yaml"

# MobileNet's 13 separable layers (Table 1): input channels M, output channels N,
# input side, depthwise stride; the pointwise layer works on the output side.
MOBILENET_PAIRS = [(32, 64, 112, 1), (64, 128, 112, 2), (128, 128, 56, 1), (128, 256, 56, 2),
                   (256, 256, 28, 1), (256, 512, 28, 2)] + [(512, 512, 14, 1)] * 5 + \
                  [(512, 1024, 14, 2), (1024, 1024, 7, 1)]


def spec_of(text):
    text = textwrap.dedent(text)
    return spec_from_text(text, "t.yaml")


def explained(spec, **settings):
    graph = build(spec, Settings(**settings))
    return annotate(make_report(graph, "t"), graph)


@pytest.fixture(scope="module")
def mobilenet():
    graph = build(shipped.load("mobilenet"), Settings())
    return annotate(make_report(graph, "mobilenet"), graph)


def rows(report):
    return {row["name"]: row for row in report["layers"]}


# ------------------------------------------------------------------ per-layer formulas

def test_first_conv_formula_as_in_the_paper(mobilenet):
    conv1 = rows(mobilenet)["conv1"]["explain"]
    assert conv1["mult_adds"] == "D_k^2 * M * N * D_f^2 = 3*3*3*32*112*112 = 10,838,016"
    assert conv1["params"] == "D_k^2 * M * N = 3*3*3*32 = 864"
    assert 3 * 3 * 3 * 32 * 112 * 112 == 10_838_016


def test_depthwise_and_pointwise_formulas(mobilenet):
    by_name = rows(mobilenet)
    assert by_name["separable1/dw"]["explain"] == {
        "mult_adds": "D_k^2 * M * D_f^2 = 3*3*32*112*112 = 3,612,672",
        "params": "D_k^2 * M = 3*3*32 = 288"}
    assert by_name["separable1/pw"]["explain"] == {
        "mult_adds": "M * N * D_f^2 = 32*64*112*112 = 25,690,112",
        "params": "M * N = 32*64 = 2,048"}
    assert by_name["fc"]["explain"] == {"mult_adds": "M * N = 1024*1000 = 1,024,000",
                                        "params": "M * N = 1024*1000 = 1,024,000"}


def test_layers_without_cost_have_an_empty_explanation(mobilenet):
    by_name = rows(mobilenet)
    for name in ("conv1_bn", "conv1_relu", "pool", "softmax"):
        assert by_name[name]["explain"] == {}


def _evaluate(text):
    """'SYMBOLS = 3*3*(240/3)*240 + 240 = 173,280' -> (value of the middle, the right side)."""
    _, middle, right = text.split(" = ")
    value = eval(middle.replace("/", "//"), {"__builtins__": {}})  # digits, * + // ( ) only
    assert re.fullmatch(r"[0-9*+/() ]+", middle), middle
    return value, int(right.replace(",", ""))


@pytest.mark.parametrize("name", shipped.names())
def test_every_formula_evaluates_to_the_counted_cost(name):
    """In every shipped spec, each layer's substituted formula multiplies out to its
    right-hand side, and that is the count in the report."""
    graph = build(shipped.load(name), Settings())
    for node in graph.nodes:
        texts = layer_formulas(graph, node)
        for key in ("mult_adds", "params"):
            value = getattr(node.cost, key)
            if not value:
                assert key not in texts
                continue
            assert "gives no formula" not in texts[key], (node.name, node.type.name)
            middle, right = _evaluate(texts[key])
            assert middle == right == value, (node.name, texts[key])


def test_group_bias_and_non_square_formulas():
    spec = spec_of("""
        name: t
        input: [240, 28, 28]
        layers:
          - {name: g, type: conv, k: 3, out: 240, groups: 3, bias: true}
          - {name: ns, type: depthwise, k: [1, 3], multiplier: 2}
          - {name: flat, type: flatten}
          - {name: fc, type: fc, out: 10}
    """)
    by_name = rows(explained(spec))
    # D_k^2 * (M/g) * N * D_f^2 and + N for the bias
    assert by_name["g"]["explain"]["mult_adds"] == \
        f"D_k^2 * (M/g) * N * D_f^2 = 3*3*(240/3)*240*28*28 = {3 * 3 * 80 * 240 * 28 * 28:,}"
    assert by_name["g"]["explain"]["params"] == \
        f"D_k^2 * (M/g) * N + N = 3*3*(240/3)*240 + 240 = {3 * 3 * 80 * 240 + 240:,}"
    assert by_name["ns"]["explain"]["mult_adds"] == \
        f"k_h * k_w * M * m * D_f^2 = 1*3*240*2*28*28 = {1 * 3 * 240 * 2 * 28 * 28:,}"
    assert by_name["fc"]["explain"]["params"] == \
        f"M * N + N = 376320*10 + 10 = {480 * 28 * 28 * 10 + 10:,}"


# ------------------------------------------------------------------ separable pairs

def test_mobilenet_has_thirteen_pairs_with_the_standard_cost(mobilenet):
    pairs = mobilenet["separable_pairs"]
    assert len(pairs) == 13
    for i, (p, (m, n, side, stride)) in enumerate(zip(pairs, MOBILENET_PAIRS), 1):
        out = side // stride
        assert p["depthwise"] == f"separable{i}/dw" and p["pointwise"] == f"separable{i}/pw"
        assert p["between"] == [f"separable{i}/dw_bn", f"separable{i}/dw_relu"]
        assert (p["M"], p["N"], p["k"], p["stride"]) == (m, n, [3, 3], [stride, stride])
        # eq. 4 (separable) and the standard convolution it replaces
        assert p["separable"]["mult_adds"] == 3 * 3 * m * out * out + m * n * out * out
        assert p["separable"]["params"] == 3 * 3 * m + m * n
        assert p["standard"]["mult_adds"] == 3 * 3 * m * n * out * out
        assert p["standard"]["params"] == 3 * 3 * m * n
        assert p["standard"]["formula"]["mult_adds"] == \
            f"D_k^2 * M * N * D_f^2 = 3*3*{m}*{n}*{out}*{out} = {9 * m * n * out * out:,}"


def test_ratio_equals_one_over_n_plus_one_over_dk_squared(mobilenet):
    """Eq. 5: separable / standard = 1/N + 1/D_k^2. Exact for the stride-1 pairs, and
    for the stride-2 ones too: all three layers are counted on the same output grid."""
    for p in mobilenet["separable_pairs"]:
        expected = Fraction(1, p["N"]) + Fraction(1, 9)
        assert p["equal"] is True
        assert p["ratio"] == pytest.approx(float(expected), rel=1e-12)
        assert p["predicted"]["value"] == pytest.approx(float(expected), rel=1e-12)
        assert p["predicted"]["formula"] == f"1/N + 1/D_k^2 = 1/{p['N']} + 1/9"
        # without biases the parameters follow the same ratio
        assert p["params_ratio"] == pytest.approx(float(expected), rel=1e-12)
    assert {tuple(p["stride"]) for p in mobilenet["separable_pairs"]} == {(1, 1), (2, 2)}


def test_separable_layers_are_eight_to_nine_times_cheaper(mobilenet):
    """The paper: 3x3 depthwise separable convolutions use 'between 8 to 9 times less
    computation than standard convolutions'."""
    s = mobilenet["separable_summary"]
    standard = sum(9 * m * n * (side // st) ** 2 for m, n, side, st in MOBILENET_PAIRS)
    separable = sum(9 * m * (side // st) ** 2 + m * n * (side // st) ** 2
                    for m, n, side, st in MOBILENET_PAIRS)
    assert s["pairs"] == 13
    assert s["standard"]["mult_adds"] == standard == 4_855_431_168
    assert s["separable"]["mult_adds"] == separable
    assert 8 < s["mult_adds_factor"] < 9
    assert s["all_equal"] is True


def test_depth_multiplier_breaks_the_ratio():
    """With a depth multiplier m the ratio is m/N + m/D_k^2, not eq. 5's."""
    spec = spec_of("""
        name: t
        input: [16, 20, 20]
        layers:
          - {name: dw, type: depthwise, k: 3, multiplier: 2}
          - {name: pw, type: pointwise, out: 48}
    """)
    (p,) = explained(spec)["separable_pairs"]
    assert p["multiplier"] == 2
    assert p["standard"]["mult_adds"] == 3 * 3 * 16 * 48 * 20 * 20
    assert p["separable"]["mult_adds"] == 3 * 3 * 32 * 20 * 20 + 32 * 48 * 20 * 20
    assert p["equal"] is False
    assert p["ratio"] == pytest.approx(2 / 48 + 2 / 9)


@pytest.mark.parametrize("layers, found", [
    # a conv with groups = M = N is a depthwise layer; a 1x1 conv is a pointwise one
    ("- {name: dw, type: conv, k: 3, out: 16, groups: 16}\n"
     "- {name: pw, type: conv, k: 1, out: 32}", True),
    # BN and activations between are allowed, pooling is not
    ("- {name: dw, type: depthwise, k: 3}\n- {type: batchnorm}\n- {type: relu6}\n"
     "- {name: pw, type: pointwise, out: 32}", True),
    ("- {name: dw, type: depthwise, k: 3}\n- {type: maxpool, k: 2}\n"
     "- {name: pw, type: pointwise, out: 32}", False),
    # a grouped 1x1 (ShuffleNet's GConv) is not the pointwise half of a pair
    ("- {name: dw, type: depthwise, k: 3}\n- {name: pw, type: pointwise, out: 32, groups: 4}",
     False),
    # the depthwise output also feeds a residual add: it cannot be fused away
    ("- {name: dw, type: depthwise, k: 3}\n- {name: pw, type: pointwise, out: 16}\n"
     "- {name: sum, type: add, inputs: [dw, pw]}", False),
    # a strided 1x1 after the depthwise layer is not a pointwise layer of the pair
    ("- {name: dw, type: depthwise, k: 3}\n- {name: pw, type: pointwise, out: 32, stride: 2}",
     False),
])
def test_which_layer_sequences_are_pairs(layers, found):
    spec = spec_of("name: t\ninput: [16, 20, 20]\nlayers:\n" + textwrap.indent(layers, "  "))
    pairs = separable_pairs(build(spec, Settings()))
    assert bool(pairs) is found


# ------------------------------------------------------------------ command line

def test_json_has_explain_on_every_row_and_pairs(run_cli):
    result = run_cli("mobilenet", "--explain", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert all("explain" in row for row in data["layers"])
    assert len(data["separable_pairs"]) == 13
    assert data["separable_summary"]["standard"]["mult_adds"] == 4_855_431_168
    # --explain does not change the numbers
    assert data["totals"]["mult_adds"] == json.loads(
        run_cli("mobilenet", "--format", "json").out)["totals"]["mult_adds"]


def test_table_appends_formulas_and_pairs(run_cli, golden):
    result = run_cli("mobilenet", "--explain", columns=200)  # formulas wrap at the width
    assert result.code == 0, result.err
    assert ("conv1: D_k^2 * M * N * D_f^2 = 3*3*3*32*112*112 = 10,838,016 mult-adds; "
            "params D_k^2 * M * N = 3*3*3*32 = 864") in result.out
    report_part, _, explain_part = result.out.partition("\nFormulas (")
    assert "Total" in report_part and "Depthwise separable pairs" in explain_part
    # the golden file holds the appended part only: the report above it has its own tests
    golden("explain_mobilenet.txt", "Formulas (" + explain_part)


def test_markdown_and_csv(run_cli, golden):
    md = run_cli(TABLE3, "--explain", "--format", "markdown")
    assert md.code == 0, md.err
    assert "#### Depthwise separable pairs" in md.out
    assert "- `dw: D_k^2 * M * D_f^2 = 3*3*512*14*14 = 903,168 mult-adds" in md.out
    golden("explain_table3_layer.md", md.out[md.out.index("#### Formulas"):])
    out = run_cli(TABLE3, "--explain", "--format", "csv").out
    table = list(csv.DictReader(io.StringIO(out)))
    pw = next(r for r in table if r["name"] == "pw")
    assert pw["mult_adds_formula"] == f"M * N * D_f^2 = 512*512*14*14 = {512 * 512 * 196:,}"
    assert pw["params_formula"] == "M * N = 512*512 = 262,144"
    assert next(r for r in table if r["name"] == "dw_bn")["mult_adds_formula"] == ""


def test_explain_with_standard_conv_has_no_pairs_left(run_cli):
    result = run_cli("mobilenet", "--explain", "--standard-conv", columns=200)
    assert result.code == 0, result.err
    assert ("separable7/dw+pw: D_k^2 * M * N * D_f^2 = 3*3*512*512*14*14 = 462,422,016 "
            "mult-adds") in result.out
    assert "none: --standard-conv replaced them" in result.out
