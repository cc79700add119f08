"""The results of ``costcalc check`` as a table, JSON, JUnit XML or GitHub annotations
(docs/check.md); picked from ``CHECK_RENDERERS`` by name."""
from costcalc.core.units import PRINTED_UNITS, decimals, in_unit, shortest, signed
from costcalc.output.render import print_lines, print_table, render_json
from costcalc.output.textable import visible


def check_rows(results):
    """Text cells of the check table: Line, What, Documented (as printed), Computed (at
    the printed precision), Tolerance, Deviation (in the printed unit), Verdict."""
    from fractions import Fraction

    rows = []
    for r in results:
        unit, places = r["unit"], decimals(r["printed"])
        documented = r["printed"]
        if r["why"]:  # the value checked in place of a misprint, at its own precision
            checked = in_unit(r["expected"], unit)
            documented += f" -> {checked} *"
            places = decimals(checked)
        finer = places + 2
        if r.get("printed_as") == "truncated":
            tolerance = f"[0, +{shortest(2 * Fraction(r['tolerance']), unit)})"
            above = r["computed"] - Fraction(r["expected"]) + Fraction(r["tolerance"])
            deviation = signed(above, in_unit(above, unit, finer), unit)
        else:
            tolerance = "±" + shortest(r["tolerance"], unit)
            deviation = signed(r["deviation"], in_unit(r["deviation"], unit, finer), unit)
        computed = r["computed"]
        if r.get("printed_as") == "truncated":  # shown as the source would print it
            step = Fraction(PRINTED_UNITS[unit]) / 10**places
            computed = (computed // step) * step
        rows.append([str(r["line"]), visible(r["what"]), visible(documented),
                     in_unit(computed, unit, places), tolerance, deviation,
                     "ok" if r["passed"] else "FAIL"])
    return rows


def check_summary(results):
    """'7 passed, 1 failed', then the specs and the expectations that could not be checked
    ('2 specs not checked', '1 expectation not checked')."""
    from costcalc.analysis.check import WHOLE_SPEC

    checked = [r for r in results if not r["error"]]
    failed = sum(not r["passed"] for r in checked)
    text = f"{len(checked) - failed} passed, {failed} failed"
    specs = len({r["spec"] for r in results if r["error"] and r["what"] == WHOLE_SPEC})
    expectations = len({(r["spec"], r["line"]) for r in results
                        if r["error"] and r["what"] != WHOLE_SPEC})
    for count, what in ((specs, "spec"), (expectations, "expectation")):
        if count:
            text += f", {count} {what}{'s' if count > 1 else ''} not checked"
    if any(r["why"] for r in results):
        text += " (* printed value differs for the reason given under 'why' in the spec)"
    return text


def shown_path(spec, path):
    """Where a checked spec is, for the reader: relative to the current folder, or its
    name if it lies outside (a shipped spec); control characters escaped."""
    import os

    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        relative = path
    if relative.startswith(".."):
        return visible(spec if spec != path else path)
    return visible(relative if spec in (path, relative) else f"{spec} ({relative})")


def error_where(r):
    """'PATH:LINE:COL' of an error row (the path as shown_path writes it)."""
    where = shown_path(r["spec"], r["path"]) if r["path"] == r["spec"] else \
        shown_path(r["path"], r["path"])
    return where + (f":{r['line']}:{r['col']}" if r["line"] else "")


def check_table(results, out):
    """One table per checked spec, then one of the problems (specs or expectations not
    checked: where, what), then the summary."""
    from costcalc.output.textable import Column, styled, width, wrap

    room, style = width(), styled(out)
    columns = [Column("Line"), Column("What", right=False, wrap=True, least=16),
               Column("Documented", right=False, wrap=True), Column("Computed"),
               Column("Tolerance", keep=2), Column("Deviation", keep=1),
               Column("Verdict", right=False)]
    by_spec = {}
    for r in results:
        if not r["error"]:
            by_spec.setdefault((r["spec"], r["path"]), []).append(r)
    for (spec, path), items in by_spec.items():
        print_table(out, columns, check_rows(items), room, style, shown_path(spec, path),
                    marked={i for i, r in enumerate(items) if not r["passed"]},
                    shows="--format json")
    errors = [r for r in results if r["error"]]
    if errors:
        print_table(out, [Column("Where", right=False, wrap=True, least=12),
                          Column("Error (not checked)", right=False, wrap=True, least=16)],
                    [[error_where(r), visible(r["error"])] for r in errors], room, style,
                    marked=set(range(len(errors))))
    print_lines(out, wrap(check_summary(results), room))


def check_json(results, out):
    render_json({"results": results}, out)


def failure_text(r):
    """Why one expectation failed: the documented value (and the value checked in its
    place, for a misprint), its source and the computed value."""
    text = f"documented {r['printed']}"
    if r["why"]:
        text += f" (checked as {in_unit(r['expected'], r['unit'])}, see 'why')"
    return (f"{text} ({r['source']}), computed {in_unit(r['computed'], r['unit'])} "
            f"(deviation {in_unit(r['deviation'], r['unit'])}, tolerance "
            f"{shortest(r['tolerance'], r['unit'])})")


def check_junit(results, out):
    """JUnit XML: one testsuite per spec, one testcase per expectation (file and line
    attributes point at it), a failure element with the reason for each failing one, an
    error element for each problem that kept a spec or an expectation from being checked.
    Text goes through textable.visible: every character XML 1.0 forbids (control characters,
    lone surrogates, U+FFFE, U+FFFF) is unprintable, so it is written as an escape."""
    from xml.sax.saxutils import escape, quoteattr

    def attr(text):
        return quoteattr(visible(text))

    def counts(items):
        errors = sum(bool(r["error"]) for r in items)
        return (f'tests="{len(items)}" failures="{sum(not r["passed"] for r in items) - errors}" '
                f'errors="{errors}"')

    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="costcalc check" {counts(results)}>']
    by_spec = {}
    for r in results:
        by_spec.setdefault(r["spec"], []).append(r)
    for spec, items in by_spec.items():
        lines.append(f'  <testsuite name={attr(spec)} {counts(items)} skipped="0">')
        for r in items:
            name = attr(f"{r['what']} (line {r['line']})")
            lines.append(f'    <testcase classname={attr(spec)} name={name} '
                         f'file={attr(r["path"])} line="{r["line"]}">')
            if r["error"]:
                lines.append(f'      <error message={attr(r["error"])} type="SpecError">'
                             f'{escape(visible(error_where(r)))}: error: '
                             f'{escape(visible(r["error"]))}</error>')
            elif not r["passed"]:
                message = failure_text(r)
                lines.append(f'      <failure message={attr(message)} type="mismatch">'
                             f'{escape(visible(r["path"]))}:{r["line"]}: '
                             f'{escape(visible(message))}</failure>')
            lines.append("    </testcase>")
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    out.write("\n".join(lines) + "\n")


def _github_data(text):
    """Escape a workflow-command message (%, CR, LF), as @actions/core does; other control
    characters are written as escapes (textable.visible), never raw."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return visible(text)


def _github_property(text):
    """Escape a workflow-command property value (also ':' and ',')."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_path(path):
    """The path as GitHub wants it in an annotation: relative to the working directory
    (the checkout, in a workflow) when the file lies under it."""
    import os

    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative.replace(os.sep, "/")


def check_github(results, out):
    """GitHub Actions workflow commands: one ::error per failing expectation, at the
    expectation's line, and one per problem that kept a spec or an expectation from being
    checked, at its line and column; then the summary line."""
    for r in results:
        where = f"file={_github_property(github_path(r['path']))}"
        if r["error"]:
            if r["line"]:
                where += f",line={r['line']},col={r['col']}"
            out.write(f"::error {where}::{_github_data(r['error'])}\n")
        elif not r["passed"]:
            message = _github_data(f"{r['spec']}: {r['what']}: {failure_text(r)}")
            out.write(f"::error {where},line={r['line']}::{message}\n")
    out.write(check_summary(results) + "\n")


CHECK_RENDERERS = {"table": check_table, "json": check_json, "junit": check_junit,
                   "github": check_github}
