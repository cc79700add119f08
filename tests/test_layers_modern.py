"""The layer types of modern networks (issue 8): multiply, split, slice, adaptive pooling,
hardsigmoid/gelu and the PyTorch activation names, layernorm, layer_scale, identity.

Every count is written out by hand for concrete numbers; small specs run end to end through
costcalc.analyze; with torch installed, shapes and parameter counts are compared with
PyTorch's modules."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError
from costcalc.build.graph import Settings, build
from costcalc.layers import TYPES, adaptive_windows
from costcalc.lang.spec import spec_from_text


def nodes(layer_yaml, input_shape=(32, 56, 56), blocks=""):
    c, h, w = input_shape
    text = (f"name: t\ninput: [{c}, {h}, {w}]\n{textwrap.dedent(blocks)}layers:\n"
            + textwrap.indent(textwrap.dedent(layer_yaml), "  "))
    return build(spec_from_text(text, "t.yaml"), Settings()).nodes


def costs(node):
    c = node.cost
    return (c.mult_adds, c.params, c.bn_params, c.other_ops)


def error(layer_yaml, input_shape=(32, 56, 56)):
    with pytest.raises(SpecError) as info:
        nodes(layer_yaml, input_shape)
    return str(info.value)


# ------------------------------------------------------------------------ multiply

def test_multiply_of_equal_shapes():
    *_, mul = nodes("""
        - {name: a, type: sigmoid}
        - {name: m, type: multiply, inputs: [input, a]}
    """, (8, 14, 14))
    assert mul.shape == (8, 14, 14)
    assert costs(mul) == (0, 0, 0, 8 * 14 * 14)          # (2 - 1) * C * H * W = 1,568


def test_multiply_broadcasts_c11_and_counts_every_extra_input():
    *_, mul = nodes("""
        - {name: gate, type: global_avgpool}
        - {name: m, type: mul, inputs: [gate, input, gate]}
    """, (16, 7, 7))
    assert mul.shape == (16, 7, 7)                       # the largest shape, wherever it is
    assert costs(mul) == (0, 0, 0, 2 * 16 * 7 * 7)       # (3 - 1) * 784 = 1,568


def test_multiply_that_does_not_broadcast_names_the_shapes():
    message = error("""
        - {name: gate, type: global_avgpool}
        - {name: wide, type: pointwise, out: 8, input: input}
        - {name: m, type: multiply, inputs: [gate, wide]}
    """, (16, 56, 56))
    assert "m (multiply): multiply of 16x1x1 and 8x56x56 does not broadcast" in message
    message = error("""
        - {name: small, type: maxpool, k: 2}
        - {name: m, type: multiply, inputs: [input, small]}
    """, (16, 56, 56))
    assert "multiply of 16x56x56 and 16x28x28 does not broadcast" in message


# ------------------------------------------------------------------- split, slice

def test_split_takes_one_chunk_of_the_channels():
    first, second = nodes("""
        - {name: x1, type: split, part: 0}
        - {name: x2, type: split, part: 1, input: input}
    """, (116, 28, 28))
    assert first.shape == second.shape == (58, 28, 28)    # 116 / 2
    assert costs(first) == costs(second) == (0, 0, 0, 0)
    (third,) = nodes("- {type: split, parts: 4, part: 3}", (116, 28, 28))
    assert third.shape == (29, 28, 28)                    # 116 / 4
    assert TYPES["split"].describe(third.attrs) == "3 of 4"


def test_split_bad_shapes_and_attributes():
    assert "split into 2 parts needs channels divisible by 2, got input 15x8x8" in error(
        "- {type: split, part: 0}", (15, 8, 8))
    assert "part 2 does not exist: parts=2 numbers them 0 to 1" in error(
        "- {type: split, part: 2}", (16, 8, 8))
    assert "split needs attribute 'part'" in error("- {type: split}")
    assert "part must be a non-negative integer, not -1" in error("- {type: split, part: -1}")


def test_slice_takes_channels_start_to_stop():
    (node,) = nodes("- {type: slice, start: 10, stop: 42}", (64, 7, 7))
    assert node.shape == (32, 7, 7)                       # 42 - 10
    assert costs(node) == (0, 0, 0, 0)
    assert TYPES["slice"].describe(node.attrs) == "[10:42]"
    (node,) = nodes("- {type: slice, stop: 64}", (64, 7, 7))   # start defaults to 0
    assert node.shape == (64, 7, 7)


def test_slice_bad_bounds():
    assert "slice [0:65] needs start < stop <= channels, got input 64x7x7" in error(
        "- {type: slice, stop: 65}", (64, 7, 7))
    assert "slice [8:8] needs start < stop" in error("- {type: slice, start: 8, stop: 8}")
    assert "stop must be a positive integer, not 0" in error("- {type: slice, stop: 0}")
    assert "start must be a non-negative integer, not 1.5" in error(
        "- {type: slice, start: 1.5, stop: 4}")


# ----------------------------------------------------------------- adaptive pooling

def test_adaptive_windows_by_hand():
    # 10 -> 3: [0, 4) [3, 7) [6, 10): floor(i*10/3) to ceil((i+1)*10/3); 4 + 4 + 4
    assert adaptive_windows(10, 3) == 12
    # 5 -> 7: [0,1) [0,2) [1,3) [2,3) [2,4) [3,5) [4,5): 1+2+2+1+2+2+1 (windows repeat)
    assert adaptive_windows(5, 7) == 11
    # 7 -> 7 and 14 -> 7: the windows tile the side exactly
    assert adaptive_windows(7, 7) == 7 and adaptive_windows(14, 7) == 14
    # 6 -> 4: [0,2) [1,3) [3,5) [4,6): 2 * 4
    assert adaptive_windows(6, 4) == 8


def test_adaptive_pools_shape_and_cost():
    (node,) = nodes("- {type: adaptive_avgpool, size: 3}", (4, 10, 10))
    assert node.shape == (4, 3, 3)
    assert costs(node) == (0, 0, 0, 4 * 12 * 12)          # C * 12 * 12 = 576
    (node,) = nodes("- {type: adaptive_maxpool, size: [3, 7]}", (2, 10, 5))
    assert node.shape == (2, 3, 7)
    assert costs(node) == (0, 0, 0, 2 * 12 * 11)          # C * (4+4+4) * (1+2+2+1+2+2+1)
    assert TYPES["adaptive_maxpool"].describe(node.attrs) == "to 3x7"
    (node,) = nodes("- {type: adaptive_avgpool, size: 1}", (1280, 7, 7))
    assert node.shape == (1280, 1, 1)                     # = global_avgpool
    assert costs(node) == (0, 0, 0, 1280 * 7 * 7)


def test_adaptive_pool_needs_a_size():
    assert "adaptive_avgpool needs attribute 'size'" in error("- {type: adaptive_avgpool}")
    assert "size must be a positive integer" in error("- {type: adaptive_avgpool, size: 0}")


# --------------------------------------------------------------------- activations

@pytest.mark.parametrize("name", ["hardsigmoid", "hsigmoid", "gelu", "hardswish", "hswish",
                                  "silu", "swish"])
def test_new_activation_names(name):
    (node,) = nodes(f"- {{type: {name}}}", (24, 28, 28))
    assert node.shape == (24, 28, 28)
    assert costs(node) == (0, 0, 0, 24 * 28 * 28)         # 18,816


def test_aliases_are_the_same_types():
    assert TYPES["hardswish"] is TYPES["hswish"] and TYPES["silu"] is TYPES["swish"]
    assert TYPES["hsigmoid"] is TYPES["hardsigmoid"] and TYPES["mul"] is TYPES["multiply"]
    assert TYPES["layer_norm"] is TYPES["layernorm"]
    assert TYPES["stochastic_depth"] is TYPES["identity"]
    (node,) = nodes("- {type: hardswish}")
    assert node.type.name == "hswish"                     # reported by its first name


# ---------------------------------------------- layernorm, layer_scale, identity

def test_layernorm():
    (node,) = nodes("- {type: layernorm}", (96, 56, 56))
    assert node.shape == (96, 56, 56)
    # bn_params = 2 * 96 = 192; other_ops = 5 * 96 * 56 * 56 = 1,505,280
    assert costs(node) == (0, 0, 192, 1_505_280)


def test_layer_scale():
    (node,) = nodes("- {type: layer_scale}", (768, 7, 7))
    assert node.shape == (768, 7, 7)
    assert costs(node) == (0, 0, 768, 37_632)             # C; C * H * W = 768 * 49


def test_identity_and_stochastic_depth():
    a, b = nodes("""
        - {type: identity}
        - {type: stochastic_depth, rate: 0.1}
    """, (8, 5, 5))
    assert a.shape == b.shape == (8, 5, 5)
    assert costs(a) == costs(b) == (0, 0, 0, 0)
    assert "rate must be a number in [0, 1)" in error("- {type: stochastic_depth, rate: 1}")


def test_new_types_are_documented():
    for name in ("multiply", "split", "slice", "adaptive_avgpool", "adaptive_maxpool",
                 "hardsigmoid", "gelu", "layernorm", "layer_scale", "identity"):
        doc = TYPES[name].__doc__
        assert doc and len(doc.strip()) > 20, name
    assert "5 * C * H * W" in TYPES["layernorm"].__doc__ and "fvcore" in TYPES["layernorm"].__doc__


# ------------------------------------------------------------ small specs, end to end

def run(tmp_path, text):
    path = tmp_path / "net.yaml"
    path.write_text(textwrap.dedent(text))
    return analyze(str(path))


SE_NET = """
    name: SE test
    input: [3, 16, 16]
    blocks:
      se:
        doc: squeeze-and-excitation as torchvision's SqueezeExcitation
        args: {squeeze: null}
        layers:
          - {name: pool, type: global_avgpool}
          - {name: fc1, type: pointwise, out: $squeeze, bias: true}
          - {name: relu, type: relu}
          - {name: fc2, type: pointwise, out: "${input_channels}", bias: true}
          - {name: gate, type: hardsigmoid}
          - {name: scale, type: multiply, inputs: [input, gate]}
    layers:
      - {type: conv, k: 3, out: 16, stride: 2, padding: 1}
      - {type: batchnorm}
      - {type: hardswish}
      - {block: se, squeeze: 4}
      - {type: adaptive_avgpool, size: 1}
      - {type: fc, out: 10}
"""


def test_squeeze_and_excitation_block(tmp_path):
    report = run(tmp_path, SE_NET)
    rows = {row["name"]: row for row in report["layers"]}
    assert rows["se1/scale"]["output"] == [16, 8, 8]
    # conv 3x3/2, 3 -> 16, 16x16 -> 8x8:  3*3*3*16*8*8 = 27,648 mult-adds, 432 weights
    # se1/fc1 16 -> 4 on 1x1:             16*4 = 64, params 64 + 4 = 68
    # se1/fc2 4 -> 16:                    4*16 = 64, params 64 + 16 = 80
    # fc 16 -> 10:                        160, params 160 + 10 = 170
    assert rows["se1/fc1"]["mult_adds"] == 64 and rows["se1/fc1"]["params"] == 68
    assert rows["se1/fc2"]["mult_adds"] == 64 and rows["se1/fc2"]["params"] == 80
    assert report["totals"]["mult_adds"] == 27_648 + 64 + 64 + 160        # 27,936
    assert report["totals"]["params"] == 432 + 68 + 80 + 170              # 750
    assert report["totals"]["bn_params"] == 2 * 16                        # 32
    # other_ops, C*H*W = 16*8*8 = 1,024: batchnorm, hardswish, the SE's pool, the
    # multiply and the final pool 1,024 each; relu 4, hardsigmoid 16
    assert rows["se1/scale"]["other_ops"] == 1024
    assert report["totals"]["other_ops"] == 5 * 1024 + 4 + 16             # 5,140


SHUFFLE_NET = """
    name: ShuffleNetV2-style units
    input: [24, 8, 8]
    blocks:
      unit:
        doc: ShuffleNetV2's stride-1 unit (channel split, one branch, concat, shuffle)
        layers:
          - {name: x1, type: split, part: 0}
          - {name: x2, type: split, part: 1, input: input}
          - {name: pw1, type: pointwise, out: "${input_channels // 2}"}
          - {type: batchnorm}
          - {type: relu}
          - {name: dw, type: depthwise, k: 3, padding: 1}
          - {type: batchnorm}
          - {name: pw2, type: pointwise, out: "${input_channels // 2}"}
          - {type: batchnorm}
          - {name: branch, type: relu}
          - {name: cat, type: concat, inputs: [x1, branch]}
          - {type: shuffle, groups: 2}
    layers:
      - {block: unit}
      - name: sliced
        layers:
          - {name: x1, type: slice, stop: 12}
          - {name: x2, type: slice, start: 12, stop: 24, input: input}
          - {name: cat, type: concat, inputs: [x2, x1]}
"""


def test_shufflenet_v2_split_and_concat(tmp_path):
    report = run(tmp_path, SHUFFLE_NET)
    rows = {row["name"]: row for row in report["layers"]}
    assert rows["unit1/x1"]["output"] == rows["unit1/x2"]["output"] == [12, 8, 8]
    assert rows["unit1/cat"]["output"] == [24, 8, 8]
    assert rows["sliced/x1"]["output"] == rows["sliced/x2"]["output"] == [12, 8, 8]
    assert rows["sliced/cat"]["output"] == [24, 8, 8]
    # pw1, pw2: 12*12*8*8 = 9,216 each, 144 weights; dw: 3*3*12*8*8 = 6,912, 108 weights
    assert report["totals"]["mult_adds"] == 2 * 9216 + 6912               # 25,344
    assert report["totals"]["params"] == 2 * 144 + 108                    # 396
    assert report["totals"]["bn_params"] == 3 * 2 * 12                    # 72
    # 3 batchnorms and 2 relus on 12x8x8 = 768 elements; split, concat, shuffle: 0
    assert report["totals"]["other_ops"] == 5 * 768                       # 3,840


CONVNEXT_BLOCK = """
    name: ConvNeXt block
    input: [8, 7, 7]
    layers:
      - {name: dw, type: conv, k: 7, padding: 3, groups: 8, out: 8, bias: true}
      - {type: layernorm}
      - {type: pointwise, out: 32, bias: true}
      - {type: gelu}
      - {type: pointwise, out: 8, bias: true}
      - {type: layer_scale}
      - {name: drop_path, type: stochastic_depth, rate: 0.1}
      - {type: add, inputs: [input, drop_path]}
"""


def test_convnext_block(tmp_path):
    report = run(tmp_path, CONVNEXT_BLOCK)
    # dw 7x7 on 8 channels, 7x7 output: 49*8*49 = 19,208, params 392 + 8 = 400
    # pointwise 8 -> 32: 8*32*49 = 12,544, params 256 + 32 = 288
    # pointwise 32 -> 8: 12,544, params 256 + 8 = 264
    assert report["totals"]["mult_adds"] == 19_208 + 2 * 12_544          # 44,296
    assert report["totals"]["params"] == 400 + 288 + 264                  # 952
    assert report["totals"]["bn_params"] == 2 * 8 + 8                     # 24
    # layernorm 5*392 = 1,960; gelu 32*49 = 1,568; layer_scale 392; add 392
    assert report["totals"]["other_ops"] == 1960 + 1568 + 392 + 392       # 4,312


# --------------------------------------------------------------- against PyTorch

def test_against_pytorch():
    torch = pytest.importorskip("torch")
    from torch import nn

    for (h, w), size in [((10, 10), 3), ((5, 9), (7, 4)), ((7, 7), 1), ((13, 6), (4, 6))]:
        for name, module in (("adaptive_avgpool", nn.AdaptiveAvgPool2d(size)),
                             ("adaptive_maxpool", nn.AdaptiveMaxPool2d(size))):
            sz = list(size) if isinstance(size, tuple) else size
            (node,) = nodes(f"- {{type: {name}, size: {sz}}}", (3, h, w))
            assert tuple(module(torch.zeros(1, 3, h, w)).shape[1:]) == node.shape
        # the window lengths: pool the rows of an identity matrix, count nonzeros
        for side, out in ((h, node.shape[1]), (w, node.shape[2])):
            pooled = nn.functional.adaptive_avg_pool1d(torch.eye(side).unsqueeze(1), out)
            assert int((pooled != 0).sum()) == adaptive_windows(side, out)

    assert sum(p.numel() for p in nn.LayerNorm(96).parameters()) == 2 * 96
    convnext = pytest.importorskip("torchvision.models.convnext")
    block = convnext.CNBlock(8, layer_scale=1e-6, stochastic_depth_prob=0.1)
    totals = analyze_text(CONVNEXT_BLOCK)
    assert sum(p.numel() for p in block.parameters()) == totals["params"] + totals["bn_params"]
    ops = pytest.importorskip("torchvision.ops")
    se = ops.SqueezeExcitation(16, 4, scale_activation=nn.Hardsigmoid)
    assert sum(p.numel() for p in se.parameters()) == 68 + 80


def analyze_text(text):
    import tempfile
    import pathlib

    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "net.yaml"
        path.write_text(textwrap.dedent(text))
        return analyze(str(path))["totals"]
