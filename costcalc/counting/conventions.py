"""Named counting conventions: the same graph counted as a tool counts it.

A convention is data (``conventions.yaml``): for each layer type, an expression of the
layer's quantities (``quantities``) giving what it adds to the tool's mult-adds and to its
parameter total. ``counts(graph, name)`` returns those two numbers per node; the report
puts them in its ``mult_adds`` and ``params`` columns and says which convention it used.
"""
import os

from costcalc.core.errors import SpecError, show, check_keys, did_you_mean
from costcalc.core.expr import ExprError, compile_expr, evaluate
from costcalc.layers import TYPES, canonical_types, pooled_elements
from costcalc.core.yamlload import load

DEFAULT = "paper"
QUANTITIES = ("mult_adds", "params", "weights", "biases", "bias_adds", "bn_params",
              "other_ops", "in_elements", "out_elements", "in_channels", "out_channels",
              "in_height", "in_width", "out_height", "out_width", "kernel_elements", "inputs",
              "pooled_elements", "module", "functional", "linear")
_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conventions.yaml")
_LOADED = None


class Convention:
    """One tool's counting: per layer type, the expression of each total."""

    def __init__(self, name, tool, counts, mult_adds, params, ignores=None, notes="",
                 source_notes=""):
        self.name, self.tool, self.counts = name, tool, counts
        self.mult_adds, self.params = mult_adds, params   # {type or 'default': expression}
        self.ignores = {total: list((ignores or {}).get(total, ())) for total in TOTALS}
        self._ignored = {total: frozenset(types) for total, types in self.ignores.items()}
        self.notes, self.source_notes = notes, source_notes

    def expression(self, total, type_name):
        """The expression of ``type_name`` in ``total``: its own, None (it counts 0) where
        the convention ignores it, else the total's default (load_conventions refuses a
        type with none of the three)."""
        table = self.mult_adds if total == "mult_adds" else self.params
        if type_name in table:
            return table[type_name]
        if type_name in self._ignored[total]:
            return None
        return table["default"]


TOTALS = ("mult_adds", "params")


def load_conventions(path=_PATH, types=None):
    """{name: Convention} from the YAML file, every type and expression checked. Each total
    must cover every layer type of ``types`` (canonical_types() by default): by an
    expression of its own, by the total's default (a single expression is one for every
    type) or by being listed under ``ignores`` for that total (it then counts 0); an
    uncovered type is refused at the convention's line, never counted 0."""
    names = [t.name for t in (canonical_types() if types is None else types)]
    tree = load(open(path, encoding="utf-8").read(), path)
    found = {}
    for name, body in tree.items():
        check_keys(body, ("tool", "counts", "mult_adds", "params", "ignores", "notes",
                          "source_notes"), f"convention {name}")
        ignores = _ignores(name, body, names)
        tables = {}
        for total in TOTALS:
            raw = body.get(total, 0)
            table = dict(raw) if isinstance(raw, dict) else {"default": raw}
            for type_name, text in table.items():
                if type_name != "default":
                    where = raw.key_pos[type_name] if isinstance(raw, dict) else body.pos[total]
                    _check_type(name, type_name, names, where)
                    if type_name in ignores[total]:
                        raise where.error(f"convention {name}: {type_name} is both counted "
                                          f"in {total} and listed under ignores: {total}")
                try:
                    compile_expr(str(text))
                    evaluate(str(text), dict.fromkeys(QUANTITIES, 1))
                except ExprError as exc:
                    where = raw.pos[type_name] if isinstance(raw, dict) else body.pos[total]
                    raise where.error(f"convention {name}: {exc}") from None
                table[type_name] = str(text)
            uncovered = [t for t in names if t not in table and t not in ignores[total]
                         and "default" not in table]
            if uncovered:
                raise tree.key_pos[name].error(
                    f"convention {name}: {total} neither counts nor ignores the layer "
                    f"type{'s' * (len(uncovered) > 1)} {', '.join(uncovered)}: give each an "
                    f"expression under {total} or list it under ignores: {total}")
            tables[total] = table
        found[name] = Convention(name, body.get("tool", ""), body.get("counts", ""),
                                 tables["mult_adds"], tables["params"], ignores,
                                 body.get("notes", ""), body.get("source_notes", ""))
    return found


def _check_type(name, type_name, names, where):
    """Refuse a key that is not a layer type's own name (an alias would never match the
    node's type, so it would count 0)."""
    if type_name in names:
        return
    if not isinstance(type_name, str):
        raise where.error(f"convention {name}: a layer type is a name such as conv, not "
                          f"{show(type_name)}")
    known = TYPES.get(type_name)
    if known is not None and known.name in names:
        raise where.error(f"convention {name}: {type_name!r} is another name of the layer "
                          f"type {known.name}: write {known.name}")
    raise where.error(f"convention {name}: unknown layer type {type_name!r}"
                      f"{did_you_mean(type_name, names)}")


def _ignores(name, body, names):
    """{total: [type]} of the convention's ``ignores`` (a mapping of totals to lists of
    layer types), each type checked."""
    raw = body.get("ignores", {})
    if not isinstance(raw, dict):
        raise body.pos["ignores"].error(f"convention {name}: ignores is a mapping of "
                                        f"{' and '.join(TOTALS)} to lists of layer types")
    check_keys(raw, TOTALS, f"convention {name}'s ignores")
    found = dict.fromkeys(TOTALS, ())
    for total, listed in raw.items():
        if not isinstance(listed, list):
            raise raw.pos[total].error(f"convention {name}: ignores: {total} is a list of "
                                       f"layer types")
        for i, type_name in enumerate(listed):
            _check_type(name, type_name, names, listed.pos[i])
        found[total] = list(listed)
    return found


def conventions():
    global _LOADED
    if _LOADED is None:
        _LOADED = load_conventions()
    return _LOADED


def get(name):
    """The convention called ``name``; an unknown one is an option error."""
    known = conventions()
    if not isinstance(name, str) or name not in known:
        raise SpecError(f"unknown convention {show(name)}{did_you_mean(name, known)}; known: "
                        f"{', '.join(known)}", "costcalc")
    return known[name]


def quantities(graph, node):
    """The numbers a convention's expressions may use, for one node of ``graph``."""
    shapes = [graph.shape_of(i) for i in node.inputs]
    out = node.shape
    c, h, w = out.channels, out.height, out.width
    first = shapes[0] if shapes else graph.input_shape
    kh, kw = node.attrs.get("k", (1, 1)) if isinstance(node.attrs.get("k"), tuple) else (1, 1)
    biases = c if node.attrs.get("bias") else 0
    cost = node.cost
    return {
        "mult_adds": cost.mult_adds, "params": cost.params, "weights": cost.params - biases,
        "biases": biases, "bias_adds": biases * h * w, "bn_params": cost.bn_params,
        "other_ops": cost.other_ops,
        "in_elements": sum(s.elements for s in shapes), "out_elements": out.elements,
        "in_channels": first.channels, "out_channels": c, "in_height": first.height,
        "in_width": first.width, "out_height": h, "out_width": w,
        "kernel_elements": kh * kw, "inputs": len(shapes),
        # a pooling's input as its PyTorch call receives it: padded first by F.pad where
        # PyTorch's own padding cannot hold the layer's (pool_pads, costcalc/layers/pool.py)
        "pooled_elements": pooled_elements(node, first),
        # how the PyTorch model computes it (the spec's torch_call): tools that hook
        # nn.Module calls or patch torch.nn.functional see one, the other, or neither
        "module": int(node.torch_call in ("module", "linear")),
        "functional": int(node.torch_call == "functional"),
        "linear": int(node.torch_call == "linear" or node.type.always_linear),
    }


def counts(graph, name):
    """[(mult_adds, params)] of every node under convention ``name``."""
    convention = get(name)
    if name == DEFAULT:
        return [(n.cost.mult_adds, n.cost.params) for n in graph.nodes]
    result = []
    for node in graph.nodes:
        values = None
        pair = []
        for total in ("mult_adds", "params"):
            text = convention.expression(total, node.type.name)
            if text is None:
                pair.append(0)
                continue
            if values is None:
                values = quantities(graph, node)
            value = evaluate(text, values)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or value != int(value) or value < 0:
                raise SpecError(f"convention {name}: {text!r} gives {value!r} for "
                                f"{node.name}, not a count", "costcalc")
            pair.append(int(value))
        result.append(tuple(pair))
    return result


def coverage(graph, name, counted=None):
    """What the totals of convention ``name`` hold beside the papers' counts (the summary
    lines say it): the papers' mult-adds; batch norm's part of the params total (a layer's
    params expression minus itself with bn_params = 0) and the bn_params it counts; the
    bn_params left out (layers where that part is 0) and the other ops left out (layers
    whose mult-adds are the papers'); the categories counted otherwise, and those left out.
    ``counted`` is counts(graph, name), if already made."""
    convention = get(name)
    if counted is None:
        counted = counts(graph, name)
    papers = bn_in = bn_read = bn_out = ops_out = 0
    otherwise, left_out = set(), set()
    for node, (mult_adds, params) in zip(graph.nodes, counted):
        cost = node.cost
        papers += cost.mult_adds
        if mult_adds != cost.mult_adds:
            otherwise.add(node.category)
        elif cost.other_ops:
            ops_out += cost.other_ops
            left_out.add(node.category)
        if cost.bn_params:
            text = convention.expression("params", node.type.name)
            part = 0 if text is None or "bn_params" not in compile_expr(text).co_names else \
                params - int(evaluate(text, dict(quantities(graph, node), bn_params=0)))
            if part:
                bn_in, bn_read = bn_in + part, bn_read + cost.bn_params
            else:
                bn_out += cost.bn_params
    return {"papers_mult_adds": papers, "bn_params_counted": bn_in, "bn_params_read": bn_read,
            "bn_params_not_counted": bn_out, "other_ops_not_counted": ops_out,
            "counted_otherwise": sorted(otherwise), "not_counted": sorted(left_out)}
