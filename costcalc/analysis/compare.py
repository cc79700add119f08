"""``costcalc compare``: several architectures, or one at several settings, side by side.

Each column is ``SPEC`` or ``SPEC@SETTINGS`` (docs/compare.md): after the last
``@``, comma-separated ``alpha=A``, ``rho=R``, ``resolution=N`` and any other
``NAME=VALUE``, a ``--set`` of that spec's parameter. The command's own
``--alpha/--rho/--resolution/--set`` apply to every column unless the column
says otherwise. Each column is analysed exactly as ``costcalc SPEC`` would be
(``report.make_report``); this module only lines the reports up (output/compare.py
renders them).
"""
import os

from costcalc.analysis import pipeline
from costcalc.core.errors import bad_value
from costcalc.core.model import setting_from_text


def _bad(message):
    return bad_value("'SPEC...'", message)


class Column:
    """One column as the user wrote it: the spec and its own settings."""

    def __init__(self, text, spec, alpha=None, rho=None, resolution=None, sets=None,
                 convention=None):
        self.text, self.spec = text, spec
        self.alpha, self.rho, self.resolution = alpha, rho, resolution
        self.convention = convention
        self.sets = dict(sets or {})


def parse_column(text):
    """'mobilenet@alpha=0.5,rho=0.714' -> Column; a bad one raises a SpecError.

    An argument that names an existing file is a spec without settings, whatever
    it contains; otherwise the settings follow the last '@'.
    """
    if "@" not in text or os.path.isfile(text):
        if not text.strip():
            raise _bad("an empty spec name")
        return Column(text, text)
    spec, _, settings = text.rpartition("@")
    if not spec.strip():
        raise _bad(f"{text!r}: no spec before '@'")
    if not settings.strip():
        raise _bad(f"{text!r}: nothing after '@' (expected NAME=VALUE, ...)")
    column = Column(text, spec)
    seen = set()
    for item in settings.split(","):
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not name or not value:
            raise _bad(f"{text!r}: expected NAME=VALUE after '@', got {item.strip()!r}")
        if name in seen:
            raise _bad(f"{text!r}: {name} is given twice")
        seen.add(name)
        if name in ("alpha", "rho"):
            setattr(column, name, _positive(text, name, value))
        elif name == "resolution":
            column.resolution = _side(text, value)
        elif name == "convention":
            column.convention = value
        else:
            column.sets[name] = value
    return column


def _positive(text, name, value):
    number = setting_from_text(value)
    if number is None:
        raise _bad(f"{text!r}: {name} must be a positive number, not {value!r}")
    return number


def _side(text, value):
    number = setting_from_text(value, integer=True)
    if number is None:
        raise _bad(f"{text!r}: resolution must be a positive whole number of pixels, "
                   f"not {value!r}")
    return number


def run(texts, alpha=1.0, rho=1.0, resolution=None, overrides=None, convention="paper"):
    """Analyse every column; return [(label, report)], reports as ``costcalc SPEC`` makes them.

    ``overrides`` (the global --set) go to every column whose spec declares the
    parameter; one that no spec declares is an error. A column's own settings
    win over the global ones; its ``rho=`` also drops a global --resolution, its
    ``resolution=`` a global --rho.
    """
    from costcalc.lang.shipped import load

    columns = [parse_column(text) for text in texts]
    specs = {}
    for column in columns:
        if column.spec not in specs:
            specs[column.spec] = load(column.spec)
    overrides = dict(overrides or {})
    for name in overrides:
        if not any(name in spec.params for spec in specs.values()):
            raise bad_value("'--set'", f"none of the compared specs declares a parameter "
                                       f"{name!r}")
    results = []
    for column in columns:
        spec = specs[column.spec]
        for name in column.sets:
            if name not in spec.params:
                raise _bad(f"{column.text!r}: {spec.name} declares no parameter {name!r} "
                           f"(declared: {', '.join(spec.params) or 'none'}); after '@' "
                           f"come alpha=, rho=, resolution= and declared parameters")
        sets = {k: v for k, v in overrides.items() if k in spec.params}
        sets.update(column.sets)
        col_rho, col_resolution = rho, resolution
        if column.rho is not None:
            col_rho, col_resolution = column.rho, column.resolution
        elif column.resolution is not None:   # and drops a global --rho
            col_rho, col_resolution = 1.0, column.resolution
        options = pipeline.Options(
            alpha=column.alpha if column.alpha is not None else alpha, rho=col_rho,
            resolution=col_resolution, overrides=sets,
            convention=column.convention or convention)
        report = pipeline.run(spec, options, column.spec)[1]
        results.append([label(spec, report, sets), report])
    _unique_labels(results)
    return results


def label(spec, report, overrides=()):
    """'MobileNet', 'MobileNet a0.5 160px', 'ShuffleNet groups=8': the name and the
    settings that differ from the spec's defaults (of the parameters, those set)."""
    parts = [report["name"]]
    if report["alpha"] != 1:
        parts.append(f"a{report['alpha']:g}")
    _, h, w = report["input"]
    if (h, w) != tuple(spec.input[1:]):
        parts.append(f"{h}px" if h == w else f"{h}x{w}px")
    defaults = spec.resolve_params({})
    parts += [f"{k}={v}" for k, v in report["params"].items()
              if k in overrides and defaults.get(k) != v]
    if report.get("convention", "paper") != "paper":
        parts.append(f"({report['convention']})")
    return " ".join(parts)


def _unique_labels(results):
    seen = {}
    for item in results:
        count = seen[item[0]] = seen.get(item[0], 0) + 1
        if count > 1:
            item[0] = f"{item[0]} ({count})"
