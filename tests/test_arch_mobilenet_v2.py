"""MobileNetV2 (specs/mobilenet_v2.yaml) against Table 2 of the paper.

Everything expected here is recomputed from the paper's (t, c, n, s) table and
its formulas, written out below, or is a number printed in the paper (or in the
authors' TF-slim README); none is read off costcalc's own output.
"""
import math

import pytest

from costcalc import analyze
from costcalc.analysis.check import run
from costcalc.lang.shipped import load

# Table 2 of the paper: expansion t, output channels c, repeats n, first stride s
TABLE2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
# Table 2's "Input" column, verbatim: the input of each row (conv2d, the seven
# bottleneck sequences, the 1x1 conv to 1280) as (side, channels)
TABLE2_INPUTS = [(224, 3), (112, 32), (112, 16), (56, 24), (28, 32), (14, 64), (14, 96),
                 (7, 160), (7, 320)]


def divisible(v, d=8):
    """The reference implementations' _make_divisible, written out: the nearest
    multiple of d (halves up), at least d, plus d if that lost more than 10%."""
    r = max(d, int(v + d / 2) // d * d)
    return r + d if r < 0.9 * v else r


def thin(c, alpha):
    return c if alpha == 1 else divisible(c * alpha)


def bottlenecks(alpha=1.0, side=224):
    """The 17 bottlenecks from TABLE2: (index, t, in_ch, hidden, out_ch, h_in, h_out, s)."""
    rows, cin, h, k = [], thin(32, alpha), math.ceil(side / 2), 0
    for t, c, n, s in TABLE2:
        for i in range(n):
            k += 1
            stride = s if i == 0 else 1
            h_out = math.ceil(h / stride)
            rows.append((k, t, cin, cin * t, thin(c, alpha), h, h_out, stride))
            cin, h = thin(c, alpha), h_out
    return rows


def paper_count(alpha=1.0, side=224, classes=1000):
    """Mult-adds and params (weights + biases, no batch norm) from the formulas:
    conv D_k^2*M*N*D_f^2, depthwise D_k^2*M*D_f^2, pointwise M*N*D_f^2."""
    c1, h1 = thin(32, alpha), math.ceil(side / 2)
    mult_adds, params = 3 * 3 * 3 * c1 * h1 * h1, 3 * 3 * 3 * c1
    for _, t, cin, hid, cout, h, ho, _ in bottlenecks(alpha, side):
        if t != 1:
            mult_adds += cin * hid * h * h
            params += cin * hid
        mult_adds += 9 * hid * ho * ho + hid * cout * ho * ho
        params += 9 * hid + hid * cout
    last, cin, h = thin(1280, max(1.0, alpha)), thin(320, alpha), bottlenecks(alpha, side)[-1][6]
    mult_adds += cin * last * h * h + last * classes
    params += cin * last + last * classes + classes
    return mult_adds, params


@pytest.fixture(scope="module")
def report():
    return analyze("mobilenet_v2")


def rows_by_name(report):
    return {row["name"]: row for row in report["layers"]}


def test_table2_input_column(report):
    """Each Table 2 row's input size and channels, as printed, at width 1.0."""
    rows = rows_by_name(report)
    assert report["input"] == [3, 224, 224]
    # inputs of the bottleneck sequences = outputs of conv1 and of each sequence's last block
    seen, firsts = 0, []
    for t, c, n, s in TABLE2:
        firsts.append(seen + 1)
        seen += n
    outputs = [rows["conv1"]["output"]]
    outputs += [rows[f"bottleneck{first + n - 1}/project"]["output"]
                for first, (t, c, n, s) in zip(firsts, TABLE2)]
    assert [(o[1], o[0]) for o in outputs] == TABLE2_INPUTS[1:]
    assert all(o[1] == o[2] for o in outputs)
    assert rows["conv_last"]["output"] == [1280, 7, 7]   # "7^2 x 1280 | avgpool 7x7"
    assert rows["pool"]["output"] == [1280, 1, 1]        # "1 x 1 x 1280 | conv2d 1x1 | k"
    assert rows["classifier"]["output"] == [1000, 1, 1]


@pytest.mark.parametrize("alpha", [1.0, 0.35, 0.5, 0.75, 1.4])
def test_every_bottleneck_shape(alpha):
    """Per block: expansion to t * in channels (absent for t = 1), depthwise with
    the row's stride on the first block only, projection to c (thinned)."""
    rows = rows_by_name(analyze("mobilenet_v2", alpha=alpha))
    assert rows["conv1"]["output"] == [thin(32, alpha), 112, 112]
    expected = bottlenecks(alpha)
    assert len(expected) == 17 == sum(n for _, _, n, _ in TABLE2)
    for k, t, cin, hid, cout, h, ho, stride in expected:
        name = f"bottleneck{k}"
        if t == 1:
            assert f"{name}/expand" not in rows
        else:
            assert rows[f"{name}/expand"]["output"] == [hid, h, h]
        assert rows[f"{name}/dw"]["output"] == [hid, ho, ho]
        assert rows[f"{name}/dw"]["kernel"] == ("3x3/2" if stride == 2 else "3x3")
        assert rows[f"{name}/project"]["output"] == [cout, ho, ho]
    assert "bottleneck18/dw" not in rows
    assert rows["conv_last"]["output"][0] == (1280 if alpha <= 1 else divisible(1280 * alpha))


def test_residual_adds(report):
    """A residual add only where the stride is 1 and in == out channels: per
    sequence n - 1 of them, plus the first block if c equals the previous c with
    stride 1 (never in Table 2): 0 + 1 + 2 + 3 + 2 + 2 + 0 = 10."""
    adds = [row["name"] for row in report["layers"] if row["type"] == "add"]
    assert len(adds) == sum(n - 1 for _, _, n, _ in TABLE2) == 10
    expected = [f"bottleneck{k}/add" for k, _, cin, _, cout, _, _, s in bottlenecks()
                if s == 1 and cin == cout]
    assert adds == expected == [f"bottleneck{k}/add" for k in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16)]
    rows = rows_by_name(report)
    assert rows["bottleneck3/add"]["inputs"] == ["bottleneck3/project_bn", "bottleneck2/project_bn"]


def test_no_activation_after_projection(report):
    """Linear bottleneck: projection + BN, then the add or the next block, never ReLU6."""
    names = [row["name"] for row in report["layers"]]
    for k in range(1, 18):
        follower = names[names.index(f"bottleneck{k}/project_bn") + 1]
        assert not follower.endswith("relu")


def test_bottleneck_formula_stride_1(report):
    """Paper, Sec 3: a bottleneck of input h x w, in d', expansion t, out d'' and
    kernel k costs h * w * d' * t * (d' + k^2 + d''). Block 3: 56x56, 24 -> 24, t 6."""
    h = w = 56
    d1, t, d2, k = 24, 6, 24, 3
    total = sum(row["mult_adds"] for row in report["layers"] if row["name"].startswith("bottleneck3/"))
    assert total == h * w * d1 * t * (d1 + k * k + d2) == 25_740_288   # 3136 * 144 * 57


def test_bottleneck_formula_with_stride(report):
    """With stride s the depthwise and the projection run on h/s x w/s:
    h*w*d'*t*d' + (h/s)*(w/s)*d'*t*(k^2 + d''). Block 4: 56x56, 24 -> 32, t 6, s 2."""
    h = w = 56
    d1, t, d2, k, s = 24, 6, 32, 3, 2
    rows = rows_by_name(report)
    total = sum(rows[f"bottleneck4/{part}"]["mult_adds"] for part in ("expand", "dw", "project"))
    assert total == h * w * d1 * t * d1 + (h // s) * (w // s) * d1 * t * (k * k + d2)
    assert total == 10_838_016 + 1_016_064 + 3_612_672


@pytest.mark.parametrize("alpha, channels", [
    # c = 16, 24, 32, 64, 96, 160, 320 of Table 2 -> make_divisible(c * alpha, 8), by hand
    (0.35, [8, 8, 16, 24, 32, 56, 112]),     # 32*0.35 = 11.2: 8 is below 90% of it, so 16
    (0.5, [8, 16, 16, 32, 48, 80, 160]),     # 24*0.5 = 12: halves round up, 16
    (0.75, [16, 24, 24, 48, 72, 120, 240]),  # 24*0.75 = 18: 16 < 16.2, so 24
    (1.4, [24, 32, 48, 88, 136, 224, 448]),  # 64*1.4 = 89.6: 88; 96*1.4 = 134.4: 136
])
def test_make_divisible_widths(alpha, channels):
    assert [divisible(c * alpha) for _, c, _, _ in TABLE2] == channels
    rows = rows_by_name(analyze("mobilenet_v2", alpha=alpha))
    assert rows["conv1"]["output"][0] == channels[2]      # the stem's 32 is thinned too
    last, seen = 0, []
    for t, c, n, s in TABLE2:
        last += n
        seen.append(rows[f"bottleneck{last}/project"]["output"][0])
    assert seen == channels


def test_last_conv_never_below_1280():
    """Sec 6.1: the multiplier applies to all layers but the last conv; above 1.0
    it grows: make_divisible(1280 * 1.4, 8) = 1792."""
    for alpha, last in ((0.35, 1280), (0.5, 1280), (0.75, 1280), (1.0, 1280), (1.4, 1792)):
        rows = rows_by_name(analyze("mobilenet_v2", alpha=alpha))
        assert rows["conv_last"]["output"][0] == last
        assert rows["classifier"]["params"] == last * 1000 + 1000


@pytest.mark.parametrize("alpha, side", [(1.0, 224), (1.4, 224), (0.35, 96), (0.75, 160),
                                         (0.5, 192), (1.3, 224)])
def test_totals_equal_the_formulas(alpha, side):
    rep = analyze("mobilenet_v2", alpha=alpha, resolution=side)
    assert (rep["totals"]["mult_adds"], rep["totals"]["params"]) == paper_count(alpha, side)


def test_headline_numbers(report):
    """Table 4 / Sec 4: 300M mult-adds and 3.4M parameters, both truncated (the
    counts are 300.77M and 3.47M); 3.4M is without batch norm."""
    mult_adds, params = report["totals"]["mult_adds"], report["totals"]["params"]
    assert 300e6 <= mult_adds < 301e6
    assert 3.4e6 <= params < 3.5e6
    # with batch norm's scale and shift (2 per BN channel) it would be 3.5M
    bn_channels = 32 + sum((hid if t != 1 else 0) + hid + cout
                           for _, t, _, hid, cout, _, _, _ in bottlenecks()) + 1280
    assert report["totals"]["bn_params"] == 2 * bn_channels
    assert params + 2 * bn_channels >= 3.5e6
    # the 1.4 network: the release (TF-slim README) prints 582M and 6.06M
    wide = analyze("mobilenet_v2", alpha=1.4)["totals"]
    assert 582e6 <= wide["mult_adds"] < 583e6
    assert round(wide["params"] / 1e4) == 606


def test_smallest_of_the_family():
    """Sec 4's range starts at width 0.35 and resolution 96: 1.7M parameters
    (as printed); ~12M mult-adds (11 truncated in the TF-slim README)."""
    totals = analyze("mobilenet_v2", alpha=0.35, resolution=96)["totals"]
    assert round(totals["params"] / 1e5) == 17
    assert 11e6 <= totals["mult_adds"] < 12e6 and round(totals["mult_adds"] / 1e6) == 12


def test_documented_numbers_pass():
    results = run(load("mobilenet_v2"), "mobilenet_v2")
    assert results and all(r["passed"] for r in results), [r for r in results if not r["passed"]]
    for r in results:
        assert r["source"]
