"""``costcalc sweep``'s output: the points of analysis.sweep.run as a table (plain text),
markdown, csv or json (``{"points": [...]}``), docs/sweep.md."""
from costcalc.core.units import human
from costcalc.output.render import CsvWriter, count_notes, md_lines, md_text, _md_table, render_json


# ---------------------------------------------------------------- text

def _axis_values(sweep):
    """The distinct (alpha) rows and (rho, resolution) columns, in the order given."""
    alphas, columns = [], []
    for p in sweep["points"]:
        if p["alpha"] not in alphas:
            alphas.append(p["alpha"])
        if (p["rho"], p["resolution"]) not in columns:
            columns.append((p["rho"], p["resolution"]))
    return alphas, columns


def _column_header(sweep, rho, side, sep):
    return f"rho {rho:g}{sep}{side}px" if sweep["axis"] == "rho" else f"{side}px"


def _params_vary(sweep):
    by_alpha = {}
    for p in sweep["points"]:
        by_alpha.setdefault(p["alpha"], set()).add(p["params"])
    return any(len(values) > 1 for values in by_alpha.values())


def grid_tables(sweep, sep="\n"):
    """[(title, header, rows)]: mult-adds as rows alpha x columns rho, and the params,
    as one column when they do not depend on the resolution, else a second grid."""
    alphas, columns = _axis_values(sweep)
    cell = {(p["alpha"], p["rho"], p["resolution"]): p for p in sweep["points"]}
    headers = [_column_header(sweep, rho, side, sep) for rho, side in columns]
    vary = _params_vary(sweep)
    ma_header = ["Alpha"] + headers + ([] if vary else ["Params"])
    ma_rows = []
    for alpha in alphas:
        row = [f"{alpha:g}"]
        row += [human(cell[(alpha, rho, side)]["mult_adds"]) if (alpha, rho, side) in cell
                else "-" for rho, side in columns]
        if not vary:
            point = next(p for p in sweep["points"] if p["alpha"] == alpha)
            row.append(human(point["params"]))
        ma_rows.append(row)
    counted = "" if sweep.get("convention", "paper") == "paper" else \
        f" ({sweep['convention']} convention)"
    tables = [(f"{sweep['name']}: mult-adds" + ("" if vary else " and params") + counted,
               ma_header, ma_rows)]
    if vary:
        rows = [[f"{alpha:g}"] + [human(cell[(alpha, rho, side)]["params"])
                                  if (alpha, rho, side) in cell else "-"
                                  for rho, side in columns] for alpha in alphas]
        tables.append((f"{sweep['name']}: params{counted}", ["Alpha"] + headers, rows))
    return tables


def split_columns(title, header, rows, available):
    """A grid too wide for ``available`` columns as several tables, each with the first
    (alpha) column and as many of the others as fit: [(title, header, rows)]."""
    widths = [max([len(line) for line in name.split("\n")] + [len(row[j]) for row in rows])
              for j, name in enumerate(header)]
    parts, current = [], []
    for j in range(1, len(header)):
        if current and widths[0] + sum(2 + widths[k] for k in current + [j]) > available:
            parts.append(current)
            current = []
        current.append(j)
    parts.append(current)
    if len(parts) > 1 and len(parts[-1]) == 1 and len(parts[-2]) > 1:
        parts[-1].insert(0, parts[-2].pop())  # not a lone last column (such as Params)
    if len(parts) == 1:
        return [(title, header, rows)]
    return [(f"{title} ({n} of {len(parts)})", [header[0]] + [header[j] for j in part],
             [[row[0]] + [row[j] for j in part] for row in rows])
            for n, part in enumerate(parts, 1)]


LONG_HEADER = ["Alpha", "Rho", "Input", "Mult-adds", "Params", "Mult-adds (exact)",
               "Params (exact)"]


def long_rows(sweep):
    return [[f"{p['alpha']:g}", f"{p['rho']:.4g}", f"{p['resolution']}px",
             human(p["mult_adds"]), human(p["params"]), f"{p['mult_adds']:,}",
             f"{p['params']:,}"] for p in sweep["points"]]


def notes(sweep):
    lines = []
    if not _params_vary(sweep):
        lines.append("Params do not change with the resolution here.")
    lines += count_notes([sweep.get("convention", "paper")])
    return lines


def render_table(sweep, out, layout="grid"):
    """Each grid (or the long list) as a plain table that fits the terminal: a grid too
    wide is split into several tables; the long layout drops its exact columns first."""
    from costcalc.output.textable import Column, styled, titled, width, wrap

    room, style = width(), styled(out)
    if layout == "long":
        tables = [(f"{sweep['name']}: mult-adds and params", LONG_HEADER, long_rows(sweep))]
    else:
        tables = [part for table in grid_tables(sweep) for part in
                  split_columns(*table, room)]
    text = []
    for title, header, rows in tables:
        columns = [Column(name, right=i > 0, keep=1 if "exact" in name else None)
                   for i, name in enumerate(header)]
        text += titled(columns, rows, room, title, style=style) + [""]
    for line in notes(sweep):
        text += wrap(line, room)
    out.write("".join(line + "\n" for line in text))


def render_markdown(sweep, out, layout="grid"):
    if layout == "long":
        tables = [(f"{sweep['name']}: mult-adds and params", LONG_HEADER, long_rows(sweep))]
    else:
        tables = grid_tables(sweep, sep=" ")
    parts = [f"### {md_text(title)}\n\n{_md_table(header, rows, [i > 0 for i in range(len(header))])}"
             for title, header, rows in tables]
    out.write("\n\n".join(parts) + "\n\n" + md_lines(notes(sweep)))


CSV_FIELDS = ("alpha", "rho", "resolution", "mult_adds", "params")


def render_csv(sweep, out, layout="grid"):
    """Always one row per point, exact counts."""
    writer = CsvWriter(out)
    writer.writerow(CSV_FIELDS)
    for p in sweep["points"]:
        writer.writerow([p[f] for f in CSV_FIELDS])


def render_json_points(sweep, out, layout="grid"):
    render_json({"name": sweep["name"], "spec": sweep["spec"],
                 "convention": sweep.get("convention", "paper"), "points": sweep["points"]}, out)


RENDERERS = {"table": render_table, "json": render_json_points, "csv": render_csv,
             "markdown": render_markdown}
