"""The expect syntax: printed values, tolerances, truncated printing."""
import textwrap

import pytest

from costcalc import check
from costcalc.errors import SpecError
from costcalc.spec import load_spec

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
