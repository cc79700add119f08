"""The spec language's additions for modern networks (issue 8): block and group names as
inputs, expressions in inputs lists, block: by expression, list and mapping parameters,
a repeat's stage per iteration, attributes that use each other, list values with
expressions. Shapes and counts are recomputed by hand."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError


def run(text, **kwargs):
    return analyze(textwrap.dedent(text).lstrip(), **kwargs)


def rows(report):
    return {r["name"]: r for r in report["layers"]}


def test_a_block_call_and_a_group_name_are_inputs():
    report = run("""
        name: t
        input: [8, 16, 16]
        blocks:
          unit:
            layers:
              - {name: a, type: conv, k: 3, out: 8, padding: 1}
              - {name: b, type: relu}
        layers:
          - {block: unit, name: first}
          - {name: side, layers: [{type: conv, k: 1, out: 8}, {type: relu}]}
          - {type: add, inputs: [first, side]}
    """)
    add = report["layers"][-1]
    assert add["inputs"] == ["first/b", "side/relu1"]


def test_expressions_in_inputs_and_block_by_expression():
    report = run("""
        name: t
        input: [4, 8, 8]
        params: {kind: wide}
        blocks:
          narrow: {layers: [{type: conv, k: 1, out: 4}]}
          wide: {layers: [{type: conv, k: 1, out: 16}]}
        layers:
          - {repeat: 2, name: "u${i}", block: "$kind"}
          - {type: concat, inputs: ["u${0}", "${'u' + '1'}"]}
    """)
    r = rows(report)
    assert r["u0/conv1"]["output"] == [16, 8, 8]          # the 'wide' block: 4 -> 16
    assert r["u1/conv1"]["mult_adds"] == 16 * 16 * 64      # 16 -> 16 on 8x8
    assert report["layers"][-1]["output"] == [32, 8, 8]


def test_list_and_mapping_parameters_with_len_and_indexing():
    report = run("""
        name: t
        input: [3, 32, 32]
        params:
          widths: [8, 16, 32]
          depth: {default: {a: 1, b: 2}}   # a mapping value is written as a default
        layers:
          - repeat: "${len(widths)}"
            as: s
            stage: "stage${s + 1}"
            layers:
              - {repeat: "${depth['b']}", layers: [{type: conv, k: 3, out: "${widths[s]}", padding: 1}]}
    """)
    convs = report["layers"]
    assert len(convs) == 3 * 2
    assert [r["output"][0] for r in convs] == [8, 8, 16, 16, 32, 32]
    assert [r["stage"] for r in convs] == ["stage1", "stage1", "stage2", "stage2",
                                           "stage3", "stage3"]
    # the stage sums: stage2 = 3*3*8*16*32*32 + 3*3*16*16*32*32
    stage2 = next(s for s in report["by_stage"] if s["stage"] == "stage2")
    assert stage2["mult_adds"] == 9 * 8 * 16 * 1024 + 9 * 16 * 16 * 1024


def test_list_parameter_from_set():
    report = run("""
        name: t
        input: [3, 8, 8]
        params: {widths: [4, 4]}
        layers:
          - {repeat: "${len(widths)}", layers: [{type: conv, k: 1, out: "${widths[i]}"}]}
    """, overrides={"widths": "[2, 6, 10]"})
    assert [r["output"][0] for r in report["layers"]] == [2, 6, 10]


def test_attributes_use_each_other():
    spec = """
        name: t
        input: [3, 32, 32]
        padding: explicit
        params: {n: 99}
        layers:
          - {type: conv, k: 5, out: 8, padding: "${(k - 1) // 2}"}
          - {type: conv, k: [3, 1], out: 8, padding: ["${(k[0] - 1) // 2}", 0]}
    """
    first, second = run(spec)["layers"]
    assert first["output"] == [8, 32, 32]     # the layer's k (5): padding 2
    assert second["output"] == [8, 32, 32]
    assert second["mult_adds"] == 3 * 1 * 8 * 8 * 32 * 32
    # a parameter k of another value would make 'k' ambiguous (tests/test_names.py)
    with pytest.raises(SpecError, match="'k' is ambiguous here"):
        run(spec.replace("{n: 99}", "{k: 99}"))


def test_name_uses_parameters():
    report = run("""
        name: "Net-${depth}"
        input: [3, 8, 8]
        params: {depth: 2}
        layers: [{type: relu}]
    """, overrides={"depth": "7"})
    assert report["name"] == "Net-7"


def test_an_unknown_inputs_expression_is_located():
    with pytest.raises(SpecError) as info:
        run("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: a, type: relu}
              - {type: add, inputs: [a, "${b}"]}
        """)
    assert (info.value.line, info.value.col) == (5, 29)
