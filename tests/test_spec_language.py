"""The spec language: blocks, repeats, names, parameters, expressions, width rules."""
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costcalc.core.errors import SpecError
from costcalc.core.expr import ExprError, make_divisible, substitute
from costcalc.build.graph import Settings, build
from costcalc.lang.spec import WidthRule, spec_from_text


def graph(text, **settings):
    text = textwrap.dedent(text)
    return build(spec_from_text(text, "t.yaml"), Settings(**settings))


def names_and_shapes(g):
    return [(n.name, n.shape) for n in g.nodes]


BLOCKS = """
    name: t
    input: [3, 32, 32]
    params: {width: 16, deep: false}
    blocks:
      unit:
        args: {out: null, stride: 1}
        layers:
          - {name: dw, type: depthwise, k: 3, stride: $stride}
          - {name: pw, type: pointwise, out: $out}
          - {name: skip, type: add, inputs: [pw, input],
             when: "${stride == 1 and in_channels == input_channels}"}
    layers:
      - {type: conv, k: 3, out: $width}
      - {block: unit, out: 16}
      - {block: unit, out: 32, stride: 2, name: down}
      - {repeat: 2, block: unit, out: 32}
      - {type: conv, k: 1, out: 8, when: $deep}
      - {type: global_avgpool}
"""


def test_blocks_repeats_scopes_and_when():
    g = graph(BLOCKS)
    assert names_and_shapes(g) == [
        ("conv1", (16, 32, 32)),
        ("unit1/dw", (16, 32, 32)), ("unit1/pw", (16, 32, 32)), ("unit1/skip", (16, 32, 32)),
        ("down/dw", (16, 16, 16)), ("down/pw", (32, 16, 16)),          # no skip: stride 2
        ("unit2/dw", (32, 16, 16)), ("unit2/pw", (32, 16, 16)), ("unit2/skip", (32, 16, 16)),
        ("unit3/dw", (32, 16, 16)), ("unit3/pw", (32, 16, 16)), ("unit3/skip", (32, 16, 16)),
        ("global_avgpool1", (32, 1, 1)),
    ]
    # the residual adds its block's input: unit2/skip's inputs are unit2/pw and down/pw
    skip = g.nodes[8]
    assert [g.nodes[i].name for i in skip.inputs] == ["unit2/pw", "down/pw"]


def test_set_overrides_parameters_and_conditions():
    g = graph(BLOCKS, overrides={"width": "24", "deep": "true"})
    assert g.nodes[0].shape == (24, 32, 32)
    assert g.nodes[1].name == "unit1/dw"
    # 24 -> 16 channels: no residual in unit1
    assert "unit1/skip" not in [n.name for n in g.nodes]
    assert g.nodes[-2].name == "conv2" and g.nodes[-2].shape == (8, 16, 16)


def test_repeat_variable_names_and_named_scopes():
    g = graph("""
        name: t
        input: [8, 16, 16]
        layers:
          - {repeat: 3, as: j, layers: [{type: conv, k: 1, out: "${8 * (3 - j)}", name: "c${j}"}]}
          - repeat: 2
            name: stage
            layers:
              - {name: a, type: conv, k: 3, out: 8}
              - {name: b, type: add, inputs: [a, input]}
        """)
    assert names_and_shapes(g) == [
        ("c0", (24, 16, 16)), ("c1", (16, 16, 16)), ("c2", (8, 16, 16)),
        ("stage1/a", (8, 16, 16)), ("stage1/b", (8, 16, 16)),
        ("stage2/a", (8, 16, 16)), ("stage2/b", (8, 16, 16)),
    ]
    # inside a named repeat, 'input' is still the enclosing block's input: the image
    assert g.nodes[6].inputs == [5, -1]


def test_parameter_defaults_may_use_earlier_parameters_and_choices_hold():
    text = """
        name: t
        input: [3, 8, 8]
        params:
          groups: {default: 3, choices: [1, 3, 8]}
          width: "${ {1: 144, 3: 240, 8: 384}[groups] }"
        layers:
          - {type: conv, k: 1, out: $width, groups: 1}
        """
    assert graph(text).nodes[0].shape[0] == 240
    assert graph(text, overrides={"groups": "8"}).nodes[0].shape[0] == 384
    with pytest.raises(SpecError, match=r"^costcalc: error: --set groups=5: 5 is not one of 1, 3, 8$"):
        graph(text, overrides={"groups": "5"})


def test_stages_are_inherited_inward():
    g = graph(BLOCKS.replace("- {block: unit, out: 16}", "- {block: unit, out: 16, stage: s1}"))
    assert [n.stage for n in g.nodes[:5]] == ["", "s1", "s1", "s1", ""]


def test_defaults_per_layer_type():
    g = graph("""
        name: t
        input: [3, 8, 8]
        defaults: {conv: {bias: true}}
        layers:
          - {type: conv, k: 3, out: 4}
          - {type: conv, k: 3, out: 4, bias: false}
        """)
    assert [n.cost.params for n in g.nodes] == [3 * 3 * 3 * 4 + 4, 3 * 3 * 4 * 4]


def test_width_multiplier_scales_only_widening_layers():
    text = """
        name: t
        input: [3, 32, 32]
        width: {rule: floor, min: 8}
        layers:
          - {type: conv, k: 3, out: 32}
          - {type: depthwise, k: 3}
          - {type: pointwise, out: 64}
          - {type: pointwise, out: 64, scale: false}
          - {type: pointwise, out: 100, scale: "${max(1.0, alpha)}"}
          - {type: fc, out: 10}
        """
    g = graph(text, alpha=0.25)
    assert [n.shape[0] for n in g.nodes] == [8, 8, 16, 64, 100, 10]  # max(int(32/4), 8) = 8
    assert graph(text, alpha=0.1).nodes[0].shape[0] == 8          # int(3.2) -> floor 8
    assert graph(text, alpha=1.5).nodes[4].shape[0] == 150


@pytest.mark.parametrize("rule, channels, alpha, expected", [
    ("floor", 32, 0.75, 24), ("floor", 10, 0.75, 7), ("floor", 8, 0.5, 4),
    ("round", 10, 0.75, 8), ("round", 10, 0.25, 3),
    ("make_divisible", 32, 0.35, 16),    # 11.2 -> 8 is below 90%, so 16
    ("make_divisible", 24, 0.75, 24),    # 18 -> 16 < 16.2, so 24
    ("make_divisible", 96, 0.5, 48), ("make_divisible", 1280, 1.4, 1792),
    ("exact", 240, 0.25, 60),
])
def test_width_rules(rule, channels, alpha, expected):
    assert WidthRule(rule, 1, 8).apply(channels, alpha) == expected


def test_exact_rule_refuses_fractions():
    with pytest.raises(ValueError, match="not a whole number"):
        WidthRule("exact").apply(10, 0.25)


def test_multiplier_one_leaves_counts_alone_whatever_the_rule():
    assert WidthRule("floor", 8).apply(3, 1.0) == 3
    assert WidthRule("make_divisible").apply(3, 1) == 3


@given(st.floats(1, 5000))
def test_make_divisible_is_a_multiple_near_the_value(value):
    rounded = make_divisible(value, 8)
    assert rounded % 8 == 0 and rounded >= 8
    assert rounded >= 0.9 * value
    assert rounded <= value + 8


def test_expressions():
    names = {"out": 64, "t": 6, "i": 0, "groups": 3}
    assert substitute("$out", names) == 64
    assert substitute("${out * t}", names) == 384
    assert substitute("${2 if i == 0 else 1}", names) == 2
    assert substitute("${ {1: 144, 3: 240}[groups] }", names) == 240
    assert substitute("fire${i + 2}", names) == "fire2"
    assert substitute("${max(1.0, 0.5) * 1280}", names) == 1280
    assert substitute("plain text", names) == "plain text"
    assert substitute(7, names) == 7


@pytest.mark.parametrize("text, message", [
    ("${__import__('os')}", "only these functions may be called"),
    ("${out.real}", "Attribute is not allowed"),
    ("${[x for x in range(3)]}", "not allowed"),
    ("${lambda: 1}", "not allowed"),
    ("${undefined + 1}", "unknown name 'undefined'"),
    ("${1 / 0}", "ZeroDivisionError"),
    ("${(}", "bad expression"),
])
def test_expressions_refuse_everything_but_arithmetic(text, message):
    with pytest.raises(ExprError, match=message):
        substitute(text, {"out": 1})


def test_errors_inside_blocks_point_at_the_block_line():
    text = """
        name: t
        input: [3, 8, 8]
        blocks:
          bad:
            args: {g: 1}
            layers:
              - {type: conv, k: 1, out: 8, groups: $g}
        layers:
          - {type: conv, k: 1, out: 6}
          - {block: bad, g: 4}
        """
    with pytest.raises(SpecError) as info:
        graph(text)
    assert (info.value.line, info.value.col) == (8, 9)
    assert "groups=4 must divide both the input channels (6" in info.value.message


@pytest.mark.parametrize("entries, message", [
    ("blocks:\n  loop:\n    layers:\n      - {block: loop}\nlayers:\n  - {block: loop}\n",
     "nest more than 50 deep"),
    ("layers:\n  - {name: a, type: relu}\n  - {name: a, type: relu}\n",
     r"layer name 'a' is used twice \(first at line 4\)"),
    ("layers:\n  - {layers: [{type: relu}], repeat_me: 2}\n", "unknown key 'repeat_me' in group"),
])
def test_structural_errors(entries, message):
    with pytest.raises(SpecError, match=message):
        graph("name: t\ninput: [3, 8, 8]\n" + entries)


def test_groups_share_stage_condition_and_scope_and_blocks_know_their_name():
    g = graph("""
        name: t
        input: [4, 8, 8]
        params: {extra: false}
        blocks:
          unit:
            layers:
              - {name: a, type: pointwise, out: 4}
              - stage: "${block_name}_inner"
                layers:
                  - {name: b, type: relu}
        layers:
          - {block: unit, name: "u${1 + 1}", stage: outer}
          - stage: tail
            name: g
            layers:
              - {name: c, type: pointwise, out: 4}
              - {name: d, type: add, inputs: [c, input]}
          - {stage: never, when: $extra, layers: [{type: relu}]}
        """)
    assert [(n.name, n.stage) for n in g.nodes] == [
        ("u2/a", "outer"), ("u2/b", "u2_inner"), ("g/c", "tail"), ("g/d", "tail")]
    # inside the named group, 'input' is still the enclosing block's input: the image
    assert g.nodes[3].inputs == [2, -1]


def test_a_repeat_of_zero_adds_nothing_and_big_repeats_stay_linear():
    g = graph("""
        name: t
        input: [3, 8, 8]
        layers:
          - {type: relu}
          - {repeat: 0, layers: [{type: conv, k: 3, out: 8}]}
          - {repeat: 5000, layers: [{type: relu}]}
        """)
    assert len(g.nodes) == 5001


# ---------------------------------------------------------------- a Spec is always validated

BAD_ENTRIES = """\
name: t
input: [3, 8, 8]
layers:
  - {type: conv, k: 3, out: 4, kk: 1}
  - {block: nowhere}
  - {repeat: 2, as: alpha, layers: [{type: relu}]}
"""


def test_a_spec_cannot_be_made_unvalidated():
    """Spec(path, tree) itself checks every entry (issue 17): the three problems of
    BAD_ENTRIES at once, as loading the text reports them; the builder never sees them."""
    from costcalc.core.errors import SpecErrors
    from costcalc.core.yamlload import load
    from costcalc.lang.spec import Spec

    with pytest.raises(SpecErrors) as direct:
        Spec("t.yaml", load(BAD_ENTRIES, "t.yaml"))
    with pytest.raises(SpecErrors) as loaded:
        spec_from_text(BAD_ENTRIES, "t.yaml")
    lines = str(direct.value).splitlines()
    assert lines == str(loaded.value).splitlines()
    assert [line.split(": error: ")[0] for line in lines] == ["t.yaml:4:32", "t.yaml:5:13",
                                                               "t.yaml:6:21"]
    assert "unknown attribute 'kk' for conv" in lines[0]
    assert "unknown block 'nowhere'" in lines[1]
    assert "the loop variable 'alpha' is a name the language reserves" in lines[2]


@pytest.mark.parametrize("entry, message", [
    # what a ${...} gives is known only as the graph is built: the builder checks it there
    ('{type: "${kind}", k: 3, out: 4, kk: 1}', "5:37: error: unknown attribute 'kk' for conv"),
    ('{block: "${unit}", out: 4, wide: 2}', "5:32: error: block unit has no argument 'wide'"),
    ('{type: relu, name: "${word}"}', "5:24: error: 'input' is reserved"),
    ('{type: relu, name: "${flag}"}', "5:24: error: name must be text, not True"),
])
def test_what_an_expression_gives_is_checked_as_the_graph_is_built(entry, message):
    text = ("name: t\ninput: [3, 8, 8]\n"
            "params: {kind: conv, unit: unit, word: input, flag: true}\n"
            f"layers:\n  - {entry}\n"
            "blocks:\n  unit:\n    args: [out]\n    layers: [{type: conv, k: 1, out: $out}]\n")
    spec = spec_from_text(text, "t.yaml")   # valid as written
    with pytest.raises(SpecError) as error:
        build(spec, Settings())
    assert str(error.value).startswith(f"t.yaml:{message}")
