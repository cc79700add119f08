"""Layers that join or rearrange tensors: add, concat, channel shuffle, flatten,
dropout."""
from costcalc.core.shape import CHW, ShapeError
from costcalc.layers.base import REQUIRED, Cost, LayerType, register
from costcalc.layers.code import LayerCode, expression_code, module_code


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
