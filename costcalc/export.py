"""A built graph as PyTorch code: the text of each layer, and a standalone module file.

This module never imports torch: it writes Python source. ``costcalc.torch`` (the
optional ``costcalc[torch]`` extra) evaluates the same per-layer code to build an
nn.Module in memory, so ``build()`` and ``costcalc export --torch`` cannot disagree.

Every tensor is N x C x H x W, as costcalc's shapes are C x H x W: ``fc`` and
``flatten`` give N x C x 1 x 1. Padding ``'same'`` is TensorFlow's rule (docs/torch.md):
the pads are computed here from the built input size, extra pixel on the bottom and
right, and become the layer's own ``padding`` when they are symmetric, an ``F.pad``
before it when not (``-inf`` for max pooling; average pooling leaves the padding out
of each average, as TensorFlow does).
"""
import keyword
import re

from .errors import SpecError

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
channel_shuffle tf_avg_pool super print tuple sum
""".split())

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
    "tf_avg_pool": '''\
def tf_avg_pool(x, kernel, stride, pad):
    """TensorFlow's 'same' average pooling: zero padding pad = (left, right, top, bottom),
    left out of each average (each window's sum over its count of real pixels)."""
    ones = torch.ones_like(x[:1, :1])
    return (F.avg_pool2d(F.pad(x, pad), kernel, stride)
            / F.avg_pool2d(F.pad(ones, pad), kernel, stride))
''',
}

_ACTIVATIONS = {
    "relu": "F.relu({})",
    "relu6": "F.relu6({})",
    "leaky_relu": "F.leaky_relu({})",          # slope 0.01, PyTorch's default
    "sigmoid": "torch.sigmoid({})",
    "tanh": "torch.tanh({})",
    "hswish": "F.hardswish({})",
    "swish": "F.silu({})",
    "hardsigmoid": "F.hardsigmoid({})",
    "gelu": "F.gelu({})",
    "softmax": "F.softmax({}, dim=1)",
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
    title as a class name ('Net' if nothing of it is left)."""
    name = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z_]+", str(title)))
    if not name or name[0].isdigit():
        name = "Net" + name
    if keyword.iskeyword(name) or name in RESERVED or name in HELPERS:
        name += "Net"
    return name


def _pair_text(pair):
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def same_pads(size, out, k, stride, dilation=1):
    """TensorFlow's 'same' padding of one side: (before, after), the extra pixel after."""
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _window_pads(node, shape, stride, dilation=(1, 1)):
    """((top, bottom), (left, right)) of a window layer; 'valid' is no padding, explicit
    padding is the same on both sides."""
    pad = node.attrs["padding"]
    kh, kw = node.attrs["k"]
    if pad == "valid":
        return (0, 0), (0, 0)
    if pad == "same":
        return (same_pads(shape[1], node.shape[1], kh, stride[0], dilation[0]),
                same_pads(shape[2], node.shape[2], kw, stride[1], dilation[1]))
    return (pad[0], pad[0]), (pad[1], pad[1])


def _f_pad(arg, rows, cols, value=None):
    fill = "" if value is None else f", value={value}"
    return f"F.pad({arg}, ({cols[0]}, {cols[1]}, {rows[0]}, {rows[1]}){fill})"


def _torch_pool_side(size, k, stride, pad, ceil_mode):
    """PyTorch's output side of a pooling window (the ceil_mode rule included)."""
    if ceil_mode:
        out = -(-(size + 2 * pad - k) // stride) + 1
        if (out - 1) * stride >= size + pad:
            out -= 1
        return out
    return (size + 2 * pad - k) // stride + 1


class LayerCode:
    """The PyTorch code of one node: ``init`` (the module expression, or None for a
    layer without parameters or state) and ``call(args, module)``, the expression of its
    output from the code of its inputs and of its module (``self.NAME``)."""

    __slots__ = ("init", "call", "helpers")

    def __init__(self, init, call, helpers=()):
        self.init, self.call, self.helpers = init, call, tuple(helpers)


def layer_code(node, shapes):
    """The LayerCode of ``node`` whose inputs have ``shapes``; ExportError (at the layer's
    line) if PyTorch cannot compute it exactly."""
    kind = node.type.name
    a = node.attrs
    x_shape = shapes[0]
    if kind in ("conv", "pointwise", "depthwise"):
        return _conv_code(node, x_shape)
    if kind == "fc":
        c, h, w = x_shape
        bias = "" if a["bias"] else ", bias=False"
        n = a["out"]
        return LayerCode(f"nn.Linear({c * h * w}, {n}{bias})",
                         lambda args, m: f"{m}(torch.flatten({args[0]}, 1)).view(-1, {n}, 1, 1)")
    if kind == "batchnorm":
        return LayerCode(f"nn.BatchNorm2d({node.shape[0]})", lambda args, m: f"{m}({args[0]})")
    if kind == "layernorm":
        return LayerCode(f"LayerNorm2d({node.shape[0]}, eps=1e-6)",
                         lambda args, m: f"{m}({args[0]})", ["LayerNorm2d"])
    if kind == "layer_scale":
        return LayerCode(f"LayerScale({node.shape[0]})", lambda args, m: f"{m}({args[0]})",
                         ["LayerScale"])
    if kind in _ACTIVATIONS:
        template = _ACTIVATIONS[kind]
        return LayerCode(None, lambda args, m: template.format(args[0]))
    if kind in ("maxpool", "avgpool"):
        return _pool_code(node, x_shape)
    if kind == "global_avgpool":
        return LayerCode(None, lambda args, m: f"F.adaptive_avg_pool2d({args[0]}, 1)")
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        size = _pair_text(a["size"])
        return LayerCode(None, lambda args, m: f"F.{kind[:-4]}_pool2d({args[0]}, {size})")
    if kind == "add":
        return LayerCode(None, lambda args, m: " + ".join(args))
    if kind == "multiply":
        return LayerCode(None, lambda args, m: " * ".join(args))
    if kind == "concat":
        return LayerCode(None, lambda args, m: f"torch.cat([{', '.join(args)}], 1)")
    if kind == "split":
        parts, part = a["parts"], a["part"]
        return LayerCode(None, lambda args, m: f"{args[0]}.chunk({parts}, 1)[{part}]")
    if kind == "slice":
        start, stop = a["start"], a["stop"]
        return LayerCode(None, lambda args, m: f"{args[0]}[:, {start or ''}:{stop}]")
    if kind == "shuffle":
        groups = a["groups"]
        return LayerCode(None, lambda args, m: f"channel_shuffle({args[0]}, {groups})",
                         ["channel_shuffle"])
    if kind == "flatten":
        return LayerCode(None, lambda args, m: f"torch.flatten({args[0]}, 1)[:, :, None, None]")
    if kind == "dropout":
        rate = a["rate"]
        return LayerCode(None, lambda args, m: f"F.dropout({args[0]}, {rate}, self.training)")
    if kind == "identity":
        return LayerCode(None, lambda args, m: args[0])
    raise _error(node, f"layer type {kind} has no PyTorch translation")


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


def _pool_code(node, shape):
    a, kind = node.attrs, node.type.name
    k = a["k"]
    stride = a["stride"] or k
    ceil_mode = a["ceil_mode"]
    rows, cols = _window_pads(node, shape, stride)
    function = "F.max_pool2d" if kind == "maxpool" else "F.avg_pool2d"
    same = a["padding"] == "same"
    kernel, step = _pair_text(k), _pair_text(stride)
    head = f"{kernel}, {step}" if stride != k else kernel
    symmetric = rows[0] == rows[1] and cols[0] == cols[1]
    fits = 2 * rows[0] <= k[0] and 2 * cols[0] <= k[1]   # PyTorch's limit on padding
    ceil = ", ceil_mode=True" if ceil_mode else ""
    if symmetric and fits:
        pad = (rows[0], cols[0])
        options = ""
        if pad != (0, 0):
            options += f", padding={_pair_text(pad)}"
            if same and kind == "avgpool":
                options += ", count_include_pad=False"    # TensorFlow leaves it out
        return LayerCode(None, lambda args, m: f"{function}({args[0]}, {head}{options}{ceil})")
    if same and kind == "avgpool":
        pads = f"({cols[0]}, {cols[1]}, {rows[0]}, {rows[1]})"
        return LayerCode(None, lambda args, m: f"tf_avg_pool({args[0]}, {kernel}, {step}, {pads})",
                         ["tf_avg_pool"])
    # padding past half the window, or uneven: pad first, then pool without padding;
    # with ceil_mode PyTorch's rule then sees another input size, so check the shape
    if ceil_mode and any(
            _torch_pool_side(size + before + after, kk, s, 0, True) != out
            for size, (before, after), kk, s, out in (
                (shape[1], rows, k[0], stride[0], node.shape[1]),
                (shape[2], cols, k[1], stride[1], node.shape[2]))):
        raise _error(node, "PyTorch pools at most half the window of padding, and with "
                           "ceil_mode a wider padding cannot be written as F.pad before the "
                           "pooling without changing the output size")
    value = "float('-inf')" if kind == "maxpool" else None
    return LayerCode(None, lambda args, m: (
        f"{function}({_f_pad(args[0], rows, cols, value)}, {head}{ceil})"))


# ---------------------------------------------------------------- the whole model

class Plan:
    """A graph as PyTorch: ``names`` (an identifier per node), ``codes`` (a LayerCode per
    node), ``modules`` ([(identifier, init code, node index)] of the layers with
    parameters or state), ``helpers`` (the helper names used, in HELPERS' order) and
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
    from . import __version__
    from .report import count_totals

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
    from .graph import Settings, build
    from .shipped import load
    from .spec import Spec

    loaded = spec if isinstance(spec, Spec) else load(spec)
    return build(loaded, Settings(alpha, rho, resolution, params))


def write_torch(spec, path, alpha=1.0, rho=1.0, resolution=None, params=None, stream=None):
    """Write the PyTorch file of ``spec`` to ``path`` ('-': ``stream``); return the graph."""
    graph = build_graph(spec, alpha, rho, resolution, params)
    text = torch_source(graph, spec if isinstance(spec, str) and "\n" not in spec
                        else graph.spec.path)
    if path == "-":
        stream.write(text)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return graph
