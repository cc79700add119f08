"""What the renderers write (issues 15 and 16): summaries that describe the convention
counted, names that stay unique when shortened, every section in every format, titles
that fit, labels that parsers read as text, CSV cells that spreadsheets do not run, and no
raw control character in any row, cell or label."""
import json
import re

import pytest

from conftest import ROOT

TOOLS = json.loads((ROOT / "tests" / "data" / "tool_counts.json").read_text())["models"]

# ResNet-50's batch norm channels (torchvision): stem 64; per bottleneck bn1, bn2 (width w)
# and bn3 (4w); one downsample bn (4w) per stage; widths 64..512, blocks 3, 4, 6, 3.
BN_CHANNELS = 64 + sum(n * 6 * w + 4 * w for n, w in ((3, 64), (4, 128), (6, 256), (3, 512)))
BN_PARAMS = 2 * BN_CHANNELS                      # scale and shift: 53,120
TORCHVISION_PARAMS = TOOLS["resnet50"]["fvcore"]["params"]   # every nn.Parameter
FC_BIASES = 1000
# the papers' mult-adds, from torchinfo's measured count: it adds each bias once per
# output element (only the fc has biases) and counts a BatchNorm2d's 2C affine values
PAPER_MULT_ADDS = TOOLS["resnet50"]["torchinfo"]["mult_adds"] - FC_BIASES - BN_PARAMS

MEASURED = {   # (mult-adds, params) each tool reports on torchvision's resnet50
    "paper": (PAPER_MULT_ADDS, TORCHVISION_PARAMS - BN_PARAMS),
    "torch": (PAPER_MULT_ADDS, TORCHVISION_PARAMS),
    "fvcore": (TOOLS["resnet50"]["fvcore"]["flops"], TOOLS["resnet50"]["fvcore"]["params"]),
    "ptflops": (TOOLS["resnet50"]["ptflops"]["macs"], TOOLS["resnet50"]["ptflops"]["params"]),
    "thop": (TOOLS["resnet50"]["thop"]["macs"], TOOLS["resnet50"]["thop"]["params"]),
    "torchinfo": (TOOLS["resnet50"]["torchinfo"]["mult_adds"],
                  TOOLS["resnet50"]["torchinfo"]["params"]),
    # Keras' ResNet50 has 25,636,712: torchvision's plus 26,560 conv biases (use_bias)
    # plus the running mean and variance (BN_PARAMS more), without those biases here
    "keras": (PAPER_MULT_ADDS, 25_636_712 - BN_CHANNELS),
}


def summary(out):
    """The summary lines (from 'Total:' on) joined into one paragraph."""
    text = out[out.index("\nTotal: ") + 1:]
    return " ".join(line.strip() for line in text.splitlines())


def number(text):
    return int(text.replace(",", ""))


@pytest.mark.parametrize("fmt", ["table", "markdown"])
@pytest.mark.parametrize("convention", sorted(MEASURED))
def test_summary_describes_the_convention(run_cli, convention, fmt):
    """The totals' own words add up to the tool's measured numbers: the papers'
    mult-adds plus what the convention counts beside them; weights + biases plus the
    batch norm params it counts; and 'Not in the totals' names only what is left out."""
    result = run_cli("resnet50", "--convention", convention, "--format", fmt)
    assert result.code == 0, result.err
    text = summary(result.out)
    mult_adds, params = MEASURED[convention]
    found = re.search(r"Total: \S+ mult-adds \(([\d,]+)(?:: ([\d,]+) of conv and fc layers "
                      r"([+-]) ([\d,]+) that the (\w+) convention counts in [^)]+)?\) and \S+ "
                      r"params \(([\d,]+): weights \+ biases(?: \+ ([\d,]+) [^)]*batch norm "
                      r"params)?\)\.", text)
    assert found, text
    assert number(found[1]) == mult_adds
    if mult_adds != PAPER_MULT_ADDS:
        assert number(found[2]) == PAPER_MULT_ADDS and found[5] == convention
        assert number(found[2]) + int(found[3] + "1") * number(found[4]) == mult_adds
    else:
        assert found[2] is None
    assert number(found[6]) == params
    in_params = number(found[7]) if found[7] else 0
    # Keras stores 4 values per channel for each 2 params: twice BN_PARAMS
    assert in_params == {"paper": 0, "keras": 2 * BN_PARAMS}.get(convention, BN_PARAMS)
    assert params - in_params == TORCHVISION_PARAMS - BN_PARAMS   # the weights and biases
    left_out = re.search(r"Not in the totals: (.*?)\.(?: |$)", text)
    assert left_out, text
    assert ("batch norm params" in left_out[1]) == (convention == "paper"), left_out[1]
    if convention == "paper":
        assert f"({BN_PARAMS:,})" in left_out[1]
    # a layer whose ops the convention counts is not called left out
    for category in ("batchnorm", "relu", "maxpool", "adaptive_avgpool"):
        counted = convention == "ptflops" or (   # docs/conventions.md, "Why the tools differ"
            convention in ("fvcore", "thop") and category in ("batchnorm", "adaptive_avgpool")
        ) or (convention == "torchinfo" and category == "batchnorm")   # its 2C affine values
        assert (category in left_out[1]) == (not counted), (category, left_out[1])


def test_compare_and_sweep_notes_name_the_convention(run_cli):
    """The note under compare and sweep says what the convention counts, not the papers'
    'weights + biases' alone."""
    result = run_cli("sweep", "resnet50", "--resolution", "224,112", "--convention", "fvcore")
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "Under the fvcore convention:" in text and "batch norm's scale and shift" in text
    assert "params: their weights + biases" not in text
    result = run_cli("compare", "resnet50", "resnet50@convention=ptflops")
    text = " ".join(result.out.split())
    assert "params: their weights + biases" in text and "Under the ptflops convention:" in text


def layer_names(out):
    """The first cell of each line between the first table's two rules."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("─"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("─"))
    return [line.split("  ")[0] for line in lines[start + 1:end]]


def shipped_and_deep():
    from costcalc.lang.shipped import names, variants

    return list(dict.fromkeys([*names(), *variants()])) + [str(ROOT / "tests" / "specs" /
                                                            "deep_nesting.yaml")]


def test_shortened_names_stay_unique(monkeypatch):
    """At 60, 80 and 140 columns, over every shipped spec and a deep nesting (GhostNet-like
    stage/bottleneck/ghost_expand|ghost_project/primary, whose segments without digits gave
    way alike): every row's name is a shortening of its own name only (its kept text in
    order, '…' for what gave way), no two rows print the same, every line fits."""
    import io

    from costcalc import analyze
    from costcalc.output.render import render_table

    bad = []
    for spec in shipped_and_deep():
        report = analyze(spec)
        full = [row["name"] for row in report["layers"]]
        for columns in (60, 80, 140):
            monkeypatch.setenv("COLUMNS", str(columns))
            out = io.StringIO()
            render_table(report, out, all_layers=True, by=())
            assert max(map(len, out.getvalue().splitlines())) <= columns, (spec, columns)
            printed = layer_names(out.getvalue())
            assert len(printed) == len(full), (spec, columns)
            for shown, name in zip(printed, full):
                pattern = ".*".join(map(re.escape, shown.split("…")))
                assert re.fullmatch(pattern, name), (spec, columns, shown, name)
            if len(set(printed)) != len(printed):
                bad.append((spec, columns, len(printed) - len(set(printed))))
    assert not bad


# ---------------------------------------------------------------- every section, every format

MEMORY = ("--activation-bits", "8", "--weight-bits", "8", "--hardware", "phone")


def test_markdown_has_every_section_as_markdown(run_cli):
    """Memory and roofline in markdown: their lines as markdown, the largest tensor per
    resolution and the roofline per layer as markdown tables (no box-drawn table), row
    for row what the JSON report holds."""
    out = run_cli("mobilenet", "--format", "markdown", *MEMORY).out
    report = json.loads(run_cli("mobilenet", "--format", "json", *MEMORY).out)
    assert "─" not in out
    sections = out.split("\n#### ")
    tensors = next(s for s in sections if s.startswith("Largest tensor"))
    rows = [line for line in tensors.splitlines() if line.startswith("| ")][1:]
    assert rows == [f"| {m['resolution']} | {m['channels']:,} | {m['bytes']:,} |"
                    for m in report["materialized"]]
    roofline = next(s for s in sections if s.startswith("Roofline estimate on phone"))
    lines = [line for line in roofline.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| Layer | Bytes moved |") and set(lines[1]) <= set("|-:")
    estimated = [r for r in report["layers"] if r["latency_s"]]
    assert len(lines) - 2 == len(estimated) == 84
    for line, row in zip(lines[2:], estimated):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells[0] == row["name"] and cells[1] == f"{row['bytes_moved']:,}"
        assert cells[-1] == row["bound"]
    assert "Activation memory (8-bit): peak" in out and "Model size:" in out


@pytest.mark.parametrize("options", [(), ("--flops",), ("--activation-bits", "8"),
                                     ("--hardware", "phone"), ("--explain",)])
def test_csv_carries_every_json_field(run_cli, options):
    """CSV has a column for each per-layer field of the JSON rows for the same options,
    and each cell is that field's value: integers exact, shapes as CxHxW, inputs as a
    JSON list, none as an empty cell."""
    import csv
    import io

    rows = json.loads(run_cli("mobilenet", "--format", "json", *options).out)["layers"]
    table = list(csv.reader(io.StringIO(run_cli("mobilenet", "--format", "csv", *options).out)))
    header, cells = table[0], table[1:]
    assert len(cells) == len(rows)
    fields = [k for k in rows[0] if k != "explain"]
    assert set(fields) <= set(header), set(fields) - set(header)
    for row, line in zip(rows, cells):
        got = dict(zip(header, line))
        for field in fields:
            value = row[field]
            if field == "output":
                assert got[field] == "x".join(map(str, value))
            elif isinstance(value, list):
                assert json.loads(got[field]) == value
            elif value is None:
                assert got[field] == ""
            elif isinstance(value, (int, float)):
                assert type(value)(got[field]) == value, (field, got[field], value)
            else:
                assert got[field] == value


# ---------------------------------------------------------------- CSV formula injection

HOSTILE_NAMES = ['=HYPERLINK("http://x.example","click")', "+SUM(A1:A9)", "-2+3", "@cmd",
                 "=1+2;=3"]


def test_csv_cells_are_not_formulas(run_cli, tmp_path):
    """A text cell starting with = + - @ gets a ' before it (OWASP); numbers stay numbers,
    a negative one too; compare's and sweep's CSV alike."""
    import csv
    import io

    from costcalc.output.render import csv_cell

    spec = tmp_path / "formula.yaml"
    layers = "\n".join(f"  - {{type: conv, k: 1, out: 4, name: {json.dumps(n)}, stage: '=s'}}"
                       for n in HOSTILE_NAMES)
    spec.write_text(f'name: "=cmd|calc"\ninput: [3, 8, 8]\nlayers:\n{layers}\n')
    table = list(csv.reader(io.StringIO(run_cli(spec, "--format", "csv").out)))
    header = table[0]
    for name, line in zip(HOSTILE_NAMES, table[1:]):
        row = dict(zip(header, line))
        assert row["name"] == "'" + name and row["stage"] == "'=s"
        assert int(row["mult_adds"]) == 3 * 4 * 8 * 8 if name == HOSTILE_NAMES[0] else 4 * 4 * 64
    for command in (["compare", spec, "mobilenet"], ["sweep", spec, "--alpha", "1,0.5"]):
        text = run_cli(*command, "--format", "csv").out
        for line in csv.reader(io.StringIO(text)):
            assert not any(cell.startswith(("=", "+", "@")) or cell.startswith("-")
                           and not cell.lstrip("-").replace(".", "").isdigit()
                           for cell in line), line
        assert "'=cmd|calc" in text or command[0] == "sweep"   # sweep's CSV names no spec
    assert csv_cell(-5) == -5 and csv_cell(-0.25) == -0.25 and csv_cell("-5") == "'-5"
    assert csv_cell("\t=1") == "\\t=1" and csv_cell("\r=1") == "\\r=1"


# ---------------------------------------------------------------- control characters

CONTROLS = ["a\rb", "c\nd", "e\x1b[31mred", "f\u2028g", "h\tI\x00"]


def hostile_report(name="Net\r\n---\ntitle: x\n\x1b]0;t\x07"):
    """A report whose name and layer names hold control characters, as one made through
    the library may (the spec loader refuses them in files)."""
    from costcalc.cli import analyse

    report = analyse(str(ROOT / "tests" / "specs" / "table3_layer.yaml"), 1.0, 1.0, None, ())
    rename = dict(zip([r["name"] for r in report["layers"]], CONTROLS))
    report["name"] = name
    for row in report["layers"]:
        row["name"] = rename[row["name"]]
        row["inputs"] = [rename.get(i, i) for i in row["inputs"]]
        row["stage"] = "s\r\n"
    return report, rename


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json", "dot", "mermaid"])
def test_no_raw_control_character_in_any_format(fmt):
    """No raw CR, ESC, NUL, U+2028 anywhere, and the line feeds only where the clean
    report has them: as many lines, each row on its own."""
    import csv
    import io

    from costcalc.cli import analyse
    from costcalc.output.render import RENDERERS

    report, rename = hostile_report()
    out = io.StringIO()
    RENDERERS[fmt](report, out)
    text = out.getvalue()
    assert not set(text) & set("\r\x1b\x00\x07\u2028\t"), fmt
    clean = io.StringIO()
    RENDERERS[fmt](analyse(str(ROOT / "tests" / "specs" / "table3_layer.yaml"), 1.0, 1.0,
                           None, ()), clean)
    if fmt == "table":   # the longer title wraps once more
        assert len(layer_names(text)) == len(layer_names(clean.getvalue()))
    else:
        assert text.count("\n") == clean.getvalue().count("\n")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert [r[0] for r in rows[1:]] == ["a\\rb", "c\\nd", "e\\x1b[31mred", "f\\u2028g",
                                            "h\\tI\\x00"]
    if fmt == "json":
        assert [r["name"] for r in json.loads(text)["layers"]] == CONTROLS
    if fmt == "markdown":
        rows = [line for line in text.splitlines() if line.startswith("|")]
        assert all(line.endswith("|") for line in rows)


# ---------------------------------------------------------------- dot and mermaid, parsed

MERMAID = ROOT / "tests" / "mermaid"
GRAPH_NAMES = ["%%{init: {'theme': 'dark'}}%%", "a #quot; b & <b>x</b> `c` \"q\"",
               "'Tiny' net: ResNet; x --> y", "back\\slash \\n \\l \\N", "e\x1b[31m\rf\ng"]


def graph_report():
    """table3_layer's report with the names Mermaid and Graphviz would read: a directive,
    an entity, tags, quotes, a colon, backslash escapes, control characters; the spec
    name with a front matter of its own."""
    return hostile_report("ResNet: the 50-layer one\n---\nconfig:\n  theme: forest\n---\n"
                          "'Tiny' net %%{init: {\"theme\": \"dark\"}}%% #quot;")


def with_names(report):
    from costcalc.output.render import graph_nodes
    from costcalc.output.textable import visible

    names = dict(zip(CONTROLS, GRAPH_NAMES))
    for row in report["layers"]:
        row["name"] = names[row["name"]]
        row["inputs"] = [names.get(i, i) for i in row["inputs"]]
    return {node: [visible(line) for line in lines] for node, lines, _ in graph_nodes(report)}


def test_mermaid_labels_read_back_by_mermaid():
    """Mermaid's own parser (tests/mermaid, npm ci) reads the diagram, takes no
    configuration from it (no front matter key, no %%{init}%% obeyed), and reads each
    label back as its text once its entity codes are decoded: nothing decoded that was
    in the name (#quot; stays), no tag, no broken diagram."""
    import html
    import io
    import shutil
    import subprocess

    import yaml

    from costcalc.output.render import render_mermaid, title
    from costcalc.output.textable import visible

    if shutil.which("node") is None or not (MERMAID / "node_modules" / "mermaid").exists():
        pytest.skip("node and Mermaid's parser needed: npm ci --prefix tests/mermaid")
    report, _ = graph_report()
    expected = with_names(report)
    out = io.StringIO()
    render_mermaid(report, out)
    text = out.getvalue()
    parsed = json.loads(subprocess.run(["node", str(MERMAID / "parse.mjs")], input=text,
                                       capture_output=True, text=True, timeout=120,
                                       check=True).stdout)
    assert parsed["ok"], parsed
    assert parsed["type"].startswith("flowchart") and parsed["config"] == {}
    front = yaml.safe_load(text.split("---\n")[1])
    assert front == {"title": visible(title(report))}
    for node, label in parsed["vertices"].items():
        # the parser keeps entity codes as placeholders, decoded only when drawn
        decoded = re.sub(r"ﬂ°°(\d+)¶ß", lambda m: chr(int(m[1])), label)
        decoded = html.unescape(re.sub(r"ﬂ°(\w+)¶ß", r"&\1;", decoded))
        assert decoded.split("<br>") == expected[node], (node, label)


def test_dot_labels_read_back_by_graphviz(tmp_path):
    """Graphviz's dot reads the graph, and each label back as its text: only the \\n
    line breaks written for the label lines, no \\l, \\N or other escape of its own."""
    import io
    import shutil
    import subprocess

    from costcalc.output.render import render_dot, title
    from costcalc.output.textable import visible

    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot needed (apt-get install graphviz)")
    report, _ = graph_report()
    expected = with_names(report)
    out = io.StringIO()
    render_dot(report, out)
    parsed = json.loads(subprocess.run(["dot", "-Tjson"], input=out.getvalue(),
                                       capture_output=True, text=True, timeout=60,
                                       check=True).stdout)

    def decoded(label):   # Graphviz's escString: \\ and \" are the characters, \n a break
        assert not re.search(r"\\[^\\n\"]", label.replace("\\\\", "")), label
        return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), label)

    assert decoded(parsed["label"]) == visible(title(report))
    for node in parsed["objects"]:
        assert decoded(node["label"]).split("\n") == expected[node["name"]], node["label"]


# ---------------------------------------------------------------- titles

def test_titles_name_the_chosen_settings_on_two_lines():
    """Over every shipped spec and variant: the title fits two lines at 80 columns, names
    every setting the variant chose and every parameter the spec gives a value of its own
    (not those derived by an expression, such as EfficientNet's rows from its model), each
    value as it is or, if long, a list as its true length; --set shows what was set."""
    from costcalc import analyze
    from costcalc.output.render import title
    from costcalc.lang.shipped import load, variants
    from costcalc.output.textable import wrap

    family_of = variants()
    for name in shipped_and_deep()[:-1]:
        report = analyze(name)
        text = title(report)
        assert len(wrap(text, 80)) <= 2, text
        chosen = dict(family_of[name][1].overrides) if name in family_of else {}
        spec = load(name)
        for key, value in report["params"].items():
            derived = isinstance(spec.params[key].default, str) and "${" in spec.params[key].default
            shown = re.search(rf"[(, ]{re.escape(key)}=([^,;]+|\[\d+ items\])[,;]", text)
            assert bool(shown) == (key in chosen or not derived), (name, key, text)
            if shown and not shown[1].endswith(" items]"):
                assert shown[1] == str(value), (name, key, text)
            elif shown:
                assert shown[1] == f"[{len(value)} items]"
    text = title(analyze("efficientnet_b0", overrides={"dropout": "0.5"}))
    assert "dropout=0.5" in text and "rows=" not in text and "width_mult" not in text


def test_conventions_doc_quotes_the_summary(run_cli):
    """docs/conventions.md quotes ptflops' summary on resnet50 as the program writes it."""
    doc = " ".join((ROOT / "docs" / "conventions.md").read_text().split())
    quoted = re.search(r"\(`(4,132,436,968: [^`]+)`\)", doc)[1]
    assert quoted in summary(run_cli("resnet50", "--convention", "ptflops").out)
