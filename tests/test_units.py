"""costcalc.core.units: the three kinds of units, each value written out by hand; "B" is a
billion in a documented number and a byte after a size, two named units."""
from fractions import Fraction

from costcalc.core import units
from costcalc.lang.expectations import Printed


def test_counts_in_decimal_units():
    assert units.human(999) == "999"
    assert units.human(1_500) == "1.5K"                 # one decimal for K
    assert units.human(568_740_352) == "568.74M"        # MobileNet, Table 1
    assert units.human(-2_500_000_000) == "-2.50G"
    assert units.tick(500_000) == "500K" and units.tick(1.5e9) == "1.5G"
    assert units.percent(0.125) == "12.50%"


def test_sizes_in_bytes():
    assert units.BYTE == "B"
    assert units.size(512) == "512 B"
    assert units.size(12_345_678) == "12.35 MB"        # decimal: 10^6 bytes a MB
    assert units.exact_bytes(4_213_248) == "4,213,248 B"


def test_a_printed_b_is_a_billion_and_kib_is_binary():
    assert units.BILLION == "B"
    assert Printed("4.2B").value == 4_200_000_000
    assert Printed("4.8MiB").value == Fraction(48, 10) * 2**20
    assert Printed("3K").value == 3_000 and Printed("94.86%").value == Fraction(9486, 10000)
    assert units.in_unit(4_213_248_000, "B") == "4.21B"
    assert units.in_unit(1_536, "KiB") == "1.5KiB"     # one decimal, 1536 / 1024
    assert units.shortest(500_000, "M") == "0.5M"


def test_times_of_the_roofline():
    assert units.milliseconds(0.012345) == "12.35 ms"    # 12.345 ms, two decimals
    assert units.microseconds(0.0012345) == "1,234.5 us"
