"""The width multiplier of the zoo (issue 15): ``--alpha`` is each family's published width
rule, checked against torchvision built at that width; a family that defines none refuses
an alpha other than 1 (exit 2, the spec named) instead of ignoring it."""
import json
import math

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError

# The families whose paper or torchvision defines a width multiplier; every other family
# (ConvNeXt, EfficientNetV2, ShuffleNetV2, AlexNet, VGG, ResNet and its kin, DenseNet,
# GoogLeNet, Inception v3, SqueezeNet, RegNet) refuses an alpha other than 1.
WIDTH_FAMILIES = ("mobilenet", "fd_mobilenet", "effnet", "mnasnet", "efficientnet",
                  "shufflenet")
NO_WIDTH_INSIDE = ("efficientnet_v2", "shufflenet_v2")   # same prefix, no multiplier


def defines_width(name):
    return name.startswith(WIDTH_FAMILIES) and not name.startswith(NO_WIDTH_INSIDE)

# torchvision 0.29's builders: efficientnet_bN's (width_mult, depth_mult, dropout)
EFFICIENTNET = {"b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3),
                "b3": (1.2, 1.4, 0.3), "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4),
                "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5)}
MNASNET = {"mnasnet0_5": 0.5, "mnasnet0_75": 0.75, "mnasnet1_0": 1.0, "mnasnet1_3": 1.3,
           "mnasnet": 1.0}


def listed(run_cli):
    result = run_cli("list")
    assert result.code == 0
    return [line.split()[0] for line in result.out.splitlines() if line.strip()]


def make_divisible(v, d=8):
    """MobileNetV2's _make_divisible, written out again."""
    r = max(d, int(v + d / 2) // d * d)
    return r + d if r < 0.9 * v else r


def mobilenet_v1_mult_adds(alpha, side=224, classes=1000):
    """MobileNet (Table 1) thinned by max(int(c * alpha), 8), counted by hand."""
    w = lambda c: max(int(c * alpha), 8)   # noqa: E731
    rows = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 \
        + [(1024, 2), (1024, 1)]
    s = (side + 1) // 2
    total, c = 3 * 3 * 3 * w(32) * s * s, w(32)
    for out, stride in rows:
        s = (s + stride - 1) // stride
        total += 3 * 3 * c * s * s + c * w(out) * s * s
        c = w(out)
    return total + c * classes


def test_every_listed_name_applies_alpha_or_refuses_it(run_cli):
    names = listed(run_cli)
    assert len(names) >= 85
    refused = []
    for name in names:
        half = run_cli(name, "--alpha", "0.5", "--format", "json")
        if half.code == 2:
            refused.append(name)
            lines = half.err.strip().splitlines()
            assert len(lines) == 1 and name in lines[0] and "alpha 0.5" in lines[0], half.err
            assert half.out == ""
            continue
        assert half.code == 0, (name, half.err)
        full = json.loads(run_cli(name, "--format", "json").out)
        half = json.loads(half.out)
        assert half["totals"]["mult_adds"] < full["totals"]["mult_adds"], name
        if name in ("mobilenet",):
            assert half["totals"]["mult_adds"] == mobilenet_v1_mult_adds(0.5)
    # exactly the families without a width multiplier, every name of theirs
    assert set(refused) == {n for n in names if not defines_width(n)}
    assert {"convnext_tiny", "efficientnet_v2_s", "shufflenet_v2_x1_0", "resnet50", "vgg16",
            "alexnet", "squeezenet", "squeezenet1_0", "densenet121", "regnet_y_400mf",
            "inception_v3", "googlenet"} <= set(refused)
    assert {"mobilenet", "mobilenet_v3_large", "efficientnet_b0", "shufflenet",
            "mnasnet1_0", "fd_mobilenet"}.isdisjoint(refused)


def test_the_hand_counts_are_the_spec_at_alpha_1():
    """The two written-out counts are right at alpha 1 too (against the published ones)."""
    assert round(mobilenet_v1_mult_adds(1.0) / 1e6) == 569          # MobileNet paper, Table 1


@pytest.mark.parametrize("where, call", [
    ("report", lambda: analyze("convnext_tiny", alpha=0.5)),
    ("sweep", lambda: __import__("costcalc").sweep("shufflenet_v2_x1_0", [1, 0.5])),
    ("compare", lambda: __import__("costcalc").compare(["efficientnet_v2_s",
                                                        "efficientnet_v2_s@alpha=0.5"])),
])
def test_the_library_refuses_alpha_where_the_family_defines_none(where, call):
    with pytest.raises(SpecError) as exc:
        call()
    assert isinstance(exc.value, ValueError)
    assert "defines no width multiplier" in str(exc.value)


@pytest.mark.parametrize("args", [
    ("convnext_small", "--alpha", "0.75"),
    ("compare", "mobilenet", "shufflenet_v2_x1_0@alpha=0.5"),
    ("sweep", "efficientnet_v2_m", "--alpha", "1,0.5"),
])
def test_the_commands_refuse_alpha_where_the_family_defines_none(run_cli, args):
    result = run_cli(*args)
    assert result.code == 2 and result.out == ""
    line, = result.err.strip().splitlines()
    assert "error: alpha" in line and "defines no width multiplier" in line
    assert any(a.split("@")[0] in line for a in args if "_" in a)


def test_alpha_1_is_still_accepted_everywhere():
    assert analyze("convnext_tiny", alpha=1)["totals"]["mult_adds"] > 0


def test_a_spec_whose_layers_all_keep_their_width_refuses_alpha():
    spec = """
name: fixed
input: [3, 8, 8]
layers:
  - {type: conv, k: 3, out: 16, scale: false}
  - {type: fc, out: 10}
"""
    with pytest.raises(SpecError) as exc:
        analyze(spec, alpha=0.5)
    assert "applies to no layer of fixed" in str(exc.value)
    assert analyze(spec)["totals"]["params"] == 3 * 9 * 16 + 16 * 64 * 10 + 10
    # an expression that reads alpha is a use of it
    used = spec.replace("out: 10}", "out: \"${int(10 * alpha)}\", scale: false}")
    assert analyze(used, alpha=0.5)["layers"][1]["output"][0] == 5


def test_width_rule_none_is_refused_with_settings_and_printed():
    with pytest.raises(SpecError) as exc:
        analyze("name: x\ninput: [3, 4, 4]\nwidth: {rule: none, min: 8}\n"
                "layers: [{type: conv, k: 1, out: 2}]")
    assert exc.value.line == 3 and "takes no min" in str(exc.value)
    report = analyze("convnext_tiny")
    assert report["width_rule"].startswith("none")


def test_the_width_multiplier_key_multiplies_alpha():
    spec = ("name: x\ninput: [3, 4, 4]\nparams: {m: 1.5}\n"
            "width: {rule: make_divisible, divisor: 8, multiplier: $m}\n"
            "layers: [{type: conv, k: 1, out: 32}, {type: pointwise, out: \"${ch(40)}\", scale: false}]")
    layers = analyze(spec)["layers"]
    assert [r["output"][0] for r in layers] == [make_divisible(32 * 1.5), make_divisible(40 * 1.5)]
    layers = analyze(spec, alpha=0.5)["layers"]
    assert [r["output"][0] for r in layers] == [make_divisible(32 * 0.75), make_divisible(40 * 0.75)]
    assert analyze(spec)["width_rule"] == "make_divisible(c * 1.5 * alpha, 8)"
    with pytest.raises(SpecError) as exc:
        analyze(spec.replace("$m", "'wide'"))
    assert "width multiplier must be a number" in str(exc.value)


# ---------------------------------------------------------------- against torchvision

def torchvision_model(name, alpha):
    """torchvision's model for a shipped name at ``alpha`` times its own width."""
    models = pytest.importorskip("torchvision").models
    if name.startswith("mobilenet_v3_") or name == "mobilenet_v2":
        return getattr(models, name)(weights=None, width_mult=alpha)
    if name.startswith("efficientnet_b"):
        from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
        width, depth, dropout = EFFICIENTNET[name[-2:]]
        setting, last = _efficientnet_conf(name, width_mult=width * alpha, depth_mult=depth)
        return EfficientNet(setting, dropout, last_channel=last)
    return models.MNASNet(MNASNET[name] * alpha)


def torch_counts(model, side):
    """(learned parameters, FlopCounterMode FLOPs / 2) on the meta device."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    params = sum(p.numel() for p in model.parameters())
    model = model.to("meta").eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros((1, 3, side, side), device="meta"))
    return params, counter.get_total_flops() // 2


TORCHVISION = (["mobilenet_v3_large", "mobilenet_v3_small", "mobilenet_v2", "mnasnet0_5",
                "mnasnet1_3"] + [f"efficientnet_b{i}" for i in range(8)])


@pytest.mark.parametrize("name", TORCHVISION)
@pytest.mark.parametrize("alpha", [0.5, 0.75, 1.25])
def test_alpha_is_torchvisions_width_mult(name, alpha):
    pytest.importorskip("torch")
    report = analyze(name, alpha=alpha, resolution=224)
    t = report["totals"]
    assert (t["params"] + t["bn_params"], t["mult_adds"]) == torch_counts(
        torchvision_model(name, alpha), 224)


def test_the_width_rule_printed_is_torchvisions():
    assert analyze("mobilenet_v3_large")["width_rule"] == "make_divisible(c * alpha, 8)"
    assert analyze("efficientnet_b3")["width_rule"] == "make_divisible(c * 1.2 * alpha, 8)"
    assert math.isclose(1.2 * 0.5, 0.6)


# ---------------------------------------------------------------- round: printed as it rounds

def test_expression_round_rounds_halves_to_even_as_documented():
    spec = "name: r\ninput: [3, 4, 4]\nlayers: [{type: conv, k: 1, out: \"${%s}\"}]"
    outs = [analyze(spec % e)["layers"][0]["output"][0]
            for e in ("round(2.5)", "round(3.5)", "round(4.5)", "floor(2.5 + 0.5)")]
    assert outs == [2, 4, 4, 3]


def test_the_width_rule_round_rounds_halves_up_and_prints_what_it_does():
    """The printed rule, evaluated by the expression language, gives every layer's width:
    'max(round(c * alpha), 1)' was printed while 2.5 channels became 3 (round gives 2)."""
    from costcalc.core.expr import evaluate
    layers = "".join(f"  - {{type: conv, k: 1, out: {c}}}\n" for c in range(1, 40))
    spec = f"name: r\ninput: [3, 2, 2]\nwidth: {{rule: round, min: 1}}\nlayers:\n{layers}"
    report = analyze(spec, alpha=0.5)
    rule = report["width_rule"]
    assert rule == "max(floor(c * alpha + 0.5), 1)"
    for c, row in zip(range(1, 40), report["layers"]):
        assert row["output"][0] == evaluate(rule, {"c": c, "alpha": 0.5}) == max(int(c / 2 + 0.5), 1)
    assert report["layers"][4]["output"][0] == 3    # 5 x 0.5 = 2.5: up, not to even


def test_shufflenet_keeps_its_half_up_rule():
    assert analyze("shufflenet")["width_rule"] == "max(floor(c * alpha + 0.5), 1)"


# ---------------------------------------------------------------- the paper's Table 9 rule

# The paper's reference code (tensorflow/models, research/slim/nets/mobilenet/mobilenet_v3.py),
# V3_LARGE and V3_SMALL: (expansion factor of the block's input, out, kernel, stride, SE, act)
SLIM = {"large": [(1, 16, 3, 1, 0, "RE"), (4, 24, 3, 2, 0, "RE"), (3, 24, 3, 1, 0, "RE"),
                  (3, 40, 5, 2, 1, "RE"), (3, 40, 5, 1, 1, "RE"), (3, 40, 5, 1, 1, "RE"),
                  (6, 80, 3, 2, 0, "HS"), (2.5, 80, 3, 1, 0, "HS"), (184 / 80., 80, 3, 1, 0, "HS"),
                  (184 / 80., 80, 3, 1, 0, "HS"), (6, 112, 3, 1, 1, "HS"), (6, 112, 3, 1, 1, "HS"),
                  (6, 160, 5, 2, 1, "HS"), (6, 160, 5, 1, 1, "HS"), (6, 160, 5, 1, 1, "HS")],
        "small": [(1, 16, 3, 2, 1, "RE"), (72 / 16., 24, 3, 2, 0, "RE"), (88 / 24., 24, 3, 1, 0, "RE"),
                  (4, 40, 5, 2, 1, "HS"), (6, 40, 5, 1, 1, "HS"), (6, 40, 5, 1, 1, "HS"),
                  (3, 48, 5, 1, 1, "HS"), (3, 48, 5, 1, 1, "HS"), (6, 96, 5, 2, 1, "HS"),
                  (6, 96, 5, 1, 1, "HS"), (6, 96, 5, 1, 1, "HS")]}


def slim_model(size, alpha):
    """The reference code's network at depth_multiplier ``alpha`` (every num_outputs
    make_divisible(n * alpha, 8), each expansion make_divisible(thinned input * ef, 8), the
    1280 / 1024 classifier layer kept below 1), built from torchvision's own blocks."""
    from torchvision.models.mobilenetv3 import InvertedResidualConfig, MobileNetV3
    rows, c = [], make_divisible(16 * alpha)
    for ef, n, k, s, se, act in SLIM[size]:
        out = make_divisible(n * alpha)
        rows.append(InvertedResidualConfig(c, k, make_divisible(c * ef), out, bool(se), act, s, 1, 1.0))
        c = out
    last = {"large": 1280, "small": 1024}[size]
    return MobileNetV3(rows, last if alpha < 1 else make_divisible(last * alpha))


@pytest.mark.parametrize("size, alpha", [("large", 1.25), ("large", 0.75), ("large", 0.5),
                                         ("large", 0.35), ("small", 1.25), ("small", 0.75),
                                         ("small", 0.5)])
def test_thinning_slim_is_the_reference_codes_network(size, alpha):
    pytest.importorskip("torch")
    t = analyze(f"mobilenet_v3_{size}", alpha=alpha, overrides={"thinning": "slim"})["totals"]
    assert (t["params"] + t["bn_params"], t["mult_adds"]) == torch_counts(
        slim_model(size, alpha), 224)


def test_thinning_slim_last_conv_is_the_reference_codes():
    """The one place torchvision's blocks cannot follow the reference code: its last conv
    is make_divisible(576 * alpha, 8) (200 at 0.35), not 6 x the last block (6 x 32 = 192)."""
    layers = analyze("mobilenet_v3_small", alpha=0.35, overrides={"thinning": "slim"})["layers"]
    by_name = {r["name"]: r for r in layers}
    assert by_name["block11/project"]["output"][0] == make_divisible(96 * 0.35) == 32
    assert by_name["conv_last"]["output"][0] == make_divisible(576 * 0.35) == 200
    assert by_name["fc1"]["output"][0] == 1024   # kept below 1


def test_table9_is_in_the_spec_every_number_once():
    """Each of Table 9's 40 numbers (../shared/reference) is one expectation of
    specs/mobilenet_v3.yaml at its settings with its printed value, no tolerance widened;
    a differing one carries expected and why."""
    import pathlib
    import yaml
    from costcalc.lang import shipped
    path = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "reference"
            / "mobilenet_v3_table9.yaml")
    if not path.exists():
        pytest.skip(f"{path} is not here")
    numbers = yaml.safe_load(path.read_text())["numbers"]
    entries = [e for e in shipped.load("mobilenet_v3").expect if "Table 9" in e["source"]]
    assert len(entries) == len(numbers) == 40
    for n in numbers:
        c = n["config"]
        metric = {"mult_adds": "mult_adds", "params": "learned_params"}[n["metric"]]
        found = [e for e in entries if e["variant"] == f"mobilenet_v3_{c['size']}"
                 and e["alpha"] == c["width"] and e["resolution"] == c["resolution"]
                 and e["metric"] == metric]
        assert len(found) == 1, n
        e, = found
        assert e["printed"] == n["value"] + "M" and "tolerance" not in e
        assert ("expected" in e) == ("why" in e)
        assert e.get("set", {}).get("thinning", "torchvision") == (
            "torchvision" if c["width"] == 1 else "slim")


# torchvision 0.29.1 mobilenet_v3_large(width_mult=w), FlopCounterMode FLOPs / 2 at 224, measured
TV_V3_LARGE_MULT_ADDS = {1.0: 216_589_760, 0.75: 140_033_816, 0.5: 64_962_192}


def test_sweep_and_compare_of_mobilenet_v3_follow_alpha(run_cli):
    """Issue 15: the sweep printed three identical rows, compare a ratio of 1.000x."""
    result = run_cli("sweep", "mobilenet_v3_large", "--alpha", "1,0.75,0.5", "--format", "json")
    assert result.code == 0, result.err
    points = json.loads(result.out)["points"]
    assert {p["alpha"]: p["mult_adds"] for p in points} == TV_V3_LARGE_MULT_ADDS
    result = run_cli("compare", "mobilenet_v3_large", "mobilenet_v3_large@alpha=0.5")
    assert result.code == 0, result.err
    ratio = TV_V3_LARGE_MULT_ADDS[0.5] / TV_V3_LARGE_MULT_ADDS[1.0]
    assert f"{ratio:.3f}x" in result.out and "1.000x" in result.out
