"""Pooling over a window, and global average pooling; the padding a pooling's
PyTorch call receives."""
from costcalc.core.shape import CHW, ShapeError
from costcalc.layers.base import REQUIRED, Cost, LayerType, kernel_text, register, window_shape
from costcalc.layers.code import (LayerCode, expression_code, f_pad, module_code,
                                  pair_text, window_pads)


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
        return window_shape(with_stride(a), shapes[0], shapes[0].channels)

    def cost(self, a, shapes, out):
        kh, kw = a["k"]
        return Cost(other_ops=kh * kw * out.elements)

    def describe(self, a):
        return kernel_text(with_stride(a))

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


def with_stride(a):
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
    if not isinstance(node.type, Pool):
        return shape.elements
    _, rows, cols, own = pool_pads(node, shape)
    c, h, w = shape
    return shape.elements if own else c * (h + sum(rows)) * (w + sum(cols))
