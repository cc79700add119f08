"""SqueezeNet v1.0 (paper, Table 1) and v1.1 (repository README): shapes, parameter
counts written out as formulas, the mult-add readings, and a concat shape error.

Every expected number here is either printed in a source (Table 1 of the paper,
the SqueezeNet repository, torchvision's metadata, the ShuffleNet paper) or
written out from the layer formulas (k*k*M*N + N params, k*k*M*N*H*W mult-adds).
"""
import json

import pytest

from costcalc.build.graph import Settings, build
from costcalc.analysis.report import make_report
from costcalc.lang.shipped import load


def report(name, **settings):
    overrides = settings.pop("overrides", {})
    return make_report(build(load(name), Settings(overrides=overrides, **settings)), name)


def layer(rep, name):
    return next(row for row in rep["layers"] if row["name"] == name)


def stage(rep, name):
    return next(group for group in rep["by_stage"] if group["stage"] == name)


def hwc(rep, name):
    c, h, w = layer(rep, name)["output"]
    return f"{h}x{w}x{c}"


# ------------------------------------------------------------------ Table 1

# (row, cin, s1x1, e1x1, e3x3, output size as printed in Table 1, params as printed)
FIRES_V10 = [
    ("fire2", 96, 16, 64, 64, "55x55x128", 11_920),
    ("fire3", 128, 16, 64, 64, "55x55x128", 12_432),
    ("fire4", 128, 32, 128, 128, "55x55x256", 45_344),
    ("fire5", 256, 32, 128, 128, "27x27x256", 49_440),
    ("fire6", 256, 48, 192, 192, "27x27x384", 104_880),
    ("fire7", 384, 48, 192, 192, "27x27x384", 111_024),
    ("fire8", 384, 64, 256, 256, "27x27x512", 188_992),
    ("fire9", 512, 64, 256, 256, "13x13x512", 197_184),
]


def fire_params(cin, s, e1, e3):
    """squeeze 1x1 + expand 1x1 + expand 3x3, each with a bias."""
    return (1 * 1 * cin * s + s) + (1 * 1 * s * e1 + e1) + (3 * 3 * s * e3 + e3)


def fire_mult_adds(cin, s, e1, e3, side):
    return (cin * s + s * e1 + 9 * s * e3) * side * side


def test_fire2_written_out():
    # the reference's worked example: 1,552 + 1,088 + 9,280 = 11,920
    assert 1 * 1 * 96 * 16 + 16 == 1_552
    assert 1 * 1 * 16 * 64 + 64 == 1_088
    assert 3 * 3 * 16 * 64 + 64 == 9_280
    assert stage(report("squeezenet"), "fire2")["params"] == 1_552 + 1_088 + 9_280


@pytest.mark.parametrize("row, cin, s, e1, e3, size, printed", FIRES_V10)
def test_fire_params_v10(row, cin, s, e1, e3, size, printed):
    rep = report("squeezenet")
    assert fire_params(cin, s, e1, e3) == printed      # the formula gives Table 1's number
    assert stage(rep, row)["params"] == printed
    assert layer(rep, f"{row}/squeeze1x1")["params"] == cin * s + s
    assert layer(rep, f"{row}/expand1x1")["params"] == s * e1 + e1
    assert layer(rep, f"{row}/expand3x3")["params"] == 9 * s * e3 + e3


@pytest.mark.parametrize("row, cin, s, e1, e3, size, printed", FIRES_V10)
def test_fire_shapes_v10(row, cin, s, e1, e3, size, printed):
    rep = report("squeezenet")
    assert hwc(rep, f"{row}/concat") == size
    side = int(size.split("x")[0])
    assert hwc(rep, f"{row}/squeeze1x1") == f"{side}x{side}x{s}"
    assert hwc(rep, f"{row}/expand1x1") == f"{side}x{side}x{e1}"
    assert hwc(rep, f"{row}/expand3x3") == f"{side}x{side}x{e3}"   # 1-pixel padding keeps the side
    assert stage(rep, row)["mult_adds"] == fire_mult_adds(cin, s, e1, e3, side)


def test_table1_other_rows_v10():
    rep = report("squeezenet")
    assert rep["input"] == [3, 227, 227]
    assert hwc(rep, "conv1") == "111x111x96"        # (227 - 7) / 2 + 1 = 111
    assert hwc(rep, "maxpool1") == "55x55x96"
    assert hwc(rep, "maxpool4") == "27x27x256"
    # Table 1 prints "13x12x512" for maxpool8: a misprint, fire9 takes 13x13x512
    assert hwc(rep, "maxpool8") == "13x13x512"
    assert hwc(rep, "conv10") == "13x13x1000"
    assert hwc(rep, "avgpool10") == "1x1x1000"
    assert layer(rep, "conv1")["params"] == 7 * 7 * 3 * 96 + 96 == 14_208
    assert layer(rep, "conv10")["params"] == 512 * 1000 + 1000 == 513_000
    assert layer(rep, "conv1")["mult_adds"] == 7 * 7 * 3 * 96 * 111 * 111
    assert layer(rep, "conv10")["mult_adds"] == 512 * 1000 * 13 * 13


def test_no_fc_no_bn_v10():
    rep = report("squeezenet")
    types = {row["type"] for row in rep["layers"]}
    assert "fc" not in types and "batchnorm" not in types
    assert rep["totals"]["bn_params"] == 0


def test_total_params_v10():
    rep = report("squeezenet")
    total = 14_208 + sum(fire_params(*f[1:5]) for f in FIRES_V10) + 513_000
    assert total == 1_248_424                      # Table 1's total
    assert rep["totals"]["params"] == 1_248_424


def test_224_input_shapes_v10():
    """Table 1 prints a 224x224x3 input, but 224 gives 109x109 after conv1."""
    rep = report("squeezenet", resolution=224)
    assert hwc(rep, "conv1") == "109x109x96"        # floor((224 - 7) / 2) + 1
    assert hwc(rep, "maxpool1") == "54x54x96"       # ceil((109 - 3) / 2) + 1
    assert hwc(rep, "maxpool4") == "27x27x256"
    assert hwc(rep, "maxpool8") == "13x13x512"
    assert rep["totals"]["params"] == 1_248_424     # parameters do not depend on the input


# ------------------------------------------------------------------ mult-add readings

def table1_mult_adds(conv1_side, early_side, conv10_side):
    """Mult-adds of v1.0 from the layer formulas: conv1, fires 2-4 at early_side,
    fires 5-8 at 27, fire9 at 13, conv10 (1x1, 512 -> 1000) at conv10_side."""
    sides = [early_side] * 3 + [27] * 4 + [13]
    return (7 * 7 * 3 * 96 * conv1_side ** 2
            + sum(fire_mult_adds(*f[1:5], side) for f, side in zip(FIRES_V10, sides))
            + 512 * 1000 * conv10_side ** 2)


def test_mult_adds_227_is_shufflenets_833m():
    total = table1_mult_adds(111, 55, 13)
    assert round(total / 1e6) == 833                # ShuffleNet paper, Table 6
    assert report("squeezenet")["totals"]["mult_adds"] == total


def test_mult_adds_224_is_torchvisions_0_819():
    total = table1_mult_adds(109, 54, 13)
    assert round(total / 1e9, 3) == 0.819           # torchvision squeezenet1_0 _ops
    assert report("squeezenet", resolution=224)["totals"]["mult_adds"] == total


def test_caffe_conv10_pad_quirk():
    """caffe v1.0 conv10: kernel 1 with pad 1 -> 15x15 output, +512*1000*(15^2-13^2)."""
    plain = report("squeezenet")
    padded = report("squeezenet", overrides={"conv10_pad": "1"})
    assert hwc(padded, "conv10") == "15x15x1000"
    assert padded["totals"]["params"] == plain["totals"]["params"] == 1_248_424
    extra = 512 * 1000 * (15 * 15 - 13 * 13)
    assert padded["totals"]["mult_adds"] - plain["totals"]["mult_adds"] == extra
    total = table1_mult_adds(111, 55, 15)
    assert padded["totals"]["mult_adds"] == total
    # the repository's 1.72 GFLOPS/image: multiply and add counted apart
    assert round(2 * total / 1e9, 2) == 1.72
    # the MobileNet paper's "1700 million mult-adds" is that FLOP figure, not a MAC count
    assert round(2 * total, -8) == 1_700_000_000
    assert total < 900_000_000


# ------------------------------------------------------------------ v1.1

FIRES_V11 = [  # (name, cin, s, e1, e3, side at 227, side at 224)
    ("fire2", 64, 16, 64, 64, 56, 55),
    ("fire3", 128, 16, 64, 64, 56, 55),
    ("fire4", 128, 32, 128, 128, 28, 27),
    ("fire5", 256, 32, 128, 128, 28, 27),
    ("fire6", 256, 48, 192, 192, 14, 13),
    ("fire7", 384, 48, 192, 192, 14, 13),
    ("fire8", 384, 64, 256, 256, 14, 13),
    ("fire9", 512, 64, 256, 256, 14, 13),
]


def test_v11_structure_and_shapes():
    rep = report("squeezenet_v1_1")
    assert rep["input"] == [3, 227, 227]
    assert hwc(rep, "conv1") == "113x113x64"        # 3x3/2: (227 - 3) / 2 + 1
    assert hwc(rep, "maxpool1") == "56x56x64"
    assert hwc(rep, "maxpool3") == "28x28x128"      # pooling after fire3 and fire5
    assert hwc(rep, "maxpool5") == "14x14x256"
    assert hwc(rep, "conv10") == "14x14x1000"
    pools = [row["name"] for row in rep["layers"] if row["type"] == "maxpool"]
    assert pools == ["maxpool1", "maxpool3", "maxpool5"]
    for name, cin, s, e1, e3, side, _ in FIRES_V11:
        assert hwc(rep, f"{name}/concat") == f"{side}x{side}x{e1 + e3}"


def test_v11_params():
    rep = report("squeezenet_v1_1")
    conv1 = 3 * 3 * 3 * 64 + 64
    assert layer(rep, "conv1")["params"] == conv1 == 1_792
    # fire2 now takes 64 channels; the other fire modules are v1.0's
    assert stage(rep, "fire2")["params"] == fire_params(64, 16, 64, 64)
    total = conv1 + sum(fire_params(*f[1:5]) for f in FIRES_V11) + 513_000
    assert total == 1_235_496                       # torchvision squeezenet1_1 num_params
    assert rep["totals"]["params"] == total


def test_v11_mult_adds():
    def count(conv1_side, col):
        return (3 * 3 * 3 * 64 * conv1_side ** 2
                + sum(fire_mult_adds(*f[1:5], f[col]) for f in FIRES_V11)
                + 512 * 1000 * FIRES_V11[-1][col] ** 2)

    at_224 = count(111, 6)
    assert round(at_224 / 1e9, 3) == 0.349          # torchvision squeezenet1_1 _ops
    assert report("squeezenet_v1_1", resolution=224)["totals"]["mult_adds"] == at_224
    at_227 = count(113, 5)
    assert report("squeezenet_v1_1")["totals"]["mult_adds"] == at_227
    # the repository prints 0.72 GFLOPS; the same reading as v1.0's 1.72 gives 0.78
    assert round(2 * at_227 / 1e9, 2) == 0.78
    v10_224 = table1_mult_adds(109, 54, 13)
    assert round(v10_224 / at_224, 2) == 2.35       # "2.4x less computation" (torchvision)


# ------------------------------------------------------------------ CLI

def test_check_passes(run_cli):
    result = run_cli("check", "squeezenet", "squeezenet_v1_1", "--format", "json")
    assert result.code == 0, result.out
    results = json.loads(result.out)["results"]
    assert results and all(r["passed"] for r in results)


def test_shipped_name_json(run_cli):
    result = run_cli("squeezenet", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["totals"]["params"] == 1_248_424
    assert data["input"] == [3, 227, 227]


def test_concat_of_unequal_sizes_is_an_error(tmp_path, run_cli):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "name: bad concat\n"
        "input: [3, 32, 32]\n"
        "layers:\n"
        "  - {name: a, type: conv, k: 3, out: 8}\n"
        "  - {name: b, type: conv, k: 3, out: 8, stride: 2, input: input}\n"
        "  - {name: cat, type: concat, inputs: [a, b]}\n")
    result = run_cli(spec)
    assert result.code == 2
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{spec}:6:5: error: ")
    assert "8x32x32" in lines[0] and "8x16x16" in lines[0]
