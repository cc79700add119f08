"""ShuffleNet (v1) against Table 1 of its paper, every layer recomputed here from the formulas.

Table 1 (arXiv:1707.01083v2): conv1 3x3/2 with 24 channels (112x112), max pool 3x3/2
(56x56), stages 2-4 of 1 stride-2 unit + 3, 7, 3 stride-1 units (28, 14, 7), global
pool, FC 1000. Bottleneck m = out / 4. Stride-1 unit: 1x1 GConv(g) c->m, shuffle,
3x3 DW, 1x1 GConv(g) m->c, add. Stride-2 unit: 1x1 GConv c_in->m (not grouped in
stage 2), shuffle, 3x3 DW stride 2, 1x1 GConv(g) m->(out - c_in), concat with a 3x3/2
average pool of the input.
"""
import json
import math

import pytest

from costcalc import analyze

# Table 1, "Output channels" per g: stages 2, 3, 4
TABLE1 = {1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960), 4: (272, 544, 1088),
          8: (384, 768, 1536)}
COMPLEXITY = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}   # Table 1, "Complexity" (MFLOPs)
STRIDE1_UNITS = (3, 7, 3)                                # Table 1, "Repeat" minus the first
# conv1 channels of the official code (megvii-model/ShuffleNet-Series, ShuffleNetV1/
# network.py): 0.5x 12 (16 for g = 8, so that 16 and 192 - 16 divide by 8), 1x 24,
# 1.5x 24, 2x 48; 0.25x (not in that code) 12, the only width that gives the paper's 13M.
STEM = {0.25: 12, 0.5: 12, 1.0: 24, 1.5: 24, 2.0: 48}


def stem(s, g):
    return 16 if (s, g) == (0.5, 8) else STEM[s]


def width(c, s, g):
    """Stage width at scale s: the nearest whole multiple of 4g (halves up), so that the
    bottleneck c/4 splits into g groups."""
    return c if s == 1 else 4 * g * max(1, math.floor(c * s / (4 * g) + 0.5))


def expected(g, s=1.0, classes=1000):
    """(layers, units): layers = (name, output shape, mult-adds, params) of every conv and
    fc layer in order; units = {layer name: output shape} of each unit's output (its
    last ReLU) and of each stride-2 unit's pooled shortcut."""
    c = stem(s, g)
    side = 112
    layers = [("conv1", (c, side, side), 3 * 3 * 3 * c * side * side, 3 * 3 * 3 * c)]
    side //= 2                                              # max pool 3x3/2: 56
    units = {}
    for k, (c1x, repeat) in enumerate(zip(TABLE1[g], STRIDE1_UNITS), 2):
        out = width(c1x, s, g)
        m = out // 4
        assert m % g == 0 and (out - c) % g == 0           # the widths are valid
        g1 = 1 if k == 2 else g                             # stage 2: first 1x1 ungrouped
        half = side // 2
        name = f"stage{k}/unit1"
        layers += [
            (f"{name}/gconv1", (m, side, side), c // g1 * m * side * side, c // g1 * m),
            (f"{name}/dw", (m, half, half), 9 * m * half * half, 9 * m),
            (f"{name}/gconv2", (out - c, half, half), m // g * (out - c) * half * half,
             m // g * (out - c)),
        ]
        units[f"{name}/shortcut"] = (c, half, half)           # 3x3/2 average pool
        side, c = half, out
        units[f"{name}/relu"] = (out, side, side)             # concat: c_in + (out - c_in)
        for j in range(2, repeat + 2):
            name = f"stage{k}/unit{j}"
            layers += [
                (f"{name}/gconv1", (m, side, side), c // g * m * side * side, c // g * m),
                (f"{name}/dw", (m, side, side), 9 * m * side * side, 9 * m),
                (f"{name}/gconv2", (c, side, side), m // g * c * side * side, m // g * c),
            ]
            units[f"{name}/relu"] = (c, side, side)
    layers.append(("fc", (classes, 1, 1), c * classes, c * classes))   # no bias
    return layers, units


def conv_rows(report):
    return [(r["name"], tuple(r["output"]), r["mult_adds"], r["params"])
            for r in report["layers"] if r["type"] in ("conv", "pointwise", "depthwise", "fc")]


CASES = [(g, 1.0) for g in TABLE1] + [(3, 0.25), (1, 0.5), (2, 0.5), (3, 0.5), (4, 0.5),
                                      (8, 0.5), (3, 1.5), (8, 1.5), (3, 2.0), (8, 2.0)]


@pytest.mark.parametrize("g, s", CASES)
def test_every_layer_and_unit_matches_table1(g, s):
    report = analyze("shufflenet", alpha=s, overrides={"groups": g})
    layers, units = expected(g, s)
    assert conv_rows(report) == layers
    shapes = {r["name"]: tuple(r["output"]) for r in report["layers"]}
    assert len(units) == 16 + 3
    for name, shape in units.items():
        assert shapes[name] == shape, name
    assert report["totals"]["mult_adds"] == sum(row[2] for row in layers)
    assert report["totals"]["params"] == sum(row[3] for row in layers)


def test_table1_channels_at_1x_are_the_printed_ones():
    for g, channels in TABLE1.items():
        shapes = {r["name"]: r["output"] for r in analyze(
            "shufflenet", overrides={"groups": g})["layers"]}
        assert shapes["conv1"] == [24, 112, 112]                       # Conv1 row
        assert shapes["maxpool"] == [24, 56, 56]                       # MaxPool row
        assert [shapes[f"stage{k}/unit1/relu"] for k in (2, 3, 4)] == [
            [channels[0], 28, 28], [channels[1], 14, 14], [channels[2], 7, 7]]
        assert shapes["pool"] == [channels[2], 1, 1]                   # GlobalPool 7x7
        assert shapes["fc"] == [1000, 1, 1]


def test_scaled_widths_round_to_whole_multiples_of_4g():
    # 0.5x: g = 2 has 100 -> 104 (13 x 8), g = 4 has 136 -> 144 (9 x 16); exact elsewhere
    for g, c2 in [(1, 72), (2, 104), (3, 120), (4, 144), (8, 192)]:
        report = analyze("shufflenet", overrides={"groups": g}, alpha=0.5)
        shapes = {r["name"]: r["output"] for r in report["layers"]}
        assert shapes["stage2/unit2/relu"][0] == c2
        assert c2 % (4 * g) == 0


@pytest.mark.parametrize("g", sorted(TABLE1))
def test_stride1_unit_equals_the_papers_formula(g):
    """Sec 3.2: a ShuffleNet unit costs hw(2cm/g + 9m) with c the unit's channels and m
    its bottleneck: the two 1x1 group convs c->m and m->c are hw * cm/g each, and the
    3x3 depthwise is counted as 9m per output pixel (9 weights on each of the m
    bottleneck channels: D_k^2 * m * hw), so the formula holds for stride 1 only."""
    c = TABLE1[g][1]
    m = c // 4
    h = w = 14
    unit = [r for r in analyze("shufflenet", overrides={"groups": g})["layers"]
            if r["name"].startswith("stage3/unit2/")]
    assert sum(r["mult_adds"] for r in unit) == h * w * (2 * c * m // g + 9 * m)
    assert [r["name"].split("/")[-1] for r in unit if r["mult_adds"]] == [
        "gconv1", "dw", "gconv2"]


def test_table1_complexity_counts_conv1_to_stage4_without_the_fc():
    for g, printed in COMPLEXITY.items():
        full = analyze("shufflenet", overrides={"groups": g})["totals"]["mult_adds"]
        body = analyze("shufflenet", overrides={"groups": g, "include_top": False})
        body = body["totals"]["mult_adds"]
        assert full - body == TABLE1[g][2] * 1000                      # the FC, 1000 x c4
        assert abs(body - printed * 10**6) <= 0.5 * 10**6, g           # all five round
    # with the FC, g = 2, 4 and 8 would round to 141, 134 and 138
    misses = [g for g, printed in COMPLEXITY.items()
              if round(analyze("shufflenet", overrides={"groups": g})["totals"]["mult_adds"]
                       / 1e6) != printed]
    assert misses == [2, 4, 8]


def test_include_top_false_drops_pool_and_fc_only():
    full = analyze("shufflenet")
    body = analyze("shufflenet", overrides={"include_top": False})
    names = [r["name"] for r in full["layers"]]
    assert names[-2:] == ["pool", "fc"]
    assert [r["name"] for r in body["layers"]] == names[:-2]


@pytest.mark.parametrize("g", sorted(TABLE1))
def test_shuffles_follow_every_grouped_first_1x1_and_only_those(g):
    rows = analyze("shufflenet", overrides={"groups": g})["layers"]
    shuffles = [r["name"] for r in rows if r["type"] == "shuffle"]
    units = [r["name"].rsplit("/", 1)[0] for r in rows if r["name"].endswith("/gconv1")]
    assert len(units) == 16                                           # 4 + 8 + 4
    # stage 2's first 1x1 is dense (Sec 3.3), and with g = 1 nothing is grouped
    assert shuffles == ([] if g == 1 else [f"{u}/shuffle" for u in units[1:]])
    first = {r["name"]: r for r in rows}["stage2/unit1/gconv1"]
    assert first["category"] == "conv 1x1" and first["params"] == 24 * first["output"][0]


def test_stages_are_named_and_sum_to_the_totals():
    report = analyze("shufflenet", overrides={"groups": 8}, alpha=0.5)
    stages = report["by_stage"]
    assert [s["stage"] for s in stages] == ["conv1", "stage2", "stage3", "stage4", "classifier"]
    for key in ("mult_adds", "params", "bn_params", "other_ops"):
        assert sum(s[key] for s in stages) == report["totals"][key]
    assert stages[-1]["mult_adds"] == 768 * 1000                     # FC on 0.5x g = 8


def test_scaled_networks_of_tables_5_and_8():
    def total(s, g=3, **sets):
        return analyze("shufflenet", alpha=s, overrides=dict(groups=g, **sets))["totals"]
    assert round(total(2.0)["mult_adds"] / 1e6) == 524                # 2x, conv1 48
    assert round(total(2.0, stem=24)["mult_adds"] / 1e6) == 508       # conv1 not scaled
    assert round(total(1.5)["mult_adds"] / 1e6) == 292                # 1.5x, conv1 24
    assert round(total(1.5, stem=36)["mult_adds"] / 1e6) == 300       # conv1 scaled
    assert round(total(0.5, g=4)["mult_adds"] / 1e6) == 38
    assert round(total(0.25)["mult_adds"] / 1e6) == 13
    assert round(total(0.25, stem=6)["mult_adds"] / 1e6) == 11        # conv1 24 x 0.25
    assert round(total(1.5)["params"] / 1e5) == 34                    # MobileNetV2 Table 4
    assert round(total(2.0)["params"] / 1e5) == 54


def test_set_groups_8_on_the_command_line(run_cli):
    result = run_cli("shufflenet", "--set", "groups=8", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["params"]["groups"] == 8
    rows = {r["name"]: r for r in report["layers"]}
    assert rows["stage4/unit4/relu"]["output"] == [1536, 7, 7]
    assert report["totals"]["mult_adds"] == sum(row[2] for row in expected(8)[0])


def test_groups_outside_table1_are_rejected_by_choices(run_cli):
    result = run_cli("shufflenet", "--set", "groups=5")
    assert result.code == 2
    # the option's error, not a line of the installed spec (docs/commands.md)
    assert result.err == "costcalc: error: --set groups=5: 5 is not one of 1, 2, 3, 4, 8\n"


def test_a_group_conv_that_does_not_divide_is_placed_with_both_shapes(run_cli, tmp_path):
    spec = tmp_path / "bad_unit.yaml"
    spec.write_text(
        "name: bad unit\n"
        "input: [3, 224, 224]\n"
        "layers:\n"
        "  - {name: conv1, type: conv, k: 3, stride: 2, out: 24}\n"
        "  - {name: pool, type: maxpool, k: 3, stride: 2}\n"
        "  - {name: gconv1, type: pointwise, out: 50, groups: 3}\n")  # 50 % 3 != 0
    result = run_cli(spec)
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(f"{spec}:6:5: error: gconv1 (pointwise): groups=3 "), result.err
    assert "24x56x56" in result.err and "(50)" in result.err
    assert "Traceback" not in result.err
