"""Issue 15: names that resolve to the layer a reader expects (or are refused with the
reason), messages about names that report only independent problems, and the layer
rules PyTorch enforces. Each test failed on the main before the fix."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError
from costcalc.layers import canonical_types


def text(spec):
    return textwrap.dedent(spec).lstrip()


def refusal(spec):
    """The error lines a spec gives (each ``PATH:LINE:COL: error: MESSAGE``)."""
    with pytest.raises(SpecError) as info:
        analyze(text(spec))
    return str(info.value).splitlines()


# ---------------------------------------------------------------- pooling padding

POOL_CASES = [(kind, k, pad) for kind in ("maxpool", "avgpool")
              for k in (1, 2, 3, 4, 5) for pad in (0, 1, 2, 3)]


def pool_spec(kind, k, pad):
    return f"""
        name: t
        padding: explicit
        input: [2, 9, 9]
        layers:
          - {{type: {kind}, k: {k}, stride: 1, padding: {pad}}}
    """


@pytest.mark.parametrize("kind, k, pad", POOL_CASES)
def test_pool_padding_is_refused_exactly_when_pytorch_refuses_it(kind, k, pad):
    torch = pytest.importorskip("torch")
    module = {"maxpool": torch.nn.MaxPool2d, "avgpool": torch.nn.AvgPool2d}[kind](k, 1, pad)
    try:
        expected = tuple(module(torch.zeros(1, 2, 9, 9)).shape[1:])
    except RuntimeError as exc:
        assert "pad should be at most half of effective kernel size" in str(exc)
        expected = None
    if expected is None:
        (line,) = refusal(pool_spec(kind, k, pad))
        assert line.endswith(f"padding {pad}x{pad} is more than half the {k}x{k} kernel: "
                             f"PyTorch requires padding <= kernel // 2 on each side ('pad "
                             f"should be at most half of effective kernel size')"), line
    else:
        assert tuple(analyze(text(pool_spec(kind, k, pad)))["layers"][0]["output"]) == expected


@pytest.mark.parametrize("kind, k, pad", [("maxpool", 3, 2), ("avgpool", 2, 2),
                                          ("maxpool", 1, 1), ("avgpool", [3, 5], [1, 3])])
def test_pool_padding_past_half_the_kernel_is_refused_at_its_line(kind, k, pad):
    (line,) = refusal(pool_spec(kind, k, pad))
    assert line.startswith("<text>:5:5: error: "), line
    assert "PyTorch requires padding <= kernel // 2 on each side" in line


# ---------------------------------------------------------------- layers of several inputs

MANY = [t.name for t in canonical_types() if t.inputs == "many"]


def test_the_multi_input_types_are_add_concat_and_multiply():
    assert MANY == ["add", "concat", "multiply"]


@pytest.mark.parametrize("kind", MANY)
@pytest.mark.parametrize("inputs", ["[a]", "\"${['a']}\"", "[\"${'a'}\"]"])
def test_a_layer_of_several_inputs_given_one_is_refused_at_its_inputs(kind, inputs):
    (line,) = refusal(f"""
        name: t
        input: [3, 8, 8]
        layers:
          - {{name: a, type: conv, k: 3, out: 4}}
          - {{name: b, type: {kind}, inputs: {inputs}}}
    """)
    column = len(f"  - {{name: b, type: {kind}, inputs: ") + 1
    assert line == (f"<text>:5:{column}: error: {kind} needs two or more inputs, not one "
                    f"(a one-input {kind} is its input unchanged)")


def test_an_add_of_two_inputs_still_counts_one_sum_per_element():
    report = analyze(text("""
        name: t
        input: [3, 8, 8]
        layers:
          - {name: a, type: conv, k: 3, out: 4}
          - {name: b, type: add, inputs: [a, a]}
    """))
    assert report["layers"][1]["other_ops"] == (2 - 1) * 4 * 8 * 8


# ---------------------------------------------------------------- references that fail

GHOST = """
    name: t
    input: [3, 16, 16]
    blocks:
      ghost:
        args: {relu: true}
        layers:
          - {name: primary, type: pointwise, out: 8}
          - {name: primary_relu, type: relu, when: $relu}
          - {name: cheap, type: depthwise, k: 3, input: primary_relu}
    layers:
      - {block: ghost}
      - {block: ghost, relu: false}
"""


def test_a_reference_to_a_layer_skipped_by_when_says_which_condition_skipped_it():
    # main said "unknown layer 'primary_relu' (did you mean 'primary_relu'?)", the name
    # of ghost1's layer, which is out of ghost2's scope
    assert refusal(GHOST) == [
        "<text>:9:53: error: layer 'ghost2/primary_relu' was skipped: its condition '$relu' "
        "(line 8) is false, so it cannot be an input here"]


def test_a_layer_skipped_in_a_group_names_the_groups_condition():
    (line,) = refusal("""
        name: t
        input: [3, 16, 16]
        params: {act: false}
        layers:
          - {name: a, type: conv, k: 3, out: 8}
          - when: $act
            layers: [{name: a_relu, type: relu}, {name: a_bn, type: batchnorm}]
          - {type: add, inputs: [a, a_bn]}
    """)
    assert line == ("<text>:8:29: error: layer 'a_bn' was skipped: its condition '$act' "
                    "(line 6) is false, so it cannot be an input here")


def test_a_name_in_another_scope_is_suggested_by_its_full_name_which_reaches_it():
    spec = """
        name: t
        input: [3, 16, 16]
        blocks:
          sep:
            layers: [{name: dw, type: depthwise, k: 3}, {name: pw, type: pointwise, out: 8}]
        layers:
          - {block: sep}
          - {type: add, inputs: [input, REF]}
    """
    (line,) = refusal(spec.replace("REF", "dw"))
    assert "unknown layer 'dw' (did you mean 'sep1/dw'?)" in line, line  # main: 'dw'
    # the suggestion works: sep1/dw (3x16x16, like the image) is added to the image
    report = analyze(text(spec.replace("REF", "sep1/dw")))
    assert report["layers"][-1]["other_ops"] == (2 - 1) * 3 * 16 * 16


# ---------------------------------------------------------------- independent problems only

BLOCKS = """
    name: t
    input: [3, 32, 32]
    blocks:
      a:
        layer:
          - {type: conv, k: 3, out: 8}
      b:
        args: {out: null}
        layers:
          - {type: conv, k: 3, out: $out}
    layers:
      - {block: a}
      - {block: b, out: 8}
      - {block: b, outt: 8}
      - {block: c}
      - {block: a}
"""


def test_one_bad_block_is_reported_once_and_calls_to_the_others_are_still_checked():
    # main: the bad block's line, then "unknown block 'a'/'b'/'c'; blocks: none are
    # defined" at every call (false: both are defined)
    assert refusal(BLOCKS) == [
        "<text>:5:5: error: unknown key 'layer' in block a (did you mean 'layers'?); known: "
        "args, layers, doc, in_pieces",
        "<text>:14:16: error: block b has no argument 'outt' (did you mean 'out'?); its "
        "arguments: out",
        "<text>:15:13: error: unknown block 'c'; blocks: a, b"]


def test_blocks_that_are_not_a_mapping_give_one_error_not_one_per_call():
    assert refusal("""
        name: t
        input: [3, 8, 8]
        blocks: [a]
        layers:
          - {block: a}
          - {block: c}
    """) == ["<text>:3:9: error: blocks must map a block name to {args, layers}"]


def test_a_block_named_by_a_number_is_listed_in_the_unknown_block_message():
    # main: an internal error (joining the names as text)
    assert refusal("""
        name: t
        input: [3, 8, 8]
        blocks:
          1: {layers: [{type: relu}]}
        layers:
          - {block: c}
    """) == ["<text>:6:13: error: unknown block 'c'; blocks: 1"]


# ---------------------------------------------------------------- what names resolve to

def test_input_inside_a_named_group_is_the_enclosing_blocks_input():
    report = analyze(text("""
        name: t
        input: [3, 32, 32]
        blocks:
          unit:
            layers:
              - {name: a, type: conv, k: 3, out: 16}
              - name: branch
                layers:
                  - {type: conv, k: 1, out: 16, input: input}
        layers:
          - {block: unit}
    """))
    # a: 3x3 conv 3 -> 16 on 32x32; the branch's 1x1 conv reads the block's input, the
    # 3-channel image (main read a's 16 channels: 16*16*32*32 = 262,144)
    assert [r["mult_adds"] for r in report["layers"]] == [3 * 3 * 3 * 16 * 32 * 32,
                                                          3 * 16 * 32 * 32]
    assert report["totals"]["mult_adds"] == 3 * 3 * 3 * 16 * 32 * 32 + 3 * 16 * 32 * 32


def test_input_inside_a_named_repeat_is_the_enclosing_blocks_input():
    report = analyze(text("""
        name: t
        input: [3, 32, 32]
        layers:
          - {name: stem, type: conv, k: 3, out: 8}
          - repeat: 2
            name: rep
            layers:
              - {type: conv, k: 1, out: 4, input: input}
    """))
    # both iterations read the image (3 channels), not the previous iteration or the stem
    assert [r["mult_adds"] for r in report["layers"]] == [3 * 3 * 3 * 8 * 1024,
                                                          3 * 4 * 1024, 3 * 4 * 1024]


def test_efficientnets_residual_adds_the_mbconv_blocks_input():
    """torchvision's MBConv: ``result = stochastic_depth(block(x)); result += x``; main
    added the projection to itself (the named group's 'input' was what preceded it)."""
    from costcalc.build.graph import build
    from costcalc.lang.shipped import load

    graph = build(load("efficientnet_b0"))
    index = {node.name: i for i, node in enumerate(graph.nodes)}
    add = graph.nodes[index["stage2/1/residual/add"]]   # the second block of stage 2
    assert add.inputs == [index["stage2/0/project_bn"],
                          index["stage2/1/residual/stochastic_depth"]]


LOOP = """
    name: t
    input: [3, 32, 32]
    layers:
      - repeat: 3
        as: VAR
        layers:
          - {type: conv, k: 3, out: "${8 * (VAR + 1)}"}
"""


def test_a_loop_variable_named_like_a_layers_attribute_is_refused_not_replaced():
    # main used the kernel k = 3 for the loop variable: out 32 three times, 19,759,104
    (line,) = refusal(LOOP.replace("VAR", "k"))
    assert line == ("<text>:7:33: error: 'k' is ambiguous here: this layer's attribute k is "
                    "3, the k of the enclosing scope (a loop variable, block argument or "
                    "parameter) is 0; rename one (docs/spec-language.md, 'Names and "
                    "references')")
    # renamed, the loop variable counts 0, 1, 2: out 8, 16, 24, each 3x3 on 32x32
    report = analyze(text(LOOP.replace("VAR", "j")))
    assert report["totals"]["mult_adds"] == 9 * 1024 * (3 * 8 + 8 * 16 + 16 * 24) == 4_939_776


def test_a_layers_attribute_used_by_name_still_works_alone_or_under_the_same_value():
    report = analyze(text("""
        name: t
        padding: explicit
        input: [4, 16, 16]
        blocks:
          dw:
            args: {k: 3}
            layers: [{type: depthwise, k: $k, padding: "${(k - 1) // 2}"}]
        layers:
          - {type: depthwise, k: 3, padding: "${(k - 1) // 2}"}
          - {block: dw, k: 5}
    """))
    # each padding (k - 1) // 2 keeps the 16x16 side: 3*3*4*16*16, then 5*5*4*16*16
    assert [r["mult_adds"] for r in report["layers"]] == [9 * 4 * 256, 25 * 4 * 256]


CALLS = """
    name: t
    input: [3, 32, 32]
    blocks:
      unit:
        args: {out: "${input_channels * 2}"}
        layers:
          - {type: conv, k: 1, out: $out}
    layers:
      - {name: stem, type: conv, k: 3, out: 8}
      - {block: unit}
      - {block: unit, out: "${SHAPE * 2}"}
      - {block: unit, input: stem, out: "${SHAPE * 2}"}
"""


def test_input_channels_in_a_call_argument_is_refused_and_in_channels_is_the_calls_input():
    # main: 3 (the image, the caller's input) at the call, 8 (the block's input) as default
    message = ("error: input_channels is ambiguous in a block call's argument: it would be "
               "the caller's input, while in block unit's argument defaults it is the called "
               "block's; write in_channels for the input of this call")
    assert refusal(CALLS.replace("SHAPE", "input_channels")) == [
        f"<text>:11:24: {message}", f"<text>:12:37: {message}"]   # both calls, at once
    report = analyze(text(CALLS.replace("SHAPE", "in_channels")))
    # stem 3 -> 8; unit1's default 2 * 8 = 16; unit2 reads unit1 (16): 32; unit3 reads
    # the stem (8): 16; each a 1x1 conv on 32x32
    assert [r["mult_adds"] for r in report["layers"]] == [
        3 * 3 * 3 * 8 * 1024, 8 * 16 * 1024, 16 * 32 * 1024, 8 * 16 * 1024]


RES = """
    name: t
    input: [3, 32, 32]
    blocks:
      res:
        args: {shortcut: null}
        layers:
          - {name: INNER, type: conv, k: 3, out: 16}
          - {type: add, inputs: [INNER, $shortcut]}
      outer:
        args: {skip: null}
        layers:
          - {name: a, type: relu}
          - {block: res, shortcut: $skip}
    layers:
      - {name: a, type: conv, k: 3, out: 16}
      - {type: relu}
      - CALL
"""


def res(inner, call):
    return RES.replace("INNER", inner).replace("CALL", call)


def test_a_layer_name_passed_into_a_block_is_not_swapped_for_an_inner_layer():
    # main added res1/a to itself: the caller's 'a' was shadowed by the block's own
    (line,) = refusal(res("a", "{block: res, shortcut: a}"))
    assert line == ("<text>:8:33: error: 'a', given to the block at line 17, names layer "
                    "'a' there but layer 'res1/a' here; rename one of them (or pass another "
                    "name)")
    # passed on through another block, the name still means the top level's 'a'
    (line,) = refusal(res("b", "{block: outer, skip: a}"))
    assert line.startswith("<text>:8:33: error: 'a', given to the block at line 17, names "
                           "layer 'a' there but layer 'outer1/a' here"), line
    # 'input' given at the top means the image, inside res it would be its own input
    (line,) = refusal(res("b", "{block: res, shortcut: input}"))
    assert "'input', given to the block at line 17, names the image there but layer " \
           "'relu1' here" in line, line


def test_a_passed_name_without_a_namesake_means_the_callers_layer():
    report = analyze(text(res("b", "{block: res, shortcut: a}")))
    rows = {r["name"]: r for r in report["layers"]}
    # res1/b: 3x3 conv 16 -> 16 on 32x32; the add sums it with the top-level a
    assert rows["res1/b"]["mult_adds"] == 3 * 3 * 16 * 16 * 1024
    assert rows["res1/add1"]["inputs"] == ["res1/b", "a"]
