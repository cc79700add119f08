"""A built graph as PyTorch code: the text of each layer, and a standalone module file.

This module never imports torch: it writes Python source. ``costcalc.torch`` (the
optional ``costcalc[torch]`` extra) evaluates the same per-layer code to build an
nn.Module in memory, so ``build()`` and ``costcalc export --torch`` cannot disagree.

The code of each layer is its type's (``torch_forms`` in costcalc.layers); this module
writes the file around it: identifiers, the helpers used, the class and its forward.
Every tensor is N x C x H x W, as costcalc's shapes are C x H x W: ``fc`` and
``flatten`` give N x C x 1 x 1. Padding ``'same'`` is TensorFlow's rule (docs/torch.md):
the pads are computed from the built input size, extra pixel on the bottom and right,
and become the layer's own ``padding`` when they are symmetric, an ``F.pad`` before it
when not (``-inf`` for max pooling; average pooling leaves the padding out of each
average, as TensorFlow does). Each layer is computed as the spec's torch_call says (an
nn.Module, a torch.nn.functional call, a Tensor method, a channels-last nn.Linear), so
tools that hook modules or patch functions see what their conventions count; a
torch_call a layer has no PyTorch form for is an ExportError.
"""
import builtins
import keyword
import re

from costcalc.core.errors import SpecError
from costcalc.layers import NoTorchForm, canonical_types
from costcalc.lang.entries import TORCH_CALLS

# Attributes of torch.nn.Module (torch 2.x) and of the built model: a layer whose name
# is one of them gets the prefix 'layer_' (tests/test_torch_target.py checks the list
# against the installed torch).
MODULE_ATTRS = frozenset("""
T_destination add_module apply bfloat16 buffers call_super_init children compile cpu
cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state
get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers
named_children named_modules named_parameters parameters register_backward_hook
register_buffer register_forward_hook register_forward_pre_hook
register_full_backward_hook register_full_backward_pre_hook
register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
register_parameter register_state_dict_post_hook register_state_dict_pre_hook
requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
training type xpu zero_grad graph layer_names module_names
""".split())

# Names the generated file defines or uses itself (the helpers too, below): never a
# layer's variable.
RESERVED = frozenset("""
x image self torch nn F float build_model INPUT_SHAPE super print tuple sum
""".split())

_BUILTINS = frozenset(dir(builtins))

# The helpers the layer types' code calls ({name: source}, costcalc.layers' torch_helpers),
# in name order: the file defines those it uses in this order.
HELPERS = dict(sorted((name, source) for layer_type in canonical_types()
                      for name, source in layer_type.torch_helpers.items()))
RESERVED |= frozenset(HELPERS)


class ExportError(SpecError):
    """A layer PyTorch cannot compute exactly as costcalc counts it."""


def safe_text(value):
    """Text for a comment or docstring of the generated file: one line, no quotes that end
    a docstring, control characters as escapes."""
    text = repr(str(value))[1:-1]
    return text.replace('"""', '\\"\\"\\"')


def identifiers(nodes):
    """One distinct Python identifier per node: its name with every character other than
    ASCII letters, digits and '_' made '_' ('separable1/dw' -> 'separable1_dw'); a name
    that starts with a digit or '_', is a keyword or would shadow an attribute of
    nn.Module or a name of the generated file gets the prefix 'layer_'; a name taken
    already gets '_2', '_3', ..."""
    taken, found = set(), []
    for node in nodes:
        base = re.sub(r"[^0-9A-Za-z_]", "_", node.name) or "layer"
        if (base[0].isdigit() or base[0] == "_" or keyword.iskeyword(base)
                or base in MODULE_ATTRS or base in RESERVED):
            base = "layer_" + base
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        taken.add(name)
        found.append(name)
    return found


def class_name(title):
    """'ResNet-50' -> 'ResNet50', 'Every layer type' -> 'EveryLayerType': the spec's
    title as a class name. 'Net' comes first when nothing of it is left or it starts with
    a digit or '_' ('__debug__', '__name__' -> 'Net__debug__'), and last when it is a
    keyword, a builtin or a name the file defines or uses ('None', 'Print', 'F')."""
    name = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z_]+", str(title)))
    if not name[:1].isalpha():
        name = "Net" + name
    if keyword.iskeyword(name) or name in _BUILTINS or name in RESERVED or name in HELPERS:
        name += "Net"
    return name


def layer_code(node, shapes):
    """The LayerCode of ``node`` whose inputs have ``shapes``, computed as its torch_call
    says (an nn.Module, a torch.nn.functional call, a Tensor method or an nn.Linear on
    channels-last positions: what tools that hook modules or patch functions see);
    ExportError (at the layer's line) if PyTorch cannot compute it exactly so."""
    kind = node.type.name
    try:
        forms = node.type.torch_forms(node, shapes)
    except NoTorchForm as exc:
        raise _error(node, str(exc)) from None
    code = forms.get(node.torch_call)
    if code is None:
        if not forms:
            raise _error(node, f"layer type {kind} has no PyTorch translation")
        can = " or ".join(call for call in TORCH_CALLS if call in forms)
        raise _error(node, f"torch_call {node.torch_call} has no PyTorch form for a {kind} "
                           f"layer (it can be {can})")
    return code


def _error(node, message):
    pos = node.pos
    return ExportError(f"{node.name} ({node.type.name}): {message}",
                       *((pos.path, pos.line, pos.col) if pos is not None else ()))


# ---------------------------------------------------------------- the whole model

class Plan:
    """A graph as PyTorch: ``names`` (an identifier per node), ``codes`` (a LayerCode per
    node), ``modules`` ([(identifier, init code, node index)] of the layers an nn.Module
    computes), ``helpers`` (the helper names used, in HELPERS' order) and
    ``class_name``."""

    def __init__(self, graph):
        self.graph = graph
        nodes = graph.nodes
        self.names = identifiers(nodes)
        self.codes = [layer_code(node, [graph.shape_of(i) for i in node.inputs])
                      for node in nodes]
        self.modules = [(self.names[i], code.init, i) for i, code in enumerate(self.codes)
                        if code.init is not None]
        used = {h for code in self.codes for h in code.helpers}
        self.helpers = [h for h in HELPERS if h in used]
        self.class_name = class_name(graph.spec.title(graph.params))

    def module_ref(self, index):
        """``self.NAME`` of node ``index``'s module, or None."""
        return f"self.{self.names[index]}" if self.codes[index].init is not None else None


def variables(graph, names):
    """The variable of each node's output in the generated forward: ``x`` when only the
    next node reads it, else the node's identifier; and the graph input's (``x`` or
    ``image``)."""
    nodes = graph.nodes
    readers = {}
    for i, node in enumerate(nodes):
        for j in node.inputs:
            readers.setdefault(j, []).append(i)
    found = []
    for i in range(len(nodes)):
        found.append("x" if readers.get(i, []) in ([], [i + 1]) else names[i])
    image = "x" if readers.get(~0, [0]) == [0] else "image"
    return found, image


def _settings_text(graph):
    s = graph.settings
    text = f"alpha {s.alpha:g}, rho {s.rho:g}, input {graph.input_shape.text}"
    if s.resolution is not None:
        text += f" (--resolution {s.resolution})"
    if graph.params:
        text += "; parameters: " + ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                                             for k, v in graph.params.items())
    return text


def torch_source(graph, label):
    """The standalone PyTorch file of ``graph`` (``label``: how the spec was named)."""
    from costcalc.core import __version__
    from costcalc.analysis.report import count_totals

    plan = Plan(graph)
    nodes, names = graph.nodes, plan.names
    totals = count_totals(nodes)
    title = graph.spec.title(graph.params)
    outs, image = variables(graph, names)
    shape = graph.input_shape
    learned = totals["params"] + totals["bn_params"]
    lines = [
        f"# {safe_text(title)} as PyTorch: generated by costcalc {__version__} "
        f"(costcalc export --torch).",
        f"# Spec: {safe_text(label)}",
        f"# Settings: {safe_text(_settings_text(graph))}",
        f"# costcalc's totals: mult-adds {totals['mult_adds']:,}; params {totals['params']:,} "
        f"(conv and fc); bn_params {totals['bn_params']:,}; learned parameters {learned:,}; "
        f"layers {totals['layers']:,}",
        "# The code needs only torch. Padding 'same' is TensorFlow's rule, computed for the",
        f"# input size above (docs/torch.md): build_model() is for {shape.text} inputs.",
        f'"""{safe_text(title)} ({safe_text(label)}), as costcalc builds it: every layer of the '
        f'spec, in order."""',
        "import torch",
        "from torch import nn",
        "from torch.nn import functional as F",
        "",
        f"INPUT_SHAPE = {(1, *shape)}",
        "",
    ]
    for helper in plan.helpers:
        lines += ["", HELPERS[helper].rstrip("\n"), ""]
    lines += ["", f"class {plan.class_name}(nn.Module):",
              f'    """{safe_text(title)}: learned parameters {learned:,}, mult-adds '
              f'{totals["mult_adds"]:,} at {shape.text}."""', "",
              "    def __init__(self):", "        super().__init__()"]
    for name, init, index in plan.modules:
        note = "" if name == nodes[index].name else f"  # {safe_text(nodes[index].name)}"
        lines.append(f"        self.{name} = {init}{note}")
    if not plan.modules:
        lines.append("        pass")
    lines += ["", "    def forward(self, x):"]
    if image != "x":
        lines.append("        image = x")
    stage = None
    for i, node in enumerate(nodes):
        if node.stage and node.stage != stage:
            lines.append(f"        # stage {safe_text(node.stage)}")
        stage = node.stage
        args = [outs[j] if j >= 0 else image for j in node.inputs]
        expr = plan.codes[i].call(args, plan.module_ref(i))
        comment = f"  # {safe_text(node.name)} ({node.type.name}): {node.shape.text}"
        if expr == outs[i]:
            lines.append(f"        {comment.strip()}")
        else:
            lines.append(f"        {outs[i]} = {expr}{comment}")
    out = graph.outputs[0][1]   # one output: the last node, or the input when there is none
    lines.append(f"        return {outs[out] if out >= 0 else image}")
    lines += ["", "", "def build_model():",
              f'    """A new {plan.class_name} (train mode, as every nn.Module starts; call '
              f'.eval() for inference)."""',
              f"    return {plan.class_name}()",
              "", "",
              'if __name__ == "__main__":',
              "    model = build_model().eval()",
              "    print(sum(p.numel() for p in model.parameters()), \"parameters\")",
              "    with torch.no_grad():",
              "        print(tuple(model(torch.zeros(INPUT_SHAPE)).shape))",
              ""]
    return "\n".join(lines)


def build_graph(spec, alpha=1.0, rho=1.0, resolution=None, params=None):
    """The costcalc graph of ``spec`` (a path, shipped name, YAML text, dict or Spec)."""
    from costcalc.analysis import pipeline
    from costcalc.lang.shipped import load_given
    from costcalc.lang.spec import Spec

    loaded = spec if isinstance(spec, Spec) else load_given(spec)[0]
    return pipeline.graph(loaded, pipeline.Options(alpha=alpha, rho=rho, resolution=resolution,
                                                   overrides=params))


def write_torch(spec, path, alpha=1.0, rho=1.0, resolution=None, params=None, stream=None):
    """Write the PyTorch file of ``spec`` (the command line's SPEC: a path or a shipped
    name, never YAML text) to ``path`` ('-': ``stream``); return the graph."""
    from costcalc.lang.shipped import load

    graph = build_graph(load(spec), alpha, rho, resolution, params)
    text = torch_source(graph, spec if isinstance(spec, str) and "\n" not in spec
                        else graph.spec.path)
    if path == "-":
        stream.write(text)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return graph
