"""The units of the numbers costcalc prints, each declared once.

Three kinds, never mixed:

- counts (mult-adds, params) in decimal K, M, G: ``human``, in every table;
- sizes in bytes (docs/memory.md): ``BYTE`` and its decimal multiples KB, MB, GB: ``size``;
  times of the roofline estimate in ms and us;
- the units a documented number may be printed in (docs/check.md, ``PRINTED_UNITS``): K, M,
  G, ``BILLION`` (B, 10^9, as papers print "4.2B"), % and the binary byte units KiB, MiB,
  GiB: ``in_unit``. There, B is a billion, not a byte.
"""
from fractions import Fraction

COUNT_UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))
UNIT_NOTE = "K = 10^3, M = 10^6, G = 10^9 (decimal)"

BYTE = "B"                                                   # after a size: '1,024 B', 'B/s'
BYTE_UNITS = ((10**9, "GB"), (10**6, "MB"), (10**3, "KB"))   # decimal, as the counts

BILLION = "B"                                                # in a documented number: 10^9
PERCENT = "%"
PRINTED_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, BILLION: 10**9,
                 PERCENT: Fraction(1, 100), "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
ONE_DECIMAL = ("K", "KiB", "MiB", "GiB")   # check writes a value in these with one decimal,
                                           # in the others two (as human: K one, M and G two)


def _unit(value, units):
    """(size, suffix) of the largest of ``units`` that ``value`` reaches, else (1, None)."""
    for size, suffix in units:
        if abs(value) >= size:
            return size, suffix
    return 1, None


def human(count):
    """12345678 -> '12.35M': decimal units, two decimals (one for K)."""
    size, suffix = _unit(count, COUNT_UNITS)
    if suffix is None:
        return str(count)
    return f"{count / size:.{1 if suffix == 'K' else 2}f}{suffix}"


def tick(value):
    """A plot's tick label, shortest form: 500000 -> '500K', 2e6 -> '2M', 1.5e9 -> '1.5G'."""
    size, suffix = _unit(value, COUNT_UNITS)
    return f"{value / size:g}{suffix or ''}"


def percent(share):
    """0.1234 -> '12.34%'."""
    return f"{100 * share:.2f}%"


def size(count):
    """12345678 bytes -> '12.35 MB' (decimal units, as every costcalc table); '512 B'."""
    scale, unit = _unit(count, BYTE_UNITS)
    return f"{count} {BYTE}" if unit is None else f"{count / scale:.2f} {unit}"


def exact_bytes(count):
    """1234567 -> '1,234,567 B'."""
    return f"{count:,} {BYTE}"


def milliseconds(seconds):
    """0.01234 s -> '12.34 ms' (a roofline total)."""
    return f"{seconds * 1000:.2f} ms"


def microseconds(seconds):
    """0.0012345 s -> '1,234.5 us' (a roofline layer)."""
    return f"{seconds * 1e6:,.1f} us"


def fixed(value, digits):
    """``value`` (int, float or Fraction) with ``digits`` decimals and thousands commas,
    computed exactly (an integer past 2^53 keeps its last digit); halves to even, as
    Python's own formatting of the exact value."""
    n = round(Fraction(value) * 10**digits)
    whole, part = divmod(abs(n), 10**digits)
    return ("-" if n < 0 else "") + f"{whole:,}" + (f".{part:0{digits}d}" if digits else "")


def in_unit(value, unit, digits=None):
    """A checked value written in the unit it was printed in (PRINTED_UNITS): '568.74M',
    '1.91%'; with ``digits``, that many decimals."""
    if digits is None:
        if unit == "":
            return fixed(value, 0) if value == int(value) else f"{float(value):,.4g}"
        digits = 1 if unit in ONE_DECIMAL else 2
    text = fixed(Fraction(value) / PRINTED_UNITS[unit], digits)
    return ("0" if text.strip("-0.,") == "" else text) + unit


def shortest(value, unit):
    """A tolerance in the printed unit, shortest form: '0.5M'."""
    return f"{float(value / PRINTED_UNITS[unit]):g}{unit}"


def decimals(printed):
    """How many decimals a printed number has: '52.3M' -> 1, '569M' -> 0."""
    whole, dot, rest = printed.strip().partition(".")
    return len([c for c in rest if c.isdigit()]) if dot else 0


def signed(value, text, unit):
    """'+0.42M' for a positive deviation that does not print as zero (in_unit writes a
    zero as '0' and the unit)."""
    return "+" + text if value > 0 and text != "0" + unit else text
