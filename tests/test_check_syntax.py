"""The expect syntax: printed values, tolerances, truncated printing."""
import re
import textwrap

import pytest

from costcalc.analysis import check
from costcalc.core.errors import SpecError
from costcalc.lang.spec import load_spec

# one 3x3 conv from 3 to 8 channels on 10x10: 3*3*3*8*10*10 = 21,600 mult-adds, 216 params
SPEC = """
name: t
input: [3, 10, 10]
layers:
  - {type: conv, k: 3, out: 8}
expect:
"""


def results(tmp_path, *entries):
    path = tmp_path / "t.yaml"
    path.write_text(SPEC + "".join(f"  - {textwrap.dedent(e).strip()}\n" for e in entries))
    return check.run(load_spec(str(path)), "t")


@pytest.mark.parametrize("printed, passed", [
    ("21.6K", True), ("22K", True), ("21.5K", False), ("21,600", True), ("21,601", False),
    ("0.02M", True), ("0.03M", False),
])
def test_rounded_printing_means_half_a_unit_of_the_last_digit(tmp_path, printed, passed):
    (result,) = results(tmp_path, f'{{metric: mult_adds, printed: "{printed}", source: s}}')
    assert result["passed"] is passed


@pytest.mark.parametrize("printed, passed", [("21K", True), ("22K", False), ("21.6K", True),
                                             ("21.5K", False), ("20K", False)])
def test_truncated_printing_is_the_interval_above_the_printed_value(tmp_path, printed, passed):
    (result,) = results(tmp_path, f'{{metric: mult_adds, printed: "{printed}", '
                                  f'printed_as: truncated, source: s}}')
    assert result["passed"] is passed


def test_explicit_tolerance_and_misprint(tmp_path):
    ok, fixed = results(
        tmp_path,
        "{metric: params, printed: '200', tolerance: 20, source: s}",
        "{metric: params, printed: '612', expected: '216', why: 'digits in the wrong order',"
        " source: s}")
    assert ok["passed"] and ok["tolerance"] == 20
    assert fixed["passed"] and fixed["printed"] == "612" and fixed["expected"] == 216


@pytest.mark.parametrize("entry, message", [
    ("{metric: params, printed: '612', expected: '216', source: s}", "needs 'why'"),
    ("{metric: params, printed: 'lots', source: s}", "cannot read 'lots' as a number"),
    ("{metric: flops_ish, printed: '1', source: s}", "invalid metric 'flops_ish'"),
    ("{metric: params, printed: '1', source: s, of: layer}", "invalid 'of' 'layer'"),
    ("{metric: params, printed: '216', printed_as: floor, source: s}", "invalid printed_as"),
    ("{metric: params, printed: '216', printed_as: truncated, tolerance: 1, source: s}",
     "sets the interval itself"),
    ("{metric: params, printed: '216'}", "needs 'source'"),
])
def test_bad_expectations_are_errors_at_their_line(tmp_path, entry, message):
    with pytest.raises(SpecError, match=message) as info:
        results(tmp_path, entry)
    assert info.value.line == 7


@pytest.mark.parametrize("entry, message", [
    ("{metric: params, printed: '216', tolerance: '-1', source: s}",
     "tolerance: '-1' is negative"),
    ("{metric: params, printed: '216', tolerance: -5, source: s}", "tolerance: '-5' is negative"),
    ("{metric: params, printed: '-216', source: s}", "printed: '-216' is negative"),
    ("{metric: params, printed: '216', source: [paper, table 1]}",
     "source must be text (one string), not ['paper', 'table 1']"),
    ("{metric: params, printed: '216', source: ''}", "source must be text"),
    ("{metric: params, printed: '216', source: s, why: [a]}", "why must be text"),
    ("{metric: params, printed: '2,16', source: s}",
     "printed: '2,16': commas separate thousands (1,248,424), the decimal point is '.'"),
    ("{metric: params, printed: '216,0', source: s}", "commas separate thousands"),
    ("{metric: params, printed: '21,6.0', source: s}", "commas separate thousands"),
    ("{metric: params, printed: 216.0, source: s}", "write printed in quotes"),
])
def test_ambiguous_expectations_are_errors_at_their_line(tmp_path, entry, message):
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        results(tmp_path, entry)
    assert info.value.line == 7


def test_thousands_commas_still_read(tmp_path):
    (result,) = results(tmp_path, "{metric: mult_adds, printed: '21,600', source: s}")
    assert result["passed"] and result["expected"] == 21600


# one fc from 2^26 features to 2^27: 2^26 * 2^27 = 2^53 mult-adds, 2^53 + 2^27 params (biases)
BIG = """
name: big
input: [67108864, 1, 1]
layers:
  - {type: fc, out: 134217728}
expect:
"""


@pytest.mark.parametrize("metric, value", [("mult_adds", 2**53), ("params", 2**53 + 2**27)])
def test_counts_past_2_to_the_53_are_compared_exactly(tmp_path, metric, value):
    path = tmp_path / "big.yaml"
    path.write_text(BIG + "".join(
        f"  - {{metric: {metric}, printed: '{v:,}', source: s}}\n" for v in
        (value, value + 1, value - 1)))
    exact, above, below = check.run(load_spec(str(path)), "big")
    assert exact["passed"] and exact["computed"] == value and exact["expected"] == value
    assert not above["passed"] and above["expected"] == value + 1 and above["deviation"] == -1
    assert not below["passed"] and below["deviation"] == 1
    assert isinstance(above["expected"], int) and isinstance(above["deviation"], int)


def test_shares_are_exact_fractions(tmp_path):
    """conv 3x3x3x8 on 10x10 then fc 800 -> 3: mult-adds 21,600 and 2,400; the conv's share
    21600/24000 = 90% exactly. 89.9% with a tolerance of 0.1% reaches it exactly (passes);
    0.09999999% stops 10^-10 short (fails: no float slack)."""
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ninput: [3, 10, 10]\nlayers:\n  - {type: conv, k: 3, out: 8}\n"
                    "  - {type: fc, out: 3}\nexpect:\n" + "".join(
                        f"  - {{metric: mult_adds_share, of: type conv 3x3, printed: {p}, "
                        f"{t}source: s}}\n" for p, t in (
                            ("90.00%", ""), ("90.01%", ""), ("89.9%", "tolerance: 0.1%, "),
                            ("89.9%", "tolerance: 0.09999999%, "))))
    ok, off, edge, short = check.run(load_spec(str(path)), "t")
    assert ok["passed"] and ok["computed"] == 0.9
    assert not off["passed"]
    assert edge["passed"] and not short["passed"]


def test_expectations_are_parsed_once_with_the_spec(tmp_path, monkeypatch):
    """Loading validates every expectation and keeps them (Spec.expectations); check.run
    reads those and parses none again (it did: each rule checked once, issue 17)."""
    from costcalc.lang import expectations as parser

    path = tmp_path / "t.yaml"
    path.write_text(SPEC + "  - {metric: mult_adds, printed: '21,600', source: formula}\n"
                    "  - {metric: params, printed: '216', source: formula}\n")
    spec = load_spec(str(path))
    assert [(e.metric, e.pos.line) for e in spec.expectations] == [("mult_adds", 7),
                                                                  ("params", 8)]

    def parse_again(*args):
        raise AssertionError("an expectation parsed again")

    monkeypatch.setattr(parser.Expectation, "__init__", parse_again)
    rows = check.run(spec, "t")
    assert [(row["line"], row["computed"], row["passed"]) for row in rows] == [
        (7, 3 * 3 * 3 * 8 * 10 * 10, True), (8, 3 * 3 * 3 * 8, True)]
