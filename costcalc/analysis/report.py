"""Step 4: a Graph to the report: per-layer rows, totals and breakdowns, as plain data.

The dict returned by ``make_report`` is exactly the ``--format json`` output
(keys in ../shared/CONTRACT.md); the renderers only format it. Shares are
fractions of the total (0..1); counts are exact integers.
"""
from collections import Counter
from collections.abc import Sequence

COUNTS = ("mult_adds", "params", "bn_params", "other_ops")


def count_totals(nodes):
    """The four counts summed over ``nodes``, and how many layers there are."""
    return {"mult_adds": sum(n.cost.mult_adds for n in nodes),
            "params": sum(n.cost.params for n in nodes),
            "bn_params": sum(n.cost.bn_params for n in nodes),
            "other_ops": sum(n.cost.other_ops for n in nodes),
            "layers": len(nodes)}


def make_report(graph, spec_label, flops=False, convention="paper", lazy_rows=False):
    """Build the report dict of ``graph``; ``spec_label`` is how the user named it. Under a
    ``convention`` other than the papers', the mult_adds and params of every row and total
    are that tool's counts (conventions.py). ``layers`` is a list of row dicts, or with
    ``lazy_rows`` the LayerRows that make them as they are read (for the writers that only
    read them once: JSON and CSV)."""
    from costcalc.counting.conventions import DEFAULT, counts, coverage

    spec, settings, nodes = graph.spec, graph.settings, graph.nodes
    tool_counts = counts(graph, convention) if convention != DEFAULT else None
    counted = ((n.cost.mult_adds, n.cost.params) for n in nodes) if tool_counts is None \
        else tool_counts   # (mult_adds, params) per node
    # the layers alike in all that the breakdowns read, counted first (repeats are many)
    kinds = Counter((n.category, n.shape.spatial, n.stage or "", mult_adds, params,
                     n.cost.bn_params, n.cost.other_ops)
                    for n, (mult_adds, params) in zip(nodes, counted))
    totals = {"mult_adds": 0, "params": 0, "bn_params": 0, "other_ops": 0, "layers": 0}
    by_category, by_resolution, by_stage = {}, {}, {}   # value -> summed counts
    for (category, resolution, stage, *four), layers in kinds.items():
        for groups, value in ((by_category, category), (by_resolution, resolution),
                              (by_stage, stage)):
            acc = groups.setdefault(value, [0, 0, 0, 0, 0])
            for k, count in enumerate(four):
                acc[k] += count * layers
            acc[4] += layers
        for key, count in zip(COUNTS, four):
            totals[key] += count * layers
    totals["layers"] = len(nodes)
    rows = LayerRows(nodes, tool_counts, totals, flops, [name for name, _ in graph.inputs])
    if flops:
        totals["flops"] = 2 * totals["mult_adds"]
    resolutions = {f"{h}x{w}": acc for (h, w), acc in by_resolution.items()}
    report = {
        "name": spec.title(graph.params),
        "spec": spec_label,
        "source": spec.source,
        "convention": convention,
        "alpha": float(settings.alpha),
        "rho": float(settings.rho),
        "resolution": graph.input_shape.height,
        "input": list(graph.input_shape),
        "params": dict(graph.params),
        "title_params": title_params(graph),
        "width_rule": spec.width.text(spec.width_factor(graph.params, 1)),
        "totals": totals,
        "counted": coverage(graph, convention, tool_counts),
        "layers": rows if lazy_rows else list(rows),
        "by_type": _group(by_category, totals, "type"),
        "by_resolution": _group(resolutions, totals, "resolution"),
    }
    if any(by_stage):
        report["by_stage"] = _group(by_stage, totals, "stage")
    return report


def title_params(graph):
    """The parameters a title names: those the user set (--set, a variant's settings) and
    those the spec declares with a value of their own (its settings, such as classes);
    not those derived from others by an expression (EfficientNet's rows from its model)."""
    from costcalc.core.expr import is_template

    spec = graph.spec
    chosen = set(graph.settings.overrides) | set(spec.variant.overrides if spec.variant else ())
    return [name for name, param in spec.params.items()
            if name in chosen or not is_template(param.default)]


class LayerRows(Sequence):
    """The per-layer rows of a report, each made from its node when read: the one
    definition of a row (keys in ../shared/CONTRACT.md). A row is its name and inputs
    around two parts that the repeats of a layer share, ``head`` (type, category) and
    ``tail`` (output, kernel, stage, line, counts, shares); ``encoded`` writes each
    shared part's JSON once, so a million repeated layers cost a million names."""

    CACHE = 65_536   # shared parts kept; cleared when full, so memory stays bounded

    def __init__(self, nodes, tool_counts, totals, flops, graph_inputs):
        self.nodes, self.tool_counts, self.flops = nodes, tool_counts, flops
        self.graph_inputs = graph_inputs   # the names of the graph's inputs, by position
        self.all_mult_adds, self.all_params = totals["mult_adds"] or 1, totals["params"] or 1
        self.names = [node.name for node in nodes]
        self.kernels = {}   # kernel text per attributes (repeats share their attributes)
        self.parts = {}     # (attributes, shape, stage, line, counts) -> parts, texts

    def __len__(self):
        return len(self.nodes)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.row(i) for i in range(*index.indices(len(self.nodes)))]
        return self.row(range(len(self.nodes))[index])

    def __iter__(self):
        return map(self.row, range(len(self.nodes)))

    def inputs(self, node):
        names, inputs = self.names, self.graph_inputs
        return [names[i] if i >= 0 else inputs[~i] for i in node.inputs]

    def shared(self, index):
        """[head, tail, head and tail texts per encoder] of row ``index``."""
        node = self.nodes[index]
        cost, attrs = node.cost, node.attrs
        mult_adds, params = (cost.mult_adds, cost.params) if self.tool_counts is None \
            else self.tool_counts[index]
        key = (id(attrs), node.type.name, node.category, node.shape, node.stage, node.pos.line,
               mult_adds, params, cost.bn_params, cost.other_ops)
        parts = self.parts.get(key)
        if parts is None:
            if len(self.parts) >= self.CACHE:
                self.parts.clear()
            kernel = self.kernels.get(id(attrs))
            if kernel is None:
                kernel = self.kernels[id(attrs)] = node.type.describe(attrs)
            tail = {"output": list(node.shape), "kernel": kernel, "stage": node.stage or "",
                    "line": node.pos.line, "mult_adds": mult_adds, "params": params,
                    "bn_params": cost.bn_params, "other_ops": cost.other_ops,
                    "mult_adds_share": mult_adds / self.all_mult_adds,
                    "params_share": params / self.all_params}
            if self.flops:
                tail["flops"] = 2 * mult_adds
            parts = self.parts[key] = [{"type": node.type.name, "category": node.category},
                                       tail, {}]
        return parts

    def row(self, index):
        """Row ``index`` as a dict of its own (no list in it shared with another row)."""
        head, tail, _ = self.shared(index)
        row = {"name": self.names[index], **head, "inputs": self.inputs(self.nodes[index]),
               **tail}
        row["output"] = list(row["output"])
        return row

    def encoded(self, encode):
        """The JSON text of each row: its name and inputs quoted as ``encode`` (one of
        render.py's row encoders) quotes text, around its shared parts' texts, encoded
        once per encoder."""
        from json.encoder import encode_basestring_ascii as quote   # the row encoders' own

        comma, colon = encode([0, 0])[2:-2], encode({"": 0})[3:-2]   # ', ' ': ' or ',' ':'
        start, between = f"{{{quote('name')}{colon}", f"{comma}{quote('inputs')}{colon}["
        quoted = list(map(quote, self.names))
        inputs = [quote(name) for name in self.graph_inputs]
        for index, node in enumerate(self.nodes):
            parts = self.shared(index)
            texts = parts[2].get(encode)
            if texts is None:
                texts = parts[2][encode] = (f"{comma}{encode(parts[0])[1:-1]}{between}",
                                            f"]{comma}{encode(parts[1])[1:-1]}}}")
            refs = comma.join([quoted[i] if i >= 0 else inputs[~i] for i in node.inputs])
            yield f"{start}{quoted[index]}{texts[0]}{refs}{texts[1]}"


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
