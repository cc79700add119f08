"""The ``expect`` section of a spec: each documented number, validated when the spec is
loaded (docs/check.md). analysis/check.py recomputes and compares them."""
import re
from fractions import Fraction

from costcalc.core.breakdowns import BREAKDOWNS
from costcalc.core.errors import SpecError, SpecErrors, check_keys, show
from costcalc.core.limits import LIMITS, quoted
from costcalc.core.model import Settings, check_settings
from costcalc.core.units import PRINTED_UNITS
from costcalc.counting.conventions import conventions

METRICS = ("mult_adds", "params", "bn_params", "learned_params", "other_ops", "flops",
           "mult_adds_share", "params_share", "layers", "activation_peak_bytes",
           "materialized_max_bytes", "materialized_bytes", "model_bytes")
MEMORY_KEYS = ("activation_bits", "weight_bits", "density", "index_bits")   # docs/memory.md
SETTINGS_KEYS = ("variant", "alpha", "rho", "resolution", "set", "standard_conv",
                 "convention") + MEMORY_KEYS
KEYS = ("metric", "of", "printed", "printed_as", "expected", "tolerance", "source", "why",
        "note") + SETTINGS_KEYS
PRINTED_AS = ("rounded", "truncated")
SCOPES = {"total": None, "layer": "layers", **{b.name: b.key for b in BREAKDOWNS.values()}}
_NUMBER = re.compile(r"^\s*([-+]?[0-9][0-9,]*(?:\.([0-9]+))?)\s*(%s)\s*$" % "|".join(
    map(re.escape, sorted(PRINTED_UNITS, key=len, reverse=True))))   # KiB before K
_THOUSANDS = re.compile(r"^[-+]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.|$)")


class Printed:
    """A number as printed: '569M', '4.2', '94.86%', '1,248,424'; its value and half a unit
    of its last digit are exact fractions (no float rounding past 2^53)."""

    def __init__(self, text):
        self.text = str(text)
        match = _NUMBER.match(self.text)
        if not match:
            raise ValueError(f"cannot read {show(self.text)} as a number (digits, optional "
                             f"commas and decimals, then K, M, G, B or %)")
        digits, decimals, unit = match.groups()
        if not _THOUSANDS.match(digits):
            raise ValueError(f"{show(self.text)}: commas separate thousands (1,248,424), "
                             f"the decimal point is '.'")
        if digits.startswith("-"):
            raise ValueError(f"{show(self.text)} is negative: counts, shares and "
                             f"tolerances are not")
        self.unit, self.scale = unit, PRINTED_UNITS[unit]
        self.value = Fraction(digits.replace(",", "")) * self.scale
        if not self.value < LIMITS["printed"]:
            raise ValueError(f"{show(self.text)} is past the limit of {quoted('printed')} "
                             f"(docs/errors.md)")
        # half a unit in the last printed place
        self.half_unit = Fraction(1, 2 * 10 ** len(decimals or "")) * self.scale


class Expectation:
    """One documented number of a spec, with where it was written."""

    def __init__(self, spec, entry, pos):
        if not isinstance(entry, dict):
            raise pos.error("an expectation is a mapping: {metric, printed, source, ...}")
        self.spec, self.entry, self.pos = spec, entry, pos
        check_keys(entry, KEYS, "an expectation")
        for key in ("metric", "printed", "source"):
            if key not in entry:
                raise pos.error(f"an expectation needs {show(key)}")
        for key in ("source", "why", "note"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise entry.pos[key].error(f"{key} must be text (one string), not "
                                           f"{show(entry[key])}")
        self.metric = entry["metric"]
        if self.metric not in METRICS:
            raise entry.pos["metric"].error(f"invalid metric {show(self.metric)}; valid: "
                                            f"{', '.join(METRICS)}")
        self.scope, self.target = _scope(entry)
        needs = {"activation_peak_bytes": "activation_bits", "materialized_max_bytes":
                 "activation_bits", "materialized_bytes": "activation_bits",
                 "model_bytes": "weight_bits"}.get(self.metric)
        if needs and needs not in entry:
            raise entry.pos["metric"].error(f"{self.metric} needs '{needs}' in the expectation "
                                            f"(docs/memory.md)")
        self.printed = self._number("printed")
        self.expected = self._number("expected") if "expected" in entry else self.printed
        if "expected" in entry and "why" not in entry:
            raise entry.key_pos["expected"].error("an 'expected' that differs from 'printed' "
                                                  "needs 'why'")
        if "tolerance" in entry:
            self.tolerance = self._number("tolerance").value
        else:
            self.tolerance = self.expected.half_unit
        # the value held against the computed one: a truncated "300M" means [300M, 301M)
        self.printed_as = entry.get("printed_as", "rounded")
        if self.printed_as not in PRINTED_AS:
            raise entry.pos["printed_as"].error(f"invalid printed_as {show(self.printed_as)}; "
                                                f"valid: {', '.join(PRINTED_AS)}")
        self.center = self.expected.value
        if self.printed_as == "truncated":
            if "expected" in entry or "tolerance" in entry:
                raise entry.key_pos["printed_as"].error(
                    "printed_as: truncated sets the interval itself: no 'expected' or "
                    "'tolerance' with it")
            self.center += self.expected.half_unit
        self.settings = self._settings()

    def holds(self, computed):
        """Whether ``computed`` (an integer, or an exact share) prints as documented: within
        the tolerance of the checked value, or for a truncated number in
        [printed, printed + one unit). Exact arithmetic: no slack."""
        if self.printed_as == "truncated":
            low = self.printed.value
            return low <= computed < low + 2 * self.printed.half_unit
        return abs(computed - self.center) <= self.tolerance

    def _number(self, key):
        value = self.entry[key]
        if isinstance(value, float) and key != "tolerance":  # 4.20 would be read as 4.2
            raise self.entry.pos[key].error(f"write {key} in quotes ({key}: \"{value}\"): YAML "
                                            f"reads a bare decimal as a float, and its "
                                            f"printed digits set the tolerance")
        try:
            return Printed(value)
        except ValueError as exc:
            raise self.entry.pos[key].error(f"{key}: {exc}") from None

    def _settings(self):
        e = self.entry
        overrides = e.get("set", {})
        if not isinstance(overrides, dict):
            raise e.pos["set"].error("set must map parameter names to values")
        self.convention = e.get("convention", "paper")
        if not isinstance(self.convention, str) or self.convention not in conventions():
            raise e.pos["convention"].error(f"unknown convention {show(self.convention)}; "
                                            f"known: {', '.join(conventions())}")
        self.variant = e.get("variant")
        if self.variant is not None and (not isinstance(self.variant, str)
                                         or self.variant not in self.spec.variants):
            raise e.pos["variant"].error(f"no variant {show(self.variant)} in this spec; variants: "
                                         f"{', '.join(self.spec.variants) or 'none'}")
        for key in ("alpha", "rho", "resolution"):
            if key in e:
                try:
                    check_settings(e.get("alpha", 1.0) if key == "alpha" else 1.0,
                                   e.get("rho", 1.0) if key == "rho" else 1.0,
                                   e[key] if key == "resolution" else None)
                except SpecError as exc:
                    raise e.pos[key].error(exc.message) from None
        standard_conv = e.get("standard_conv", False)  # costcalc --standard-conv
        if not isinstance(standard_conv, bool):
            raise e.pos["standard_conv"].error("standard_conv must be true or false")
        return Settings(e.get("alpha", 1.0), e.get("rho", 1.0), e.get("resolution"),
                        dict(overrides), standard_conv=standard_conv)

    def settings_key(self):
        s = self.settings
        return (self.variant, self.convention, self.memory_key(), s.alpha, s.rho, s.resolution,
                tuple(sorted(s.overrides.items())), s.standard_conv)

    def memory_key(self):
        return tuple(self.entry.get(k) for k in MEMORY_KEYS)

    def describe(self):
        """'mult_adds of type conv 1x1 at alpha 0.5, resolution 160'."""
        where = "total" if self.scope == "total" else f"{self.scope} {self.target}"
        settings = [f"{k} {self.entry[k]}" for k in ("variant", "convention", "alpha", "rho",
                                                     "resolution") + MEMORY_KEYS
                    if k in self.entry]
        settings += [f"{k}={v}" for k, v in self.entry.get("set", {}).items()]
        variant = " with standard convolutions" if self.settings.standard_conv else ""
        return (f"{self.metric} of {where}" + (f" at {', '.join(settings)}" if settings else "")
                + variant)

    def computed(self, report):
        """The metric read off ``report``; a missing layer/stage/type is an error here."""
        if self.scope == "total":
            item = dict(report["totals"], mult_adds_share=1.0, params_share=1.0)
        else:
            key = "name" if self.scope == "layer" else ("type" if self.scope == "type" else self.scope)
            items = report.get(SCOPES[self.scope], [])
            found = [i for i in items if i[key] == self.target]
            if not found:
                known = ", ".join(str(i[key]) for i in items[:40]) or "none"
                raise self.entry.pos["of"].error(f"no {self.scope} {show(self.target)} in the report; "
                                                 f"there are: {known}")
            item = found[0]
        if self.metric not in item and self.metric not in ("flops", "learned_params"):
            raise self.entry.pos["metric"].error(
                f"{self.metric} is not reported for {self.describe()}")
        if self.metric == "flops":
            return 2 * item["mult_adds"]
        if self.metric == "learned_params":  # what model.parameters() counts
            return item["params"] + item["bn_params"]
        if self.metric.endswith("_share"):   # exact: the part's count over the total's
            count = self.metric[:-len("_share")]
            whole = report["totals"][count]
            return Fraction(item[count], whole) if whole else Fraction(0)
        return item[self.metric]


def _scope(entry):
    text = str(entry.get("of", "total"))
    scope, _, target = text.partition(" ")
    if scope not in SCOPES or (scope != "total") != bool(target.strip()):
        raise entry.pos.get("of", entry.at).error(
            f"invalid 'of' {show(text)}: use 'total', 'layer NAME', 'type TYPE', 'stage NAME' "
            f"or 'resolution HxW'")
    return scope, target.strip()


def expectations(spec):
    """The spec's expectations, validated; every bad one is reported at once."""
    found, errors = [], []
    for i, entry in enumerate(spec.expect):
        try:
            found.append(Expectation(spec, entry, spec.expect.pos[i]))
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise SpecErrors(errors)
    return found


