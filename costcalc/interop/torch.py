"""PyTorch as a target (the optional extra ``costcalc[torch]``; docs/torch.md).

    from costcalc.torch import build
    model = build("mobilenet", alpha=0.5, rho=0.714)     # an nn.Module
    model(torch.zeros(1, 3, 160, 160)).shape             # (1, 1000, 1, 1)

``build`` expands the spec exactly as costcalc counts it and returns a module with one
submodule per layer that an nn.Module computes (the layer's torch_call, docs/torch.md),
registered under the layer's name made an identifier ('separable1/dw' ->
'separable1_dw'), and a forward that runs every layer in order. The code of each layer
is its type's (``torch_forms``, costcalc.layers), the one ``costcalc export --torch`` writes
(costcalc/interop/export.py), evaluated here.

Only this module of costcalc imports torch.
"""
import torch
import torch.nn.functional as F
from torch import nn

from costcalc.core.errors import SpecError, show
from costcalc.core.limits import LIMITS, quoted
from costcalc.interop.export import HELPERS, Plan, build_graph

__all__ = ["build", "from_graph", "CostcalcModule", "LIMITS"]

# LIMITS['values'], what build() asks of a device that holds data (docs/torch.md,
# docs/errors.md): a module's parameter and buffer values, 4 GB in float32 at 10^9;
# RegNetY-128GF has 645 million

_NAMESPACE = {"torch": torch, "nn": nn, "F": F}
for _source in HELPERS.values():
    exec(_source, _NAMESPACE)   # the helpers the exported file defines, defined once
_LAMBDAS = {}                   # (inputs, expression) -> compiled function


def _function(count, expression):
    key = (count, expression)
    function = _LAMBDAS.get(key)
    if function is None:
        args = ", ".join(f"a{i}" for i in range(count))
        function = _LAMBDAS[key] = eval(f"lambda self, {args}: {expression}", _NAMESPACE)
    return function


class CostcalcModule(nn.Module):
    """A costcalc graph as an nn.Module (made by ``build``; its class is named after the
    spec, 'MobileNet').

    ``graph``: costcalc's Graph (nodes in execution order, shapes, costs);
    ``layer_names``: the costcalc layer names in order; ``module_names``: {layer name:
    submodule name} of the layers that have one. ``forward(x, record=None)``: pass a dict
    as ``record`` to get {layer name: output shape without the batch dimension}.
    """

    def __init__(self, graph, plan=None):
        super().__init__()
        plan = plan or Plan(graph)
        self.graph = graph
        nodes = graph.nodes
        self.layer_names = [node.name for node in nodes]
        self.module_names = {}
        for name, init, index in plan.modules:
            self.add_module(name, eval(init, _NAMESPACE))
            self.module_names[nodes[index].name] = name
        last_use = {}
        for i, node in enumerate(nodes):
            for j in node.inputs:
                last_use[j] = i
        self._steps = []
        for i, node in enumerate(nodes):
            count = len(node.inputs)
            expression = plan.codes[i].call([f"a{k}" for k in range(count)],
                                            plan.module_ref(i))
            free = tuple(j for j in set(node.inputs) if last_use[j] == i)
            if i not in last_use and i != len(nodes) - 1:
                free += (i,)    # an output nothing reads (a side branch): dropped at once
            self._steps.append((_function(count, expression), tuple(node.inputs), free))

    def forward(self, x, record=None):
        outputs = {-1: x}
        names = self.layer_names
        for i, (function, inputs, free) in enumerate(self._steps):
            out = outputs[i] = function(self, *[outputs[j] for j in inputs])
            if record is not None:
                record[names[i]] = tuple(out.shape[1:])
            for j in free:
                del outputs[j]
        return outputs[len(self._steps) - 1] if self._steps else x


def check_memory(graph, device=None):
    """Refuse (SpecError at the layer's line) a module whose parameters and buffers pass
    LIMITS['values'] on a device that holds data: the running sum of each layer's params,
    bn_params and batch norm's running mean and variance (2 per channel). The meta device
    holds no data and has no limit."""
    try:
        kind = torch.device(device or torch.get_default_device()).type
    except (RuntimeError, TypeError, ValueError):
        raise SpecError(f"device must be a torch device such as 'cpu' or 'meta', not "
                        f"{show(device)}", "costcalc") from None
    if kind == "meta":
        return
    limit, total = LIMITS["values"], 0
    for node in graph.nodes:
        cost = node.cost
        total += cost.params + cost.bn_params + (2 * node.shape.channels
                                                 if node.type.name == "batchnorm" else 0)
        if total > limit:
            message = (f"{node.name} ({node.type.name}): the module's parameters and buffers "
                       f"reach {total:,} values here, past the limit of {quoted('values')} (docs/torch.md); "
                       f"build(..., device='meta') makes it without memory for them")
            pos = node.pos
            raise pos.error(message) if pos is not None else SpecError(message, "costcalc")


def from_graph(graph, device=None):
    """The nn.Module of a costcalc Graph (costcalc.build.graph.build), made on ``device``
    (torch's default device when None) within LIMITS (check_memory)."""
    check_memory(graph, device)
    plan = Plan(graph)
    cls = type(plan.class_name, (CostcalcModule,), {"__doc__": CostcalcModule.__doc__,
                                                    "__module__": __name__})
    if device is None:
        return cls(graph, plan)
    with torch.device(device):
        return cls(graph, plan)


def build(spec, alpha=1.0, rho=1.0, resolution=None, params=None, device=None):
    """The nn.Module of ``spec`` (a path, a shipped name, YAML text, a dict or a loaded
    Spec) at width multiplier ``alpha``, resolution multiplier ``rho`` or input side
    ``resolution``, with ``params`` {name: value} overriding the spec's parameters (as
    ``--set``). Modules are made on ``device`` (torch's default device when None);
    ``device="meta"`` makes one without memory for its weights, of any size. On another
    device, parameters and buffers past LIMITS['values'] raise a SpecError at the layer
    that passes it. A bad spec or setting raises costcalc.SpecError (a
    ValueError); a layer PyTorch cannot compute exactly, costcalc.interop.export.ExportError
    (one too)."""
    return from_graph(build_graph(spec, alpha, rho, resolution, params), device)
