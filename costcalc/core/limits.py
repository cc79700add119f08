"""Every limit costcalc holds its input and its work to, declared once with what it bounds
(docs/errors.md, 'Limits', is checked against this table), and how a message quotes one.

Each limit is far above any real network; each check reads ``LIMITS[name]`` and each
message writes the number with ``quoted(name)``, so that a limit changed here is changed in
its check and its message alike.
"""

# name, value, how a message writes it, what it bounds. The forms: "power" 10^18, "commas"
# 2,000,000, "MiB" 64 MiB (a size in bytes).
DECLARED = (
    ("file_bytes", 64 * 2**20, "MiB", "the bytes of a spec file or hardware file (a "
     "written-out 10^6-layer spec is about 40 MiB)"),
    ("depth", 64, "commas", "the nesting of YAML mappings and sequences, and of a value "
     "given to the library"),
    ("nodes", 10**7, "commas", "the values of a YAML tree with every alias expanded, and of "
     "a value given to the library"),
    ("number", 10**18, "power", "the magnitude of every number: written in a spec, made by "
     "an expression (** and * on integers, its result), the channels of a layer after the "
     "width multiplier, any one count of a layer (mult-adds, params, ...), a hardware "
     "profile's peak figures per second"),
    ("text", 2000, "commas", "the characters of one expression"),
    ("sequence", 10**6, "commas", "the items (or characters) * may build in an expression, "
     "and the values an expression's result holds"),
    ("round_digits", 100, "commas", "the digits round() may keep either side of the point"),
    ("float_exponent", 10**4, "commas", "the magnitude of an integer exponent of a "
     "floating-point base in an expression"),
    ("layers", 2_000_000, "commas", "the entries a spec expands to (layers built, and "
     "entries skipped by when)"),
    ("nesting", 50, "commas", "block calls one inside another"),
    ("recursive_calls", 100_000, "commas", "the calls of a block made inside that same "
     "block, in all"),
    ("name", 200, "commas", "the characters of a layer or stage name"),
    ("elements", 10**12, "power", "the elements of one tensor (C x H x W), the input image "
     "included"),
    ("multiplier", 10**6, "power", "--alpha, --rho, --resolution and a spec's width "
     "multiplier"),
    ("bits", 64, "commas", "the bits of a weight (--weight-bits, from 1) and of a sparse "
     "weight's index (--index-bits, from 0)"),
    ("printed", 10**30, "power", "a printed value of an expectation (expect)"),
    ("errors_per_file", 10, "commas", "the problems costcalc check reports of one spec file "
     "(then one line counts the rest)"),
    ("points", 10_000, "commas", "the distinct points of one sweep"),
    ("layer_results", 5_000_000, "commas", "the work of one sweep: its points x the layers "
     "of its first point's graph"),
    ("figure", 10**6, "power", "the least peak figure of a hardware profile, per second"),
    ("values", 10**9, "commas", "the parameter and buffer values of a module "
     "costcalc.torch.build makes on a device that holds data"),
)

LIMITS = {name: value for name, value, _, _ in DECLARED}     # what every check reads
FORMS = {name: form for name, _, form, _ in DECLARED}
MEANINGS = {name: meaning for name, _, _, meaning in DECLARED}


def written(value, form="commas"):
    """A limit as messages write it: "power" 10**18 -> '10^18' (a number that is not a
    power of ten with commas), "MiB" 64 * 2**20 -> '64 MiB', "commas" 2_000_000 ->
    '2,000,000'."""
    if form == "power" and value > 0 and str(value).rstrip("0") == "1":
        return f"10^{len(str(value)) - 1}"
    if form == "MiB":
        return f"{value // 2**20} MiB"
    return f"{value:,}"


def quoted(name):
    """Limit ``name`` as its messages write it: written(LIMITS[name], its form)."""
    return written(LIMITS[name], FORMS[name])
