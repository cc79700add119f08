"""``--explain`` and ``--standard-conv`` on the report (docs/explain.md).

The formula text of each layer comes from its layer type (``LayerType.explain``
in layers.py, one place per type); this module assembles it into the report
dict (output/explain.py renders it):

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
    m = graph.shape_of(dw.inputs[0]).channels
    n = pw.shape.channels
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
        "multiplier": dw.shape.channels // m,
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
