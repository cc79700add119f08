"""The zoo against PyTorch: every zoo variant (a torchvision name) costed by costcalc
equals torchvision's model layer by layer, and its documented numbers are torchvision's.

See tests/zoo_reference.py for how torch is measured; `python tests/zoo_reference.py
NAME` prints the same comparison from the command line.
"""
import json
import re

import pytest

from zoo_reference import (META_JSON, compare, compare_rows, compare_unhooked,
                           costcalc_report, costcalc_report_of, costcalc_rows, measure,
                           torchvision_meta, zoo_variants)

pytest.importorskip("torchvision")

VARIANTS = zoo_variants()


@pytest.fixture(scope="session")
def torch_measure():
    """measure(name, side), each model built and run once per session."""
    cache = {}

    def get(name, side):
        if (name, side) not in cache:
            cache[name, side] = measure(name, side)
        return cache[name, side]

    return get


@pytest.fixture(scope="session")
def report_of():
    """costcalc_report(name), each variant costed once per session."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = costcalc_report(name, VARIANTS)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def meta():
    return json.loads(META_JSON.read_text())["models"]


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_equals_torchvision_layer_by_layer(name, torch_measure, report_of):
    report = report_of(name)
    problems = compare(report, torch_measure(name, report["input"][1]))
    assert not problems, f"{name} ({VARIANTS[name][0]}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_input_is_torchvision_crop_size(name, meta, report_of):
    """The zoo costs each model at the crop size of its DEFAULT weights' transforms
    (and the layer-by-layer comparison runs torch at the same side)."""
    side = meta[name]["crop_size"]
    assert report_of(name)["input"] == [3, side, side]


def _printed_value(text):
    """'4.089G' -> 4.089e9, '25,557,032' -> 25557032."""
    match = re.fullmatch(r"([\d,]+(?:\.\d+)?)([KMGB]?)", str(text))
    assert match, f"unexpected printed number {text!r}"
    scale = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9}[match.group(2)]
    return float(match.group(1).replace(",", "")) * scale


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_documents_torchvision_numbers(name, meta):
    """Each variant's spec carries torchvision's _ops and num_params of its DEFAULT weights
    as printed (an `expected:` beside it may correct them, with a `why:`); `costcalc
    check` (tests/test_documented.py) holds the count against them."""
    import yaml

    path, _ = VARIANTS[name]
    with open(path, encoding="utf-8") as handle:
        expect = yaml.safe_load(handle).get("expect") or []
    mine = [e for e in expect if e.get("variant") == name and "resolution" not in e
            and "set" not in e]
    ops = [_printed_value(e["printed"]) for e in mine if e["metric"] == "mult_adds"]
    params = [_printed_value(e["printed"]) for e in mine if e["metric"] == "learned_params"]
    assert meta[name]["gflops"] * 1e9 in [pytest.approx(v, rel=1e-12) for v in ops], \
        f"{path}: no mult_adds expectation of {name} printing {meta[name]['gflops']}G"
    assert meta[name]["num_params"] in params, \
        f"{path}: no learned_params expectation of {name} printing {meta[name]['num_params']:,}"


def test_meta_json_is_torchvisions():
    """tests/data/torchvision_meta.json is what `tests/zoo_reference.py --dump` writes
    with the installed torchvision."""
    assert json.loads(META_JSON.read_text()) == json.loads(json.dumps(torchvision_meta()))


def test_the_paper_spec_mobilenet_v2_is_in_the_zoo():
    """A paper spec that is a torchvision model as it stands declares it as a variant."""
    assert VARIANTS["mobilenet_v2"][0].endswith("mobilenet_v2.yaml")


# ---------------------------------------------------------------- the comparison bites

def _mutated(tmp_path, family, old, new):
    """A copy of specs/FAMILY with one text replaced (exactly once)."""
    path, _ = next(v for v in VARIANTS.values() if v[0].endswith(family))
    text = open(path, encoding="utf-8").read()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    copy = tmp_path / family
    copy.write_text(text.replace(old, new))
    return str(copy)


def _report(path, name):
    return costcalc_report_of(path, VARIANTS[name][1])


def test_a_wrong_kernel_is_a_mismatch_at_its_layer(tmp_path, torch_measure):
    # The stem's 7x7 conv written as 5x5 with padding 2: the same 112x112 output but
    # 5*5*3*64 = 4,800 weights instead of 9,408, so the first layer differs (and the
    # learned parameters); everything after it still matches.
    path = _mutated(tmp_path, "resnet.yaml", "k: 7, stride: 2, padding: 3",
                    "k: 5, stride: 2, padding: 2")
    report = _report(path, "resnet18")
    problems = compare(report, torch_measure("resnet18", 224))
    assert problems[0].startswith("layer 0: costcalc 'conv1' has mult_adds 60,211,200, "
                                  "params 4,800; torch 'conv1' (Conv2d) has mult_adds "
                                  "118,013,952, params 9,408")
    assert "learned parameters" in problems[1]


def test_a_missing_batch_norm_shows_in_the_totals_only(tmp_path, torch_measure):
    path = _mutated(tmp_path, "resnet.yaml", "- {name: bn1, type: batchnorm, stage: stem}",
                    "")
    report = _report(path, "resnet18")
    problems = compare(report, torch_measure("resnet18", 224))
    assert problems == ["learned parameters: costcalc params 11,679,912 + bn_params 9,472 = "
                        "11,689,384; torch model.parameters() 11,689,512 (difference -128)"]


def test_a_missing_layer_is_reported_by_count():
    ours = [("a", 10, 1), ("b", 20, 2)]
    theirs = [("m.a", "Conv2d", 10, 1), ("m.b", "Conv2d", 20, 2), ("fc", "Linear", 5, 6)]
    assert compare_rows(ours, theirs) == (
        "costcalc has 2 layers with mult-adds or parameters, torch 3 Conv2d/Linear calls; "
        "all 2 in common match, then torch goes on with 'fc'")
    assert compare_rows(ours, theirs[:2]) is None


def test_products_outside_modules_are_reported():
    measured = {"layers": [("conv", "Conv2d", 100, 10)], "params": 10, "all_mult_adds": 150}
    assert compare_unhooked(measured) == (
        "torch computes 150 mult-adds (FLOPs / 2) but its Conv2d/Linear modules "
        "only 100: 50 are outside them")
    assert compare_unhooked(dict(measured, all_mult_adds=100)) is None


def test_meta_device_measures_as_the_cpu(torch_measure):
    """The meta device (shapes only, the fast path) records what a real forward pass on
    the CPU records."""
    assert measure("squeezenet1_1", 224, device="cpu") == torch_measure("squeezenet1_1", 224)


def test_costcalc_rows_skip_free_layers():
    rows = costcalc_rows({"layers": [
        {"name": "conv", "mult_adds": 5, "params": 2},
        {"name": "relu", "mult_adds": 0, "params": 0},
        {"name": "fc", "mult_adds": 3, "params": 4}]})
    assert rows == [("conv", 5, 2), ("fc", 3, 4)]
