"""Named counting conventions (docs/conventions.md): data in costcalc/counting/conventions.yaml,
applied per layer; torch reproduces torchvision's documented figures on the whole zoo."""
import json
import pathlib
import textwrap

import pytest

from costcalc import analyze
from costcalc.lang import shipped
from costcalc.counting.conventions import conventions, load_conventions
from costcalc.core.errors import SpecError

ROOT = pathlib.Path(__file__).resolve().parent.parent
META = json.loads((ROOT / "tests" / "data" / "torchvision_meta.json").read_text())["models"]


def test_every_convention_loads_with_known_types_and_expressions():
    assert {"paper", "torch"} <= set(conventions())


def test_a_convention_with_an_unknown_type_is_refused_at_its_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""\
        mine:
          tool: x
          mult_adds: {conv: mult_adds, convolution: mult_adds}
          params: params
    """))
    with pytest.raises(SpecError) as info:
        load_conventions(str(path))
    assert (info.value.line, "unknown layer type 'convolution'") == (3, info.value.message[
        info.value.message.index("unknown"):info.value.message.index("'convolution'") + 13])


@pytest.mark.parametrize("name", sorted(set(META) & (set(shipped.variants()))))
def test_torch_convention_gives_torchvision_documented_figures(name):
    """torchvision's num_params exactly, and its GFLOPS (mult-adds, printed to 3 decimals)
    to the printed precision, for every zoo model. Inception v3's num_params counts the
    auxiliary classifier that eval mode builds but never runs (specs/inception_v3.yaml):
    its parameters are reproduced with the spec's aux_logits=true."""
    report = analyze(name, convention="torch")
    assert report["convention"] == "torch"
    params = report["totals"]["params"]
    if name == "inception_v3":
        params = analyze(name, convention="torch", overrides={"aux_logits": "true"})[
            "totals"]["params"]
    assert params == META[name]["num_params"]
    assert abs(report["totals"]["mult_adds"] / 1e9 - META[name]["gflops"]) <= 0.0005 + 1e-12


@pytest.mark.parametrize("name, gflops, params", [
    ("mobilenet_v2", 0.301, 3_504_872), ("squeezenet1_0", 0.819, 1_248_424),
    ("squeezenet1_1", 0.349, 1_235_496), ("resnet50", 4.089, 25_557_032),
])
def test_the_figures_the_issue_names(name, gflops, params):
    totals = analyze(name, convention="torch")["totals"]
    assert totals["params"] == params and round(totals["mult_adds"] / 1e9, 3) == gflops


def test_torch_params_are_paper_params_plus_batch_norm():
    """MobileNet's batch norms follow conv1 (32 channels) and every depthwise (32 + 64 +
    128 + 128 + 256 + 256 + 5 * 512 + 512 + 1024 = 4,960) and pointwise layer (64 + 128 +
    128 + 256 + 256 + 512 + 5 * 512 + 1024 + 1024 = 5,952): 2 * 10,944 = 21,888 values."""
    paper = analyze("mobilenet")["totals"]
    torch = analyze("mobilenet", convention="torch")["totals"]
    assert torch["params"] == paper["params"] + paper["bn_params"] == 4_209_088 + 21_888
    assert torch["mult_adds"] == paper["mult_adds"] == 568_740_352


def test_header_json_compare_and_sweep_name_the_convention(run_cli):
    header = " ".join(run_cli("resnet18", "--convention", "torch").out.split())
    assert "; torch convention)" in header
    assert json.loads(run_cli("resnet18", "--format", "json").out)["convention"] == "paper"
    reports = json.loads(run_cli("compare", "resnet18", "resnet18@convention=torch",
                                 "--format", "json").out)["reports"]
    assert [r["convention"] for r in reports] == ["paper", "torch"]
    assert reports[1]["totals"]["params"] - reports[0]["totals"]["params"] == \
        reports[0]["totals"]["bn_params"]
    sweep = json.loads(run_cli("sweep", "resnet18", "--resolution", "224,160", "--convention",
                               "torch", "--format", "json").out)
    assert sweep["convention"] == "torch"
    assert sweep["points"][0]["params"] == META["resnet18"]["num_params"]


def test_unknown_convention_and_explain_are_refused(run_cli):
    result = run_cli("mobilenet", "--convention", "tf")
    assert result.code == 2 and result.err.startswith("costcalc: error: unknown convention 'tf'")
    result = run_cli("mobilenet", "--convention", "torch", "--explain")
    assert result.code == 2 and "does not combine" in result.err


def test_check_holds_numbers_under_a_convention(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent("""\
        name: t
        input: [3, 8, 8]
        layers: [{type: conv, k: 3, out: 4}, {type: batchnorm}]
        expect:
          - {metric: params, convention: torch, printed: "116", source: 108 + 2 * 4}
          - {metric: params, printed: "108", source: 3 * 3 * 3 * 4}
    """))
    result = run_cli("check", path, "--format", "json")
    assert result.code == 0, result.out
    assert [r["computed"] for r in json.loads(result.out)["results"]] == [116, 108]


TOOLS = json.loads((ROOT / "tests" / "data" / "tool_counts.json").read_text())
TOOL_KEYS = {"fvcore": "flops", "ptflops": "macs", "thop": "macs", "torchinfo": "mult_adds"}


@pytest.mark.parametrize("name", sorted(TOOLS["models"]))
def test_each_tool_convention_reproduces_the_tool_on_the_zoo(name):
    """fvcore, ptflops, thop and torchinfo, measured on torchvision's model
    (tests/measure_tools*.py, versions in tests/data/tool_counts.json), reproduced to
    the integer from the spec under each tool's convention."""
    for tool, key in TOOL_KEYS.items():
        measured = TOOLS["models"][name][tool]
        totals = analyze(name, convention=tool)["totals"]
        assert (totals["mult_adds"], totals["params"]) == (measured[key], measured["params"]), tool


def test_a_changed_convention_would_fail(monkeypatch):
    """The cross-check is not vacuous: counting batch norm once instead of twice per
    element under fvcore misses ResNet-50's measured total."""
    from costcalc.counting import conventions as module

    fvcore = module.conventions()["fvcore"]
    monkeypatch.setitem(fvcore.mult_adds, "batchnorm", "out_elements")
    totals = analyze("resnet50", convention="fvcore")["totals"]
    assert totals["mult_adds"] != TOOLS["models"]["resnet50"]["fvcore"]["flops"]


def _line_of(text, key):
    """1-based line of the top-level key ``key:`` in ``text``."""
    return text.splitlines().index(f"{key}:") + 1


def test_every_convention_covers_every_layer_type_by_an_expression_or_an_ignore():
    """Each total of each convention has, for each registered type, its own expression, the
    default, or an explicit ignore (counted 0): nothing falls through to 0 unsaid."""
    from costcalc.layers import canonical_types

    for convention in conventions().values():
        for total in ("mult_adds", "params"):
            table = getattr(convention, total)
            for layer_type in canonical_types():
                listed = [layer_type.name in table, "default" in table,
                          layer_type.name in convention.ignores[total]]
                assert any(listed), (convention.name, total, layer_type.name)
                assert not (listed[0] and listed[2]), (convention.name, total, layer_type.name)


def test_a_new_layer_type_no_convention_names_is_refused_at_the_first_convention(monkeypatch):
    """Register a type: paper and torch count every type by one expression; fvcore's
    mult_adds is a table, so loading stops at fvcore's line naming the new type."""
    from costcalc.layers import TYPES, LayerType

    fixture = LayerType()
    fixture.name = "fixture_norm"
    monkeypatch.setitem(TYPES, "fixture_norm", fixture)
    path = ROOT / "costcalc" / "counting" / "conventions.yaml"
    with pytest.raises(SpecError) as info:
        load_conventions(str(path))
    assert info.value.line == _line_of(path.read_text(), "fvcore")
    assert "convention fvcore: mult_adds neither counts nor ignores the layer type " \
           "fixture_norm:" in info.value.message


def _every_type_but(*left_out):
    from costcalc.layers import canonical_types

    return "{" + ", ".join(f"{t.name}: mult_adds" for t in canonical_types()
                           if t.name not in left_out) + "}"


@pytest.mark.parametrize("body, line, message", [
    # two types left out of a table: both named, at the convention's line
    ("  mult_adds: " + _every_type_but("relu", "add") + "\n  params: params\n", 2,
     "convention mine: mult_adds neither counts nor ignores the layer types relu, add: "
     "give each an expression under mult_adds or list it under ignores: mult_adds"),
    # the same, ignored: accepted (see below); an ignore of a counted type is refused
    ("  mult_adds: " + _every_type_but() + "\n  params: params\n"
     "  ignores: {mult_adds: [relu]}\n", 3,
     "convention mine: relu is both counted in mult_adds and listed under ignores: mult_adds"),
    # an alias would never match a node's type (counted 0): refused, naming the type
    ("  mult_adds: " + _every_type_but("fc") + "\n  params: params\n"
     "  ignores: {mult_adds: [linear]}\n", 5,
     "convention mine: 'linear' is another name of the layer type fc: write fc"),
    ("  mult_adds: mult_adds\n  params: params\n  ignores: [relu]\n", 5,
     "convention mine: ignores is a mapping of mult_adds and params to lists of layer types"),
    ("  mult_adds: mult_adds\n  params: params\n  ignores: {flops: [relu]}\n", 5,
     "unknown key 'flops' in convention mine's ignores"),
])
def test_an_uncovered_or_wrongly_ignored_type_is_refused(tmp_path, body, line, message):
    path = tmp_path / "c.yaml"
    path.write_text("# x\nmine:\n" + body)
    with pytest.raises(SpecError) as info:
        load_conventions(str(path))
    assert message in info.value.message
    assert info.value.line == line


def test_an_ignored_type_counts_0_and_the_rest_its_expression(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mine:\n  mult_adds: " + _every_type_but("relu", "add") + "\n"
                    "  params: params\n  ignores: {mult_adds: [relu, add]}\n")
    mine = load_conventions(str(path))["mine"]
    assert mine.expression("mult_adds", "relu") is None
    assert mine.expression("mult_adds", "conv") == "mult_adds"
    assert mine.expression("params", "relu") == "params"


def test_the_counting_code_names_no_layer_type():
    """What a convention knows of a type is in conventions.yaml, what PyTorch does with it
    in the type (always_linear, the pooling's padding): conventions.py names no type."""
    import ast

    from costcalc.counting import conventions as module
    from costcalc.layers import canonical_types

    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    texts = {node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert texts & {t.name for t in canonical_types()} == set()
    assert [t.name for t in canonical_types() if t.always_linear] == ["fc"]
