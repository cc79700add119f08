"""``--explain`` and ``--standard-conv`` on the report (docs/explain.md).

The formula text of each layer comes from its layer type (``LayerType.explain``
in layers.py, one place per type); this module assembles it into the report
dict and renders it:

- JSON: an ``"explain"`` key on every layer row ({"mult_adds": TEXT, "params":
  TEXT}, empty for layers without mult-adds or params) and a top-level
  ``"separable_pairs"`` list with ``"separable_summary"``;
- table and markdown: two sections appended after the report, "Formulas" (one
  line per layer with mult-adds or params) and "Depthwise separable pairs";
- csv: two more columns, ``mult_adds_formula`` and ``params_formula``.

Each separable pair (see transform.py) is set beside the standard convolution it
replaces, D_k^2 * M * N * D_f^2 with the depthwise layer's kernel and stride, M
the depthwise input channels and N the pointwise output channels, and the ratio
separable / standard beside the paper's 1/N + 1/D_k^2 (eq. 5 of the MobileNet
paper). Every layer of the pair is computed on the same output grid D_f, so the
two agree exactly for any stride; they differ only with a depth multiplier m > 1
(the ratio is then m/N + m/D_k^2).
"""
from fractions import Fraction

from costcalc.build.transform import separable_pairs, standard_node

SYMBOLS = ("D_k kernel side (k_h * k_w if not square), M input channels, N output channels, "
           "D_f output side (H_o * W_o if not square), g groups, m depth multiplier")


def layer_formulas(graph, node):
    """{"mult_adds": TEXT, "params": TEXT} of one node (only the counts it has)."""
    cost = node.cost
    if not (cost.mult_adds or cost.params):
        return {}
    shapes = [graph.shape_of(i) for i in node.inputs]
    texts = node.type.explain(node.attrs, shapes, node.shape)
    result = {}
    for key in ("mult_adds", "params"):
        value = getattr(cost, key)
        if key in texts:
            result[key] = texts[key]
        elif value:
            result[key] = f"{value:,} (layer type {node.type.name} gives no formula)"
    return result


def pair_record(graph, pair):
    """The JSON record of one depthwise separable pair and the standard conv it replaces."""
    nodes = graph.nodes
    dw, pw = nodes[pair.depthwise], nodes[pair.pointwise]
    std = standard_node(graph, pair)
    m = graph.shape_of(dw.inputs[0])[0]
    n = pw.shape[0]
    kh, kw = dw.attrs["k"]
    separable = {"mult_adds": dw.cost.mult_adds + pw.cost.mult_adds,
                 "params": dw.cost.params + pw.cost.params}
    standard = {"mult_adds": std.cost.mult_adds, "params": std.cost.params,
                "formula": std.type.explain(std.attrs, [graph.shape_of(dw.inputs[0])], std.shape)}
    ratio = Fraction(separable["mult_adds"], standard["mult_adds"])
    predicted = Fraction(1, n) + Fraction(1, kh * kw)
    return {
        "depthwise": dw.name,
        "between": [nodes[i].name for i in pair.between],
        "pointwise": pw.name,
        "replaced_by": std.name,
        "k": [kh, kw],
        "stride": list(dw.attrs["stride"]),
        "kernel": dw.type.describe(dw.attrs),
        "M": m,
        "N": n,
        "multiplier": dw.shape[0] // m,
        "output": list(pw.shape),
        "separable": separable,
        "standard": standard,
        "ratio": float(ratio),
        "params_ratio": float(Fraction(separable["params"], standard["params"])),
        "predicted": {"formula": f"1/N + 1/D_k^2 = 1/{n} + 1/{kh * kw}",
                      "value": float(predicted)},
        "equal": ratio == predicted,
    }


def summary(pairs):
    """Totals over all pairs: separable and standard mult-adds and params, and the factor."""
    sep = {k: sum(p["separable"][k] for p in pairs) for k in ("mult_adds", "params")}
    std = {k: sum(p["standard"][k] for p in pairs) for k in ("mult_adds", "params")}
    return {"pairs": len(pairs), "separable": sep, "standard": std,
            "mult_adds_factor": std["mult_adds"] / sep["mult_adds"] if sep["mult_adds"] else 0.0,
            "params_factor": std["params"] / sep["params"] if sep["params"] else 0.0,
            "all_equal": all(p["equal"] for p in pairs)}


def annotate(report, graph, explain=True):
    """Add the --explain keys (and the --standard-conv marker) to ``report`` in place."""
    if graph.settings.standard_conv:
        report["name"] += " with standard convolutions"
        report["standard_conv"] = {
            "replaced_pairs": graph.replaced,
            "not_replaced": [{"depthwise": name, "why": why} for name, why in graph.kept],
            "rule": "each depthwise separable pair -> one standard convolution with the "
                    "depthwise kernel, stride and input and the pointwise output; the batch "
                    "norm and activations between them dropped"}
    if not explain:
        return report
    for row, node in zip(report["layers"], graph.nodes):
        row["explain"] = layer_formulas(graph, node)
    pairs = [pair_record(graph, p) for p in separable_pairs(graph)]
    report["separable_pairs"] = pairs
    report["separable_summary"] = summary(pairs)
    return report


# ---------------------------------------------------------------- rendering

def formula_lines(report):
    lines = []
    for row in report["layers"]:
        texts = row.get("explain") or {}
        parts = []
        if "mult_adds" in texts:
            parts.append(f"{texts['mult_adds']} mult-adds")
        if "params" in texts:
            parts.append(f"params {texts['params']}")
        if parts:
            lines.append(f"{row['name']}: " + "; ".join(parts))
    return lines


def pair_lines(report):
    lines = []
    for p in report["separable_pairs"]:
        c, h, w = p["output"]
        std = p["standard"]
        lines.append(
            f"{p['depthwise']} + {p['pointwise']} ({p['kernel']}, "
            f"{p['M']} -> {p['N']}, output {h}x{w}): separable {p['separable']['mult_adds']:,} "
            f"mult-adds, {p['separable']['params']:,} params; standard conv "
            f"{std['formula']['mult_adds']} mult-adds, {std['params']:,} params; "
            f"ratio {p['ratio']:.6f}, {p['predicted']['formula']} = "
            f"{p['predicted']['value']:.6f} ({'equal' if p['equal'] else 'differs'})")
    s = report["separable_summary"]
    if s["pairs"]:
        lines.append(
            f"{'All ' if s['pairs'] > 1 else ''}{s['pairs']} pair{'s' if s['pairs'] > 1 else ''}: "
            f"separable {s['separable']['mult_adds']:,} mult-adds vs "
            f"standard {s['standard']['mult_adds']:,} ({s['mult_adds_factor']:.2f}x fewer); "
            f"params {s['separable']['params']:,} vs {s['standard']['params']:,} "
            f"({s['params_factor']:.2f}x fewer)")
    return lines


def explain_sections(report):
    """[(title, lines)] of the text sections appended after the report."""
    pair_title = ("Depthwise separable pairs: separable cost vs the standard convolution "
                  "it replaces (D_k^2 * M * N * D_f^2, depthwise kernel and stride)")
    none = ("none: --standard-conv replaced them" if "standard_conv" in report
            else "none (no depthwise layer followed by a 1x1 convolution)")
    pairs = pair_lines(report) or [none]
    return [(f"Formulas ({SYMBOLS}); exact counts", formula_lines(report)),
            (pair_title, pairs)]


def render(report, fmt, out, **options):
    """The report in ``fmt`` with the explanations (see the module docstring); json and
    csv carry them in the report's rows (render.render_csv adds the formula columns). In
    a table, each line is wrapped at the terminal's width, numbers kept whole."""
    from costcalc.output.render import RENDERERS, md_code, md_text
    from costcalc.output.textable import width, wrap

    RENDERERS[fmt](report, out, **options)
    if fmt not in ("table", "markdown"):
        return
    for title, lines in explain_sections(report):
        if fmt == "markdown":
            out.write(f"\n#### {md_text(title)}\n\n" + "".join(f"- {md_code(line)}\n"
                                                               for line in lines))
        else:
            room = width()
            text = wrap(title, room) + [w for line in lines for w in wrap(line, room - 2, "    ")]
            out.write("\n" + "\n".join(text[:len(wrap(title, room))]) + "\n"
                      + "".join(f"  {w}\n" for w in text[len(wrap(title, room)):]))
