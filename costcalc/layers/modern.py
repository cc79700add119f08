"""The types added for modern networks (issue 8): multiply, split, slice, adaptive
pooling, layer norm, layer scale, identity."""
from costcalc.core.shape import CHW, ShapeError
from costcalc.layers.base import REQUIRED, Cost, LayerType, register
from costcalc.layers.code import (LayerCode, channels_last_code, expression_code,
                                  module_code, pair_text)


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
