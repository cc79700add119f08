"""PyTorch as a target (the optional extra ``costcalc[torch]``; docs/torch.md).

    from costcalc.torch import build
    model = build("mobilenet", alpha=0.5, rho=0.714)     # an nn.Module
    model(torch.zeros(1, 3, 160, 160)).shape             # (1, 1000, 1, 1)

``build`` expands the spec exactly as costcalc counts it and returns a module with one
submodule per layer that has parameters or state (conv, fc, batch norm, layer norm,
layer scale), registered under the layer's name made an identifier ('separable1/dw' ->
'separable1_dw'), and a forward that runs every layer in order. The code of each layer
is the one ``costcalc export --torch`` writes (costcalc/export.py), evaluated here.

Only this module of costcalc imports torch.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .export import HELPERS, Plan, build_graph

__all__ = ["build", "from_graph", "CostcalcModule"]

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


def from_graph(graph):
    """The nn.Module of a costcalc Graph (costcalc.graph.build)."""
    plan = Plan(graph)
    cls = type(plan.class_name, (CostcalcModule,), {"__doc__": CostcalcModule.__doc__,
                                                    "__module__": __name__})
    return cls(graph, plan)


def build(spec, alpha=1.0, rho=1.0, resolution=None, params=None):
    """The nn.Module of ``spec`` (a path, a shipped name, YAML text, a dict or a loaded
    Spec) at width multiplier ``alpha``, resolution multiplier ``rho`` or input side
    ``resolution``, with ``params`` {name: value} overriding the spec's parameters (as
    ``--set``). Modules are made on torch's default device: ``with torch.device('meta'):``
    builds one without memory for its weights. A bad spec or setting raises
    costcalc.errors.SpecError (a ValueError); a layer PyTorch cannot compute exactly,
    costcalc.export.ExportError (one too)."""
    return from_graph(build_graph(spec, alpha, rho, resolution, params))
