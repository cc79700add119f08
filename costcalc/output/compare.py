"""``costcalc compare``'s output: the reports of analysis.compare.run side by side as a
table (plain text), markdown, csv or json (``{"reports": [report, ...]}``), docs/compare.md."""
import textwrap

from costcalc.analysis.report import COUNTS
from costcalc.core.breakdowns import BREAKDOWNS
from costcalc.core.units import human, percent
from costcalc.output.render import CsvWriter, _md_table, count_notes, group_name, md_lines, md_text, render_json, shape_text

MISSING = "-"


# ---------------------------------------------------------------- the rows

def chosen_sections(results, sections=()):
    """The breakdowns to show: as asked, else by type, then by stage where a spec
    names stages, else by output size if every column has the same input size
    (otherwise the output sizes of the columns would not line up)."""
    if sections:
        return [s for s in BREAKDOWNS if s in sections]
    if any(BREAKDOWNS["stage"].key in report for _, report in results):
        return ["type", "stage"]
    if len({tuple(report["input"]) for _, report in results}) == 1:
        return ["type", "resolution"]
    return ["type"]


def _ratio(value, first):
    return value / first if first else None


def _ratio_text(ratio):
    return MISSING if ratio is None else f"{ratio:.3f}x"


def _groups(results, section, counts=("mult_adds", "params")):
    """[(key, [group or None per column])], keys in first-appearance order, only those
    with one of ``counts`` not zero in some column."""
    b = BREAKDOWNS[section]
    keys, by_column = [], []
    for _, report in results:
        groups = {g[b.name]: g for g in report.get(b.key, [])}
        by_column.append(groups)
        for key, group in groups.items():
            if key not in keys and any(group[count] for count in counts):
                keys.append(key)
    return [(key, [groups.get(key) for groups in by_column]) for key in keys]


def text_sections(results, sections, shares=True):
    """[(title, [[label, cell, ...], ...])]: the table's sections as text cells (the cells of
    breakdowns: count and share of the column's total, or the count alone)."""
    reports = [report for _, report in results]
    first = reports[0]["totals"]
    totals = [
        ["Input"] + [shape_text(r["input"]) for r in reports],
        ["Mult-adds"] + [human(r["totals"]["mult_adds"]) for r in reports],
        ["Params"] + [human(r["totals"]["params"]) for r in reports],
        ["Mult-adds ratio"] + [_ratio_text(_ratio(r["totals"]["mult_adds"], first["mult_adds"]))
                               for r in reports],
        ["Params ratio"] + [_ratio_text(_ratio(r["totals"]["params"], first["params"]))
                            for r in reports],
    ]
    out = [("Totals", totals)]
    for section in sections:
        for count, title in (("mult_adds", "Mult-adds"), ("params", "Params")):
            groups = _groups(results, section, (count,))
            if not groups:
                continue
            rows = [[group_name(key)]
                    + [MISSING if g is None else
                       human(g[count]) + (f" {percent(g[count + '_share'])}" if shares else "")
                       for g in column]
                    for key, column in groups]
            out.append((f"{title} by {BREAKDOWNS[section].title}", rows))
    return out


def notes(results):
    first = results[0][0]
    return [f"Ratios are to the first column ({first}); cells of breakdowns: count and "
            f"share of that column's total."] + count_notes(r["convention"] for _, r in results)


# ---------------------------------------------------------------- renderers

def column_widths(names, sections):
    """Widths shared by every section's table, so that their columns line up: the label
    column as its longest cell, each other as its longest cell or header word."""
    label = max(len(cells[0]) for _, rows in sections for cells in rows)
    values = [max([len(cells[j]) for _, rows in sections for cells in rows]
                  + [len(word) for word in header_lines(name, 1)])
              for j, name in enumerate(names, 1)]
    return label, values


def header_lines(name, room):
    """A column's name on lines of ``room`` characters, broken between words or after a
    hyphen, never inside a word ('EfficientNet-' 'b0')."""
    return textwrap.wrap(name, room, break_long_words=False) or [""]


def align_shares(parts):
    """Breakdown cells 'count share' with counts and shares each aligned in their column."""
    cells = [cells for _, rows in parts for cells in rows]
    for j in range(1, len(cells[0])):
        pairs = [c[j].split(" ") for c in cells if " " in c[j]]
        if not pairs:
            continue
        count, share = max(len(p[0]) for p in pairs), max(len(p[1]) for p in pairs)
        for c in cells:
            if " " in c[j]:
                first, second = c[j].split(" ")
                c[j] = f"{first:>{count}} {second:>{share}}"
    return parts


def column_groups(label, values, room, gap):
    """The value columns in groups that fit ``room`` beside the label column (one group
    when they all fit): [[index, ...], ...]."""
    groups, used = [[]], label
    for j, w in enumerate(values):
        if groups[-1] and used + gap + w > room:
            groups.append([])
            used = label
        groups[-1].append(j)
        used += gap + w
    return groups


def layout(results, chosen, room):
    """(sections, label width, value widths, gap, groups, notes): counts with shares and
    two spaces between columns if they fit, else one space, else counts alone, else the
    columns in groups."""
    names = [name for name, _ in results]
    for shares, gap in ((True, 2), (True, 1), (False, 2), (False, 1)):
        parts = align_shares(text_sections(results, chosen, shares))
        label, values = column_widths(names, parts)
        groups = column_groups(label, values, room, gap)
        if len(groups) == 1:
            break
    lines = []
    if not shares:
        lines.append("Breakdowns show counts only: their shares do not fit at this width "
                      "(--format markdown or csv has them).")
    if len(groups) > 1:
        lines.append(f"The {len(names)} columns do not fit at {room} characters: shown in "
                     f"{len(groups)} groups.")
    return parts, label, values, gap, groups, lines


def render_table(results, out, sections=()):
    """Every section as a table with the same column widths; headers wrap between words,
    cells never split; if the breakdowns' count-and-share cells do not fit, the shares are
    left out, and if the columns still do not fit, they are shown in groups (saying so)."""
    from costcalc.output.textable import Column, render, styled, width, wrap

    room, style = width(), styled(out)
    names = [name for name, _ in results]
    parts, label, values, gap, groups, lines = layout(
        results, chosen_sections(results, sections), room)
    text = []
    for n, group in enumerate(groups, 1):
        where = f" (columns {group[0] + 1}-{group[-1] + 1} of {len(names)})" \
            if len(groups) > 1 else ""
        columns = [Column("", right=False)] + [
            Column("\n".join(header_lines(names[j], values[j]))) for j in group]
        for index, (title, rows) in enumerate(parts):
            cells = [[row[0].ljust(label)] + [row[j + 1].rjust(values[j]) for j in group]
                     for row in rows]
            table, _ = render(columns, cells, 10**6, style=style, gap=" " * gap)
            text += wrap(("Side by side" if index == 0 else title) + where, room)
            text += (table if index == 0 else table[table.index(next(
                t for t in table if t.startswith("─"))) + 1:]) + [""]
    for line in lines + notes(results):
        text += wrap(line, room)
    out.write("".join(line + "\n" for line in text))


def render_markdown(results, out, sections=()):
    header = [""] + [name for name, _ in results]
    right = [False] + [True] * len(results)
    out.write("### Side by side\n")
    for title, rows in text_sections(results, chosen_sections(results, sections)):
        out.write(f"\n#### {md_text(title)}\n\n{_md_table(header, rows, right)}\n")
    out.write("\n" + md_lines(notes(results)))


def render_csv(results, out, sections=()):
    """Wide, exact: section,item,measure, then one column per spec (its label)."""
    reports = [report for _, report in results]
    writer = CsvWriter(out)
    writer.writerow(["section", "item", "measure"] + [name for name, _ in results])
    writer.writerow(["setting", "spec", ""] + [r["spec"] for r in reports])
    writer.writerow(["setting", "alpha", ""] + [r["alpha"] for r in reports])
    writer.writerow(["setting", "rho", ""] + [r["rho"] for r in reports])
    writer.writerow(["setting", "input", ""] + [shape_text(r["input"]) for r in reports])
    names = []
    for r in reports:
        names += [k for k in r["params"] if k not in names]
    for name in names:
        writer.writerow(["param", name, ""] + [r["params"].get(name, "") for r in reports])
    first = reports[0]["totals"]
    for count in COUNTS:
        writer.writerow(["total", "", count] + [r["totals"][count] for r in reports])
    for count in ("mult_adds", "params"):
        writer.writerow(["ratio", "", count]
                        + ["" if (x := _ratio(r["totals"][count], first[count])) is None else x
                           for r in reports])
    for section in chosen_sections(results, sections):
        for key, column in _groups(results, section):
            for count in ("mult_adds", "mult_adds_share", "params", "params_share"):
                writer.writerow([section, key, count]
                                + ["" if g is None else g[count] for g in column])


def render_json_reports(results, out, sections=()):
    render_json({"reports": [report for _, report in results]}, out)


RENDERERS = {"table": render_table, "json": render_json_reports, "csv": render_csv,
             "markdown": render_markdown}
