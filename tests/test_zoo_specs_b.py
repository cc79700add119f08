"""Zoo specs googlenet, inception_v3, mnasnet and regnet: what the layer-by-layer
comparison with torchvision (test_zoo_torch.py) does not say by itself.

- RegNet's stage tables (depths, quantized widths) are BlockParams.from_init_params's
  output, and the spec's group-width fit gives torchvision's final widths and groups:
  checked with a transcription of that function in plain Python (always) and with
  torchvision's own function (when torchvision is installed).
- The names a spec file shares with its variant (googlenet, inception_v3) mean the
  same network; --alpha on MNASNet is torchvision's alpha.
- Inception v3's auxiliary classifier (--set aux_logits=true) is a side branch with the
  parameters torchvision's num_params counts beyond the eval-mode network.
"""
import json
import math
import pathlib
import re

import pytest

from costcalc import analyze
from costcalc.lang.shipped import load

# torchvision 0.29 regnet.py: BlockParams.from_init_params(depth, w_0, w_a, w_m,
# group_width) of each model (bottleneck multiplier 1.0 throughout).
REGNET_INIT = {
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16),
    "regnet_x_800mf": (16, 56, 35.73, 2.28, 16),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24),
    "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120),
    "regnet_x_16gf": (22, 216, 55.59, 2.1, 128),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168),
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8),
    "regnet_y_800mf": (14, 56, 38.84, 2.4, 16),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24),
    "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56),
    "regnet_y_16gf": (18, 200, 106.23, 2.48, 112),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232),
    "regnet_y_128gf": (27, 456, 160.83, 2.52, 264),
}


def _make_divisible(v, divisor):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def block_params(depth, w_0, w_a, w_m, group_width):
    """torchvision's BlockParams.from_init_params (multiplier 1.0), in plain Python:
    (depths, widths before the group fit, widths, group widths) per stage."""
    capacity = [round(math.log((j * w_a + w_0) / w_0) / math.log(w_m)) for j in range(depth)]
    block_widths = [int(round(w_0 * w_m ** c / 8) * 8) for c in capacity]
    quantized, depths = [], []
    for w in block_widths:
        if quantized and quantized[-1] == w:
            depths[-1] += 1
        else:
            quantized.append(w)
            depths.append(1)
    groups = [min(group_width, w) for w in quantized]
    widths = [_make_divisible(w, g) for w, g in zip(quantized, groups)]
    return depths, quantized, widths, groups


def spec_stages(name):
    """(params, per-stage [(blocks, width, groups of the 3x3 conv)]) as costcalc builds
    the variant: stage s has layers block{s}/block{s}-{j}/b (the 3x3 group conv)."""
    report = analyze(name)
    stages = {}
    for layer in report["layers"]:
        match = re.fullmatch(r"block(\d)/block\d-\d+/b", layer["name"])
        if match:
            width = layer["output"][0]
            groups = 9 * width * width // layer["params"]  # 3*3*(w/g)*w weights
            stages.setdefault(int(match.group(1)), []).append((width, groups))
    return report["params"], [(len(v), v[0][0], v[0][1]) for _, v in sorted(stages.items())]


def test_every_torchvision_regnet_is_a_variant():
    assert sorted(load("regnet").variants) == sorted(REGNET_INIT)


@pytest.mark.parametrize("name", sorted(REGNET_INIT))
def test_regnet_stage_tables_are_from_init_params(name):
    depths, quantized, widths, groups = block_params(*REGNET_INIT[name])
    params, stages = spec_stages(name)
    assert params["depths"] == depths
    assert params["quantized"] == quantized
    assert stages == [(d, w, w // g) for d, w, g in zip(depths, widths, groups)]


@pytest.mark.parametrize("name", sorted(REGNET_INIT))
def test_regnet_stages_equal_torchvision_block_params(name, monkeypatch):
    regnet = pytest.importorskip("torchvision.models.regnet")
    captured = []
    # the model function hands its BlockParams to _regnet: keep it, build nothing
    monkeypatch.setattr(regnet, "_regnet", lambda params, *a, **k: captured.append(params))
    getattr(regnet, name)()
    bp = captured[0]
    _, stages = spec_stages(name)
    assert bp.bottleneck_multipliers == [1.0] * 4
    assert stages == [(d, w, w // g) for d, w, g in zip(bp.depths, bp.widths,
                                                       bp.group_widths)]
    assert block_params(*REGNET_INIT[name])[0] == bp.depths


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_file_and_variant_of_the_same_name_agree(name):
    spec = load(name)
    variant = analyze(name)  # the file's defaults: `costcalc NAME`
    from costcalc.build.graph import Settings, build
    from costcalc.analysis.report import make_report
    named = make_report(build(spec.with_variant(name), Settings()), name)
    assert variant["totals"] == named["totals"]
    assert variant["input"] == named["input"]


def test_mnasnet_alpha_is_torchvisions_alpha():
    for alpha, name in ((0.5, "mnasnet0_5"), (0.75, "mnasnet0_75"), (1.3, "mnasnet1_3")):
        assert analyze("mnasnet", alpha=alpha)["totals"] == analyze(name)["totals"]


def test_inception_aux_classifier_is_a_side_branch_with_the_missing_parameters():
    eval_mode = analyze("inception_v3")
    training = analyze("inception_v3", overrides={"aux_logits": True})
    aux = [layer for layer in training["layers"] if layer["name"].startswith("AuxLogits/")]
    assert [layer["output"] for layer in aux if layer["type"] in ("conv", "fc")] == [
        [128, 5, 5], [768, 1, 1], [1000, 1, 1]]
    added = (training["totals"]["params"] + training["totals"]["bn_params"]
             - eval_mode["totals"]["params"] - eval_mode["totals"]["bn_params"])
    # conv0 1x1 768->128 and its batch norm; conv1 5x5 128->768 and its batch norm; fc
    assert added == (768 * 128 + 2 * 128) + (5 * 5 * 128 * 768 + 2 * 768) + (768 * 1000 + 1000)
    # torchvision's weights metadata counts the model with its aux classifier
    meta = json.loads((pathlib.Path(__file__).parent / "data" / "torchvision_meta.json")
                      .read_text())["models"]["inception_v3"]
    assert eval_mode["totals"]["params"] + eval_mode["totals"]["bn_params"] + added == \
        meta["num_params"]
    # nothing downstream changes: the main path's layers are the same
    main = [layer for layer in training["layers"] if not layer["name"].startswith("AuxLogits/")]
    assert [(l["name"], l["mult_adds"]) for l in main] == [
        (l["name"], l["mult_adds"]) for l in eval_mode["layers"]]
