"""Step 4: a Graph to the report: per-layer rows, totals and breakdowns, as plain data.

The dict returned by ``make_report`` is exactly the ``--format json`` output
(keys in ../shared/CONTRACT.md); the renderers only format it. Shares are
fractions of the total (0..1); counts are exact integers.
"""
COUNTS = ("mult_adds", "params", "bn_params", "other_ops")


def make_report(graph, spec_label, flops=False):
    """Build the report dict of ``graph``; ``spec_label`` is how the user named it."""
    spec, settings = graph.spec, graph.settings
    totals = {key: 0 for key in COUNTS}
    rows = []
    for node in graph.nodes:
        cost = node.cost
        row = {
            "name": node.name,
            "type": node.type.name,
            "category": node.category,
            "inputs": [graph.nodes[i].name if i >= 0 else "input" for i in node.inputs],
            "output": list(node.shape),
            "kernel": node.type.describe(node.attrs),
            "stage": node.stage or "",
            "line": node.pos.line,
            "mult_adds": cost.mult_adds,
            "params": cost.params,
            "bn_params": cost.bn_params,
            "other_ops": cost.other_ops,
        }
        for key in COUNTS:
            totals[key] += row[key]
        rows.append(row)
    for row in rows:
        row["mult_adds_share"] = _share(row["mult_adds"], totals["mult_adds"])
        row["params_share"] = _share(row["params"], totals["params"])
        if flops:
            row["flops"] = 2 * row["mult_adds"]
    totals["layers"] = len(rows)
    if flops:
        totals["flops"] = 2 * totals["mult_adds"]
    report = {
        "name": spec.name,
        "spec": spec_label,
        "source": spec.source,
        "alpha": float(settings.alpha),
        "rho": float(settings.rho),
        "resolution": graph.input_shape[1],
        "input": list(graph.input_shape),
        "params": dict(graph.params),
        "width_rule": spec.width.text(),
        "totals": totals,
        "layers": rows,
        "by_type": _group(rows, "category", totals, "type"),
        "by_resolution": _group(rows, "resolution", totals, "resolution"),
    }
    if any(row["stage"] for row in rows):
        report["by_stage"] = _group(rows, "stage", totals, "stage")
    return report


def _share(part, whole):
    return part / whole if whole else 0.0


def _group(rows, key, totals, label):
    """Sum the counts of rows by ``key`` (first appearance order, or by mult-adds for types)."""
    groups = {}
    for row in rows:
        value = row[key] if key != "resolution" else "x".join(map(str, row["output"][1:]))
        group = groups.setdefault(value, {label: value, **{k: 0 for k in COUNTS}, "layers": 0})
        for count in COUNTS:
            group[count] += row[count]
        group["layers"] += 1
    result = list(groups.values())
    if key == "category":
        result.sort(key=lambda g: (-g["mult_adds"], -g["params"], -g["other_ops"]))
    for group in result:
        group["mult_adds_share"] = _share(group["mult_adds"], totals["mult_adds"])
        group["params_share"] = _share(group["params"], totals["params"])
    return result
