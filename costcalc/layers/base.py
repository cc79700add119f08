"""The layer registry: attribute kinds (their checks and JSON Schema), the base
class of a layer type and its cost, window sizes, and lookup by name."""
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
    ``always_linear`` is True for the types PyTorch computes by an nn.Linear whatever their
    torch_call (fc: the conventions' ``linear`` quantity).
    """

    attrs = {}
    inputs = 1
    widens = False
    always_linear = False
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


def window_shape(a, shape, channels):
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


def kernel_text(a):
    kh, kw = a["k"]
    sh, sw = a["stride"]
    stride = f"/{sh}" if sh == sw else f"/{sh}x{sw}"
    return f"{kh}x{kw}{stride if (sh, sw) != (1, 1) else ''}"


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
