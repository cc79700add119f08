"""Each layer type: shape and costs against formulas written out by hand."""
import math
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.build.graph import Settings, build
from costcalc.layers import TYPES, conv_side
from costcalc.lang.spec import spec_from_text
from costcalc.core.shape import CHW


def one_layer(layer_yaml, input_shape=(32, 56, 56), extra=""):
    """Build a spec of one (or a few) layers and return its nodes."""
    c, h, w = input_shape
    text = f"name: t\ninput: [{c}, {h}, {w}]\n{extra}layers:\n" + textwrap.indent(
        textwrap.dedent(layer_yaml), "  ")
    return build(spec_from_text(text, "t.yaml"), Settings()).nodes


def costs(node):
    c = node.cost
    return (c.mult_adds, c.params, c.bn_params, c.other_ops)


def test_standard_conv():
    (node,) = one_layer("- {type: conv, k: 3, out: 64}")
    assert node.shape == (64, 56, 56)
    # D_k^2 * M * N * D_f^2
    assert costs(node) == (3 * 3 * 32 * 64 * 56 * 56, 3 * 3 * 32 * 64, 0, 0)


def test_conv_stride_bias_and_valid_padding():
    (node,) = one_layer("- {type: conv, k: 7, out: 96, stride: 2, padding: valid, bias: true}",
                        (3, 227, 227))
    assert node.shape == (96, 111, 111)          # (227 - 7) // 2 + 1
    assert costs(node)[:2] == (7 * 7 * 3 * 96 * 111 * 111, 7 * 7 * 3 * 96 + 96)


def test_group_conv_divides_by_g():
    (node,) = one_layer("- {type: conv, k: 3, out: 64, groups: 4}")
    assert costs(node)[:2] == (3 * 3 * (32 // 4) * 64 * 56 * 56, 3 * 3 * (32 // 4) * 64)
    assert node.category == "group conv 3x3"


def test_conv_with_g_equal_channels_is_depthwise_in_breakdown():
    (node,) = one_layer("- {type: conv, k: 3, out: 32, groups: 32}")
    assert node.category == "depthwise 3x3"
    assert costs(node)[0] == 3 * 3 * 32 * 56 * 56


def test_non_square_kernel_and_stride():
    (node,) = one_layer("- {type: conv, k: [2, 1], stride: [1, 2], out: 16}", (8, 16, 16))
    assert node.shape == (16, 16, 8)             # same padding: ceil(16/1), ceil(16/2)
    assert costs(node)[:2] == (2 * 1 * 8 * 16 * 16 * 8, 2 * 1 * 8 * 16)


def test_dilation_with_explicit_padding():
    (node,) = one_layer("- {type: conv, k: 3, dilation: 2, padding: 2, out: 8}", (4, 20, 20))
    assert node.shape == (8, 20, 20)             # (20 + 4 - 2*2 - 1) // 1 + 1


def test_depthwise_and_multiplier():
    (node,) = one_layer("- {type: depthwise, k: 3, stride: 2}")
    assert node.shape == (32, 28, 28)
    assert costs(node)[:2] == (3 * 3 * 32 * 28 * 28, 3 * 3 * 32)
    (node,) = one_layer("- {type: depthwise, k: [1, 3], multiplier: 2}")
    assert node.shape == (64, 56, 56)
    assert costs(node)[:2] == (1 * 3 * 32 * 2 * 56 * 56, 1 * 3 * 32 * 2)


def test_pointwise_and_grouped_pointwise():
    (node,) = one_layer("- {type: pointwise, out: 128}")
    assert costs(node)[:2] == (32 * 128 * 56 * 56, 32 * 128)      # M * N * D_f^2
    assert node.category == "conv 1x1"
    (node,) = one_layer("- {type: pointwise, out: 64, groups: 8}")
    assert costs(node)[:2] == (32 // 8 * 64 * 56 * 56, 32 // 8 * 64)
    assert node.category == "group conv 1x1"


def test_fully_connected_flattens_its_input():
    (node,) = one_layer("- {type: fc, out: 10}", (16, 4, 4))
    assert node.shape == (10, 1, 1)
    assert costs(node)[:2] == (16 * 4 * 4 * 10, 16 * 4 * 4 * 10 + 10)
    (node,) = one_layer("- {type: fc, out: 10, bias: false}", (16, 1, 1))
    assert costs(node)[:2] == (160, 160)


def test_batchnorm_counts_apart():
    (node,) = one_layer("- {type: batchnorm}")
    assert costs(node) == (0, 0, 2 * 32, 32 * 56 * 56)


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "sigmoid", "tanh", "hswish",
                                  "swish", "softmax"])
def test_activations(name):
    (node,) = one_layer(f"- {{type: {name}}}")
    assert node.shape == (32, 56, 56)
    assert costs(node) == (0, 0, 0, 32 * 56 * 56)


def test_pooling():
    (node,) = one_layer("- {type: maxpool, k: 3, stride: 2, padding: valid, ceil_mode: true}",
                        (96, 111, 111))
    assert node.shape == (96, 55, 55)            # ceil((111 - 3) / 2) + 1
    assert costs(node) == (0, 0, 0, 3 * 3 * 96 * 55 * 55)
    (node,) = one_layer("- {type: avgpool, k: [2, 1]}", (8, 16, 16))
    assert node.shape == (8, 8, 16)              # stride defaults to the kernel
    (node,) = one_layer("- {type: global_avgpool}", (1024, 7, 7))
    assert node.shape == (1024, 1, 1)
    assert costs(node) == (0, 0, 0, 1024 * 7 * 7)


def test_pool_stride_defaults_to_the_kernel_without_changing_the_attributes():
    pool = TYPES["maxpool"]
    attrs = {"k": (3, 3), "stride": None, "padding": "valid", "ceil_mode": False}
    assert pool.describe(attrs) == "3x3/3"           # before any shape was asked for
    assert pool.shape(attrs, [CHW((8, 9, 9))]) == (8, 3, 3)
    assert attrs["stride"] is None                    # shared by repeated layers: untouched


def test_ceil_mode_last_window_must_start_inside():
    # ceil((111 - 3) / 2) + 1 = 55 (Caffe's pooling rule), floor gives 54 + 1 = 55 too
    assert conv_side(111, 3, 2, "valid", ceil_mode=True) == 55
    assert conv_side(112, 3, 2, "valid", ceil_mode=True) == 56   # floor would give 55
    # 4 wide, k 1, stride 2, pad 1: ceil((4 + 2 - 1) / 2) + 1 = 4 windows, but the 4th
    # would start at 3 * 2 = 6 >= 4 + 1, in the padding only, so PyTorch drops it: 3
    assert conv_side(4, 1, 2, 1, ceil_mode=True) == 3


def test_add_concat_shuffle_flatten_dropout():
    nodes = one_layer("""
        - {name: a, type: pointwise, out: 16}
        - {name: b, type: pointwise, out: 16, input: input}
        - {name: s, type: add, inputs: [a, b, input]}
        - {name: c, type: concat, inputs: [a, b, s]}
        - {type: shuffle, groups: 4}
        - {type: dropout, rate: 0.2}
        - {type: flatten}
    """, (16, 8, 8))
    add, concat, shuffle, dropout, flatten = nodes[2:]
    assert add.shape == (16, 8, 8) and costs(add) == (0, 0, 0, 2 * 16 * 8 * 8)
    assert concat.shape == (48, 8, 8) and costs(concat) == (0, 0, 0, 0)
    assert shuffle.shape == (48, 8, 8) and dropout.shape == (48, 8, 8)
    assert flatten.shape == (48 * 8 * 8, 1, 1)


def test_every_type_is_documented_with_a_formula_or_rule():
    for name, layer_type in TYPES.items():
        assert layer_type.__doc__ and len(layer_type.__doc__.strip()) > 20, name


# ------------------------------------------------------- shapes vs an independent formula

def reference_side(size, k, stride, pad):
    """Output side from first principles: count the window positions."""
    if pad == "same":
        return math.ceil(size / stride)
    p = 0 if pad == "valid" else pad
    return len(range(0, size + 2 * p - k + 1, stride))


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 300), k=st.integers(1, 11), stride=st.integers(1, 5),
       pad=st.one_of(st.just("same"), st.just("valid"), st.integers(0, 5)))
def test_window_side_matches_counted_positions(size, k, stride, pad):
    expected = reference_side(size, k, stride, pad)
    if expected < 1:
        return
    assert conv_side(size, k, stride, pad) == expected


@settings(max_examples=100, deadline=None)
@given(m=st.integers(1, 64), n=st.integers(1, 64), k=st.integers(1, 5), side=st.integers(5, 40),
       stride=st.integers(1, 3), g=st.sampled_from([1, 2, 4]))
def test_conv_cost_formula_through_the_whole_pipeline(m, n, k, side, stride, g):
    m, n = m * g, n * g
    (node,) = one_layer(f"- {{type: conv, k: {k}, out: {n}, stride: {stride}, groups: {g}}}",
                        (m, side, side))
    out = math.ceil(side / stride)
    assert node.shape == (n, out, out)
    assert node.cost.mult_adds == k * k * (m // g) * n * out * out
    assert node.cost.params == k * k * (m // g) * n
