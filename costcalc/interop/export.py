"""A built graph as PyTorch code: the text of each layer, and a standalone module file.

This module never imports torch: it writes Python source. ``costcalc.torch`` (the
optional ``costcalc[torch]`` extra) evaluates the same per-layer code to build an
nn.Module in memory, so ``build()`` and ``costcalc export --torch`` cannot disagree.

Every tensor is N x C x H x W, as costcalc's shapes are C x H x W: ``fc`` and
``flatten`` give N x C x 1 x 1. Padding ``'same'`` is TensorFlow's rule (docs/torch.md):
the pads are computed here from the built input size, extra pixel on the bottom and
right, and become the layer's own ``padding`` when they are symmetric, an ``F.pad``
before it when not (``-inf`` for max pooling; average pooling leaves the padding out
of each average, as TensorFlow does). Each layer is computed as the spec's torch_call
says (an nn.Module, a torch.nn.functional call, a Tensor method, a channels-last
nn.Linear), so tools that hook modules or patch functions see what their conventions
count; a torch_call a layer has no PyTorch form for is an ExportError.
"""
import builtins
import keyword
import re

from costcalc.core.errors import SpecError
from costcalc.layers import pool_pads, same_pads
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

# Names the generated file defines or uses itself: never a layer's variable.
RESERVED = frozenset("""
x image self torch nn F float build_model INPUT_SHAPE LayerNorm2d LayerScale
channel_shuffle super print tuple sum
""".split())

_BUILTINS = frozenset(dir(builtins))

HELPERS = {
    "LayerNorm2d": '''\
class LayerNorm2d(nn.LayerNorm):
    """nn.LayerNorm over the channels of an N x C x H x W tensor (ConvNeXt's)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
''',
    "LayerScale": '''\
class LayerScale(nn.Module):
    """A learned per-channel scale gamma of shape C x 1 x 1 (ConvNeXt's layer scale)."""

    def __init__(self, channels, init=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, 1, 1), init))

    def forward(self, x):
        return x * self.gamma
''',
    "channel_shuffle": '''\
def channel_shuffle(x, groups):
    """ShuffleNet's channel shuffle: C = groups * (C / groups) channels, transposed."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
''',

}

# Each activation as an nn.Module, a torch.nn.functional call and a Tensor method (None:
# there is none), for the spec's torch_call; "{}" is the input.
_ACTIVATIONS = {
    "relu": ("nn.ReLU()", "F.relu({})", "{}.relu()"),
    "relu6": ("nn.ReLU6()", "F.relu6({})", None),
    "leaky_relu": ("nn.LeakyReLU()", "F.leaky_relu({})", None),   # slope 0.01, PyTorch's default
    "sigmoid": ("nn.Sigmoid()", "F.sigmoid({})", "{}.sigmoid()"),
    "tanh": ("nn.Tanh()", "F.tanh({})", "{}.tanh()"),
    "hswish": ("nn.Hardswish()", "F.hardswish({})", None),
    "swish": ("nn.SiLU()", "F.silu({})", None),
    "hardsigmoid": ("nn.Hardsigmoid()", "F.hardsigmoid({})", None),
    "gelu": ("nn.GELU()", "F.gelu({})", None),
    "softmax": ("nn.Softmax(dim=1)", "F.softmax({}, dim=1)", "{}.softmax(1)"),
}

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


def _pair_text(pair):
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def _f_pad(arg, rows, cols, value=None):
    fill = "" if value is None else f", value={value}"
    return f"F.pad({arg}, ({cols[0]}, {cols[1]}, {rows[0]}, {rows[1]}){fill})"


class LayerCode:
    """The PyTorch code of one node: ``init`` (the module expression, or None for a
    layer no nn.Module computes) and ``call(args, module)``, the expression of its
    output from the code of its inputs and of its module (``self.NAME``)."""

    __slots__ = ("init", "call", "helpers")

    def __init__(self, init, call, helpers=()):
        self.init, self.call, self.helpers = init, call, tuple(helpers)


def _module(init, wrap="{}"):
    """A layer computed by the nn.Module ``init``, called on ``wrap`` of its input."""
    return LayerCode(init, lambda args, m: f"{m}({wrap.format(args[0])})")


def _expression(template, helpers=()):
    """A layer without a module: ``template`` of its input ("{}")."""
    return LayerCode(None, lambda args, m: template.format(args[0]), helpers)


def _channels_last(init):
    """An nn.Module applied on the channels-last view: nn.LayerNorm, nn.Linear."""
    return LayerCode(init, lambda args, m: f"{m}({args[0]}.permute(0, 2, 3, 1))"
                                           f".permute(0, 3, 1, 2)")


def layer_code(node, shapes):
    """The LayerCode of ``node`` whose inputs have ``shapes``, computed as its torch_call
    says (an nn.Module, a torch.nn.functional call, a Tensor method or an nn.Linear on
    channels-last positions: what tools that hook modules or patch functions see);
    ExportError (at the layer's line) if PyTorch cannot compute it exactly so."""
    kind = node.type.name
    a = node.attrs
    x_shape = shapes[0]
    forms = _forms(node, kind, a, x_shape)
    code = forms.get(node.torch_call)
    if code is None:
        if not forms:
            raise _error(node, f"layer type {kind} has no PyTorch translation")
        can = " or ".join(call for call in TORCH_CALLS if call in forms)
        raise _error(node, f"torch_call {node.torch_call} has no PyTorch form for a {kind} "
                           f"layer (it can be {can})")
    return code


def _forms(node, kind, a, x_shape):
    """{torch_call: LayerCode} of every form PyTorch has for the layer (module, the
    default, is the plain code for a layer that no nn.Module computes: x + y, torch.cat)."""
    if kind in ("conv", "depthwise"):
        return {"module": _conv_code(node, x_shape)}
    if kind == "pointwise":
        if node.torch_call == "linear" and (a["stride"] != (1, 1) or a["groups"] != 1):
            raise _error(node, "torch_call linear (an nn.Linear at each position) needs "
                               "stride 1 and groups 1")
        bias = "" if a["bias"] else ", bias=False"
        return {"module": _conv_code(node, x_shape),
                "linear": _channels_last(f"nn.Linear({x_shape[0]}, {node.shape[0]}{bias})")}
    if kind == "fc":
        c, h, w = x_shape
        bias = "" if a["bias"] else ", bias=False"
        n = a["out"]
        code = LayerCode(f"nn.Linear({c * h * w}, {n}{bias})",
                         lambda args, m: f"{m}(torch.flatten({args[0]}, 1)).view(-1, {n}, 1, 1)")
        return {"module": code, "linear": code}
    if kind == "batchnorm":
        return {"module": _module(f"nn.BatchNorm2d({node.shape[0]})")}
    if kind == "layernorm":   # nn.LayerNorm on channels-last; LayerNorm2d calls F.layer_norm
        return {"module": _channels_last(f"nn.LayerNorm({node.shape[0]}, eps=1e-6)"),
                "functional": LayerCode(f"LayerNorm2d({node.shape[0]}, eps=1e-6)",
                                        lambda args, m: f"{m}({args[0]})", ["LayerNorm2d"])}
    if kind == "layer_scale":
        return {"module": LayerCode(f"LayerScale({node.shape[0]})",
                                    lambda args, m: f"{m}({args[0]})", ["LayerScale"])}
    if kind in _ACTIVATIONS:
        module, functional, method = _ACTIVATIONS[kind]
        forms = {"module": _module(module), "functional": _expression(functional)}
        if method:
            forms["method"] = _expression(method)
        return forms
    if kind in ("maxpool", "avgpool"):
        return _pool_forms(node, x_shape)
    if kind == "global_avgpool":
        return {"module": _module("nn.AdaptiveAvgPool2d(1)"),
                "functional": _expression("F.adaptive_avg_pool2d({}, 1)"),
                "method": _expression("{}.mean((2, 3), keepdim=True)")}
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        size, name = _pair_text(a["size"]), kind[9:12].capitalize()
        return {"module": _module(f"nn.Adaptive{name}Pool2d({size})"),
                "functional": _expression(f"F.{kind[:-4]}_pool2d({{}}, {size})")}
    if kind == "dropout":
        rate = a["rate"]
        return {"module": _module(f"nn.Dropout({rate})"),
                "functional": _expression(f"F.dropout({{}}, {rate}, self.training)")}
    code = _plain_code(kind, a)
    return {"module": code} if code else {}


def _plain_code(kind, a):
    """The code of a layer no nn.Module computes in PyTorch's own models, or None."""
    if kind == "add":
        return LayerCode(None, lambda args, m: " + ".join(args))
    if kind == "multiply":
        return LayerCode(None, lambda args, m: " * ".join(args))
    if kind == "concat":
        return LayerCode(None, lambda args, m: f"torch.cat([{', '.join(args)}], 1)")
    if kind == "split":
        return _expression(f"{{}}.chunk({a['parts']}, 1)[{a['part']}]")
    if kind == "slice":
        return _expression(f"{{}}[:, {a['start'] or ''}:{a['stop']}]")
    if kind == "shuffle":
        return _expression(f"channel_shuffle({{}}, {a['groups']})", ["channel_shuffle"])
    if kind == "flatten":
        return _expression("torch.flatten({}, 1)[:, :, None, None]")
    if kind == "identity":
        return _expression("{}")
    return None


def _error(node, message):
    pos = node.pos
    return ExportError(f"{node.name} ({node.type.name}): {message}",
                       *((pos.path, pos.line, pos.col) if pos is not None else ()))


def _conv_code(node, shape):
    a, kind = node.attrs, node.type.name
    m, n = shape[0], node.shape[0]
    if kind == "pointwise":
        k, dilation, pad = (1, 1), (1, 1), "valid"
        groups = a["groups"]
    else:
        k, dilation, pad = a["k"], a["dilation"], a["padding"]
        groups = a["groups"] if kind == "conv" else m
    stride = a["stride"]
    if pad == "same":
        rows = same_pads(shape[1], node.shape[1], k[0], stride[0], dilation[0])
        cols = same_pads(shape[2], node.shape[2], k[1], stride[1], dilation[1])
    elif pad == "valid":
        rows = cols = (0, 0)
    else:
        rows, cols = (pad[0], pad[0]), (pad[1], pad[1])
    symmetric = rows[0] == rows[1] and cols[0] == cols[1]
    options = []
    if stride != (1, 1):
        options.append(f"stride={_pair_text(stride)}")
    if symmetric and (rows[0], cols[0]) != (0, 0):
        options.append(f"padding={_pair_text((rows[0], cols[0]))}")
    if dilation != (1, 1):
        options.append(f"dilation={_pair_text(dilation)}")
    if groups != 1:
        options.append(f"groups={groups}")
    if not a["bias"]:
        options.append("bias=False")
    init = f"nn.Conv2d({m}, {n}, {_pair_text(k)}{''.join(', ' + o for o in options)})"
    if symmetric:
        return LayerCode(init, lambda args, mod: f"{mod}({args[0]})")
    return LayerCode(init, lambda args, mod: f"{mod}({_f_pad(args[0], rows, cols)})")


def _tf_counts(size, out, k, stride, before):
    """Real pixels in each window along one side ('same' padding of ``before`` first)."""
    return [min(i * stride - before + k, size) - max(i * stride - before, 0) for i in range(out)]


def _runs(values):
    """A list as Python text by runs: [3, 3, 3, 2] -> '[3] * 3 + [2]'."""
    runs = []
    for value in values:
        if runs and runs[-1][0] == value:
            runs[-1][1] += 1
        else:
            runs.append([value, 1])
    return " + ".join(f"[{v}] * {n}" if n > 1 else f"[{v}]" for v, n in runs)


def _pool_forms(node, shape):
    """{torch_call: LayerCode} of max or average pooling: nn.MaxPool2d / nn.AvgPool2d
    (module) or F.max_pool2d / F.avg_pool2d (functional), with PyTorch's own padding when
    it can hold the layer's, else after an F.pad (-inf for max pooling). An uneven 'same'
    average leaves the padding out as TensorFlow does: the average over the zero-padded
    window times kh * kw / (real pixels of the window), those counts written out."""
    a, kind = node.attrs, node.type.name
    k, ceil_mode = a["k"], a["ceil_mode"]
    stride, rows, cols, own = pool_pads(node, shape)
    name = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
    kernel, step = _pair_text(k), _pair_text(stride)
    head = f"{kernel}, {step}" if stride != k else kernel
    options = ", ceil_mode=True" if ceil_mode else ""
    wrap, scale = "{}", None
    tf_average = a["padding"] == "same" and kind == "avgpool"
    if own:
        pad = (rows[0], cols[0])
        if pad != (0, 0):
            options = f", padding={_pair_text(pad)}{options}"
            if tf_average:
                options += ", count_include_pad=False"    # TensorFlow leaves it out
    else:
        # an uneven 'same' padding (an explicit one is even): pad first, then pool without padding
        wrap = _f_pad("{}", rows, cols, "float('-inf')" if kind == "maxpool" else None)
        if tf_average:
            down = _runs(_tf_counts(shape[1], node.shape[1], k[0], stride[0], rows[0]))
            across = _runs(_tf_counts(shape[2], node.shape[2], k[1], stride[1], cols[0]))
            scale = (f" * {k[0] * k[1]} / ({{0}}.new_tensor({down})[:, None] "
                     f"* {{0}}.new_tensor({across}))")
    module = f"nn.{name}({head}{options})"
    functional = f"F.{name[:3].lower()}_pool2d({wrap}, {head}{options})"
    if scale is None:
        return {"module": _module(module, wrap), "functional": _expression(functional)}
    return {"module": LayerCode(module, lambda args, m: (
                f"{m}({wrap.format(args[0])})" + scale.format(args[0]))),
            "functional": _expression(functional.replace("{}", "{0}") + scale)}


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
    next node reads it, else the node's identifier; and the image's (``x`` or ``image``)."""
    nodes = graph.nodes
    readers = {}
    for i, node in enumerate(nodes):
        for j in node.inputs:
            readers.setdefault(j, []).append(i)
    found = []
    for i in range(len(nodes)):
        found.append("x" if readers.get(i, []) in ([], [i + 1]) else names[i])
    image = "x" if readers.get(-1, [0]) == [0] else "image"
    return found, image


def _settings_text(graph):
    s = graph.settings
    c, h, w = graph.input_shape
    text = f"alpha {s.alpha:g}, rho {s.rho:g}, input {c}x{h}x{w}"
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
    c, h, w = graph.input_shape
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
        f"# input size above (docs/torch.md): build_model() is for {c}x{h}x{w} inputs.",
        f'"""{safe_text(title)} ({safe_text(label)}), as costcalc builds it: every layer of the '
        f'spec, in order."""',
        "import torch",
        "from torch import nn",
        "from torch.nn import functional as F",
        "",
        f"INPUT_SHAPE = (1, {c}, {h}, {w})",
        "",
    ]
    for helper in plan.helpers:
        lines += ["", HELPERS[helper].rstrip("\n"), ""]
    lines += ["", f"class {plan.class_name}(nn.Module):",
              f'    """{safe_text(title)}: learned parameters {learned:,}, mult-adds '
              f'{totals["mult_adds"]:,} at {c}x{h}x{w}."""', "",
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
        args = [image if j < 0 else outs[j] for j in node.inputs]
        expr = plan.codes[i].call(args, plan.module_ref(i))
        comment = f"  # {safe_text(node.name)} ({node.type.name}): " + "x".join(
            map(str, node.shape))
        if expr == outs[i]:
            lines.append(f"        {comment.strip()}")
        else:
            lines.append(f"        {outs[i]} = {expr}{comment}")
    lines.append(f"        return {outs[-1] if nodes else image}")
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
