"""``costcalc compare``: several architectures, or one at several settings, side by side.

Each column is ``SPEC`` or ``SPEC@SETTINGS`` (docs/compare.md): after the last
``@``, comma-separated ``alpha=A``, ``rho=R``, ``resolution=N`` and any other
``NAME=VALUE``, a ``--set`` of that spec's parameter. The command's own
``--alpha/--rho/--resolution/--set`` apply to every column unless the column
says otherwise. Each column is analysed exactly as ``costcalc SPEC`` would be
(``report.make_report``); this module only lines the reports up and renders
them: table (rich), markdown, csv, json (``{"reports": [report, ...]}``).
"""
import csv
import os

import click

from .report import COUNTS
from .render import COUNT_NOTE, _md_table, human, percent, render_json, shape_text

MULTIPLIER_KEYS = ("alpha", "rho", "resolution")
SECTIONS = ("type", "stage", "resolution")
SECTION_TITLES = {"type": "layer type", "stage": "stage", "resolution": "output size"}
SECTION_KEYS = {"type": ("by_type", "type"), "stage": ("by_stage", "stage"),
                "resolution": ("by_resolution", "resolution")}
MISSING = "-"


def _bad(message):
    return click.BadParameter(message, param_hint="'SPEC...'")


class Column:
    """One column as the user wrote it: the spec and its own settings."""

    def __init__(self, text, spec, alpha=None, rho=None, resolution=None, sets=None,
                 convention=None):
        self.text, self.spec = text, spec
        self.alpha, self.rho, self.resolution = alpha, rho, resolution
        self.convention = convention
        self.sets = dict(sets or {})


def parse_column(text):
    """'mobilenet@alpha=0.5,rho=0.714' -> Column; a bad one raises click.BadParameter.

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
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise _bad(f"{text!r}: {name} must be a positive number, not {value!r}")
    return number


def _side(text, value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise _bad(f"{text!r}: resolution must be a positive whole number of pixels, "
                   f"not {value!r}")
    return number


def run(texts, alpha=1.0, rho=1.0, resolution=None, overrides=None, convention="paper"):
    """Analyse every column; return [(label, report)], reports as ``costcalc SPEC`` makes them.

    ``overrides`` (the global --set) go to every column whose spec declares the
    parameter; one that no spec declares is an error. A column's own settings
    win over the global ones; its ``rho=`` also drops a global --resolution.
    """
    from .conventions import get as get_convention
    from .graph import Settings, build
    from .report import make_report
    from .shipped import load

    columns = [parse_column(text) for text in texts]
    specs = {}
    for column in columns:
        if column.spec not in specs:
            specs[column.spec] = load(column.spec)
    overrides = dict(overrides or {})
    for name in overrides:
        if not any(name in spec.params for spec in specs.values()):
            raise click.BadParameter(f"none of the compared specs declares a parameter "
                                     f"{name!r}", param_hint="'--set'")
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
        elif column.resolution is not None:
            col_resolution = column.resolution
        settings = Settings(column.alpha if column.alpha is not None else alpha,
                            col_rho, col_resolution, sets)
        counted_as = column.convention or convention
        get_convention(counted_as)
        report = make_report(build(spec, settings), column.spec, convention=counted_as)
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


# ---------------------------------------------------------------- the rows

def chosen_sections(results, sections=()):
    """The breakdowns to show: as asked, else by type, then by stage where a spec
    names stages, else by output size if every column has the same input size
    (otherwise the output sizes of the columns would not line up)."""
    if sections:
        return [s for s in SECTIONS if s in sections]
    if any("by_stage" in report for _, report in results):
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
    list_key, name_key = SECTION_KEYS[section]
    keys, by_column = [], []
    for _, report in results:
        groups = {g[name_key]: g for g in report.get(list_key, [])}
        by_column.append(groups)
        for key, group in groups.items():
            if key not in keys and any(group[count] for count in counts):
                keys.append(key)
    return [(key, [groups.get(key) for groups in by_column]) for key in keys]


def text_sections(results, sections):
    """[(title, [[label, cell, ...], ...])]: the table's sections as text cells."""
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
            rows = [[str(key) or "(no stage)"]
                    + [MISSING if g is None else
                       f"{human(g[count])} {percent(g[count + '_share'])}" for g in column]
                    for key, column in groups]
            out.append((f"{title} by {SECTION_TITLES[section]}", rows))
    return out


def notes(results):
    first = results[0][0]
    return [f"Ratios are to the first column ({first}); cells of breakdowns: count and "
            f"share of that column's total.",
            COUNT_NOTE]


# ---------------------------------------------------------------- renderers

def column_widths(header, sections, available):
    """Widths shared by every section's table, so their columns line up: each column
    as wide as its longest cell (and header, where room allows); if that is wider
    than ``available``, the widest value columns are narrowed, down to their longest
    word (their cells wrap between count and share)."""
    label = max(len(cells[0]) for _, rows in sections for cells in rows)
    values, floors = [], []
    for j, name in enumerate(header[1:], 1):
        cells = [cells[j] for _, rows in sections for cells in rows]
        values.append(max([len(c) for c in cells] + [len(w) for w in name.split()]))
        floors.append(max(len(word) for c in cells for word in c.split()))
    overhead = 2 + 3 * len(values)  # table edges, column dividers, padding
    room = available - overhead - label
    if sum(values) > room:  # narrow the widest first, never splitting a number
        while sum(values) > room:
            shrinkable = [j for j, w in enumerate(values) if w > floors[j]]
            if not shrinkable:
                break
            j = max(shrinkable, key=lambda k: values[k])
            values[j] -= 1
    else:  # spare room: let headers stay on one line where they can
        for j, name in enumerate(header[1:]):
            extra = min(len(name) - values[j], room - sum(values))
            if extra > 0:
                values[j] += extra
    return [label] + values


def render_table(results, out, sections=()):
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, markup=False, emoji=False)
    header = [""] + [name for name, _ in results]
    parts = text_sections(results, chosen_sections(results, sections))
    widths = column_widths(header, parts, console.width)
    for index, (title, rows) in enumerate(parts):
        table = Table(title="Side by side" if index == 0 else title, title_justify="left",
                      box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                      show_header=index == 0)
        for j, (name, width) in enumerate(zip(header, widths)):
            table.add_column(name, justify="left" if j == 0 else "right", width=width,
                             overflow="fold")
        for cells in rows:
            table.add_row(*cells)
        console.print(table)
    for line in notes(results):
        console.print(line)


def render_markdown(results, out, sections=()):
    header = [""] + [name for name, _ in results]
    right = [False] + [True] * len(results)
    out.write("### Side by side\n")
    for title, rows in text_sections(results, chosen_sections(results, sections)):
        out.write(f"\n#### {title}\n\n{_md_table(header, rows, right)}\n")
    out.write("\n" + "\n".join(line + "  " for line in notes(results)).rstrip() + "\n")


def render_csv(results, out, sections=()):
    """Wide, exact: section,item,measure, then one column per spec (its label)."""
    reports = [report for _, report in results]
    writer = csv.writer(out, lineterminator="\n")
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
