"""MobileNet (v1) against Table 1 of the paper, recomputed independently here."""
import math

import pytest

from costcalc import analyze

# Table 1, one row per depthwise separable block: (stride of the depthwise, output channels)
# with the last depthwise at stride 1 (Table 1's "s2" there is a misprint: its input and
# output are both 7x7).
TABLE1 = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + [
    (2, 1024), (1, 1024)]


def expected_layers(alpha=1.0, side=224):
    """(name, output shape, mult-adds, params) of every conv/fc layer, from the formulas."""
    width = lambda c: c if alpha == 1 else max(int(c * alpha), 8)  # noqa: E731 (TF-slim)
    side = math.ceil(side / 2)
    channels = width(32)
    rows = [("conv1", (channels, side, side), 3 * 3 * 3 * channels * side * side,
             3 * 3 * 3 * channels)]
    for i, (stride, out) in enumerate(TABLE1, 1):
        side = math.ceil(side / stride)
        rows.append((f"separable{i}/dw", (channels, side, side),
                     3 * 3 * channels * side * side, 3 * 3 * channels))   # D_k^2 M D_f^2
        out = width(out)
        rows.append((f"separable{i}/pw", (out, side, side),
                     channels * out * side * side, channels * out))        # M N D_f^2
        channels = out
    rows.append(("fc", (1000, 1, 1), channels * 1000, channels * 1000))
    return rows


@pytest.mark.parametrize("alpha, side", [(1.0, 224), (0.75, 224), (0.5, 160), (0.25, 128),
                                         (1.0, 192)])
def test_every_layer_matches_table1_formulas(alpha, side):
    report = analyze("mobilenet", alpha=alpha, resolution=side)
    computed = [(r["name"], tuple(r["output"]), r["mult_adds"], r["params"])
                for r in report["layers"] if r["mult_adds"]]
    assert computed == expected_layers(alpha, side)


def test_28_layers_counting_depthwise_and_pointwise_apart():
    report = analyze("mobilenet")
    assert sum(1 for r in report["layers"] if r["mult_adds"]) == 28   # paper, Sec 3


def test_totals_are_the_sums_of_the_layers():
    report = analyze("mobilenet", alpha=0.5, rho=0.714)
    for key in ("mult_adds", "params", "bn_params", "other_ops"):
        assert report["totals"][key] == sum(r[key] for r in report["layers"])
    for group in ("by_type", "by_resolution"):
        assert sum(g["mult_adds"] for g in report[group]) == report["totals"]["mult_adds"]
        assert sum(g["params"] for g in report[group]) == report["totals"]["params"]
    assert sum(r["mult_adds_share"] for r in report["layers"]) == pytest.approx(1.0)


def test_rho_rounds_the_input_side():
    assert analyze("mobilenet", rho=0.714)["input"] == [3, 160, 160]      # 159.94
    assert analyze("mobilenet", rho=0.857)["input"] == [3, 192, 192]      # 191.97
    assert analyze("mobilenet", rho=0.571)["input"] == [3, 128, 128]      # 127.90
    assert analyze("mobilenet", resolution=96)["input"] == [3, 96, 96]


def test_cost_falls_by_about_alpha_squared_and_rho_squared():
    full = analyze("mobilenet")["totals"]["mult_adds"]
    half_width = analyze("mobilenet", alpha=0.5)["totals"]["mult_adds"]
    half_side = analyze("mobilenet", resolution=112)["totals"]["mult_adds"]
    # the paper's eq. 7: DK*DK*aM*pDF*pDF + aM*aN*pDF*pDF; alpha also enters linearly
    # through the depthwise and first layers, the FC ignores rho, and at 112 the last
    # stage is ceil(7 / 2) = 4 pixels wide, not 3.5: so "about"
    assert 0.25 < half_width / full < 0.27
    assert 0.25 < half_side / full < 0.27


def test_json_report_has_the_contract_keys():
    report = analyze("mobilenet", alpha=0.5, rho=0.714)
    for key in ("name", "spec", "alpha", "rho", "input", "params", "totals", "layers", "by_type"):
        assert key in report
    assert report["params"] == {"classes": 1000}
    assert isinstance(report["totals"]["mult_adds"], int)
    for row in report["layers"]:
        assert {"name", "type", "output", "mult_adds", "params"} <= set(row)
    for group in report["by_type"]:
        assert {"type", "mult_adds", "params", "mult_adds_share", "params_share"} <= set(group)


def test_classes_parameter_changes_only_the_classifier():
    base = analyze("mobilenet")
    dogs = analyze("mobilenet", overrides={"classes": "120"})   # Stanford Dogs, Table 10
    diff = base["totals"]["params"] - dogs["totals"]["params"]
    assert diff == 1024 * (1000 - 120)
    # Table 10 prints 3.3M params for 1.0 MobileNet-224 on 120 classes
    assert round(dogs["totals"]["params"] / 1e6, 1) == 3.3
