"""Batch norm and the element-wise activations."""
from costcalc.layers.base import Cost, LayerType, register
from costcalc.layers.code import expression_code, module_code


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
        (("leaky_relu",), ("nn.LeakyReLU()", "F.leaky_relu({})", None)),  # slope 0.01
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
