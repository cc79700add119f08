"""Family specs with named variants, the top-level padding convention, a templated
spec name, and the learned_params metric (issue 8's groundwork)."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.analysis.check import run as check_run
from costcalc.core.errors import SpecError
from costcalc.lang.spec import load_spec

FAMILY = """
    name: "Net-${depth}"
    input: [3, 32, 32]
    padding: explicit
    params: {depth: {default: 1, choices: [1, 2, 3]}, classes: 10}
    variants:
      net1: {set: {depth: 1}, doc: one conv}
      net3_64: {set: {depth: 3}, resolution: 64}
    layers:
      - {repeat: $depth, layers: [{type: conv, k: 3, out: 8, padding: 1}]}
      - {type: maxpool, k: 2}
      - {type: global_avgpool}
      - {type: fc, out: $classes}
    expect:
      - {metric: mult_adds, variant: net3_64, printed: "5,603,408", source: hand}
      - {metric: learned_params, variant: net1, printed: "306", source: hand}
"""


def write(tmp_path, text, name="family.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_variant_sets_parameters_and_resolution(tmp_path):
    spec = load_spec(write(tmp_path, FAMILY)).with_variant("net3_64")
    assert spec.input == (3, 64, 64)
    report = analyze(spec.path, overrides={"depth": 3}, resolution=64)
    # 3x3 convs with padding 1 keep 64x64: 27*8*64*64 + 2 * 72*8*64*64, then fc 8*10
    assert report["totals"]["mult_adds"] == 27 * 8 * 4096 + 2 * 72 * 8 * 4096 + 80
    assert report["name"] == "Net-3"


def test_check_uses_the_variant_settings(tmp_path):
    spec = load_spec(write(tmp_path, FAMILY))
    results = check_run(spec, "family.yaml")
    assert [r["passed"] for r in results] == [True, True]
    # depth 1 at 32x32: conv 27*8 weights; fc 8*10 + 10 bias; no batch norm
    assert results[1]["computed"] == 27 * 8 + 80 + 10


def test_explicit_padding_defaults_to_zero_like_pytorch(tmp_path):
    path = write(tmp_path, """
        name: t
        input: [3, 227, 227]
        padding: explicit
        layers:
          - {type: conv, k: 11, out: 64, stride: 4, padding: 2}
          - {type: maxpool, k: 3, stride: 2}
    """)
    rows = analyze(path)["layers"]
    # PyTorch: floor((227 + 4 - 11) / 4) + 1 = 56; MaxPool2d(3, 2): floor((56 - 3) / 2) + 1 = 27
    assert rows[0]["output"] == [64, 56, 56]
    assert rows[1]["output"] == [64, 27, 27]


def test_same_padding_stays_the_default(tmp_path):
    path = write(tmp_path, """
        name: t
        input: [3, 32, 32]
        layers: [{type: maxpool, k: 3, stride: 2}]
    """)
    assert analyze(path)["layers"][0]["output"] == [3, 16, 16]  # ceil(32 / 2)


def test_ceil_mode_under_same_padding_is_refused_at_its_line(tmp_path):
    path = write(tmp_path, """
        name: t
        input: [3, 32, 32]
        layers:
          - {type: maxpool, k: 3, stride: 2, ceil_mode: true}
    """)
    with pytest.raises(SpecError) as info:
        analyze(path)
    assert (info.value.line, info.value.col) == (5, 49)
    assert "ceil_mode has no effect with padding 'same'" in info.value.message


@pytest.mark.parametrize("text, message", [
    ("variants: {v: {set: {nope: 1}}}", "declares no parameter 'nope'"),
    ("variants: {v: {set: {depth: 7}}}", "is not one of 1, 2, 3"),
    ("variants: {v: {resolution: 0}}", "resolution must be a positive integer"),
    ("variants: {v: {size: 1}}", "unknown key 'size' in variant v"),
    ("padding: torch", "invalid padding 'torch'; valid: same, explicit"),
])
def test_bad_variants_and_padding(tmp_path, text, message):
    base = "name: t\ninput: [3, 8, 8]\nparams: {depth: {default: 1, choices: [1, 2, 3]}}\n"
    path = write(tmp_path, base + text + "\nlayers: [{type: relu}]\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert message in info.value.message and info.value.line == 4
