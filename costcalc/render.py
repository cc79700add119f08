"""Step 5: a report dict to text: table (rich), markdown, csv or json.

Renderers are picked from ``RENDERERS`` by name. Only ``table`` imports rich,
and only when it runs, so the JSON path starts fast.
"""
import csv
import io
import json

UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))
UNIT_NOTE = "K = 10^3, M = 10^6, G = 10^9 (decimal)"


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
    return f"{report['name']} ({settings}{', ' + extra if extra else ''})"


def layer_columns(report):
    """(header, justify, cell function) for the per-layer table."""
    counts = "flops" if "flops" in report["totals"] else "mult_adds"
    return [
        ("Layer", "left", lambda i, r: r["name"]),
        ("Type", "left", lambda i, r: r["type"]),
        ("Output", "right", lambda i, r: shape_text(r["output"])),
        ("Kernel", "left", lambda i, r: r["kernel"]),
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

    console = Console(file=out, highlight=False)
    table = Table(title=title(report), title_justify="left", show_footer=True,
                  box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    columns = layer_columns(report)
    t = report["totals"]
    key = "flops" if "flops" in t else "mult_adds"
    footers = {"Layer": "Total", "Mult-adds": human(t[key]), "FLOPs": human(t[key]),
               "Params": human(t["params"]), "MA %": percent(1.0 if t[key] else 0.0)}
    for header, justify, _ in columns:
        table.add_column(header, justify=justify, footer=footers.get(header, ""),
                         overflow="fold")
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    fields = CSV_FIELDS + (("flops",) if "flops" in report["totals"] else ())
    writer.writerow(fields)
    for row in report["layers"]:
        writer.writerow([shape_text(row[f]) if f == "output" else row[f] for f in fields])
    out.write(buffer.getvalue())


def render_json(data, out, all_layers=True):
    out.write(json.dumps(data, indent=2) + "\n")


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
        if r["why"]:
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

    console = Console(file=out, highlight=False)
    by_spec = {}
    for r in results:
        by_spec.setdefault((r["spec"], r["path"]), []).append(r)
    for (spec, path), items in by_spec.items():
        table = Table(title=f"{spec} ({path})", title_justify="left")
        for header in CHECK_HEADER:
            table.add_column(header, justify="left" if header in ("What", "Documented", "OK")
                             else "right", overflow="fold")
        for cells in check_rows(items):
            table.add_row(*cells, style=None if cells[-1] == "ok" else "bold red")
        console.print(table)
    console.print(check_summary(results), soft_wrap=True)


def check_json(results, out):
    render_json({"results": results}, out)


def check_junit(results, out):
    from xml.sax.saxutils import quoteattr

    failed = sum(not r["passed"] for r in results)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="costcalc check" tests="{len(results)}" failures="{failed}">']
    by_spec = {}
    for r in results:
        by_spec.setdefault(r["spec"], []).append(r)
    for spec, items in by_spec.items():
        fails = sum(not r["passed"] for r in items)
        lines.append(f'  <testsuite name={quoteattr(spec)} tests="{len(items)}" '
                     f'failures="{fails}">')
        for r in items:
            name = quoteattr(f"{r['what']} (line {r['line']})")
            lines.append(f'    <testcase classname={quoteattr(spec)} name={name} '
                         f'file={quoteattr(r["path"])} line="{r["line"]}">')
            if not r["passed"]:
                message = quoteattr(f"documented {r['printed']} ({r['source']}), computed "
                                    f"{in_unit(r['computed'], r['unit'])}")
                lines.append(f"      <failure message={message}/>")
            lines.append("    </testcase>")
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    out.write("\n".join(lines) + "\n")


def check_github(results, out):
    """GitHub Actions workflow commands: one ::error per failing expectation."""
    for r in results:
        if not r["passed"]:
            out.write(f"::error file={r['path']},line={r['line']}::{r['spec']}: {r['what']}: "
                      f"documented {r['printed']} ({r['source']}), computed "
                      f"{in_unit(r['computed'], r['unit'])}\n")
    out.write(check_summary(results) + "\n")


CHECK_RENDERERS = {"table": check_table, "json": check_json, "junit": check_junit,
                   "github": check_github}
