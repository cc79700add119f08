"""Step 5: a report dict to text: table (textable.py), markdown, csv, json, dot or mermaid
(the results of check: output/check.py).

Renderers are picked from ``RENDERERS`` by name. JSON and CSV are written row by row;
their ``layers`` may be a report.LayerRows, which makes each row as it is written.
"""
import csv
import json
import re
from itertools import islice

from costcalc.core.shape import text
from costcalc.analysis.report import LayerRows
from costcalc.core.breakdowns import BREAKDOWNS
from costcalc.core.units import UNIT_NOTE, human, percent
from costcalc.output.textable import visible

PAPER_NOTE = "Mult-adds: multiply-accumulates of conv and fc layers; params: their weights + biases."


def count_notes(names):
    """What mult-adds and params mean under the conventions ``names`` (the papers' note,
    then each other convention's ``counts`` from conventions.yaml), the units last."""
    from costcalc.counting.conventions import DEFAULT, get

    names = list(dict.fromkeys(names))
    notes = [PAPER_NOTE] if DEFAULT in names else []
    notes += [f"Under the {name} convention: {get(name).counts.strip().rstrip('.')}."
              for name in names if name != DEFAULT]
    return notes[:-1] + [f"{notes[-1]} {UNIT_NOTE}."]


shape_text = text   # [32, 112, 112] -> '32x112x112' (costcalc.core.shape)


def setting_text(value):
    """A parameter's value in a title: as written, or if longer than 24 characters, a
    list as its length ('[7 items]') and text shortened at its end."""
    from costcalc.output.textable import clip

    text = str(value)
    if len(text) <= 24:
        return text
    if isinstance(value, (list, tuple, dict)):
        return f"[{len(value)} items]" if not isinstance(value, dict) else f"{{{len(value)} keys}}"
    return clip(text, 24)


def title(report):
    """'MobileNet (alpha 0.5, rho 0.714, input 3x160x160, classes=1000; paper convention)':
    the settings and the parameters the report names (report.title_params)."""
    settings = (f"alpha {report['alpha']:g}, rho {report['rho']:g}, input "
                f"{shape_text(report['input'])}")
    names = report.get("title_params", report["params"])
    extra = ", ".join(f"{k}={setting_text(report['params'][k])}" for k in names)
    convention = report.get("convention", "paper")
    return f"{report['name']} ({settings}{', ' + extra if extra else ''}; {convention} convention)"


def layer_columns(report, all_layers=False):
    """(Column, cell function) of the per-layer table: cells are text, never split; the
    Layer column is shortened in the middle, then columns are dropped by ``keep``."""
    from costcalc.output.textable import Column

    columns = [
        (Column("Layer", right=False, elide=True, least=16), lambda r: r["name"]),
        (Column("Type", right=False, keep=3), lambda r: f"{r['type']} {r['kernel']}".rstrip()),
        (Column("Output"), lambda r: shape_text(r["output"])),
        (Column("Mult-adds"), lambda r: human(r["mult_adds"])),
    ]
    if "flops" in report["totals"]:
        columns.append((Column("FLOPs", keep=4), lambda r: human(r["flops"])))
    columns += [(Column("Params"), lambda r: human(r["params"])),
                (Column("MA %", keep=2), lambda r: percent(r["mult_adds_share"]))]
    if all_layers:  # what the rows without mult-adds or params count: asked for, so kept
        columns += [(Column("BN params", keep=5), lambda r: human(r["bn_params"])),   # longer
                    (Column("Other ops", keep=5), lambda r: human(r["other_ops"]))]   # than Type
    return columns


def total_row(report, all_layers=False):
    """The table's footer: the totals in the columns' order."""
    t = report["totals"]
    row = {"name": "Total", "type": "", "kernel": "", "output": None, "mult_adds": t["mult_adds"],
           "params": t["params"], "bn_params": t["bn_params"], "other_ops": t["other_ops"],
           "mult_adds_share": 1.0 if t["mult_adds"] else 0.0, "flops": t.get("flops", 0)}
    return [("" if column.header == "Output" else cell(row))
            for column, cell in layer_columns(report, all_layers)]


def group_name(value):
    """A group's value as a table's first cell: '3x3 conv', '56x56', '(no stage)'."""
    return str(value) or "(no stage)"


def group_title(by):
    """'By layer type': the title of one breakdown's table (core.breakdowns)."""
    return f"By {BREAKDOWNS[by].title}"


def group_rows(report, by):
    """The cells of one breakdown (--by type|stage|resolution): groups with mult-adds or
    params, in the report's order (types by mult-adds)."""
    b = BREAKDOWNS[by]
    return [[group_name(g[b.name]), f"{g['layers']:,}", human(g["mult_adds"]),
             percent(g["mult_adds_share"]), human(g["params"]), percent(g["params_share"])]
            for g in report.get(b.key, []) if g["mult_adds"] or g["params"]]


def group_header(by):
    return [BREAKDOWNS[by].header, "Layers", "Mult-adds", "MA %", "Params", "Params %"]


def fold(rows, depth):
    """Rows folded to ``depth`` parts of their names ('stage4/block3' at depth 2): each run of
    layers under one name becomes one row with their summed counts, its last output and,
    as type, how many layers it holds."""
    folded = []
    for row in rows:
        key = "/".join(row["name"].split("/")[:depth])
        last = folded[-1] if folded else None
        if last is not None and last["name"] == key and last.get("folded"):
            for count in ("mult_adds", "params", "bn_params", "other_ops", "flops",
                          "mult_adds_share", "params_share"):
                if count in row:
                    last[count] += row[count]
            last["folded"] += 1
            last["type"] = f"{last['folded']} layers"
            last["output"] = row["output"]
        elif key != row["name"]:
            folded.append(dict(row, name=key, type="1 layer", kernel="", folded=1))
        else:
            folded.append(row)
    return folded


def shown_layers(report, all_layers, depth=None):
    """The rows the table shows: by default only rows with mult-adds or params;
    with ``depth``, blocks folded into one row each."""
    rows = report["layers"]
    if depth:
        rows = fold(rows, depth)
    if all_layers:
        return rows
    return [r for r in rows if r["mult_adds"] or r["params"]]


def listed(words):
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def count_lines(report):
    """The totals and what they hold, as the report's convention counts them (its
    ``counted``, conventions.coverage): the papers' mult-adds and what the convention
    counts beside them, the batch norm params in the params total, and what is left out."""
    t, c = report["totals"], report["counted"]
    mult_adds, more = f"{t['mult_adds']:,}", t["mult_adds"] - c["papers_mult_adds"]
    if more:
        mult_adds += (f": {c['papers_mult_adds']:,} of conv and fc layers {'+-'[more < 0]} "
                      f"{abs(more):,} that the {report['convention']} convention counts in "
                      f"{listed(c['counted_otherwise'])} layers")
    params = f"{t['params']:,}: weights + biases"
    if c["bn_params_counted"]:
        params += f" + {c['bn_params_counted']:,} "
        if c["bn_params_counted"] != c["bn_params_read"]:
            params += (f"that the {report['convention']} convention counts for "
                       f"{c['bn_params_read']:,} ")
        params += "batch norm params"
    lines = [f"Total: {human(t['mult_adds'])} mult-adds ({mult_adds}) and "
             f"{human(t['params'])} params ({params})."]
    if "flops" in t:
        lines.append(f"FLOPs = 2 x mult-adds = {human(t['flops'])} ({t['flops']:,}).")
    left = []
    if c["bn_params_not_counted"]:
        left.append(f"{human(c['bn_params_not_counted'])} batch norm params "
                    f"({c['bn_params_not_counted']:,})")
    if c["other_ops_not_counted"]:
        left.append(f"{human(c['other_ops_not_counted'])} other ops (of "
                    f"{listed(c['not_counted'])} layers)")
    if left:
        lines.append(f"Not in the totals: {'; '.join(left)}.")
    return lines


def summary_lines(report, shown=None, depth=None):
    """The lines under the tables; ``shown`` is the list of rows the table listed."""
    t = report["totals"]
    lines = count_lines(report)
    layers = f"{t['layers']:,} layers"
    if depth:
        layers += f", folded to depth {depth} of their names ({len(shown):,} rows)"
    elif shown is not None and len(shown) < t["layers"]:
        types = sorted({r["type"] for r in report["layers"] if not (r["mult_adds"] or r["params"])})
        layers += (f"; {t['layers'] - len(shown):,} without mult-adds or params are not listed "
                   f"({', '.join(types)}): --all-layers lists them")
    lines.append(layers + ".")
    if "standard_conv" in report:
        replaced = report["standard_conv"]
        lines.append(f"--standard-conv replaced {replaced['replaced_pairs']} depthwise "
                     f"separable pairs.")
        lines += [f"Not replaced: {k['depthwise']}: {k['why']}." for k in replaced["not_replaced"]]
    lines.append(f"Width rule: {report['width_rule']}. {UNIT_NOTE}.")
    return lines


def print_lines(out, lines):
    out.write("".join(line + "\n" for line in lines))


def print_table(out, columns, rows, room, style, title=None, footer=None, marked=(),
                shows="--format csv"):
    """The table with its title and the note on the columns dropped (textable.titled); a
    blank line after."""
    from costcalc.output.textable import titled

    print_lines(out, titled(columns, rows, room, title, footer, style, marked, shows) + [""])


def render_table(report, out, all_layers=False, by=("type",), depth=None, **_):
    from costcalc.output.textable import Column, styled, width, wrap

    room, style = width(), styled(out)
    columns = layer_columns(report, all_layers)
    shown = shown_layers(report, all_layers, depth)
    cells = [cell for _, cell in columns]
    rows = [[cell(r) for cell in cells] for r in shown]
    print_table(out, [c for c, _ in columns], rows, room, style, title(report),
                footer=total_row(report, all_layers))
    for section in by or ():
        if BREAKDOWNS[section].key not in report:
            print_lines(out, wrap(f"{group_title(section)}: no layer of this spec names a "
                                  f"stage.", room) + [""])
            continue
        header = group_header(section)
        print_table(out, [Column(header[0], right=False, elide=True, least=12)]
                    + [Column(h, keep=1 if "%" in h else None) for h in header[1:]],
                    group_rows(report, section), room, style, group_title(section))
    print_lines(out, [w for line in summary_lines(report, shown, depth)
                      for w in wrap(line, room)])


_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|~&#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def md_text(text):
    """Text as markdown shows it literally: control characters escaped (textable.visible),
    then each character markdown would read (\\ ` * [ ] < > | ~ & #, and _ but inside a
    word) escaped with a backslash. The one escaping of every markdown cell and line."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(), visible(text))


def md_code(text):
    """``text`` as a markdown code span: control characters escaped, fenced with more
    backticks than it holds in a row."""
    text = visible(text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"`{text}`"


def md_lines(lines):
    """Lines of prose as markdown: escaped, each ending in a line break."""
    return "\n".join(md_text(line) + "  " for line in lines).rstrip() + "\n"


def _md_lines(header, rows, right):
    """The lines of a markdown table, made one by one (``rows`` may be a generator);
    every cell escaped (md_text)."""
    yield "| " + " | ".join(map(md_text, header)) + " |"
    yield "|" + "|".join("---:" if r else "---" for r in right) + "|"
    for row in rows:
        yield "| " + " | ".join(map(md_text, row)) + " |"


def _md_table(header, rows, right):
    return "\n".join(_md_lines(header, rows, right))


def _md_rows(out, header, rows, right):
    """A markdown table written row by row."""
    out.writelines(line + "\n" for line in _md_lines(header, rows, right))


def render_markdown(report, out, all_layers=False, by=("type",), depth=None, **_):
    columns = layer_columns(report, all_layers)
    shown = shown_layers(report, all_layers, depth)
    cells = [cell for _, cell in columns]
    out.write(f"### {md_text(title(report))}\n\n")
    _md_rows(out, [c.header for c, _ in columns],
             ([cell(r) for cell in cells] for r in shown), [c.right for c, _ in columns])
    for section in by or ():
        if BREAKDOWNS[section].key in report:
            out.write(f"\n#### {group_title(section)}\n\n")
            _md_rows(out, group_header(section), group_rows(report, section),
                     [False, True, True, True, True, True])
    out.write("\n" + md_lines(summary_lines(report, shown, depth)))
    render_memory_markdown(report, out)


def render_memory_markdown(report, out):
    """The memory, model-size and roofline lines of the options given (memory.text_lines),
    then the largest tensor per resolution and the roofline per layer as tables."""
    from costcalc.output.memory import roofline_cells, text_lines

    lines = text_lines(report)
    if lines:
        out.write("\n" + md_lines(lines))
    if "materialized" in report:
        out.write("\n#### Largest tensor materialised per resolution\n\n")
        _md_rows(out, ["Resolution", "Channels", "Bytes"],
                 ([m["resolution"], f"{m['channels']:,}", f"{m['bytes']:,}"]
                  for m in report["materialized"]), [False, True, True])
    if "latency_s" in report["totals"]:
        columns, rows = roofline_cells(report)
        out.write(f"\n#### Roofline estimate on {md_text(report['hardware']['name'])}\n\n")
        _md_rows(out, [c.header for c in columns], rows, [c.right for c in columns])


CSV_FIELDS = ("name", "type", "category", "stage", "output", "kernel", "mult_adds", "params",
              "bn_params", "other_ops", "mult_adds_share", "params_share")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """One CSV cell: a number as it is (a negative one stays a number); None empty; text
    with its control characters escaped (textable.visible) and, when it starts with
    = + - @ (a formula to a spreadsheet), a ' put before it, as OWASP's CSV injection
    guidance says. The one escaping of every CSV cell."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = visible(value)
    return "'" + text if text.startswith(_FORMULA) else text


class CsvWriter:
    """csv.writer with every cell escaped by csv_cell."""

    def __init__(self, out):
        self.writer = csv.writer(out, lineterminator="\n")

    def writerow(self, cells):
        self.writer.writerow([csv_cell(cell) for cell in cells])


def csv_value(field, value):
    """A row's value as CSV holds it: a shape as 16x80x80, a list (inputs) as JSON."""
    if field == "output":
        return shape_text(value)
    return json.dumps(value) if isinstance(value, list) else value


def render_csv(report, out, all_layers=True, **_):
    """One row per layer, written as it is made, exact counts: CSV_FIELDS, then every
    other field the JSON rows carry for the options given (inputs, line, flops, the
    memory and roofline fields), with --explain the two formula columns
    (mult_adds_formula, params_formula)."""
    writer = CsvWriter(out)
    first = report["layers"][0] if len(report["layers"]) else {}
    fields = CSV_FIELDS + tuple(k for k in first if k not in CSV_FIELDS and k != "explain")
    explained = "separable_pairs" in report
    writer.writerow(fields + (("mult_adds_formula", "params_formula") if explained else ()))
    for row in report["layers"]:
        cells = [csv_value(f, row[f]) for f in fields]
        if explained:
            cells += [row["explain"].get("mult_adds", ""), row["explain"].get("params", "")]
        writer.writerow(cells)


def _row_encoder(compact):
    """One C-encoder for every row (json.dumps would build one per call): strict, no NaN."""
    from json.encoder import c_make_encoder, encode_basestring_ascii

    def refuse(value):
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    if c_make_encoder is None:  # a Python without the C accelerator
        encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":") if compact else None)
        return encoder.encode
    make = c_make_encoder(None, refuse, encode_basestring_ascii, None,
                          ":" if compact else ": ", "," if compact else ", ", False, False, False)
    return lambda value: "".join(make(value, 0))


def write_json(data, out, compact=False):
    """``data`` as strict JSON, written piece by piece: a list of mappings (layers, groups,
    points, results) one item per line (or, with ``compact``, without spaces), in chunks of
    a thousand, so that a report of a million layers is never held as one string."""
    encode = _row_encoder(compact)
    pretty = json.JSONEncoder(allow_nan=False, indent=None if compact else 2).encode

    def write(value, indent):
        if isinstance(value, dict) and value:
            inner = "" if compact else indent + "  "
            out.write("{" if compact else "{\n")
            for n, (key, item) in enumerate(value.items()):
                if n:
                    out.write("," if compact else ",\n")
                out.write(f"{inner}{json.dumps(key)}:" if compact else f"{inner}{json.dumps(key)}: ")
                write(item, inner)
            out.write("}" if compact else f"\n{indent}}}")
        elif isinstance(value, LayerRows):
            if not value:
                out.write("[]")
                return
            sep = "," if compact else ",\n" + indent + "  "
            out.write("[" if compact else f"[\n{indent}  ")
            rows = value.encoded(encode)
            for n in range(0, len(value), 1000):
                out.write((sep if n else "") + sep.join(islice(rows, 1000)))
            out.write("]" if compact else f"\n{indent}]")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            inner = "" if compact else indent + "  "
            out.write("[" if compact else "[\n")
            nested = any(isinstance(v, list) and v and isinstance(v[0], dict)
                         for v in value[0].values())
            if nested:  # reports inside compare's list
                for n, item in enumerate(value):
                    out.write(("," if compact else ",\n") if n else "")
                    out.write(inner)
                    write(item, inner)
            else:
                sep = "," if compact else ",\n" + inner
                for n in range(0, len(value), 1000):
                    chunk = sep.join(map(encode, value[n:n + 1000]))
                    out.write((sep if n else inner) + chunk)
            out.write("]" if compact else f"\n{indent}]")
        elif compact:
            out.write(encode(value))
        else:
            out.write(pretty(value).replace("\n", "\n" + indent))

    write(data, "")
    out.write("\n")


def render_json(data, out, all_layers=True, compact=False, **_):
    write_json(data, out, compact)


def graph_nodes(report):
    """(id, label lines, [input ids]) of the input and every layer, for the drawings."""
    ids = {"input": "input"}
    nodes = [("input", ["input", shape_text(report["input"])], [])]
    for n, row in enumerate(report["layers"]):
        ids[row["name"]] = f"n{n}"
        lines = [row["name"], f"{row['type']} {row['kernel']}".rstrip(), shape_text(row["output"])]
        if row["mult_adds"] or row["params"]:
            lines.append(f"{human(row['mult_adds'])} mult-adds, {human(row['params'])} params")
        nodes.append((f"n{n}", lines, [ids[i] for i in row["inputs"]]))
    return nodes


def dot_text(text):
    """Text as a Graphviz double-quoted string: control characters escaped
    (textable.visible), then backslash and double quote, so that no escape (\\n, \\l,
    \\N...) of Graphviz's own is read in it. The one escaping of every dot label."""
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(report, out, **_):
    """Graphviz: one box per layer (name, type, output shape, mult-adds and params), an
    edge from each input; render with `dot -Tsvg`."""
    out.write(f"digraph {dot_text(report['name'])} {{\n  rankdir=TB;\n"
              f"  label={dot_text(title(report))};\n"
              '  node [shape=box, fontname="Helvetica", fontsize=10];\n')
    for node, lines, inputs in graph_nodes(report):
        label = "\\n".join(dot_text(line)[1:-1] for line in lines)
        out.write(f'  {node} [label="{label}"{", shape=oval" if node == "input" else ""}];\n')
        for source in inputs:
            out.write(f"  {source} -> {node};\n")
    out.write("}\n")


_MERMAID_CODES = {c: f"#{ord(c)};" for c in '#&"<>%`'}


def mermaid_text(text):
    """Text for a quoted Mermaid label: control characters escaped (textable.visible),
    then each of # & " < > % ` written as its entity code (#35;), so that neither an
    entity, a tag, a %%{init}%% directive nor a markdown string is read in it. The one escaping of every Mermaid label."""
    return "".join(_MERMAID_CODES.get(c, c) for c in visible(text))


def mermaid_title(text):
    """The title as a YAML double-quoted string in the front matter: control characters
    and quotes escaped, '%' as \\x25 (YAML reads it back; Mermaid's directives, %%{...}%%,
    are looked for in the raw text)."""
    return json.dumps(visible(text)).replace("%", "\\x25")


MERMAID_MAX_EDGES = 500   # Mermaid's default maxEdges: a diagram with more is not drawn


def render_mermaid(report, out, **_):
    """Mermaid flowchart (renders in GitHub's markdown): the same boxes and edges. Past
    Mermaid's default limit of MERMAID_MAX_EDGES edges, a note on stderr says so (the
    limit is a secure setting: no diagram can raise it, only the page that renders it)."""
    out.write(f"---\ntitle: {mermaid_title(title(report))}\n---\nflowchart TD\n")
    edges = 0
    for node, lines, inputs in graph_nodes(report):
        shape = ("([", "])") if node == "input" else ("[", "]")
        label = "<br/>".join(map(mermaid_text, lines))
        out.write(f'  {node}{shape[0]}"{label}"{shape[1]}\n')
        for source in inputs:
            out.write(f"  {source} --> {node}\n")
        edges += len(inputs)
    if edges > MERMAID_MAX_EDGES:
        import sys
        sys.stderr.write(f"costcalc: note: {edges:,} edges, past Mermaid's default limit of "
                         f"{MERMAID_MAX_EDGES} (maxEdges): Mermaid draws it only where the page "
                         f"calls mermaid.initialize({{maxEdges: {edges}}}); --format dot has "
                         f"no limit\n")


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv,
             "markdown": render_markdown, "dot": render_dot, "mermaid": render_mermaid}
