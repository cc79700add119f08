"""Every layer type, declared once: attributes, shape rule, cost formulas, docs.

Shapes are ``Shape`` values (costcalc.core.shape), C x H x W today. A layer type is a subclass of ``LayerType``
registered with ``@register``; its docstring is its user documentation (see
``docs/layers.md``, which ``tests/test_docs.py`` keeps in step with this file).

Cost of one layer (see ``docs/conventions.md``):

- ``mult_adds``: multiply-accumulates of conv and fully connected layers only;
- ``params``: their weights plus biases;
- ``bn_params``: batch norm's learned scale and shift (2 per channel);
- ``other_ops``: element operations of batch norm, activations, pooling, adds
  and softmax, counted apart and never mixed into the two headline numbers.

Symbols in the formulas: D_k (kernel side, kh x kw when not square), M input
channels, N output channels, D_f output side (Ho x Wo), g groups.
"""
from costcalc.core.errors import SpecError, did_you_mean, show as _show
from costcalc.core.shape import CHW, ShapeError

REQUIRED = object()
TYPES = {}          # name -> LayerType instance (aliases included)


def register(name, *aliases):
    """Class decorator: add a layer type under ``name`` (and its aliases), once."""
    def add(cls):
        layer_type = cls()
        layer_type.name = name
        layer_type.attrs = {  # defaults in normal form, as check_attr returns them
            key: (kind, default if default is REQUIRED or default is None
                  else check_attr(kind, default, key))
            for key, (kind, default) in cls.attrs.items()}
        layer_type.aliases = aliases
        for key in (name,) + aliases:
            if key in TYPES:
                raise RuntimeError(f"layer type {key!r} registered twice")
            TYPES[key] = layer_type
        return cls
    return add


# ---------------------------------------------------------------- attribute kinds

def _int(value, minimum):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _pair(value, minimum, what):
    """An int or [a, b] of ints, each >= minimum -> (a, b)."""
    if _int(value, minimum):
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(_int(v, minimum) for v in value):
        return (value[0], value[1])
    low = "positive" if minimum > 0 else "non-negative"
    raise ValueError(f"{what} must be a {low} integer or a list [height, width] of them, "
                     f"not {_show(value)}")


def check_attr(kind, value, name):
    """Validate one attribute value of ``kind``; return its normal form."""
    if kind == "channels" or kind == "count":
        if not _int(value, 1):
            raise ValueError(f"{name} must be a positive integer, not {_show(value)}")
        return value
    if kind == "pair":
        return _pair(value, 1, name)
    if kind == "padding":
        if value in ("same", "valid"):
            return value
        return _pair(value, 0, name + " (or 'same' / 'valid')")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {_show(value)}")
        return value
    if kind == "scale":  # true: alpha; false: 1; a number: that multiplier
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value > 0):
            return value
        raise ValueError(f"{name} must be true, false or a positive number, not {_show(value)}")
    if kind == "fraction":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
            return value
        raise ValueError(f"{name} must be a number in [0, 1), not {_show(value)}")
    if kind == "index":  # a 0-based position: a non-negative integer
        if not _int(value, 0):
            raise ValueError(f"{name} must be a non-negative integer, not {_show(value)}")
        return value
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise ValueError(f"{name} must be a number, not {_show(value)}")
    raise AssertionError(kind)


def attr_schema(kind, expression):
    """The JSON Schema of the values check_attr takes for ``kind``; ``expression`` is the
    schema of a ``$`` expression, which may also stand for one side of a pair (the spec
    language's schema, costcalc.lang.schema, adds it in place of a whole value)."""
    positive, natural = {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 0}

    def pair(side):
        return {"type": "array", "items": {"anyOf": [side, expression]},
                "minItems": 2, "maxItems": 2}

    return {
        "channels": positive,
        "count": positive,
        "index": natural,
        "pair": {"anyOf": [positive, pair(positive)]},
        "padding": {"anyOf": [{"enum": ["same", "valid"]}, natural, pair(natural)]},
        "bool": {"type": "boolean"},
        "scale": {"anyOf": [{"type": "boolean"}, {"type": "number", "exclusiveMinimum": 0}]},
        "fraction": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "number": {"type": "number"},
    }[kind]


def conv_side(size, k, stride, pad, dilation=1, ceil_mode=False):
    """Output side of a sliding window.

    same:  ceil(size / stride)                    (TensorFlow's rule)
    valid: floor((size - d(k-1) - 1) / stride) + 1
    p:     floor((size + 2p - d(k-1) - 1) / stride) + 1   (ceil with ceil_mode)
    """
    if pad == "same":
        return -(-size // stride)
    extent = dilation * (k - 1) + 1
    padded = size + 2 * (0 if pad == "valid" else pad)
    if ceil_mode:
        out = -(-(padded - extent) // stride) + 1
        if (out - 1) * stride >= size + (0 if pad == "valid" else pad):
            out -= 1  # the last window must start inside the input (PyTorch, Caffe)
        return out
    return (padded - extent) // stride + 1


class Cost:
    """The four counts of one layer (see the module docstring)."""

    __slots__ = ("mult_adds", "params", "bn_params", "other_ops")

    def __init__(self, mult_adds=0, params=0, bn_params=0, other_ops=0):
        self.mult_adds, self.params = mult_adds, params
        self.bn_params, self.other_ops = bn_params, other_ops


class LayerType:
    """Base: ``attrs`` maps attribute name to (kind, default or REQUIRED).

    ``inputs`` is how many inputs the layer takes: 1, or "many" (add, concat).
    ``view`` is True for the types whose output is a view of their input (no new memory,
    no bytes moved: flatten, dropout, identity, split, slice; docs/memory.md).
    ``widens`` is True for the types whose ``out`` the width multiplier thins.
    """

    attrs = {}
    inputs = 1
    widens = False
    view = False
    name = ""
    aliases = ()

    def shape(self, a, shapes):
        """Output shape from attribute dict ``a`` and input shapes."""
        return shapes[0]

    def cost(self, a, shapes, out):
        return Cost()

    def category(self, a, shapes, out):
        """The row of the by-type breakdown this layer is counted in."""
        return self.name

    def describe(self, a):
        """Short kernel/stride/groups text for the report's table."""
        return ""

    def explain(self, a, shapes, out):
        """The cost formulas with the values substituted (``--explain``):
        {"mult_adds": "SYMBOLS = 3*3*32*112*112 = 3,612,672", "params": ...};
        only the counts this type has (none for layers without mult-adds/params)."""
        return {}

    torch_helpers = {}  # {name: source} of the helpers its PyTorch code calls

    def torch_forms(self, node, shapes):
        """{torch_call: LayerCode} of every form PyTorch has for ``node`` (of this type,
        its inputs of ``shapes``): an nn.Module ('module', the default, is the plain code
        for a layer that no nn.Module computes: x + y, torch.cat), a torch.nn.functional
        call, a Tensor method, an nn.Linear on channels-last positions; {} for none. Text
        only: costcalc.interop writes or evaluates it. NoTorchForm if the layer's
        attributes rule its torch_call out."""
        return {}


# ---------------------------------------------------------------- PyTorch code, as text

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


def _window_shape(a, shape, channels):
    h, w = shape.spatial
    kh, kw = a["k"]
    sh, sw = a["stride"]
    pad = a["padding"]
    ph, pw = (pad, pad) if isinstance(pad, str) else pad
    dh, dw = a.get("dilation", (1, 1))
    ceil_mode = a.get("ceil_mode", False)
    ho = conv_side(h, kh, sh, ph, dh, ceil_mode)
    wo = conv_side(w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ShapeError(f"a {kh}x{kw} window with stride {sh}x{sw} leaves no output "
                         f"on an input of {h}x{w} (output {ho}x{wo})")
    return CHW((channels, ho, wo))


def _kernel_text(a):
    kh, kw = a["k"]
    sh, sw = a["stride"]
    stride = f"/{sh}" if sh == sw else f"/{sh}x{sw}"
    return f"{kh}x{kw}{stride if (sh, sw) != (1, 1) else ''}"


def _formula(symbols, factors, extra=None):
    """'D_k^2 * M = 3*3*32 = 288' from symbols and factors; ``extra`` is a
    (symbol, value) term added to the product (a bias)."""
    product = 1
    for factor in factors:
        product *= factor[0] // factor[1] if isinstance(factor, tuple) else factor
    text = "*".join(f"({f[0]}/{f[1]})" if isinstance(f, tuple) else str(f) for f in factors)
    if extra:
        symbols, text, product = f"{symbols} + {extra[0]}", f"{text} + {extra[1]}", product + extra[1]
    return f"{symbols} = {text} = {product:,}"


def _window_terms(kh, kw, ho, wo):
    """Symbols and factors of the kernel and output-size terms (square or not)."""
    kernel = ([], []) if (kh, kw) == (1, 1) else (
        (["D_k^2"], [kh, kw]) if kh == kw else (["k_h * k_w"], [kh, kw]))
    side = (["D_f^2"], [ho, wo]) if ho == wo else (["H_o * W_o"], [ho, wo])
    return kernel, side


_CONV_COMMON = {"stride": ("pair", 1), "padding": ("padding", "same"),
                "dilation": ("pair", 1), "bias": ("bool", False)}


@register("conv", "conv2d")
class Conv(LayerType):
    """Standard (or group) convolution.

    mult_adds = D_k^2 * (M / g) * N * D_f^2   (kh * kw for a non-square kernel)
    params    = D_k^2 * (M / g) * N  (+ N with bias)
    M and N must both be divisible by g. With g = M = N it is a depthwise layer.
    """

    attrs = dict({"out": ("channels", REQUIRED), "k": ("pair", REQUIRED),
                  "groups": ("count", 1), "scale": ("scale", True)}, **_CONV_COMMON)
    widens = True

    def shape(self, a, shapes):
        m, n, g = shapes[0].channels, a["out"], a["groups"]
        if m % g or n % g:
            raise ShapeError(f"groups={g} must divide both the input channels ({m}, input "
                             f"shape {shapes[0].text}) and the output channels ({n})")
        return _window_shape(a, shapes[0], n)

    def cost(self, a, shapes, out):
        kh, kw = a["k"]
        m, n, g = shapes[0].channels, a["out"], a["groups"]
        weights = kh * kw * (m // g) * n
        return Cost(mult_adds=weights * out.height * out.width,
                    params=weights + (n if a["bias"] else 0))

    def category(self, a, shapes, out):
        kh, kw = a["k"]
        g, m, n = a["groups"], shapes[0].channels, a["out"]
        if g == 1:
            return f"conv {kh}x{kw}"
        if g == m == n:
            return f"depthwise {kh}x{kw}"
        return f"group conv {kh}x{kw}"

    def describe(self, a):
        return _kernel_text(a) + (f" g{a['groups']}" if a["groups"] != 1 else "")

    def explain(self, a, shapes, out):
        kh, kw = a["k"]
        m, n, g = shapes[0].channels, a["out"], a["groups"]
        (k_sym, k_val), (f_sym, f_val) = _window_terms(kh, kw, out.height, out.width)
        m_sym, m_val = (["M"], [m]) if g == 1 else (["(M/g)"], [(m, g)])
        weights = (k_sym + m_sym + ["N"], k_val + m_val + [n])
        bias = ("N", n) if a["bias"] else None
        return {"mult_adds": _formula(" * ".join(weights[0] + f_sym), weights[1] + f_val),
                "params": _formula(" * ".join(weights[0]), weights[1], bias)}

    def torch_forms(self, node, shapes):
        return {"module": _conv_code(node, shapes[0], node.attrs, node.attrs["groups"])}


@register("pointwise", "conv1x1")
class Pointwise(Conv):
    """1x1 convolution, optionally grouped (ShuffleNet's 1x1 GConv).

    mult_adds = (M / g) * N * D_f^2
    params    = (M / g) * N  (+ N with bias)
    """

    attrs = {"out": ("channels", REQUIRED), "groups": ("count", 1),
             "stride": ("pair", 1), "bias": ("bool", False), "scale": ("scale", True)}

    def shape(self, a, shapes):
        return super().shape(_as_conv(a), shapes)

    def cost(self, a, shapes, out):
        return super().cost(_as_conv(a), shapes, out)

    def category(self, a, shapes, out):
        return "conv 1x1" if a["groups"] == 1 else "group conv 1x1"

    def describe(self, a):
        return super().describe(_as_conv(a))

    def explain(self, a, shapes, out):
        return super().explain(_as_conv(a), shapes, out)

    def torch_forms(self, node, shapes):
        a = node.attrs
        if node.torch_call == "linear" and (a["stride"] != (1, 1) or a["groups"] != 1):
            raise NoTorchForm("torch_call linear (an nn.Linear at each position) needs "
                              "stride 1 and groups 1")
        bias = "" if a["bias"] else ", bias=False"
        return {"module": _conv_code(node, shapes[0], _as_conv(a), a["groups"]),
                "linear": channels_last_code(f"nn.Linear({shapes[0].channels}, {node.shape.channels}{bias})")}


def _as_conv(a):
    full = dict(a)
    full.update(k=(1, 1), padding="valid", dilation=(1, 1))
    return full


def _conv_code(node, shape, a, groups):
    """nn.Conv2d of a conv-like ``node`` (its attributes as a conv's, ``a``; ``groups``
    groups) on an input of ``shape``: PyTorch's own padding when it is symmetric, else an
    F.pad first."""
    m, n = shape.channels, node.shape.channels
    k, dilation, stride = a["k"], a["dilation"], a["stride"]
    rows, cols = _pads(a, shape, node.shape, stride, dilation)
    symmetric = rows[0] == rows[1] and cols[0] == cols[1]
    options = []
    if stride != (1, 1):
        options.append(f"stride={pair_text(stride)}")
    if symmetric and (rows[0], cols[0]) != (0, 0):
        options.append(f"padding={pair_text((rows[0], cols[0]))}")
    if dilation != (1, 1):
        options.append(f"dilation={pair_text(dilation)}")
    if groups != 1:
        options.append(f"groups={groups}")
    if not a["bias"]:
        options.append("bias=False")
    init = f"nn.Conv2d({m}, {n}, {pair_text(k)}{''.join(', ' + o for o in options)})"
    if symmetric:
        return LayerCode(init, lambda args, mod: f"{mod}({args[0]})")
    return LayerCode(init, lambda args, mod: f"{mod}({f_pad(args[0], rows, cols)})")


@register("depthwise", "dwconv")
class Depthwise(LayerType):
    """Depthwise convolution: one D_k x D_k filter per input channel (times the
    depth multiplier), output channels M * multiplier.

    mult_adds = D_k^2 * M * multiplier * D_f^2
    params    = D_k^2 * M * multiplier  (+ M * multiplier with bias)
    """

    attrs = dict({"k": ("pair", REQUIRED), "multiplier": ("count", 1)}, **_CONV_COMMON)

    def shape(self, a, shapes):
        return _window_shape(a, shapes[0], shapes[0].channels * a["multiplier"])

    def cost(self, a, shapes, out):
        kh, kw = a["k"]
        weights = kh * kw * out.channels
        return Cost(mult_adds=weights * out.height * out.width,
                    params=weights + (out.channels if a["bias"] else 0))

    def category(self, a, shapes, out):
        kh, kw = a["k"]
        return f"depthwise {kh}x{kw}"

    def describe(self, a):
        mult = a["multiplier"]
        return _kernel_text(a) + (f" x{mult}" if mult != 1 else "")

    def explain(self, a, shapes, out):
        kh, kw = a["k"]
        (k_sym, k_val), (f_sym, f_val) = _window_terms(kh, kw, out.height, out.width)
        mult, m = a["multiplier"], shapes[0].channels
        m_sym, m_val = (["M"], [m]) if mult == 1 else (["M", "m"], [m, mult])
        bias = ("M" if mult == 1 else "M * m", out.channels) if a["bias"] else None
        return {"mult_adds": _formula(" * ".join(k_sym + m_sym + f_sym), k_val + m_val + f_val),
                "params": _formula(" * ".join(k_sym + m_sym), k_val + m_val, bias)}

    def torch_forms(self, node, shapes):
        return {"module": _conv_code(node, shapes[0], node.attrs, shapes[0].channels)}


@register("fc", "linear", "dense")
class FullyConnected(LayerType):
    """Fully connected layer on the flattened input (M = C * H * W features).

    mult_adds = M * N
    params    = M * N  (+ N with bias)
    Output shape (N, 1, 1). Not thinned by alpha unless ``scale`` says so,
    because its output is usually the class count.
    """

    attrs = {"out": ("channels", REQUIRED), "bias": ("bool", True), "scale": ("scale", False)}
    widens = True

    def shape(self, a, shapes):
        return CHW((a["out"], 1, 1))

    def cost(self, a, shapes, out):
        weights = shapes[0].elements * a["out"]
        return Cost(mult_adds=weights, params=weights + (a["out"] if a["bias"] else 0))

    def explain(self, a, shapes, out):
        c, h, w = shapes[0]
        m_sym, m_val = ("M", [c]) if h == w == 1 else ("C * H * W", [c, h, w])  # M = C*H*W
        bias = ("N", a["out"]) if a["bias"] else None
        return {"mult_adds": _formula(f"{m_sym} * N", m_val + [a["out"]]),
                "params": _formula(f"{m_sym} * N", m_val + [a["out"]], bias)}

    def torch_forms(self, node, shapes):
        bias = "" if node.attrs["bias"] else ", bias=False"
        n = node.attrs["out"]
        code = LayerCode(f"nn.Linear({shapes[0].elements}, {n}{bias})",
                         lambda args, m: f"{m}(torch.flatten({args[0]}, 1)).view(-1, {n}, 1, 1)")
        return {"module": code, "linear": code}


@register("batchnorm", "bn")
class BatchNorm(LayerType):
    """Batch normalisation (inference form y = scale * x + shift).

    bn_params = 2 * C (scale and shift; the running mean and variance are
    buffers, not counted); other_ops = C * H * W (one multiply-add per element).
    """

    def cost(self, a, shapes, out):
        return Cost(bn_params=2 * out.channels, other_ops=out.elements)

    def torch_forms(self, node, shapes):
        return {"module": module_code(f"nn.BatchNorm2d({node.shape.channels})")}


class Elementwise(LayerType):
    """An element-wise function: other_ops = C * H * W, no parameters.

    ``torch_calls``: its nn.Module, torch.nn.functional call and Tensor method (None:
    there is none), "{}" standing for the input."""

    torch_calls = (None, None, None)

    def cost(self, a, shapes, out):
        return Cost(other_ops=out.elements)

    def torch_forms(self, node, shapes):
        module, functional, method = self.torch_calls
        forms = {"module": module_code(module), "functional": expression_code(functional)}
        if method:
            forms["method"] = expression_code(method)
        return forms


for _names, _torch in (
        (("relu",), ("nn.ReLU()", "F.relu({})", "{}.relu()")),
        (("relu6",), ("nn.ReLU6()", "F.relu6({})", None)),
        (("leaky_relu",), ("nn.LeakyReLU()", "F.leaky_relu({})", None)),  # slope 0.01: PyTorch's default
        (("sigmoid",), ("nn.Sigmoid()", "F.sigmoid({})", "{}.sigmoid()")),
        (("tanh",), ("nn.Tanh()", "F.tanh({})", "{}.tanh()")),
        (("hswish", "hardswish"), ("nn.Hardswish()", "F.hardswish({})", None)),
        (("swish", "silu"), ("nn.SiLU()", "F.silu({})", None)),
        (("softmax",), ("nn.Softmax(dim=1)", "F.softmax({}, dim=1)", "{}.softmax(1)")),
        (("hardsigmoid", "hsigmoid"), ("nn.Hardsigmoid()", "F.hardsigmoid({})", None)),
        (("gelu",), ("nn.GELU()", "F.gelu({})", None))):
    register(*_names)(type(_names[0].title().replace("_", ""), (Elementwise,), {
        "__doc__": f"{_names[0]}: element-wise, other_ops = C * H * W, no parameters.",
        "torch_calls": _torch}))


class Pool(LayerType):
    """Pooling over a kh x kw window (stride defaults to the kernel).

    other_ops = kh * kw * C * Ho * Wo (one read-and-combine per window element).
    An explicit padding is at most half the kernel on each side, ph <= kh // 2 and
    pw <= kw // 2, as PyTorch requires ("pad should be at most half of effective kernel
    size"); more is an error.
    """

    attrs = {"k": ("pair", REQUIRED), "stride": ("pair", None),
             "padding": ("padding", "same"), "ceil_mode": ("bool", False)}

    def shape(self, a, shapes):
        pad = a["padding"]
        if not isinstance(pad, str) and any(p > k // 2 for p, k in zip(pad, a["k"])):
            raise ShapeError("padding {}x{} is more than half the {}x{} kernel: PyTorch "
                             "requires padding <= kernel // 2 on each side ('pad should be at "
                             "most half of effective kernel size')".format(*pad, *a["k"]))
        return _window_shape(_with_stride(a), shapes[0], shapes[0].channels)

    def cost(self, a, shapes, out):
        kh, kw = a["k"]
        return Cost(other_ops=kh * kw * out.elements)

    def describe(self, a):
        return _kernel_text(_with_stride(a))

    torch_name = ""          # MaxPool2d, AvgPool2d
    pad_fill = None          # the value of an F.pad before it (None: zeros)
    tf_average = False       # 'same' padding left out of each average, as TensorFlow does

    def torch_forms(self, node, shapes):
        """nn.MaxPool2d / nn.AvgPool2d (module) or F.max_pool2d / F.avg_pool2d
        (functional), with PyTorch's own padding when it can hold the layer's, else after
        an F.pad (-inf for max pooling). An uneven 'same' average leaves the padding out
        as TensorFlow does: the average over the zero-padded window times kh * kw / (real
        pixels of the window), those counts written out."""
        a, shape = node.attrs, shapes[0]
        k, ceil_mode = a["k"], a["ceil_mode"]
        stride, rows, cols, own = pool_pads(node, shape)
        kernel, step = pair_text(k), pair_text(stride)
        head = f"{kernel}, {step}" if stride != k else kernel
        options = ", ceil_mode=True" if ceil_mode else ""
        wrap, scale = "{}", None
        tf_average = a["padding"] == "same" and self.tf_average
        if own:
            pad = (rows[0], cols[0])
            if pad != (0, 0):
                options = f", padding={pair_text(pad)}{options}"
                if tf_average:
                    options += ", count_include_pad=False"    # TensorFlow leaves it out
        else:
            # an uneven 'same' padding (an explicit one is even): pad first, then pool
            # without padding
            wrap = f_pad("{}", rows, cols, self.pad_fill)
            if tf_average:
                down = _runs(_tf_counts(shape.height, node.shape.height, k[0], stride[0], rows[0]))
                across = _runs(_tf_counts(shape.width, node.shape.width, k[1], stride[1], cols[0]))
                scale = (f" * {k[0] * k[1]} / ({{0}}.new_tensor({down})[:, None] "
                         f"* {{0}}.new_tensor({across}))")
        module = f"nn.{self.torch_name}({head}{options})"
        functional = f"F.{self.torch_name[:3].lower()}_pool2d({wrap}, {head}{options})"
        if scale is None:
            return {"module": module_code(module, wrap),
                    "functional": expression_code(functional)}
        return {"module": LayerCode(module, lambda args, m: (
                    f"{m}({wrap.format(args[0])})" + scale.format(args[0]))),
                "functional": expression_code(functional.replace("{}", "{0}") + scale)}


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


def _with_stride(a):
    """A pool's attributes with the stride filled in: by default the kernel."""
    return a if a["stride"] is not None else dict(a, stride=a["k"])


@register("maxpool")
class MaxPool(Pool):
    __doc__ = "Max pooling. " + Pool.__doc__
    torch_name, pad_fill = "MaxPool2d", "float('-inf')"


@register("avgpool")
class AvgPool(Pool):
    __doc__ = "Average pooling. " + Pool.__doc__
    torch_name, tf_average = "AvgPool2d", True


@register("global_avgpool", "globalpool")
class GlobalAvgPool(LayerType):
    """Global average pooling: (C, H, W) -> (C, 1, 1); other_ops = C * H * W."""

    def shape(self, a, shapes):
        return CHW((shapes[0].channels, 1, 1))

    def cost(self, a, shapes, out):
        return Cost(other_ops=shapes[0].elements)

    def torch_forms(self, node, shapes):
        return {"module": module_code("nn.AdaptiveAvgPool2d(1)"),
                "functional": expression_code("F.adaptive_avg_pool2d({}, 1)"),
                "method": expression_code("{}.mean((2, 3), keepdim=True)")}


@register("add")
class Add(LayerType):
    """Element-wise sum of two or more inputs of equal shape (a residual add).

    other_ops = (inputs - 1) * C * H * W
    """

    inputs = "many"

    def shape(self, a, shapes):
        for other in shapes[1:]:
            if other != shapes[0]:
                raise ShapeError(f"add needs inputs of equal shape, got {shapes[0].text} "
                                 f"and {other.text}")
        return shapes[0]

    def cost(self, a, shapes, out):
        return Cost(other_ops=(len(shapes) - 1) * out.elements)

    def torch_forms(self, node, shapes):
        return {"module": LayerCode(None, lambda args, m: " + ".join(args))}


@register("concat")
class Concat(LayerType):
    """Concatenation along channels of inputs with equal H x W; no cost."""

    inputs = "many"

    def shape(self, a, shapes):
        for other in shapes[1:]:
            if other.spatial != shapes[0].spatial:
                raise ShapeError(f"concat needs inputs of equal height and width, got "
                                 f"{shapes[0].text} and {other.text}")
        return shapes[0].with_channels(sum(s.channels for s in shapes))

    def torch_forms(self, node, shapes):
        return {"module": LayerCode(None, lambda args, m: f"torch.cat([{', '.join(args)}], 1)")}


@register("shuffle", "channel_shuffle")
class ChannelShuffle(LayerType):
    """ShuffleNet's channel shuffle: a permutation of C into g groups; no cost.
    C must be divisible by g."""

    attrs = {"groups": ("count", REQUIRED)}

    def shape(self, a, shapes):
        if shapes[0].channels % a["groups"]:
            raise ShapeError(f"channel shuffle with groups={a['groups']} needs channels "
                             f"divisible by it, got input {shapes[0].text}")
        return shapes[0]

    def describe(self, a):
        return f"g{a['groups']}"

    torch_helpers = {"channel_shuffle": '''\
def channel_shuffle(x, groups):
    """ShuffleNet's channel shuffle: C = groups * (C / groups) channels, transposed."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
'''}

    def torch_forms(self, node, shapes):
        return {"module": expression_code(f"channel_shuffle({{}}, {node.attrs['groups']})",
                                          ["channel_shuffle"])}


@register("flatten")
class Flatten(LayerType):
    """(C, H, W) -> (C * H * W, 1, 1); no cost."""

    view = True

    def shape(self, a, shapes):
        return CHW((shapes[0].elements, 1, 1))

    def torch_forms(self, node, shapes):
        return {"module": expression_code("torch.flatten({}, 1)[:, :, None, None]")}


@register("dropout")
class Dropout(LayerType):
    """Dropout: the identity at inference; no cost."""

    view = True

    attrs = {"rate": ("fraction", 0.5)}

    def torch_forms(self, node, shapes):
        rate = node.attrs["rate"]
        return {"module": module_code(f"nn.Dropout({rate})"),
                "functional": expression_code(f"F.dropout({{}}, {rate}, self.training)")}


# ------------------------------------------------- modern networks (issue 8)

@register("multiply", "mul")
class Multiply(LayerType):
    """Element-wise product of two or more inputs (squeeze-and-excitation, gating).

    other_ops = (inputs - 1) * C * H * W
    The output has the largest input shape (C, H, W); every input must be either
    that shape or (C, 1, 1) with the same C, which is broadcast over H x W.
    """

    inputs = "many"

    def shape(self, a, shapes):
        out = max(shapes, key=lambda s: s.height * s.width)
        for other in shapes:
            if other != out and other != (out.channels, 1, 1):
                pair = sorted((other, out), key=shapes.index)  # in the order of inputs
                raise ShapeError(f"multiply of {pair[0].text} and {pair[1].text} "
                                 f"does not broadcast: every input must be {out.text} "
                                 f"or {out.channels}x1x1")
        return out

    def cost(self, a, shapes, out):
        return Cost(other_ops=(len(shapes) - 1) * out.elements)

    def torch_forms(self, node, shapes):
        return {"module": LayerCode(None, lambda args, m: " * ".join(args))}


@register("split")
class Split(LayerType):
    """One of ``parts`` equal chunks of the channels, like ``torch.chunk(x, parts,
    dim=1)[part]`` (ShuffleNetV2's channel split); no cost.

    (C, H, W) -> (C / parts, H, W): channels [part * C/parts, (part + 1) * C/parts).
    C must be divisible by parts; part counts from 0 and must be below parts.
    """

    view = True

    attrs = {"parts": ("count", 2), "part": ("index", REQUIRED)}

    def shape(self, a, shapes):
        c = shapes[0].channels
        if a["part"] >= a["parts"]:
            raise ShapeError(f"part {a['part']} does not exist: parts={a['parts']} "
                             f"numbers them 0 to {a['parts'] - 1}")
        if c % a["parts"]:
            raise ShapeError(f"split into {a['parts']} parts needs channels divisible by "
                             f"{a['parts']}, got input {shapes[0].text}")
        return shapes[0].with_channels(c // a["parts"])

    def describe(self, a):
        return f"{a['part']} of {a['parts']}"

    def torch_forms(self, node, shapes):
        a = node.attrs
        return {"module": expression_code(f"{{}}.chunk({a['parts']}, 1)[{a['part']}]")}


@register("slice")
class Slice(LayerType):
    """Channels ``start`` to ``stop`` (``stop`` excluded), like ``x[:, start:stop]``;
    no cost.

    (C, H, W) -> (stop - start, H, W), with 0 <= start < stop <= C.
    """

    view = True

    attrs = {"start": ("index", 0), "stop": ("count", REQUIRED)}

    def shape(self, a, shapes):
        if not a["start"] < a["stop"] <= shapes[0].channels:
            raise ShapeError(f"slice [{a['start']}:{a['stop']}] needs start < stop <= "
                             f"channels, got input {shapes[0].text}")
        return shapes[0].with_channels(a["stop"] - a["start"])

    def describe(self, a):
        return f"[{a['start']}:{a['stop']}]"

    def torch_forms(self, node, shapes):
        a = node.attrs
        return {"module": expression_code(f"{{}}[:, {a['start'] or ''}:{a['stop']}]")}


def adaptive_windows(size, out):
    """Sum of the window lengths of PyTorch's adaptive pooling along one side:
    window i spans floor(i * size / out) to ceil((i + 1) * size / out)."""
    return sum(-(-(i + 1) * size // out) - i * size // out for i in range(out))


class AdaptivePool(LayerType):
    """pooling to a fixed output size (oh, ow), as PyTorch's Adaptive*Pool2d.

    (C, H, W) -> (C, oh, ow). Window i along H spans rows floor(i * H / oh) to
    ceil((i + 1) * H / oh) (end excluded), the same along W, so windows may
    differ in size and overlap.
    other_ops = C * (sum over i of the window heights) * (sum over j of the widths)
    (one read-and-combine per window element; C * H * W when H and W divide).
    """

    attrs = {"size": ("pair", REQUIRED)}

    def shape(self, a, shapes):
        return CHW((shapes[0].channels,) + a["size"])

    def cost(self, a, shapes, out):
        c, h, w = shapes[0]   # C x H x W: the sides of adaptive_windows
        oh, ow = a["size"]
        return Cost(other_ops=c * adaptive_windows(h, oh) * adaptive_windows(w, ow))

    def describe(self, a):
        return "to {}x{}".format(*a["size"])

    torch_word = ""     # Avg, Max: nn.Adaptive{word}Pool2d, F.adaptive_{word}_pool2d

    def torch_forms(self, node, shapes):
        size = pair_text(node.attrs["size"])
        return {"module": module_code(f"nn.Adaptive{self.torch_word}Pool2d({size})"),
                "functional": expression_code(
                    f"F.adaptive_{self.torch_word.lower()}_pool2d({{}}, {size})")}


@register("adaptive_avgpool")
class AdaptiveAvgPool(AdaptivePool):
    __doc__ = "Adaptive average " + AdaptivePool.__doc__
    torch_word = "Avg"


@register("adaptive_maxpool")
class AdaptiveMaxPool(AdaptivePool):
    __doc__ = "Adaptive max " + AdaptivePool.__doc__
    torch_word = "Max"


@register("layernorm", "layer_norm")
class LayerNorm(LayerType):
    """Layer normalisation over the channels at each position, with a learned
    per-channel scale and shift (ConvNeXt's LayerNorm2d; nn.LayerNorm(C) on
    channels-last).

    bn_params = 2 * C (weight and bias, learned non-conv parameters)
    other_ops = 5 * C * H * W (fvcore's count for a norm with affine: mean,
    variance, normalise, scale and shift per element)
    """

    def cost(self, a, shapes, out):
        return Cost(bn_params=2 * out.channels, other_ops=5 * out.elements)

    torch_helpers = {"LayerNorm2d": '''\
class LayerNorm2d(nn.LayerNorm):
    """nn.LayerNorm over the channels of an N x C x H x W tensor (ConvNeXt's)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''}

    def torch_forms(self, node, shapes):
        """nn.LayerNorm on channels-last (module); LayerNorm2d calls F.layer_norm
        (functional)."""
        c = node.shape.channels
        return {"module": channels_last_code(f"nn.LayerNorm({c}, eps=1e-6)"),
                "functional": LayerCode(f"LayerNorm2d({c}, eps=1e-6)",
                                        lambda args, m: f"{m}({args[0]})", ["LayerNorm2d"])}


@register("layer_scale")
class LayerScale(LayerType):
    """A learned per-channel scale (ConvNeXt's layer scale gamma, C x 1 x 1).

    bn_params = C (learned non-conv parameters); other_ops = C * H * W
    """

    def cost(self, a, shapes, out):
        return Cost(bn_params=out.channels, other_ops=out.elements)

    torch_helpers = {"LayerScale": '''\
class LayerScale(nn.Module):
    """A learned per-channel scale gamma of shape C x 1 x 1 (ConvNeXt's layer scale)."""

    def __init__(self, channels, init=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, 1, 1), init))

    def forward(self, x):
        return x * self.gamma
'''}

    def torch_forms(self, node, shapes):
        return {"module": LayerCode(f"LayerScale({node.shape.channels})",
                                    lambda args, m: f"{m}({args[0]})", ["LayerScale"])}


@register("identity", "stochastic_depth")
class Identity(LayerType):
    """The identity; no cost. Stochastic depth (drop path) is the identity at
    inference: ``rate``, its drop rate in training, is for the reader only."""

    view = True

    attrs = {"rate": ("fraction", 0)}

    def torch_forms(self, node, shapes):
        return {"module": expression_code("{}")}


# ---------------------------------------------------------------- padding as PyTorch applies it

def same_pads(size, out, k, stride, dilation=1):
    """TensorFlow's 'same' padding of one side: (before, after), the extra pixel after."""
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def window_pads(node, shape, stride, dilation=(1, 1)):
    """((top, bottom), (left, right)) of a window layer; 'valid' is no padding, explicit
    padding is the same on both sides."""
    return _pads(node.attrs, shape, node.shape, stride, dilation)


def _pads(a, shape, out, stride, dilation):
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


def pool_pads(node, shape):
    """(stride, rows, cols, own): the pooling's stride, its ((top, bottom), (left, right))
    padding, and whether PyTorch's own ``padding=`` can hold it: when it is symmetric
    (each side is then at most half the window: costcalc.layers refuses more in an
    explicit padding, and 'same' pads less than the window in all); if not, an F.pad
    comes first."""
    stride = node.attrs["stride"] or node.attrs["k"]
    rows, cols = window_pads(node, shape, stride)
    return stride, rows, cols, rows[0] == rows[1] and cols[0] == cols[1]


def pooled_elements(node, shape):
    """Elements of the tensor the exported pooling call receives: C x H x W of its input,
    or of the F.pad of it, C x (H + top + bottom) x (W + left + right), when the padding
    is uneven (what ptflops counts; docs/torch.md)."""
    if node.type.name not in ("maxpool", "avgpool"):
        return shape.elements
    _, rows, cols, own = pool_pads(node, shape)
    c, h, w = shape
    return shape.elements if own else c * (h + sum(rows)) * (w + sum(cols))


def lookup(name, pos):
    """The LayerType called ``name``, or an error at ``pos`` listing the known ones."""
    if not isinstance(name, str):
        raise SpecError(f"a layer type is a name such as conv, not {_show(name)}",
                        pos.path, pos.line, pos.col)
    layer_type = TYPES.get(name)
    if layer_type is None:
        hint = did_you_mean(name, TYPES) or (
            "; known types: " + ", ".join(sorted(t for t, v in TYPES.items() if v.name == t)))
        raise SpecError(f"unknown layer type {_show(name)}{hint}", pos.path, pos.line, pos.col)
    return layer_type


def canonical_types():
    """One entry per layer type (no aliases), in registration order."""
    return [t for key, t in TYPES.items() if t.name == key]
