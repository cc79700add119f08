"""Each silent wrong result that issue 7 found on the old main, now right or refused.
Every test here failed (or passed a wrong number) before the fix."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError


def text(spec):
    return textwrap.dedent(spec).lstrip()


def test_a_type_given_by_an_expression_is_evaluated_for_every_expansion():
    report = analyze(text("""
        name: t
        input: [3, 8, 8]
        layers:
          - {repeat: 2, layers: [{type: "${'pointwise' if i == 0 else 'fc'}", out: 4}]}
    """))
    first, second = report["layers"]
    assert (first["type"], first["mult_adds"], first["params"]) == ("pointwise", 3 * 4 * 8 * 8, 12)
    # the fc reads the 4x8x8 output flattened: 256 features x 4 outputs, plus 4 biases
    assert (second["type"], second["output"]) == ("fc", [4, 1, 1])
    assert (second["mult_adds"], second["params"]) == (256 * 4, 256 * 4 + 4)


def test_when_reads_the_shape_of_the_entrys_own_input():
    report = analyze(text("""
        name: t
        input: [3, 8, 8]
        layers:
          - {name: a, type: conv, k: 3, out: 16}
          - {name: b, type: conv, k: 3, out: 32}
          - {name: c, type: conv, k: 1, out: 5, input: a, when: "${in_channels == 16}"}
    """))
    # c reads a (16 channels), not b (32): it is kept, and costs 16 * 5 * 8 * 8
    assert [r["name"] for r in report["layers"]] == ["a", "b", "c"]
    assert report["layers"][2]["mult_adds"] == 16 * 5 * 64


@pytest.mark.parametrize("spec, line", [
    ("params: {input_channels: 8}\nlayers: [{type: conv, k: 3, out: $input_channels}]", 3),
    ("params: {in_channels: 8}\nlayers: [{type: conv, k: 3, out: $in_channels}]", 3),
    ("blocks: {b: {args: {ch: 8}, layers: [{type: conv, k: 3, out: $ch}]}}\n"
     "layers: [{block: b}]", 3),
    ("blocks: {b: {args: {block_name: x}, layers: [{type: relu}]}}\nlayers: [{block: b}]", 3),
    ("layers: [{type: conv, k: 3, out: 8, name: input}]", 3),
])
def test_builtin_names_are_reserved(spec, line):
    with pytest.raises(SpecError) as info:
        analyze("name: t\ninput: [3, 8, 8]\n" + spec + "\n")
    assert info.value.line == line and "reserve" in info.value.message


def test_check_refuses_an_infinite_printed_value_and_a_fractional_resolution(run_cli, tmp_path):
    base = "name: t\ninput: [3, 8, 8]\nlayers: [{type: conv, k: 3, out: 8}]\nexpect:\n"
    for entry in ("  - {metric: mult_adds, printed: 1.0e+320, source: x}\n",
                  "  - {metric: mult_adds, printed: '1', resolution: 160.5, source: x}\n"):
        path = tmp_path / "s.yaml"
        path.write_text(base + entry)
        result = run_cli("check", path)
        assert result.code == 2 and result.err.startswith(f"{path}:5:"), result.err


@pytest.mark.parametrize("option", [["--alpha", "nan"], ["--alpha", "inf"], ["--rho", "nan"],
                                    ["--alpha", "1e308"]])
def test_non_finite_multipliers_are_refused(run_cli, option):
    result = run_cli("mobilenet", *option, "--format", "json")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("costcalc: error: ") and result.err.count("\n") == 1


@pytest.mark.parametrize("kwargs", [{"alpha": 0}, {"alpha": -1}, {"rho": 0},
                                    {"alpha": float("nan")}, {"resolution": 1.5}])
def test_analyze_raises_value_error_with_the_cli_message(kwargs):
    with pytest.raises(ValueError) as info:
        analyze("mobilenet", **kwargs)
    assert str(info.value).startswith("costcalc: error: ")


def test_a_squeeze_and_excitation_without_its_input_is_refused():
    """The mistake of the issue: the multiply reads the gate and, by forgetting an input:,
    the gate's own input chain instead of the feature map; shapes that do not broadcast
    are an error at the multiply's line, not a network silently run at 1x1."""
    with pytest.raises(SpecError) as info:
        analyze(text("""
            name: t
            input: [3, 32, 32]
            layers:
              - {name: features, type: conv, k: 3, out: 16}
              - {name: squeeze, type: global_avgpool}
              - {name: reduce, type: conv, k: 1, out: 4, bias: true}
              - {name: gate, type: conv, k: 1, out: 8, bias: true}
              - {type: multiply, inputs: [gate, features]}
        """))
    assert info.value.line == 8 and "does not broadcast" in info.value.message
