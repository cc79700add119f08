"""Activation memory, model size and the roofline estimate (docs/memory.md), on small
graphs whose numbers are written out by hand."""
import textwrap

import pytest

from costcalc import analyze
from costcalc.core.errors import SpecError


def run(text, **kwargs):
    return analyze(textwrap.dedent(text).lstrip(), **kwargs)


def test_peak_of_a_chain():
    """image 3x8x8 = 192 elements; conv1 4x8x8 = 256; relu 256; conv2 2x8x8 = 128.
    conv1 runs with the image: 192 + 256 = 448; relu with conv1: 256 + 256 = 512 (the image
    is freed after conv1); conv2: 256 + 128 = 384. Peak 512 elements, while relu runs."""
    report = run("""
        name: chain
        input: [3, 8, 8]
        layers:
          - {name: conv1, type: conv, k: 3, out: 4}
          - {name: act, type: relu}
          - {name: conv2, type: conv, k: 3, out: 2}
    """, activation_bits=32)
    assert report["totals"]["activation_peak_bytes"] == 512 * 4
    assert report["activation_peak_at"] == "act"
    assert [r["activation_bytes"] for r in report["layers"]] == [256 * 4, 256 * 4, 128 * 4]


def test_peak_of_a_residual_block_keeps_its_input():
    """image 4x8x8 = 256 is read by a and by the add, so it lives until the add:
    a: 256 + 256 = 512; b: 512 + 256 = 768 (a freed after); add: 256 + 256 + 256 = 768."""
    report = run("""
        name: residual
        input: [4, 8, 8]
        layers:
          - {name: a, type: conv, k: 3, out: 4}
          - {name: b, type: relu}
          - {name: sum, type: add, inputs: [b, input]}
    """, activation_bits=16)
    assert report["totals"]["activation_peak_bytes"] == 768 * 2
    assert report["activation_peak_at"] == "b"


def test_peak_of_a_concat_keeps_its_inputs_until_it_runs():
    """image 256; left 2x8x8 = 128; right 6x8x8 = 384; cat 8x8x8 = 512.
    left: 256 + 128 = 384; right: 384 + 384 = 768, then the image is freed: 512;
    cat: 512 + 512 = 1024 elements."""
    report = run("""
        name: branches
        input: [4, 8, 8]
        layers:
          - {name: left, type: conv, k: 1, out: 2, input: input}
          - {name: right, type: conv, k: 3, out: 6, input: input}
          - {name: cat, type: concat, inputs: [left, right]}
    """, activation_bits=8)
    assert report["totals"]["activation_peak_bytes"] == 1024
    assert report["activation_peak_at"] == "cat"


def test_a_view_shares_its_input():
    """flatten is a view of the 4x2x2 image (16 elements); the fc's 3 outputs join it:
    peak 16 + 3 = 19 elements."""
    report = run("""
        name: view
        input: [4, 2, 2]
        layers:
          - {type: flatten}
          - {type: fc, out: 3}
    """, activation_bits=32)
    assert report["totals"]["activation_peak_bytes"] == 19 * 4
    assert [r["activation_bytes"] for r in report["layers"]] == [0, 12]


def test_model_size():
    """1,248,424 params x 32 bits = 4,993,696 bytes; kept = round(1,248,424 x 0.3373037) =
    421,098 weights of 8 + 4 bits = 631,647 bytes."""
    assert analyze("squeezenet", weight_bits=32)["totals"]["model_bytes"] == 4_993_696
    sparse = analyze("squeezenet", weight_bits=8, density=0.3373037, index_bits=4)
    assert sparse["totals"]["model_bytes"] == 421_098 * 12 // 8 == 631_647


@pytest.mark.parametrize("kwargs, message", [
    ({"index_bits": 4}, "needs a density below 1"),   # the library's own argument names
    ({"density": 0}, "error: density must be a fraction in (0, 1]"),
    ({"activation_bits": 12}, "error: activation_bits must be one of 32, 16, 8"),
    ({"hardware": "toaster"}, "unknown hardware 'toaster'"),
])
def test_bad_memory_options(kwargs, message):
    with pytest.raises(SpecError) as info:
        analyze("mobilenet", **kwargs)
    assert message in str(info.value)


def test_roofline_of_one_conv(tmp_path):
    """conv 3x3, 3 -> 16 channels on 32x32, 32-bit: input 3*32*32*4 = 12,288 B, output
    16*32*32*4 = 65,536 B, weights 3*3*3*16*4 = 1,728 B: 79,552 B moved; 442,368
    mult-adds. At 1e9 mult-adds/s and 1e8 B/s: compute 442,368e-9 s, memory
    79,552e-8 s: memory-bound, 7.9552e-4 s."""
    profile = tmp_path / "hw.yaml"
    profile.write_text("toy: {name: toy, mult_adds_per_second: 1.0e+9, bytes_per_second: 1.0e+8,"
                       " sources: [by hand]}\n")
    report = run("""
        name: one
        input: [3, 32, 32]
        layers: [{type: conv, k: 3, out: 16}]
    """, hardware=str(profile))
    (row,) = report["layers"]
    assert row["bytes_moved"] == 12_288 + 65_536 + 1_728 == 79_552
    assert row["arithmetic_intensity"] == pytest.approx(442_368 / 79_552)
    assert row["latency_s"] == pytest.approx(79_552 / 1e8)
    assert row["bound"] == "memory"
    assert report["totals"]["latency_s"] == pytest.approx(79_552 / 1e8)
    assert report["hardware"]["estimate"] is True


def test_layer_latencies_sum_to_the_total():
    report = analyze("mobilenet", hardware="phone")
    assert sum(r["latency_s"] for r in report["layers"]) == pytest.approx(
        report["totals"]["latency_s"])
    # separable7 at 14x14x512, 32-bit: the depthwise layer does 9*512*196 = 903,168
    # mult-adds on 2*512*196*4 + 9*512*4 = 821,248 bytes (1.10 per byte); the 1x1 layer
    # 512*512*196 = 51,380,224 on 2*512*196*4 + 512*512*4 = 1,851,392 bytes (27.75)
    dw = next(r for r in report["layers"] if r["name"] == "separable7/dw")
    pw = next(r for r in report["layers"] if r["name"] == "separable7/pw")
    assert dw["bytes_moved"] == 821_248 and pw["bytes_moved"] == 1_851_392
    assert dw["arithmetic_intensity"] == pytest.approx(903_168 / 821_248)
    assert pw["arithmetic_intensity"] == pytest.approx(51_380_224 / 1_851_392)


@pytest.mark.parametrize("text, at, message", [
    ("toy: {mult_adds_per_second: 1.0e+9, bytes_per_second: 1.0e+8, precison: {}}\n",
     "precison", "unknown key 'precison' in hardware profile 'toy' (did you mean 'precision'?)"),
    ("toy: {mult_adds_per_second: 1.0e+9, bytes_per_second: 1.0e+8, precision: 16}\n",
     "16", "hardware profile 'toy': precision must be a mapping"),
    ("toy: {mult_adds_per_second: 1.0e+9, bytes_per_second: 1.0e+8,\n"
     "      precision: {weight_bits: 4}}\n", "4}", "hardware profile 'toy': weight_bits must be one of"),
])
def test_a_hardware_file_is_checked_at_its_line(tmp_path, run_cli, text, at, message):
    """A misspelt or misshapen key in a profile would otherwise leave its figures at
    32 bits without a word. The error is at ``at``'s line and column (1-based)."""
    profile = tmp_path / "hw.yaml"
    profile.write_text(text)
    before = text[:text.index(at)]
    line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    result = run_cli("mobilenet", "--hardware", profile)
    assert result.code == 2
    assert result.err.startswith(f"{profile}:{line}:{col}: error: "), result.err
    assert message in result.err and result.err.count("\n") == 1


def test_byte_counts_are_exact_past_two_to_the_53():
    from costcalc.analysis.memory import model_bytes

    learned = 10**17 + 1   # * 8 bits / 8 = itself; a float division loses the + 1
    assert model_bytes(learned, 8) == 10**17 + 1
    assert model_bytes(learned, 4) == (10**17 + 1 + 1) // 2   # ceil of half


def _phone():
    import pathlib

    import yaml

    hardware = pathlib.Path(__file__).resolve().parent.parent / "costcalc" / "analysis" / "hardware.yaml"
    return yaml.safe_load(hardware.read_text())["phone"]


def test_element_wise_layers_are_memory_bound_at_8_bits_on_the_phone(run_cli):
    """docs/roofline.md: the intensity is mult-adds per byte and only mult-adds are charged
    compute time. Input 8x16x16 (2,048 elements), 8-bit activations, the phone's 32-bit
    weights, peaks 8.6e9 mult-adds/s and 2.98e10 B/s from costcalc/analysis/hardware.yaml:
    - conv 1x1 8 -> 16 (no bias): 8*16*16*16 = 32,768 mult-adds; 2,048 + 4,096 bytes of
      activations + 128 weights * 4 = 6,656 B; 32,768 / 6,656 = 4.92 per byte, above the
      ridge 8.6e9 / 2.98e10 = 0.29: compute-bound, 32,768 / 8.6e9 s;
    - batch norm: 4,096 + 4,096 + 32 scale/shift * 4 = 8,320 B, no mult-adds (4,096 other
      ops): intensity 0, memory-bound, 8,320 / 2.98e10 s (charging its 4,096 element ops as
      mult-adds, 0.49 per byte, made it compute-bound);
    - relu: 4,096 + 4,096 = 8,192 B, memory-bound, 8,192 / 2.98e10 s."""
    phone = _phone()
    peak, bandwidth = phone["mult_adds_per_second"], phone["bytes_per_second"]
    assert peak == 8.6e9 and bandwidth == 2.98e10
    spec = textwrap.dedent("""
        name: element-wise
        input: [8, 16, 16]
        layers:
          - {name: conv, type: conv, k: 1, out: 16}
          - {name: bn, type: batchnorm}
          - {name: act, type: relu}
    """).lstrip()
    report = analyze(spec, hardware="phone", activation_bits=8)
    conv, bn, act = report["layers"]
    assert conv["mult_adds"] == 8 * 16 * 16 * 16 == 32_768
    assert [conv["bytes_moved"], bn["bytes_moved"], act["bytes_moved"]] == [
        2_048 + 4_096 + 128 * 4, 4_096 + 4_096 + 32 * 4, 4_096 + 4_096] == [6_656, 8_320, 8_192]
    assert conv["arithmetic_intensity"] == pytest.approx(32_768 / 6_656)
    assert bn["arithmetic_intensity"] == act["arithmetic_intensity"] == 0
    assert [conv["bound"], bn["bound"], act["bound"]] == ["compute", "memory", "memory"]
    assert conv["latency_s"] == pytest.approx(32_768 / peak)
    assert bn["latency_s"] == pytest.approx(8_320 / bandwidth)
    assert act["latency_s"] == pytest.approx(8_192 / bandwidth)


def test_the_roofline_summary_counts_what_it_says(run_cli):
    """MobileNet at 8 bits on the phone: 28 layers do mult-adds (conv1, 13 depthwise, 13
    pointwise, the fc); all but the fc are compute-bound (the fc, 1,024,000 mult-adds on
    1,024 + 1,000 activation bytes and 1,024,000 weights * 4 B, has 0.25 per byte, below
    the ridge 0.29); the 27 batch norms, 27 ReLUs, the pool and the softmax (56) do none and
    are memory-bound with the fc. The column holds mult-adds per byte and says so."""
    assert 1_024_000 / (1_024 + 1_000 + 1_024_000 * 4) < 8.6e9 / 2.98e10
    result = run_cli("mobilenet", "--hardware", "phone", "--activation-bits", "8", columns=200)
    assert result.code == 0
    lines = result.out.splitlines()
    assert "; 27 layers compute-bound, 57 memory-bound (56 without mult-adds)." in " ".join(
        result.out.split())
    header = next(line for line in lines if line.startswith("Layer") and "Bytes" in line)
    assert header.split()[:5] == ["Layer", "Bytes", "moved", "MA/B", "Time"]
    fc = [line for line in lines if line.startswith("fc ")][-1]   # the roofline table's
    assert fc.split()[1:3] == ["4,098,024", "0.25"] and fc.endswith("memory")


def _where(text, at):
    """(line, col), 1-based, of the first ``at`` in ``text``."""
    before = text[:text.index(at)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize("value, message", [
    ("1.0e-300", "must be a number from 10^6 to 10^18"),
    ("5.0e-324", "must be a number from 10^6 to 10^18"),     # a denormal
    ("0", "must be a number from 10^6 to 10^18"),
    ("-1.0e+9", "must be a number from 10^6 to 10^18"),
    ("999999", "must be a number from 10^6 to 10^18"),
    ("1.0e+19", "outside the limit of 10^18"),
    (".inf", "outside the limit of 10^18"),
    (".nan", "outside the limit of 10^18"),
    ("8.6e9", "write 8.6e+9"),
    ("true", "must be a number from 10^6 to 10^18"),
])
@pytest.mark.parametrize("key", ["mult_adds_per_second", "bytes_per_second"])
def test_a_hardware_figure_outside_its_limits_is_refused_at_its_line(tmp_path, run_cli, key,
                                                                     value, message):
    """docs/errors.md: each peak figure is a number from 10^6 to 10^18 per second. 1e-300
    was taken: every layer's time was inf, the table said 'inf us', JSON stopped mid-file.
    Nothing reaches stdout; the one line is at the value."""
    figures = {"mult_adds_per_second": "1.0e+9", "bytes_per_second": "1.0e+8", key: value}
    text = f"toy:\n  mult_adds_per_second: {figures['mult_adds_per_second']}\n" \
           f"  bytes_per_second: {figures['bytes_per_second']}\n"
    profile = tmp_path / "hw.yaml"
    profile.write_text(text)
    line, col = _where(text, f"{key}: {value}")
    for fmt in ("json", "table"):
        result = run_cli("mobilenet", "--hardware", profile, "--format", fmt)
        assert (result.code, result.out) == (2, "")
        assert result.err.startswith(f"{profile}:{line}:{col + len(key) + 2}: error: "), result.err
        assert message in result.err and result.err.count("\n") == 1, result.err


@pytest.mark.parametrize("value", ["1.0e+6", "1000000"])
def test_the_lower_limit_of_a_hardware_figure_is_allowed(tmp_path, value):
    """At 10^6 mult-adds/s and 10^18 B/s every MobileNet layer with mult-adds takes its
    mult-adds / 10^6 seconds: 568,740,352 / 10^6 s in all, the other layers next to nothing
    (a few MB / 10^18 B/s)."""
    profile = tmp_path / "hw.yaml"
    profile.write_text(f"toy: {{mult_adds_per_second: {value}, bytes_per_second: 1.0e+18}}\n")
    report = analyze("mobilenet", hardware=str(profile))
    assert report["totals"]["latency_s"] == pytest.approx(568_740_352 / 10**6, rel=1e-9)


def test_the_upper_limit_of_a_hardware_figure_is_allowed(tmp_path):
    """Both figures at 10^18 per second: each layer takes max(mult-adds, bytes) / 10^18 s."""
    profile = tmp_path / "hw.yaml"
    profile.write_text("toy: {mult_adds_per_second: 1.0e+18, bytes_per_second: 1.0e+18}\n")
    report = analyze("mobilenet", hardware=str(profile))
    assert report["totals"]["latency_s"] == pytest.approx(
        sum(max(r["mult_adds"], r["bytes_moved"]) for r in report["layers"]) / 10**18)


def test_every_problem_of_a_hardware_file_is_reported_at_its_line(tmp_path, run_cli):
    """Independent problems, one line each in the order of the file: a missing figure is
    named missing (it was 'must be a positive number, not None'), a misspelt key, a bad
    figure, a bad precision, and the second profile's own problem."""
    text = ("toy: {precison: {}, bytes_per_second: -1}\n"
            "board:\n"
            "  mult_adds_per_second: 1.0e+9\n"
            "  bytes_per_second: 2.0e+9\n"
            "  precision: {activation_bits: 4, weight_bit: 8}\n"
            "  name: [a, list]\n")
    profile = tmp_path / "hw.yaml"
    profile.write_text(text)
    result = run_cli("mobilenet", "--hardware", profile)
    assert (result.code, result.out) == (2, "")
    expected = [
        (1, 1, "hardware profile 'toy': mult_adds_per_second is missing "
               "(peak multiply-accumulates per second)"),
        (1, 7, "unknown key 'precison' in hardware profile 'toy' (did you mean 'precision'?)"),
        (1, 39, "hardware profile 'toy': bytes_per_second must be a number from 10^6 to 10^18"),
        (5, 32, "hardware profile 'board': activation_bits must be one of 32, 16, 8, not 4"),
        (5, 35, "unknown key 'weight_bit' in the precision of hardware profile 'board' "
                "(did you mean 'weight_bits'?)"),
        (6, 9, "hardware profile 'board': name must be text, not ['a', 'list']"),
    ]
    assert _where(text, "-1") == (1, 39) and _where(text, "4,") == (5, 32)
    assert _where(text, "weight_bit:") == (5, 35) and _where(text, "[a,") == (6, 9)
    lines = result.err.splitlines()
    assert len(lines) == len(expected), result.err
    for got, (line, col, message) in zip(lines, expected):
        assert got.startswith(f"{profile}:{line}:{col}: error: {message}"), got
    assert "None" not in result.err and "spec" not in result.err


@pytest.mark.parametrize("text, message", [
    ("", "the hardware file is empty"),
    ("# only a comment\n", "the hardware file is empty"),
    ("toy:\n", "hardware profile 'toy' must be a mapping of its figures, not None"),
    ("a: 1\n---\nb: 2\n", "a hardware file is one YAML document"),
])
def test_an_empty_hardware_file_or_profile_is_named_so(tmp_path, run_cli, text, message):
    """It said 'the spec is empty'."""
    profile = tmp_path / "hw.yaml"
    profile.write_text(text)
    result = run_cli("mobilenet", "--hardware", profile)
    assert (result.code, result.out) == (2, "")
    assert message in result.err and "spec" not in result.err and result.err.count("\n") == 1


def test_an_estimate_that_overflows_is_an_error_before_anything_is_printed(
        tmp_path, run_cli, monkeypatch):
    """The guard behind the limits: with them lifted, 1e-300 mult-adds/s makes every
    layer's time inf; the JSON was cut off mid-file before an internal error and the table
    showed 'inf us' with exit 0."""
    from costcalc.analysis import memory

    monkeypatch.setitem(memory.FIGURE_LIMITS, "mult_adds_per_second", (0, 10**18))
    profile = tmp_path / "hw.yaml"
    profile.write_text("toy: {mult_adds_per_second: 1.0e-300, bytes_per_second: 1.0e+8}\n")
    for fmt in ("json", "table", "csv", "markdown"):
        result = run_cli("mobilenet", "--hardware", profile, "--format", fmt)
        assert (result.code, result.out) == (2, ""), fmt
        assert result.err == ("costcalc: error: the roofline estimate on 'toy' overflows: "
                              "inf seconds (docs/errors.md)\n")
