"""Step 5: a report dict to text: table (rich), markdown, csv or json.

Renderers are picked from ``RENDERERS`` by name. Only ``table`` imports rich,
and only when it runs, so the JSON path starts fast.
"""
import csv
import json

UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))
UNIT_NOTE = "K = 10^3, M = 10^6, G = 10^9 (decimal)"
COUNT_NOTE = ("Mult-adds: multiply-accumulates of conv and fc layers; params: their weights + "
              f"biases. {UNIT_NOTE}")


def human(count):
    """12345678 -> '12.35M': decimal units, two decimals (one for K)."""
    for size, suffix in UNITS:
        if abs(count) >= size:
            return f"{count / size:.{1 if suffix == 'K' else 2}f}{suffix}"
    return str(count)


def percent(share):
    return f"{100 * share:.2f}%"


def shape_text(shape):
    return "x".join(str(v) for v in shape)


def title(report):
    c, h, w = report["input"]
    settings = f"alpha {report['alpha']:g}, rho {report['rho']:g}, input {c}x{h}x{w}"
    extra = ", ".join(f"{k}={v}" for k, v in report["params"].items())
    convention = report.get("convention", "paper")
    return f"{report['name']} ({settings}{', ' + extra if extra else ''}; {convention} convention)"


def layer_columns(report):
    """(header, justify, cell function) for the per-layer table."""
    counts = "flops" if "flops" in report["totals"] else "mult_adds"
    return [
        ("Layer", "left", lambda i, r: r["name"]),
        ("Type", "left", lambda i, r: f"{r['type']} {r['kernel']}".rstrip()),
        ("Output", "right", lambda i, r: shape_text(r["output"])),
        ("FLOPs" if counts == "flops" else "Mult-adds", "right", lambda i, r: human(r[counts])),
        ("Params", "right", lambda i, r: human(r["params"])),
        ("MA %", "right", lambda i, r: percent(r["mult_adds_share"])),
    ]


def type_rows(report):
    """The by-type breakdown rows with a headline count, as text cells."""
    return [[g["type"], human(g["mult_adds"]), percent(g["mult_adds_share"]),
             human(g["params"]), percent(g["params_share"])]
            for g in report["by_type"] if g["mult_adds"] or g["params"]]


TYPE_HEADER = ["Type", "Mult-adds", "MA %", "Params", "Params %"]


def summary_lines(report, shown=None):
    """The lines under the tables; ``shown`` is the list of rows the table listed."""
    t = report["totals"]
    lines = [f"Total: {human(t['mult_adds'])} mult-adds ({t['mult_adds']:,}) and "
             f"{human(t['params'])} params ({t['params']:,}: weights + biases)."]
    if "flops" in t:
        lines.append(f"FLOPs = 2 x mult-adds = {human(t['flops'])} ({t['flops']:,}).")
    lines.append(f"Not in the totals: {human(t['bn_params'])} batch norm params; "
                 f"{human(t['other_ops'])} other ops (batch norm, activations, pooling, adds).")
    layers = f"{t['layers']} layers"
    if shown is not None and len(shown) < t["layers"]:
        types = sorted({r["type"] for r in report["layers"] if not (r["mult_adds"] or r["params"])})
        layers += (f"; {t['layers'] - len(shown)} without mult-adds or params are not listed "
                   f"({', '.join(types)}): --all-layers lists them")
    lines.append(layers + ".")
    if "standard_conv" in report:
        replaced = report["standard_conv"]
        lines.append(f"--standard-conv replaced {replaced['replaced_pairs']} depthwise "
                     f"separable pairs.")
        lines += [f"Not replaced: {k['depthwise']}: {k['why']}." for k in replaced["not_replaced"]]
    lines.append(f"Width rule: {report['width_rule']}. {UNIT_NOTE}.")
    return lines


def shown_layers(report, all_layers):
    """The rows the table shows: by default only layers with mult-adds or params."""
    if all_layers:
        return report["layers"]
    return [r for r in report["layers"] if r["mult_adds"] or r["params"]]


def render_table(report, out, all_layers=False):
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    table = Table(title=title(report), title_justify="left", show_footer=True,
                  box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    columns = layer_columns(report)
    t = report["totals"]
    key = "flops" if "flops" in t else "mult_adds"
    footers = {"Layer": "Total", "Mult-adds": human(t[key]), "FLOPs": human(t[key]),
               "Params": human(t["params"]), "MA %": percent(1.0 if t[key] else 0.0)}
    for header, justify, _ in columns:
        table.add_column(header, justify=justify, footer=footers.get(header, ""),
                         overflow="fold", no_wrap=header != "Type")  # names stay whole
    shown = shown_layers(report, all_layers)
    for i, row in enumerate(shown, 1):
        table.add_row(*(cell(i, row) for _, _, cell in columns))
    console.print(table)
    by_type = Table(title="By layer type", title_justify="left", box=box.SIMPLE_HEAD,
                    padding=(0, 1), pad_edge=False)
    for header in TYPE_HEADER:
        by_type.add_column(header, justify="left" if header == "Type" else "right")
    for cells in type_rows(report):
        by_type.add_row(*cells)
    console.print(by_type)
    for line in summary_lines(report, shown):
        console.print(line)


def _md_table(header, rows, right):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report, out, all_layers=False):
    columns = layer_columns(report)
    shown = shown_layers(report, all_layers)
    rows = [[cell(i, r) for _, _, cell in columns] for i, r in enumerate(shown, 1)]
    out.write(f"### {title(report)}\n\n")
    out.write(_md_table([h for h, _, _ in columns], rows, [j == "right" for _, j, _ in columns]))
    out.write("\n\n#### By layer type\n\n")
    out.write(_md_table(TYPE_HEADER, type_rows(report), [False, True, True, True, True]))
    lines = summary_lines(report, shown)
    out.write("\n\n" + "\n".join(line + "  " for line in lines).rstrip() + "\n")


CSV_FIELDS = ("name", "type", "category", "stage", "output", "kernel", "mult_adds", "params",
              "bn_params", "other_ops", "mult_adds_share", "params_share")


def render_csv(report, out, all_layers=True):
    """One row per layer, exact counts; with --flops a flops column, with --explain the
    two formula columns (mult_adds_formula, params_formula)."""
    writer = csv.writer(out, lineterminator="\n")
    fields = CSV_FIELDS + (("flops",) if "flops" in report["totals"] else ())
    explained = "separable_pairs" in report
    writer.writerow(fields + (("mult_adds_formula", "params_formula") if explained else ()))
    for row in report["layers"]:
        cells = [shape_text(row[f]) if f == "output" else row[f] for f in fields]
        if explained:
            cells += [row["explain"].get("mult_adds", ""), row["explain"].get("params", "")]
        writer.writerow(cells)


def render_json(data, out, all_layers=True):
    out.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv,
             "markdown": render_markdown}


# ---------------------------------------------------------------- check results

def in_unit(value, unit):
    """A checked value written in the unit it was printed in: '568.74M', '1.91%'."""
    from .check import SCALE

    if unit == "":
        return f"{round(value):,}" if float(value).is_integer() else f"{value:,.4g}"
    digits = 2 if unit in ("%", "M", "G", "B") else 1
    return f"{value / SCALE[unit]:,.{digits}f}{unit}"


def check_rows(results):
    """Text cells of the check table: Line, What, Documented, Computed, Deviation, OK."""
    rows = []
    for r in results:
        documented = r["printed"]
        if r.get("printed_as") == "truncated":
            documented += " (truncated)"
        elif r["why"]:
            documented += f" -> {in_unit(r['expected'], r['unit'])} *"
        deviation = r["deviation"] / r["expected"] if r["expected"] else 0.0
        rows.append([str(r["line"]), r["what"], documented, in_unit(r["computed"], r["unit"]),
                     f"{100 * deviation:+.2f}%", "ok" if r["passed"] else "FAIL"])
    return rows


CHECK_HEADER = ["Line", "What", "Documented", "Computed", "Dev.", "OK"]


def check_summary(results):
    failed = sum(not r["passed"] for r in results)
    text = f"{len(results) - failed} passed, {failed} failed"
    if any(r["why"] for r in results):
        text += " (* printed value differs for the reason given under 'why' in the spec)"
    return text


def check_table(results, out):
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    by_spec = {}
    for r in results:
        by_spec.setdefault((r["spec"], r["path"]), []).append(r)
    for (spec, path), items in by_spec.items():
        table = Table(title=spec if spec == path else f"{spec} ({path})", title_justify="left")
        for header in CHECK_HEADER:
            table.add_column(header, justify="left" if header in ("What", "Documented", "OK")
                             else "right", overflow="fold")
        for cells in check_rows(items):
            table.add_row(*cells, style=None if cells[-1] == "ok" else "bold red")
        console.print(table)
    console.print(check_summary(results))


def check_json(results, out):
    render_json({"results": results}, out)


def failure_text(r):
    """Why one expectation failed: the documented value (and the value checked in its
    place, for a misprint), its source and the computed value."""
    from .check import SCALE

    text = f"documented {r['printed']}"
    if r["why"]:
        text += f" (checked as {in_unit(r['expected'], r['unit'])}, see 'why')"
    return (f"{text} ({r['source']}), computed {in_unit(r['computed'], r['unit'])} "
            f"(deviation {in_unit(r['deviation'], r['unit'])}, tolerance "
            f"{r['tolerance'] / SCALE[r['unit']]:g}{r['unit']})")


def check_junit(results, out):
    """JUnit XML: one testsuite per spec, one testcase per expectation (file and line
    attributes point at it), a failure element with the reason for each failing one."""
    from xml.sax.saxutils import escape, quoteattr

    failed = sum(not r["passed"] for r in results)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="costcalc check" tests="{len(results)}" failures="{failed}" '
             f'errors="0">']
    by_spec = {}
    for r in results:
        by_spec.setdefault(r["spec"], []).append(r)
    for spec, items in by_spec.items():
        fails = sum(not r["passed"] for r in items)
        lines.append(f'  <testsuite name={quoteattr(spec)} tests="{len(items)}" '
                     f'failures="{fails}" errors="0" skipped="0">')
        for r in items:
            name = quoteattr(f"{r['what']} (line {r['line']})")
            lines.append(f'    <testcase classname={quoteattr(spec)} name={name} '
                         f'file={quoteattr(r["path"])} line="{r["line"]}">')
            if not r["passed"]:
                message = failure_text(r)
                lines.append(f'      <failure message={quoteattr(message)} type="mismatch">'
                             f'{escape(r["path"])}:{r["line"]}: {escape(message)}</failure>')
            lines.append("    </testcase>")
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    out.write("\n".join(lines) + "\n")


def _github_data(text):
    """Escape a workflow-command message (%, CR, LF), as @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
    expectation's line, then the summary line."""
    for r in results:
        if not r["passed"]:
            message = _github_data(f"{r['spec']}: {r['what']}: {failure_text(r)}")
            out.write(f"::error file={_github_property(github_path(r['path']))},"
                      f"line={r['line']}::{message}\n")
    out.write(check_summary(results) + "\n")


CHECK_RENDERERS = {"table": check_table, "json": check_json, "junit": check_junit,
                   "github": check_github}
