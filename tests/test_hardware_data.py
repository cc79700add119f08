"""The roofline's data stay sound: the shipped hardware profiles (costcalc/analysis/hardware.yaml) have
positive finite peaks whose arithmetic matches their notes and at least one source each, and
every published latency (tests/data/published_latencies.yaml) names a shipped spec at
settings that cost what the source says it costs."""
import math
import pathlib

import pytest
import yaml

import costcalc
from costcalc.lang import shipped

ROOT = pathlib.Path(__file__).resolve().parent.parent
HARDWARE = ROOT / "costcalc" / "analysis" / "hardware.yaml"
LATENCIES = ROOT / "tests" / "data" / "published_latencies.yaml"

PROFILES = yaml.safe_load(HARDWARE.read_text())
LATENCY_ENTRIES = yaml.safe_load(LATENCIES.read_text())


def _number(value):
    """A real number, not a bool and not a string (PyYAML reads 8.6e9 as the string '8.6e9';
    YAML 1.1 floats need the dot and the sign: 8.6e+9)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def test_the_profiles_the_issue_asks_for_are_there():
    assert isinstance(PROFILES, dict) and len(PROFILES) >= 3
    assert "phone" in PROFILES  # a phone CPU of MobileNet's era
    assert "gpu" in PROFILES  # a desktop GPU
    assert {"jetson_nano", "edgetpu"} & set(PROFILES)  # an embedded accelerator


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_is_complete(name):
    profile = PROFILES[name]
    assert isinstance(profile.get("name"), str) and profile["name"].strip()
    for key in ("mult_adds_per_second", "bytes_per_second"):
        value = profile[key]
        assert _number(value), f"{name}.{key} = {value!r} is not a number"
        assert math.isfinite(value) and 10**6 <= value <= 10**18, f"{name}.{key} = {value!r}"
    precision = profile["precision"]
    for key in ("activation_bits", "weight_bits"):
        assert precision[key] in (4, 8, 16, 32), f"{name}.precision.{key}"
    sources = profile["sources"]
    assert isinstance(sources, list) and sources, f"{name} cites no source"
    assert all(isinstance(s, str) and len(s.strip()) > 20 for s in sources)
    assert isinstance(profile.get("notes"), str) and profile["notes"].strip()


def _close(a, b, rel):
    return abs(a - b) <= rel * abs(b)


def test_phone_figures_follow_from_the_datasheets():
    phone = PROFILES["phone"]
    # one big Kryo core: 2.15 GHz x 4 float32 lanes (128-bit NEON) x 1 FMA per cycle
    assert _close(phone["mult_adds_per_second"], 2.15e9 * 4 * 1, 1e-9)
    # LPDDR4-1866: 1866e6 transfers/s x 2 (double data rate) x 64 bits / 8
    assert _close(phone["bytes_per_second"], 1866e6 * 2 * 64 / 8, 0.002)
    assert phone["precision"] == {"activation_bits": 32, "weight_bits": 32}


def test_jetson_nano_figures_follow_from_the_datasheet():
    nano = PROFILES["jetson_nano"]
    # 128 CUDA cores x 921.6 MHz x 2 fp16 MACs per half2 FMA = 472 GFLOPS / 2
    assert _close(nano["mult_adds_per_second"], 128 * 921.6e6 * 2, 0.001)
    assert _close(nano["mult_adds_per_second"], 472e9 / 2, 0.001)
    # 64-bit LPDDR4 at 3200 MT/s
    assert _close(nano["bytes_per_second"], 3200e6 * 64 / 8, 1e-9)
    assert nano["precision"] == {"activation_bits": 16, "weight_bits": 16}


def test_gpu_figures_follow_from_the_spec_sheet():
    gpu = PROFILES["gpu"]
    # GTX 1080 Ti: 3584 CUDA cores x 1582 MHz boost x 1 FMA = 11.34 TFLOPS / 2
    assert _close(gpu["mult_adds_per_second"], 3584 * 1.582e9, 0.001)
    # 11 Gbps GDDR5X on a 352-bit bus
    assert _close(gpu["bytes_per_second"], 11e9 * 352 / 8, 1e-9)


def test_ridge_points_put_depthwise_and_pointwise_on_either_side():
    """docs/roofline.md's claim, from the figures: MobileNet's separable layer 7 (14x14x512)
    at the profile's precision. Depthwise 3x3: 9*512*14*14 MACs over input + output +
    weights; pointwise 512 -> 512 likewise."""
    dw_macs = 9 * 512 * 14 * 14
    dw_elements = 512 * 14 * 14 + 512 * 14 * 14 + 9 * 512
    pw_macs = 512 * 512 * 14 * 14
    pw_elements = 512 * 14 * 14 + 512 * 14 * 14 + 512 * 512
    assert dw_macs == 903_168 and pw_macs == 51_380_224
    for name in ("jetson_nano", "gpu"):
        profile = PROFILES[name]
        width = profile["precision"]["activation_bits"] // 8
        ridge = profile["mult_adds_per_second"] / profile["bytes_per_second"]
        assert dw_macs / (dw_elements * width) < ridge < pw_macs / (pw_elements * width), name
    # one phone core is so slow that by peak figures even the depthwise layer is compute-bound
    phone = PROFILES["phone"]
    assert dw_macs / (dw_elements * 4) > phone["mult_adds_per_second"] / phone["bytes_per_second"]


ENTRY_KEYS = {"model", "settings", "device", "platform", "precision", "ms", "source"}


def _entry_id(entry):
    s = entry["settings"]
    return f"{entry['model']}@{s['alpha']}-{s['resolution']}-{entry['ms']}"


def test_latency_file_is_a_list_of_entries():
    assert isinstance(LATENCY_ENTRIES, list) and len(LATENCY_ENTRIES) >= 10
    for entry in LATENCY_ENTRIES:
        missing = ENTRY_KEYS - set(entry)
        assert not missing, f"{entry.get('model')}: missing {sorted(missing)}"


@pytest.mark.parametrize("entry", LATENCY_ENTRIES, ids=_entry_id)
def test_published_latency_names_a_shipped_spec_at_its_settings(entry):
    shipped.resolve(entry["model"])  # raises SpecError for a name costcalc does not ship
    assert entry["device"] in PROFILES
    assert _number(entry["ms"]) and math.isfinite(entry["ms"]) and entry["ms"] > 0
    assert isinstance(entry["source"], str) and entry["source"].strip()
    settings = entry["settings"]
    report = costcalc.analyze(entry["model"], alpha=settings["alpha"],
                              resolution=settings["resolution"],
                              overrides=settings.get("set") or None)
    assert report["input"][1:] == [settings["resolution"], settings["resolution"]]
    published = entry.get("published_mult_adds_m")
    if published is not None:
        # the source prints whole (or one-decimal) millions: within 5%, or within the
        # printed figure's rounding
        computed = report["totals"]["mult_adds"] / 1e6
        assert abs(computed - published) <= max(0.05 * published, 1.0), (
            f"costcalc counts {computed:.1f}M, the source {published}M: wrong settings?")
