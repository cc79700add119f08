"""``costcalc sweep``: the mult-adds and params of one spec over a grid of multipliers.

The spec is loaded once. Each width multiplier is built once (``graph.build``);
when the spec's expressions never look at the input's size (``resolution``,
``rho``, ``input_height/width``, ``in_height/width``), the graph's layers and
attributes cannot depend on it, so the other resolutions of that row only
re-run each layer's shape and cost formulas on the new input, which is several
times faster and gives the same numbers (tests/test_sweep.py holds the two
against each other). Otherwise, and whenever the re-run fails, every point is
a full build. A value given twice is one point; the points and the work (points x
layers) are limited (``SWEEP_LIMITS``, docs/errors.md); a long sweep shows a rich
progress bar on a terminal's stderr. Output: table (plain text), markdown, csv, json
(``{"points": [...]}``) and, with ``--plot``, a PNG or SVG through matplotlib (an optional extra).
"""
import re
from collections import Counter

import click

from costcalc.core.errors import SpecError
from costcalc.build.graph import LIMITS
from costcalc.layers import ShapeError
from costcalc.analysis.report import count_totals
from costcalc.output.render import UNITS, CsvWriter, count_notes, md_lines, md_text, _md_table, human, render_json

SWEEP_LIMITS = {            # docs/errors.md
    "points": 10_000,                 # distinct points of one sweep
    "layer_results": 5 * 10**6,       # points x layers of the first point's graph
}
PROGRESS_FROM = 500_000    # layer results from which a terminal gets a progress bar (~2 s)
SPATIAL_NAMES = frozenset(("resolution", "rho", "input_height", "input_width", "in_height",
                           "in_width"))
SCANNED_KEYS = ("params", "defaults", "blocks", "layers")
PLOT_FORMATS = ("png", "svg")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ---------------------------------------------------------------- options

def parse_list(values, option, integer=False):
    """('1,0.75', '0.5') -> [1.0, 0.75, 0.5]; anything else raises click.BadParameter."""
    numbers = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            try:
                number = int(item) if integer else float(item)
            except ValueError:
                number = None
            if number is None or not number > 0 or number == float("inf"):
                kind = "a positive whole number" if integer else "a positive number"
                raise click.BadParameter(f"{item!r} is not {kind} (expected a comma-separated "
                                         f"list such as {'224,192,160' if integer else '1,0.5'})",
                                         param_hint=f"'{option}'")
            numbers.append(number)
    return numbers


# ---------------------------------------------------------------- the grid

def uses_input_size(spec):
    """True if an expression of the spec may read the input's size (see the module doc)."""
    stack = [spec.tree.get(key) for key in SCANNED_KEYS]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and "$" in value:
            if SPATIAL_NAMES.intersection(_IDENTIFIER.findall(value)):
                return True
    return False


def _totals(graph, convention="paper"):
    if convention != "paper":
        from costcalc.counting.conventions import counts
        pairs = counts(graph, convention)
        return sum(m for m, _ in pairs), sum(p for _, p in pairs)
    totals = count_totals(graph.nodes)
    return totals["mult_adds"], totals["params"]


def _rerun(graph, image):
    """(mult_adds, params) of ``graph``'s layers, unchanged, on an input of shape ``image``."""
    shapes = []
    mult_adds = params = 0
    for node in graph.nodes:
        inputs = [image if i < 0 else shapes[i] for i in node.inputs]
        shape = node.type.shape(node.attrs, inputs)
        cost = node.type.cost(node.attrs, inputs, shape)
        if shape[0] * shape[1] * shape[2] > LIMITS["elements"] or max(
                cost.mult_adds, cost.params, cost.bn_params, cost.other_ops) > LIMITS["count"]:
            raise ShapeError("past a limit: a full build says where")
        shapes.append(shape)
        mult_adds += cost.mult_adds
        params += cost.params
    return mult_adds, params


def _build(spec, settings, where):
    from costcalc.build.graph import build

    try:
        return build(spec, settings)
    except SpecError as exc:
        raise SpecError(f"{exc.message} (sweep point {where})", exc.path, exc.line,
                        exc.col) from None


def points(spec, alphas, rhos=None, resolutions=None, overrides=None, convention="paper",
           progress=False):
    """The grid, alpha-major: [{"alpha", "rho", "resolution", "mult_adds", "params"}].

    Give ``rhos`` or ``resolutions`` (input sides); with resolutions, ``rho`` is
    the side over the spec's own. A value given twice is one point, computed and listed
    where it first appears. At most SWEEP_LIMITS["points"] points and, with the first
    point's graph, SWEEP_LIMITS["layer_results"] points x layers; with ``progress``, a
    sweep of PROGRESS_FROM layer results or more shows a bar on stderr if it is a terminal.
    """
    from costcalc.build.graph import Settings, input_shape

    alphas = list(dict.fromkeys(alphas))
    if resolutions:
        axis = [(side / spec.input[1], side) for side in dict.fromkeys(resolutions)]
    else:
        axis = [(rho, None) for rho in dict.fromkeys(rhos or [1.0])]
    total = len(alphas) * len(axis)
    if total > SWEEP_LIMITS["points"]:
        raise SpecError(f"the sweep has {total:,} points ({len(alphas):,} alphas x "
                        f"{len(axis):,} {'resolutions' if resolutions else 'rhos'}), more than "
                        f"the limit of {SWEEP_LIMITS['points']:,} (docs/errors.md)", "costcalc")
    reuse = not uses_input_size(spec) and convention == "paper"  # reruns count the paper's way
    result, bar = [], None
    try:
        for alpha in alphas:
            graph = None
            for rho, side in axis:
                settings = Settings(alpha, 1.0 if side else rho, side, overrides)
                image = input_shape(spec, settings)
                where = f"alpha {alpha:g}, input {image[1]}x{image[2]}"
                counts = None
                if graph is not None and reuse:
                    try:
                        counts = _rerun(graph, image)
                    except ShapeError:  # a full build reports it at its line
                        counts = None
                if counts is None:
                    built = _build(spec, settings, where)
                    if not result:   # the first point: always a full build
                        bar = _start(total, len(built.nodes), progress)
                    if graph is None:
                        graph = built
                    counts = _totals(built, convention)
                result.append({"alpha": float(alpha), "rho": float(rho),
                               "resolution": image[1], "mult_adds": counts[0],
                               "params": counts[1]})
                if bar is not None:
                    bar.advance(bar.task_ids[0])
    finally:
        if bar is not None:
            bar.stop()
    return result


def _start(total, layers, progress):
    """Check the work of ``total`` points of ``layers`` layers against the limit; a rich
    progress bar on stderr, started, when ``progress`` is asked, stderr is a terminal and
    the work is at least PROGRESS_FROM (rich is imported only then); else None."""
    import sys

    work = total * layers
    if work > SWEEP_LIMITS["layer_results"]:
        raise SpecError(f"the sweep would compute {work:,} layer results ({total:,} points x "
                        f"{layers:,} layers), more than the limit of "
                        f"{SWEEP_LIMITS['layer_results']:,} (docs/errors.md)", "costcalc")
    if not progress or work < PROGRESS_FROM or not sys.stderr.isatty():
        return None
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
            TimeRemainingColumn
    except ImportError:   # a broken install: the sweep is still computed, without a bar
        return None

    bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("points"), TimeRemainingColumn(),
                   console=Console(file=sys.stderr), transient=True)
    bar.add_task("sweep", total=total)
    bar.start()
    return bar


def run(spec_arg, alphas, rhos=(), resolutions=(), overrides=None, convention="paper",
        progress=False):
    """Parse the option lists, load the spec once, compute the grid: a dict with the
    spec's name, how it was named, the axis ("rho" or "resolution"), the points and the
    values each option gives more than once ("repeated")."""
    from costcalc.lang.shipped import load

    alpha_list = parse_list(alphas, "--alpha") or [1.0]
    rho_list = parse_list(rhos, "--rho")
    side_list = parse_list(resolutions, "--resolution", integer=True)
    if rho_list and side_list:
        raise click.BadParameter("give --rho or --resolution, not both",
                                 param_hint="'--resolution'")
    from costcalc.counting.conventions import get as get_convention
    get_convention(convention)
    spec = load(spec_arg)
    grid = points(spec, alpha_list, rho_list or None, side_list or None, overrides,
                  convention, progress)
    repeated = {option: [v for v, n in Counter(values).items() if n > 1]
                for option, values in (("--alpha", alpha_list), ("--rho", rho_list),
                                       ("--resolution", side_list))}
    return {"name": spec.title(spec.resolve_params(overrides)), "spec": spec_arg,
            "convention": convention, "axis": "resolution" if side_list else "rho",
            "points": grid, "repeated": {k: v for k, v in repeated.items() if v}}


def main(spec_arg, alphas, rhos, resolutions, overrides, fmt, layout, plot_path, out,
         convention="paper"):
    """The ``costcalc sweep`` command: compute (a bar on a terminal's stderr when long),
    note values given twice, plot if asked, render."""
    if plot_path:
        plot_format(plot_path)
    sweep = run(spec_arg, alphas, rhos, resolutions, overrides, convention, progress=True)
    for option, values in sweep["repeated"].items():
        click.echo(f"costcalc: note: {option} gives {', '.join(f'{v:g}' for v in values[:6])}"
                   f"{', ...' if len(values) > 6 else ''} more than once; each point is "
                   f"computed and listed once", err=True)
    if plot_path:
        plot(sweep, plot_path)
    RENDERERS[fmt](sweep, out, layout=layout)


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
    from costcalc.output.textable import Column, dropped_note, render, styled, width, wrap

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
        table, dropped = render(columns, rows, room, style=style)
        text += wrap(title, room) + table + dropped_note(dropped, room) + [""]
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


# ---------------------------------------------------------------- plot

def plot_format(path):
    """'png' or 'svg' from the file name; anything else is a bad option."""
    extension = path.rpartition(".")[2].lower() if "." in path else ""
    if extension not in PLOT_FORMATS:
        raise click.BadParameter(f"{path!r}: the file name must end in .png or .svg",
                                 param_hint="'--plot'")
    return extension


def plot(sweep, path):
    """Mult-adds against params on log axes, one line per alpha through its resolutions,
    thin dashed lines joining the same resolution across alphas (as the MobileNet
    paper's Figures 4 and 5 are drawn)."""
    fmt = plot_format(path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise click.UsageError("--plot needs matplotlib: pip install 'costcalc[plot]'") from None

    alphas, columns = _axis_values(sweep)
    figure, axes = plt.subplots(figsize=(7.5, 5.5), dpi=100)
    for alpha in alphas:
        line = [p for p in sweep["points"] if p["alpha"] == alpha]
        axes.plot([p["params"] for p in line], [p["mult_adds"] for p in line], marker="o",
                  linewidth=1.5, label=f"alpha {alpha:g}")
    for rho, side in columns:
        line = [p for p in sweep["points"] if (p["rho"], p["resolution"]) == (rho, side)]
        if len(alphas) > 1:
            axes.plot([p["params"] for p in line], [p["mult_adds"] for p in line],
                      linestyle="--", linewidth=0.8, color="0.6", zorder=0)
        if len(columns) > 1:  # name the resolutions at the last alpha's points
            last = line[-1]
            axes.annotate(f"{side}px", (last["params"], last["mult_adds"]),
                          textcoords="offset points", xytext=(-9, 0), ha="right",
                          va="center", fontsize=8, color="0.35")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.margins(x=0.12, y=0.08)
    _log_ticks(axes.xaxis, *axes.get_xlim())
    _log_ticks(axes.yaxis, *axes.get_ylim())
    axes.set_xlabel("Parameters (weights + biases)")
    axes.set_ylabel("Mult-adds")
    axes.set_title(f"{sweep['name']}: mult-adds vs parameters")
    axes.grid(True, which="major", linewidth=0.5, color="0.85")
    axes.legend(title="width multiplier", fontsize=9)
    figure.tight_layout()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(path, format=fmt, metadata=metadata)
    plt.close(figure)
    click.echo(f"costcalc: wrote {path}", err=True)


def _log_ticks(axis, low, high):
    """Ticks at 1, 2 and 5 times the powers of ten (only 1 over more than three
    decades, 1 to 9 within one), labelled '500K', '1M', '20M'."""
    import math

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(high / low) if low > 0 and high > low else 0
    if decades > 3:
        subs = (1.0,)
    elif decades > 1:
        subs = (1.0, 2.0, 5.0)
    else:
        subs = tuple(float(m) for m in range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: _tick_text(value)))
    axis.set_minor_formatter(NullFormatter())


def _tick_text(value):
    """500000 -> '500K', 2e6 -> '2M', 1.5e9 -> '1.5G'."""
    for size, suffix in UNITS:
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
