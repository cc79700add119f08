"""Documented numbers: the ``expect`` section of a spec, recomputed and compared.

Each expectation names a metric of a part of the network at some settings,
the value as printed in its source, a tolerance (by default half a unit of the
last printed digit, so "4.2M" means 4.15M to 4.25M) and the source. Where a
printed value is a misprint, ``expected`` holds the value that is checked and
``why`` says why; the printed value stays beside it. See docs/check.md.
"""
import os
from fractions import Fraction

from costcalc.analysis import pipeline
from costcalc.core.errors import SpecError, SpecErrors
from costcalc.core.limits import LIMITS
from costcalc.lang.expectations import MEMORY_KEYS

PROGRESS_FROM = 10     # spec files from which progress is reported (the shipped ones: ~3 s)
WHOLE_SPEC = "the spec"   # the 'what' of a problem that keeps a whole spec from being checked


def run(spec, label):
    """Check every expectation of ``spec``; return the result dicts (contract keys). An
    expectation that cannot be computed is an error row; the others are still checked."""
    reports, results = {}, []
    found = spec.expectations   # validated with the spec
    if not found:  # a check of nothing is likely a mistake (docs/check.md)
        pos = spec.tree.key_pos.get("expect", spec.tree.at)
        return error_rows(label, pos.error(
            "nothing to check: the spec has no 'expect' entries (docs/check.md)"))
    for exp in found:
        key = exp.settings_key()
        try:
            if key not in reports:
                target = spec.with_variant(exp.variant) if exp.variant else spec
                reports[key] = pipeline.run(target, options(exp), label)[1]
            computed = exp.computed(reports[key])
        except SpecError as exc:  # an unplaced settings problem belongs to the expectation
            results += error_rows(label, exc.at(exp.pos), exp.describe())
            continue
        results.append(_row(label, spec.path, exp.pos, exp.describe(), {
            "printed": exp.printed.text,
            "unit": exp.expected.unit,
            "printed_as": exp.printed_as,
            "expected": _plain(exp.center),
            "computed": _plain(computed),
            "deviation": _plain(computed - exp.center),
            "tolerance": _plain(exp.tolerance),
            "passed": exp.holds(computed),
            "source": exp.entry["source"],
            "why": exp.entry.get("why", ""),
        }))
    return results


def options(exp):
    """The pipeline's options of an expectation: its settings, convention and memory
    options."""
    s = exp.settings
    return pipeline.Options(alpha=s.alpha, rho=s.rho, resolution=s.resolution,
                            overrides=s.overrides, standard_conv=s.standard_conv,
                            convention=exp.convention,
                            **dict(zip(MEMORY_KEYS, exp.memory_key())))


def _plain(value):
    """An exact value as JSON takes it: an integer when whole (exact past 2^53), else a
    float (shares, half units)."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else float(value)


def _row(label, path, pos, what, fields):
    """One result row, every row with the same keys (docs/check.md)."""
    row = {"spec": label, "path": path, "line": pos.line, "col": pos.col, "what": what,
           "printed": None, "unit": "", "printed_as": "rounded", "expected": None,
           "computed": None, "deviation": None, "tolerance": None, "passed": False,
           "source": "", "why": "", "error": None}
    row.update(fields)
    return row


def error_rows(label, exc, what=WHOLE_SPEC):
    """The rows of a spec (or an expectation) that could not be checked: one per problem,
    at most LIMITS['errors_per_file'] and then one that counts the rest."""
    from costcalc.core.errors import Pos

    errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
    rows = [_row(label, e.path or label, e, what, {"error": e.message})
            for e in errors[:LIMITS["errors_per_file"]]]
    if len(errors) > LIMITS["errors_per_file"]:
        rest = len(errors) - LIMITS["errors_per_file"]
        rows.append(_row(label, rows[0]["path"], Pos(rows[0]["path"], 0, 0), what, {
            "error": f"{rest} more problem{'s' if rest > 1 else ''} in this file "
                     f"(costcalc {label} reports them all)"}))
    return rows


def spec_files(paths):
    """The spec files and names to check: each path, a folder meaning its *.yaml and *.yml
    files (sorted), and an unlistable folder an error row. Returns (targets, rows)."""
    targets, rows = [], []
    for path in paths:
        if os.path.isdir(path):
            try:
                listed = os.listdir(path)
            except OSError as exc:
                rows += error_rows(path, SpecError(f"cannot list the folder: {exc.strerror}",
                                                   path))
                continue
            targets += sorted(os.path.join(path, f) for f in listed
                              if f.endswith((".yaml", ".yml")))
        else:
            targets.append(path)
    return targets, rows


def check_all(paths, progress=None):
    """Every spec of ``paths`` checked, each on its own: a spec that cannot be read or is
    malformed gives error rows and the others are still checked. Returns the rows. With
    PROGRESS_FROM spec files or more, ``progress(done, total)`` (spec files), if given, is
    called with 0 and after each one."""
    from costcalc.lang import shipped

    targets, results = spec_files(paths)
    if not targets and not results:
        if len(paths) == 1:
            raise SpecError("no spec files (*.yaml, *.yml) to check", paths[0])
        raise SpecError(f"no spec files (*.yaml, *.yml) to check in {', '.join(paths)}",
                        "costcalc")
    report = progress if len(targets) >= PROGRESS_FROM else None
    for done, target in enumerate(targets):
        if report:
            report(done, len(targets))
        try:
            spec = shipped.load(target)
        except SpecError as exc:
            results += error_rows(target, exc)
            continue
        results += run(spec, target)
    if report:
        report(len(targets), len(targets))
    return results


def status(results):
    """The exit status: 2 if any spec or expectation could not be checked (the results are
    incomplete), else 1 if any failed, else 0."""
    if any(r["error"] for r in results):
        return 2
    return 0 if all(r["passed"] for r in results) else 1
