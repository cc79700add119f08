"""PyTorch code as text, the pieces the layer types' ``torch_forms`` share, and
padding as PyTorch applies it. Nothing here imports torch: costcalc.interop writes
or evaluates the text."""


class NoTorchForm(ValueError):
    """A layer PyTorch cannot compute as costcalc counts it (costcalc.interop.export
    places it at the layer's line)."""


class LayerCode:
    """The PyTorch code of one node: ``init`` (the module expression, or None for a
    layer no nn.Module computes) and ``call(args, module)``, the expression of its
    output from the code of its inputs and of its module (``self.NAME``)."""

    __slots__ = ("init", "call", "helpers")

    def __init__(self, init, call, helpers=()):
        self.init, self.call, self.helpers = init, call, tuple(helpers)


def pair_text(pair):
    """(3, 3) -> '3', (1, 2) -> '(1, 2)': an int pair as PyTorch's arguments take it."""
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def f_pad(arg, rows, cols, value=None):
    """F.pad of ``arg`` by ((top, bottom), (left, right)), with ``value`` if given."""
    fill = "" if value is None else f", value={value}"
    return f"F.pad({arg}, ({cols[0]}, {cols[1]}, {rows[0]}, {rows[1]}){fill})"


def module_code(init, wrap="{}"):
    """A layer computed by the nn.Module ``init``, called on ``wrap`` of its input."""
    return LayerCode(init, lambda args, m: f"{m}({wrap.format(args[0])})")


def expression_code(template, helpers=()):
    """A layer without a module: ``template`` of its input ("{}")."""
    return LayerCode(None, lambda args, m: template.format(args[0]), helpers)


def channels_last_code(init):
    """An nn.Module applied on the channels-last view: nn.LayerNorm, nn.Linear."""
    return LayerCode(init, lambda args, m: f"{m}({args[0]}.permute(0, 2, 3, 1))"
                                           f".permute(0, 3, 1, 2)")


def same_pads(size, out, k, stride, dilation=1):
    """TensorFlow's 'same' padding of one side: (before, after), the extra pixel after."""
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def window_pads(node, shape, stride, dilation=(1, 1)):
    """((top, bottom), (left, right)) of a window layer; 'valid' is no padding, explicit
    padding is the same on both sides."""
    return pads(node.attrs, shape, node.shape, stride, dilation)


def pads(a, shape, out, stride, dilation):
    """window_pads of a layer of attributes ``a`` (its k and padding), input ``shape`` and
    output ``out``."""
    pad = a["padding"]
    kh, kw = a["k"]
    if pad == "valid":
        return (0, 0), (0, 0)
    if pad == "same":
        return (same_pads(shape.height, out.height, kh, stride[0], dilation[0]),
                same_pads(shape.width, out.width, kw, stride[1], dilation[1]))
    return (pad[0], pad[0]), (pad[1], pad[1])
