"""The graph model every step after expansion reads: Node, Graph, Settings.

A node's ``inputs`` are references: ``i >= 0`` is the output of node ``i``, and ``~k``
(-1, -2, ...) is the graph's input ``k``, ``graph.inputs[k]`` (``ref < 0`` tells them apart,
``~ref`` is the position). The graph's inputs and outputs are named lists.
"""
from costcalc.core.errors import SpecError, show
from costcalc.core.limits import LIMITS, quoted


class Node:
    """One layer of the expanded graph."""

    __slots__ = ("name", "type", "attrs", "inputs", "shape", "stage", "pos", "cost", "category",
                 "torch_call", "materialized")

    def __init__(self, name, layer_type, attrs, inputs, shape, stage, pos, cost, category,
                 torch_call="module", materialized=True):
        self.name, self.type, self.attrs, self.inputs = name, layer_type, attrs, inputs
        self.shape, self.stage, self.pos, self.cost, self.category = shape, stage, pos, cost, category
        self.torch_call = torch_call  # 'module', 'functional' or 'method' (docs/conventions.md)
        # False when the output is never held whole: computed in pieces with its reader
        # (in_pieces, MobileNetV2's Section 5; docs/memory.md)
        self.materialized = materialized


class Settings:
    """What the command line chose: multipliers, resolution, parameter overrides."""

    def __init__(self, alpha=1.0, rho=1.0, resolution=None, overrides=None, standard_conv=False):
        self.alpha, self.rho, self.resolution = alpha, rho, resolution
        self.overrides = dict(overrides or {})
        self.standard_conv = standard_conv  # replace depthwise separable pairs (transform.py)


def setting_range(integer=False):
    """What alpha and rho (or, ``integer``, the resolution) must be, as messages say it."""
    if integer:
        return f"a positive integer up to {quoted('multiplier')}"
    return f"a finite number in (0, {quoted('multiplier')}]"


def setting_from_text(text, integer=False):
    """The number that an alpha or rho (with ``integer``, a resolution) written as text
    gives: a positive finite number (a positive whole number), else None, for the caller to
    word. Its upper bound is check_settings', where the graph is built."""
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        return None
    return number if 0 < number < float("inf") else None


def check_settings(alpha, rho, resolution):
    """alpha and rho finite and positive, the resolution a positive integer; else a
    SpecError (a ValueError) with the message the command line prints."""
    for name, value in (("alpha", alpha), ("rho", rho)):
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                and 0 < value <= LIMITS["multiplier"]):   # nan and inf fail; no float()
            raise SpecError(f"{name} must be {setting_range()}, not {show(value)}", "costcalc")
    if resolution is not None and not (isinstance(resolution, int) and not isinstance(
            resolution, bool) and 0 < resolution <= LIMITS["multiplier"]):
        raise SpecError(f"resolution must be {setting_range(True)}, not {show(resolution)}",
                        "costcalc")
    if resolution is not None and rho != 1:
        raise SpecError(f"rho {show(rho)} and resolution {resolution} both set the input side "
                        f"(--rho, --resolution): give one of them", "costcalc")


class Graph:
    """The result: ``nodes`` in execution order, the parameters used, and the graph's
    ``inputs``, [(name, Shape)] (today one, ("input", the image)), and ``outputs``,
    [(name, reference)]: its last node (its input when it has no layer)."""

    def __init__(self, spec, settings, inputs, params, nodes, replaced=0, kept=()):
        self.spec, self.settings = spec, settings
        self.inputs, self.params, self.nodes = list(inputs), params, nodes
        last = len(nodes) - 1
        self.outputs = [(nodes[last].name, last) if nodes else (self.inputs[0][0], ~0)]
        self.replaced = replaced  # depthwise separable pairs --standard-conv replaced
        self.kept = list(kept)    # (depthwise name, why it was not replaced), --standard-conv

    @property
    def input_shape(self):
        """The shape of the first input (the image)."""
        return self.inputs[0][1]

    def shape_of(self, ref):
        """The shape a node's input reference reads."""
        return self.nodes[ref].shape if ref >= 0 else self.inputs[~ref][1]

    def name_of(self, ref):
        """The name of what a reference reads: a node's, or a graph input's ("input")."""
        return self.nodes[ref].name if ref >= 0 else self.inputs[~ref][0]
