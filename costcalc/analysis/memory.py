"""Beyond mult-adds: activation memory, model size and a roofline estimate (docs/memory.md).

- Activation memory: every layer's output, ``C * H * W`` elements of ``activation_bits``;
  the peak of running the graph in order, each tensor freed after its last reader (a
  view, such as flatten or split, shares its input's memory); and the MobileNetV2
  paper's measure, the largest tensor materialised at each spatial resolution, where a
  block or layer computed ``in_pieces`` does not count.
- Model size: ``ceil(kept * (weight_bits + index_bits) / 8)`` bytes, with
  ``kept = round(learned parameters * density)``; index bits only for a sparse model.
- Roofline: a layer moves its inputs, weights and output; it takes
  ``max(mult-adds / peak, bytes / bandwidth)`` seconds, compute-bound when the first is
  the larger; its arithmetic intensity is mult-adds per byte. The peak is a mult-add rate,
  so element operations (batch norm, activations, pooling, adds) are not charged: a layer
  without mult-adds is memory-bound. An estimate, labelled so.
"""
import math
import os

from costcalc.core.errors import SpecError, SpecErrors, did_you_mean, gather, show, unknown_keys
from costcalc.core.limits import FORMS, LIMITS, quoted, written
from costcalc.core.shape import text
from costcalc.core.yamlload import Map, load_file

ACTIVATION_BITS = (32, 16, 8)
PROFILE_KEYS = ("name", "mult_adds_per_second", "bytes_per_second", "precision", "sources",
                "notes")   # sources and notes are for the reader (docs/roofline.md)
PRECISION_KEYS = ("activation_bits", "weight_bits")   # the bits its figures are for
FIGURE_LIMITS = {   # the range of a profile's peak figures, per second (core.limits)
    "mult_adds_per_second": (LIMITS["figure"], LIMITS["number"]),
    "bytes_per_second": (LIMITS["figure"], LIMITS["number"]),
}
FIGURE_MEANINGS = {"mult_adds_per_second": "peak multiply-accumulates per second",
                   "bytes_per_second": "peak memory bandwidth in bytes per second"}
_HARDWARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hardware.yaml")


def _bytes(elements, bits):
    """ceil(elements * bits / 8), in integers (exact past 2^53)."""
    return -(-elements * bits // 8)


def storage(graph):
    """For each node, the reference of the tensor that holds its output: its own index,
    or for a view the storage of its input (a graph input's reference, ~k, for a view of
    it)."""
    owner = []
    for i, node in enumerate(graph.nodes):
        source = node.inputs[0] if node.type.view else i
        owner.append(owner[source] if 0 <= source < i else source)
    return owner


def peak_activations(graph, bits):
    """(peak bytes, reference of what runs at the peak: a node's index, or ~k before the
    first, when graph input k is held): the graph's inputs and every output held from when
    it is written until its last reader has run (the graph's outputs are kept); a layer's
    inputs and its output are held together while it runs."""
    nodes, owner = graph.nodes, storage(graph)
    size = {~k: shape.elements for k, (_, shape) in enumerate(graph.inputs)}
    last_read = {}
    for i, node in enumerate(nodes):
        for source in node.inputs:
            last_read[owner[source] if source >= 0 else source] = i
    kept = {owner[ref] if ref >= 0 else ref for _, ref in graph.outputs}
    live = sum(size.values())
    peak, peak_at = live, ~0
    for i, node in enumerate(nodes):
        if owner[i] == i:              # a new tensor (a view adds nothing)
            size[i] = node.shape.elements
            live += size[i]
        if live > peak:
            peak, peak_at = live, i
        for held in {owner[s] if s >= 0 else s for s in node.inputs}:
            if last_read.get(held) == i and held not in kept:
                live -= size[held]
        if owner[i] == i and i not in last_read and i not in kept:
            live -= size[i]            # nothing reads it: freed at once
    return _bytes(peak, bits), peak_at


def materialized(graph, bits):
    """The MobileNetV2 paper's Table 3 measure: per output resolution, the largest tensor
    that exists whole, as [{"resolution", "channels", "bytes"}] in order of appearance.
    Views, layers computed in pieces and the input image do not count."""
    largest = {}
    for node in graph.nodes:
        if node.type.view or not node.materialized:
            continue
        shape = node.shape
        key, c = shape.spatial, shape.channels
        if key not in largest or c > largest[key][0]:
            largest[key] = (c, shape.elements)
    return [{"resolution": text(key), "channels": c, "bytes": _bytes(elements, bits)}
            for key, (c, elements) in largest.items()]


def model_bytes(learned, weight_bits, density=1.0, index_bits=0):
    """Stored size of ``learned`` parameters: ``ceil(kept * (weight_bits + index_bits) / 8)``
    bytes, ``kept = round(learned * density)``; index bits only count for a sparse model."""
    kept = learned if density == 1 else round(learned * density)   # exact when dense
    return _bytes(kept, weight_bits + (index_bits if density < 1 else 0))


# ---------------------------------------------------------------- hardware and roofline

class Hardware:
    """A hardware profile: peak mult-adds per second and memory bandwidth."""

    def __init__(self, name, title, mult_adds_per_second, bytes_per_second,
                 activation_bits=32, weight_bits=32):
        self.name, self.title = name, title
        self.mult_adds_per_second, self.bytes_per_second = mult_adds_per_second, bytes_per_second
        self.activation_bits, self.weight_bits = activation_bits, weight_bits  # its figures


def _profiles(path):
    """Every profile of a hardware file, {key: Hardware}; every independent problem of the
    file is reported, one line each at its place (SpecErrors)."""
    tree = load_file(path, "hardware file")
    if not isinstance(tree, dict):
        raise SpecError("a hardware file maps each profile's name to its figures",
                        str(path), 1, 1)
    errors, found = [], {}
    for name in tree:
        profile = gather(errors, _profile, name, tree[name], tree.pos[name], tree.key_pos[name])
        if profile is not None:
            found[name] = profile
    if errors:
        raise SpecErrors(errors)
    return found


def _profile(name, body, at, key_at):
    """One profile: its two figures within FIGURE_LIMITS, its precision, its texts."""
    what = f"hardware profile {show(name)}"
    if not isinstance(body, dict):
        raise at.error(f"{what} must be a mapping of its figures, not {show(body)}")
    errors = unknown_keys(body, PROFILE_KEYS, what)
    figures = [gather(errors, _figure, what, body, key, key_at) for key in FIGURE_LIMITS]
    bits = gather(errors, _precision, what, body)
    for key in ("name", "notes", "sources"):
        value = body.get(key, "")
        texts = value if key == "sources" and isinstance(value, list) else [value]
        if not all(isinstance(text, str) for text in texts):
            errors.append(body.pos[key].error(
                f"{what}: {key} must be {'a list of texts' if key == 'sources' else 'text'}, "
                f"not {show(value)}"))
    if errors:
        raise SpecErrors(errors)
    return Hardware(name, body.get("name", str(name)), *figures, *bits)


def _figure(what, body, key, key_at):
    """A peak figure: a number within FIGURE_LIMITS[key] (docs/errors.md)."""
    low, high = FIGURE_LIMITS[key]
    if key not in body:
        raise key_at.error(f"{what}: {key} is missing ({FIGURE_MEANINGS[key]})")
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not low <= value <= high:
        hint = ""
        if isinstance(value, str):
            hint = " (YAML reads a number without a dot and a signed exponent as text: " \
                   "write 8.6e+9, not 8.6e9)"
        raise body.pos[key].error(f"{what}: {key} must be a number from "
                                  f"{written(low, FORMS['figure'])} to "
                                  f"{written(high, FORMS['number'])} ({FIGURE_MEANINGS[key]}; docs/errors.md), "
                                  f"not {show(value)}{hint}")
    return value


def _precision(what, body):
    """(activation_bits, weight_bits) of a profile's precision, 32 each by default."""
    precision = body.get("precision", Map())
    if not isinstance(precision, dict):
        raise body.pos["precision"].error(f"{what}: precision must be a mapping "
                                          f"{{activation_bits, weight_bits}}, not "
                                          f"{show(precision)}")
    errors = unknown_keys(precision, PRECISION_KEYS, f"the precision of {what}")
    for key in PRECISION_KEYS:
        value = precision.get(key, 32)
        if isinstance(value, bool) or value not in ACTIVATION_BITS:
            errors.append(precision.pos[key].error(
                f"{what}: {key} must be one of {', '.join(map(str, ACTIVATION_BITS))}, "
                f"not {show(value)}"))
    if errors:
        raise SpecErrors(errors)
    return [precision.get(key, 32) for key in PRECISION_KEYS]


def hardware(choice):
    """A shipped profile by name, or the first profile of a YAML file the user gives."""
    if isinstance(choice, str) and choice.endswith((".yaml", ".yml")):
        profiles = _profiles(choice)
        if not profiles:
            raise SpecError("the hardware file holds no profile", choice)
        return next(iter(profiles.values()))
    shipped = _profiles(_HARDWARE)
    if choice not in shipped:
        raise SpecError(f"unknown hardware {show(choice)}{did_you_mean(choice, shipped)}; "
                        f"shipped: {', '.join(shipped)}, or a FILE.yaml", "costcalc")
    return shipped[choice]


def roofline(graph, profile, activation_bits, weight_bits):
    """Per node: {"bytes_moved", "arithmetic_intensity", "latency_s", "bound"}, where
    intensity = mult-adds / bytes moved and latency = max(mult-adds / peak mult-adds per
    second, bytes / peak bytes per second); other ops are not charged (module doc)."""
    rows = []
    for node in graph.nodes:
        if node.type.view:
            rows.append({"bytes_moved": 0, "arithmetic_intensity": None, "latency_s": 0.0,
                         "bound": "none"})
            continue
        moved = (sum(_bytes(graph.shape_of(i).elements, activation_bits) for i in node.inputs)
                 + _bytes(node.shape.elements, activation_bits)
                 + _bytes(node.cost.params + node.cost.bn_params, weight_bits))
        compute = node.cost.mult_adds / profile.mult_adds_per_second
        memory = moved / profile.bytes_per_second
        rows.append({"bytes_moved": moved,
                     "arithmetic_intensity": node.cost.mult_adds / moved if moved else None,
                     "latency_s": max(compute, memory),
                     "bound": "compute" if compute >= memory else "memory"})
    return rows


def annotate(report, graph, activation_bits=None, weight_bits=None, density=None,
             index_bits=None, hardware_choice=None):
    """Add the memory, model-size and roofline keys the options ask for to ``report``."""
    totals, rows = report["totals"], report["layers"]
    if activation_bits is not None:
        if activation_bits not in ACTIVATION_BITS:
            raise SpecError(f"--activation-bits must be one of 32, 16, 8, not "
                            f"{show(activation_bits)}", "costcalc")
        owner = storage(graph)
        for i, (row, node) in enumerate(zip(rows, graph.nodes)):
            row["activation_bytes"] = 0 if owner[i] != i else _bytes(node.shape.elements,
                                                                      activation_bits)
        peak, at = peak_activations(graph, activation_bits)
        totals["activation_peak_bytes"] = peak
        report["activation_peak_at"] = graph.name_of(at)
        largest = materialized(graph, activation_bits)
        totals["materialized_max_bytes"] = max((m["bytes"] for m in largest), default=0)
        report["materialized"] = largest
        by_key = {m["resolution"]: m for m in largest}
        for group in report["by_resolution"]:
            group["materialized_bytes"] = by_key.get(group["resolution"], {}).get("bytes", 0)
        report["activation_bits"] = activation_bits
    if weight_bits is not None or density is not None or index_bits is not None:
        weight_bits = 32 if weight_bits is None else weight_bits
        density = 1.0 if density is None else density
        _check_model_options(weight_bits, density, index_bits)
        learned = sum(n.cost.params + n.cost.bn_params for n in graph.nodes)
        totals["model_bytes"] = model_bytes(learned, weight_bits, density, index_bits or 0)
        report["model"] = {"weight_bits": weight_bits, "density": density,
                           "index_bits": index_bits or 0}
    if hardware_choice is not None:
        profile = hardware(hardware_choice)
        bits_a = activation_bits or profile.activation_bits   # the options, else the
        bits_w = weight_bits or profile.weight_bits           # precision the profile assumes
        for row, figures in zip(rows, roofline(graph, profile, bits_a, bits_w)):
            row.update(figures)
        totals["latency_s"] = sum(r["latency_s"] for r in rows)
        if not math.isfinite(totals["latency_s"]):   # every row is >= 0: all are finite
            raise SpecError(f"the roofline estimate on {show(profile.name)} overflows: "
                            f"{totals['latency_s']} seconds (docs/errors.md)", "costcalc")
        report["hardware"] = {"name": profile.name, "title": profile.title,
                              "mult_adds_per_second": profile.mult_adds_per_second,
                              "bytes_per_second": profile.bytes_per_second,
                              "activation_bits": bits_a, "weight_bits": bits_w,
                              "estimate": True}
    return report


def _check_model_options(weight_bits, density, index_bits):
    if isinstance(weight_bits, bool) or not isinstance(weight_bits, int) \
            or not 1 <= weight_bits <= LIMITS["bits"]:
        raise SpecError(f"--weight-bits must be a whole number from 1 to {quoted('bits')}, not "
                        f"{show(weight_bits)}", "costcalc")
    if isinstance(density, bool) or not isinstance(density, (int, float)) \
            or not 0 < density <= 1:
        raise SpecError(f"--density must be a fraction in (0, 1], not {show(density)}",
                        "costcalc")
    if index_bits is not None:
        if isinstance(index_bits, bool) or not isinstance(index_bits, int) \
                or not 0 <= index_bits <= LIMITS["bits"]:
            raise SpecError(f"--index-bits must be a whole number from 0 to {quoted('bits')}, "
                            f"not {show(index_bits)}", "costcalc")
        if density == 1:
            raise SpecError("--index-bits is the cost of storing which weights a sparse "
                            "model keeps: it needs a --density below 1", "costcalc")
