"""Layers with weights: convolutions (standard, group, pointwise, depthwise) and
the fully connected layer."""
from costcalc.core.shape import CHW, ShapeError
from costcalc.layers.base import (REQUIRED, Cost, LayerType, kernel_text, register,
                                  window_shape)
from costcalc.layers.code import (LayerCode, NoTorchForm, channels_last_code, f_pad,
                                  pads, pair_text)


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
        return window_shape(a, shapes[0], n)

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
        return kernel_text(a) + (f" g{a['groups']}" if a["groups"] != 1 else "")

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
                "linear": channels_last_code(
                    f"nn.Linear({shapes[0].channels}, {node.shape.channels}{bias})")}


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
    rows, cols = pads(a, shape, node.shape, stride, dilation)
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
        return window_shape(a, shapes[0], shapes[0].channels * a["multiplier"])

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
        return kernel_text(a) + (f" x{mult}" if mult != 1 else "")

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
    always_linear = True
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
