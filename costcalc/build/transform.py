"""Transformations of a built graph: depthwise separable pairs and their standard-conv twin.

A *depthwise separable pair* (MobileNet's Figure 3) is a depthwise layer followed,
possibly through batch norm and activation layers, by a 1x1 convolution that
consumes it:

    depthwise k x k, stride s (M channels)  ->  [batchnorm, relu, ...]  ->  pointwise 1x1 (N)

It is recognised on the expanded graph, so it works for any spec, whatever its
blocks are called. The conditions (all must hold):

- the first layer is a depthwise convolution: type ``depthwise``, or ``conv``
  with groups = input channels = output channels (category "depthwise KxK");
- every layer in between is a batch norm or an element-wise activation (not
  softmax) with one input, and each layer of the chain is used by the next one
  only (nothing else reads the depthwise output or the activations between);
- the last layer is an ungrouped 1x1 convolution (``pointwise``, or ``conv`` with
  k = 1) of stride 1 that keeps the depthwise output's height and width.

A depthwise layer that starts no pair is kept as it is, and ``Graph.kept`` says why (the
report's ``standard_conv.not_replaced``, and a line under the table).

``standard_conv(graph)`` replaces each pair by one standard convolution with the
depthwise layer's kernel, stride, padding and dilation, the depthwise input's M
channels and the pointwise layer's N output channels (and the pointwise layer's
bias, if it has one). The batch norm and activation layers between the two are
dropped: the standard convolution is followed by the pointwise layer's own batch
norm and ReLU, as every layer of the paper's "Conv MobileNet" is. Dropping them
changes only bn_params and other_ops, never mult-adds or params. The replacement
is named ``<depthwise name>+<pointwise name>`` (``separable1/dw+pw`` when both
sit in one block), and keeps the depthwise layer's stage and line.
"""
from costcalc.core.model import Graph, Node
from costcalc.layers import TYPES, BatchNorm, Elementwise


class Pair:
    """One depthwise separable pair: node indices of the depthwise layer, the
    layers between and the pointwise layer."""

    __slots__ = ("depthwise", "between", "pointwise")

    def __init__(self, depthwise, between, pointwise):
        self.depthwise, self.between, self.pointwise = depthwise, between, pointwise


def is_depthwise(node):
    return node.category.startswith("depthwise ")


def is_pointwise(node):
    """An ungrouped 1x1 convolution of stride 1."""
    return node.category == "conv 1x1" and tuple(node.attrs.get("stride", (1, 1))) == (1, 1)


def _passes_through(node):
    """Batch norm or an activation: kept out of the pair's cost, dropped when replaced."""
    return (isinstance(node.type, (BatchNorm, Elementwise)) and node.type.name != "softmax"
            and len(node.inputs) == 1)


def consumers(graph):
    """For each node index, the indices of the nodes that read its output (each once)."""
    users = [[] for _ in graph.nodes]
    for i, node in enumerate(graph.nodes):
        for source in dict.fromkeys(node.inputs):
            if source >= 0:
                users[source].append(i)
    return users


def separable_pairs(graph, why_not=None):
    """The depthwise separable pairs of ``graph`` in execution order (see above). Each
    depthwise layer that starts no pair is added to ``why_not`` (a list, if given) as
    (its name, the reason)."""
    users = consumers(graph)
    pairs = []
    for d, node in enumerate(graph.nodes):
        if not is_depthwise(node):
            continue
        between, current, reason = [], d, None
        while reason is None:
            readers = users[current]
            if len(readers) != 1:
                where = graph.nodes[current].name
                reason = (f"{where} is read by {len(readers)} layers" if readers
                          else f"nothing reads {where}")
                break
            candidate = graph.nodes[readers[0]]
            if candidate.inputs != [current]:
                reason = f"{candidate.name} ({candidate.type.name}) has other inputs"
            elif is_pointwise(candidate):
                if candidate.shape.spatial == node.shape.spatial:
                    pairs.append(Pair(d, between, readers[0]))
                    break
                reason = f"{candidate.name} changes the height and width"
            elif _passes_through(candidate):
                between.append(readers[0])
                current = readers[0]
            else:
                reason = (f"it is followed by {candidate.name} ({candidate.category}), not an "
                          f"ungrouped 1x1 convolution of stride 1")
        if reason is not None and why_not is not None:
            why_not.append((node.name, reason))
    return pairs


def replacement_name(depthwise_name, pointwise_name):
    """'separable1/dw' + 'separable1/pw' -> 'separable1/dw+pw'; else 'a+b'."""
    head, _, tail = pointwise_name.rpartition("/")
    if head and depthwise_name.startswith(head + "/"):
        return f"{depthwise_name}+{tail}"
    return f"{depthwise_name}+{pointwise_name}"


def standard_attrs(graph, pair):
    """Attributes of the standard convolution that replaces ``pair``."""
    dw, pw = graph.nodes[pair.depthwise], graph.nodes[pair.pointwise]
    a = dw.attrs
    return {"out": pw.attrs["out"], "k": a["k"], "groups": 1, "scale": False,
            "stride": a["stride"], "padding": a["padding"],
            "dilation": a.get("dilation", (1, 1)), "bias": pw.attrs.get("bias", False)}


def standard_node(graph, pair):
    """The Node of the standard convolution replacing ``pair`` (inputs not yet renumbered)."""
    conv = TYPES["conv"]
    dw, pw = graph.nodes[pair.depthwise], graph.nodes[pair.pointwise]
    attrs = standard_attrs(graph, pair)
    shapes = [graph.shape_of(dw.inputs[0])]
    shape = conv.shape(attrs, shapes)
    if shape != pw.shape:  # cannot happen for the pairs found above; a guard, not a rule
        raise AssertionError(f"{dw.name}: standard conv shape {shape} != {pw.shape}")
    return Node(replacement_name(dw.name, pw.name), conv, attrs, list(dw.inputs), shape,
                dw.stage, dw.pos, conv.cost(attrs, shapes, shape),
                conv.category(attrs, shapes, shape))


def standard_conv(graph):
    """A new Graph with every depthwise separable pair replaced by one standard
    convolution (the layers between them dropped); every other node is kept, in order."""
    kept = []
    pairs = separable_pairs(graph, kept)
    at_pointwise = {p.pointwise: p for p in pairs}
    dropped = {i for p in pairs for i in [p.depthwise] + p.between}
    new_index = {~k: ~k for k in range(len(graph.inputs))}   # graph inputs stay as they are
    nodes = []
    for i, node in enumerate(graph.nodes):
        if i in dropped:
            continue
        if i in at_pointwise:
            node = standard_node(graph, at_pointwise[i])
        else:
            node = Node(node.name, node.type, node.attrs, list(node.inputs), node.shape,
                        node.stage, node.pos, node.cost, node.category, node.torch_call,
                        node.materialized)
        node.inputs = [new_index[j] for j in node.inputs]
        new_index[i] = len(nodes)
        nodes.append(node)
    return Graph(graph.spec, graph.settings, graph.inputs, graph.params, nodes,
                 replaced=len(pairs), kept=kept)
