"""Step 4: a Graph to the report: per-layer rows, totals and breakdowns, as plain data.

The dict returned by ``make_report`` is exactly the ``--format json`` output
(keys in ../shared/CONTRACT.md); the renderers only format it. Shares are
fractions of the total (0..1); counts are exact integers.
"""
COUNTS = ("mult_adds", "params", "bn_params", "other_ops")


def count_totals(nodes):
    """The four counts summed over ``nodes``, and how many layers there are."""
    return {"mult_adds": sum(n.cost.mult_adds for n in nodes),
            "params": sum(n.cost.params for n in nodes),
            "bn_params": sum(n.cost.bn_params for n in nodes),
            "other_ops": sum(n.cost.other_ops for n in nodes),
            "layers": len(nodes)}


def make_report(graph, spec_label, flops=False, convention="paper"):
    """Build the report dict of ``graph``; ``spec_label`` is how the user named it. Under a
    ``convention`` other than the papers', the mult_adds and params of every row and total
    are that tool's counts (conventions.py)."""
    from .conventions import DEFAULT, counts

    spec, settings, nodes = graph.spec, graph.settings, graph.nodes
    totals = count_totals(nodes)
    tool_counts = counts(graph, convention) if convention != DEFAULT else None
    if tool_counts is not None:
        totals["mult_adds"] = sum(m for m, _ in tool_counts)
        totals["params"] = sum(p for _, p in tool_counts)
    all_mult_adds, all_params = totals["mult_adds"] or 1, totals["params"] or 1
    describe = {}   # kernel text per (type, attributes): attributes are shared by repeats
    by_category, by_resolution, by_stage = {}, {}, {}   # value -> summed counts
    rows = []
    append = rows.append
    names = [node.name for node in nodes]
    for index, node in enumerate(nodes):
        cost, attrs, shape = node.cost, node.attrs, node.shape
        mult_adds, params = (cost.mult_adds, cost.params) if tool_counts is None \
            else tool_counts[index]
        bn_params, other_ops, category = cost.bn_params, cost.other_ops, node.category
        kernel = describe.get(id(attrs))
        if kernel is None:
            kernel = describe[id(attrs)] = node.type.describe(attrs)
        stage = node.stage or ""
        append({
            "name": names[index],
            "type": node.type.name,
            "category": category,
            "inputs": [names[i] if i >= 0 else "input" for i in node.inputs],
            "output": list(shape),
            "kernel": kernel,
            "stage": stage,
            "line": node.pos.line,
            "mult_adds": mult_adds,
            "params": params,
            "bn_params": bn_params,
            "other_ops": other_ops,
            "mult_adds_share": mult_adds / all_mult_adds,
            "params_share": params / all_params,
        })
        for groups, value in ((by_category, category), (by_resolution, shape[1:]),
                              (by_stage, stage)):
            acc = groups.get(value)
            if acc is None:
                groups[value] = [mult_adds, params, bn_params, other_ops, 1]
            else:
                acc[0] += mult_adds
                acc[1] += params
                acc[2] += bn_params
                acc[3] += other_ops
                acc[4] += 1
    if flops:
        totals["flops"] = 2 * totals["mult_adds"]
        for row in rows:
            row["flops"] = 2 * row["mult_adds"]
    resolutions = {f"{h}x{w}": acc for (h, w), acc in by_resolution.items()}
    report = {
        "name": spec.title(graph.params),
        "spec": spec_label,
        "source": spec.source,
        "convention": convention,
        "alpha": float(settings.alpha),
        "rho": float(settings.rho),
        "resolution": graph.input_shape[1],
        "input": list(graph.input_shape),
        "params": dict(graph.params),
        "width_rule": spec.width.text(),
        "totals": totals,
        "layers": rows,
        "by_type": _group(by_category, totals, "type"),
        "by_resolution": _group(resolutions, totals, "resolution"),
    }
    if any(by_stage):
        report["by_stage"] = _group(by_stage, totals, "stage")
    return report


def _share(part, whole):
    return part / whole if whole else 0.0


def _group(sums, totals, label):
    """The summed counts per value (first appearance order; types by mult-adds)."""
    result = [{label: value, "mult_adds": a[0], "params": a[1], "bn_params": a[2],
               "other_ops": a[3], "layers": a[4],
               "mult_adds_share": _share(a[0], totals["mult_adds"]),
               "params_share": _share(a[1], totals["params"])} for value, a in sums.items()]
    if label == "type":
        result.sort(key=lambda g: (-g["mult_adds"], -g["params"], -g["other_ops"]))
    return result
