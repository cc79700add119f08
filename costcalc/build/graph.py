"""Step 3: a Spec and its settings to a flat graph of layers with every shape known.

Blocks and repeats are expanded, ``$`` expressions evaluated, the width
multiplier applied to each widening layer's ``out``, and every input resolved
to an earlier layer, so the graph is in execution order. Each node also gets
its cost from its layer type (``layers.py``).

A ``Spec`` exists only validated: ``lang.entries.check_entries`` has looked at every
entry once, before anything is built, and reported every problem that does not depend on
shapes or settings (unknown keys, types, blocks and arguments, literal values of the wrong
kind). The builder checks only what does, and stops at its first problem: a value an
expression gives (a layer type, block, name or attribute ``${...}``), a shape, a limit. The
limits of ``core.limits`` (docs/errors.md) keep the expansion and the numbers bounded.
"""
import re

from costcalc.core.errors import SpecError, did_you_mean, show
from costcalc.core.expr import ExprError, is_template, names_read, substitute
from costcalc.core.limits import LIMITS, quoted
from costcalc.core.shape import CHW, ShapeError
from costcalc.layers import REQUIRED, check_attr, lookup
from costcalc.core.model import Graph, Node, Settings, check_settings
from costcalc.lang.entries import (CALL_KEYS, REPEAT_KEYS, TORCH_CALLS, _has_template,
                                   check_call_args, check_layer_keys, check_layer_name, check_text,
                                   find_block, kind_of)

_READS_INPUT = re.compile(r"\bin_(channels|height|width)\b")  # a when: that needs the input


def input_shape(spec, settings):
    """The image shape after ``--resolution`` or ``--rho``: side = round(side * rho)."""
    check_settings(settings.alpha, settings.rho, settings.resolution)
    c, h, w = spec.input
    if settings.resolution is not None:
        shape = CHW.of((c, settings.resolution, settings.resolution))
    else:
        rho = settings.rho
        shape = CHW.of((c, max(1, int(h * rho + 0.5)), max(1, int(w * rho + 0.5))))
    if shape.elements > LIMITS["elements"]:
        raise spec.tree.pos["input"].error(
            f"an input of {shape.text} is past the limit of {quoted('elements')} "
            f"elements a tensor (docs/errors.md)")
    return shape


def build(spec, settings=None):
    """Expand ``spec`` under ``settings`` into a Graph, raising SpecError at the bad line."""
    settings = settings or Settings()
    params = spec.resolve_params(settings.overrides)
    shape = input_shape(spec, settings)
    inputs = [("input", shape)]   # the graph's inputs; a reference ~k reads inputs[k]
    builder = _Builder(spec, settings, inputs, spec.width_factor(params, settings.alpha))
    names = dict(params, alpha=settings.alpha, rho=settings.rho, resolution=shape.height,
                 ch=builder.channels, **sides("input", shape))
    builder.sequence(spec.layers, _Scope("", ~0, names, ""))
    if settings.alpha != 1 and not builder.thinned and not spec.mentions_alpha():
        raise spec.tree.at.error(
            f"alpha {settings.alpha:g} applies to no layer of {spec.label(params)}: every "
            f"widening layer has scale: false and no expression uses alpha or ch() "
            f"(docs/spec-language.md, 'The width multiplier')")
    graph = Graph(spec, settings, inputs, params, builder.nodes)
    if settings.standard_conv:
        from costcalc.build.transform import standard_conv
        graph = standard_conv(graph)
    return graph


def sides(prefix, shape):
    """The names expressions read of a shape: PREFIX_channels, PREFIX_height, PREFIX_width."""
    return {f"{prefix}_channels": shape.channels, f"{prefix}_height": shape.height,
            f"{prefix}_width": shape.width}


class _Passed(str):
    """Text given as a block call's argument, with where it was given (the caller's scope
    prefix and input, the line), so that as a layer reference it is checked to mean
    inside the block what it named at the call."""


def _passed(value, scope, pos):
    """``value`` (or each text of a list) marked as given in ``scope``; a value passed
    on from an outer call keeps the scope it was first given in."""
    if isinstance(value, list):
        return [_passed(item, scope, pos) for item in value]
    if not isinstance(value, str) or isinstance(value, _Passed):
        return value
    marked = _Passed(value)
    marked.prefix, marked.input, marked.line = scope.prefix, scope.input, pos.line
    return marked


def _outwards(ref, prefix):
    """The full names ``ref`` may mean seen from scope ``prefix``, innermost first."""
    while True:
        yield f"{prefix}/{ref}" if prefix else ref
        if not prefix:
            return
        prefix = prefix.rpartition("/")[0]


# ---------------------------------------------------------------- the builder

class _Scope:
    """Where names are looked up: the prefix, the block's input, expression names."""

    __slots__ = ("prefix", "input", "names", "stage", "previous", "counters", "in_pieces")

    def __init__(self, prefix, input_index, names, stage, in_pieces=False):
        self.prefix, self.input, self.names, self.stage = prefix, input_index, names, stage
        self.previous = input_index
        self.counters = {}
        self.in_pieces = in_pieces   # inside a block computed in pieces

    def auto_name(self, base):
        count = self.counters[base] = self.counters.get(base, 0) + 1
        return f"{base}{count}"

    def full(self, name):
        return f"{self.prefix}/{name}" if self.prefix else name


class _Builder:
    def __init__(self, spec, settings, inputs, factor=1):
        self.spec, self.settings, self.graph_inputs = spec, settings, inputs   # [(name, Shape)]
        self.factor = factor   # multiplier * alpha, what the width rule applies
        self.thinned = False   # whether any layer or ch() took the factor
        self.nodes, self.index = [], {}
        self.active, self.recursive_calls = [], 0   # the block calls under way, and how many
                                                    # of them were of a block inside itself
        self.outputs = {}    # block call and group names -> index of their last layer
        self.skipped = {}    # names of entries skipped by when -> the entry whose when it was
        self.expanded = 0    # entries expanded so far, against LIMITS["layers"]
        self.sizes = {}      # least_list's answers
        self.plans, self.results = {}, {}   # per spec entry, per (attributes, input shapes)

    def channels(self, count):
        """``ch(c)`` in expressions: c thinned by multiplier * alpha with the spec's width rule."""
        self.thinned = True
        try:
            return self.spec.width.apply(count, self.factor)
        except (TypeError, ValueError) as exc:
            raise ExprError(f"ch({show(count)}): {exc}") from None

    # -- walking the spec
    def sequence(self, entries, scope):
        for i, entry in enumerate(entries):
            pos = entries.pos[i]
            kind = kind_of(entry)
            self.expanded += 1
            if self.expanded > LIMITS["layers"]:
                raise pos.error(f"the spec expands to more than {quoted('layers')} layers "
                                f"(docs/errors.md)")
            if "when" in entry and not self.when(entry, scope):
                self.skip(entry, scope, entry)
                continue
            if kind == "repeat":
                self.repeat(entry, scope, pos)
            elif kind == "layer":
                self.layer(entry, scope, pos)
            elif kind == "call":
                block_input = (self.reference(entry, "input", scope) if "input" in entry
                               else scope.previous)
                name = self.value(entry, "name", scope.names) if "name" in entry else None
                self.call(entry, scope, pos, name, block_input)
            else:
                self.group(entry, scope, pos)

    def when(self, entry, scope):
        """``when: ${...}`` keeps an entry only if the condition holds; the names of
        the scope are in reach, and ``in_channels`` etc. of the entry's own input."""
        names = scope.names
        text = entry["when"]
        if isinstance(text, str) and _READS_INPUT.search(text):
            if "input" in entry:
                source = self.reference(entry, "input", scope)
            elif "inputs" in entry:
                source = self.input_list(entry, scope)[0]
            else:
                source = scope.previous
            names = dict(names, **sides("in", self.shape_of(source)))
        value = self.value(entry, "when", names)
        if not isinstance(value, bool):
            raise entry.pos["when"].error(f"when must be true or false, not {show(value)}")
        return value

    def skip(self, entry, scope, cause):
        """Remember the names an entry skipped by ``cause``'s ``when`` would have defined
        (its own, or those of the layers of an unnamed group or repeat, which join the
        scope), so that a reference to one says why it is missing."""
        if "name" in entry:
            try:
                name = self.name_text(self.value(entry, "name", scope.names), entry.pos["name"])
            except SpecError:
                return   # a name that cannot be known (a loop variable's): nothing to remember
            self.skipped[scope.full(name)] = cause
        elif isinstance(entry.get("layers"), list) and not ("type" in entry or "block" in entry):
            for inner in entry["layers"]:
                if isinstance(inner, dict):
                    self.skip(inner, scope, cause)

    def shape_of(self, ref):
        return self.nodes[ref].shape if ref >= 0 else self.graph_inputs[~ref][1]

    def repeat(self, entry, scope, pos):
        count = self.value(entry, "repeat", scope.names)
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
            raise entry.pos["repeat"].error(f"repeat must be a non-negative integer, "
                                            f"not {show(count)}")
        body = self.least_size(entry)
        if self.expanded + count * body > LIMITS["layers"]:
            raise entry.pos["repeat"].error(
                f"repeat {count:,} of {body:,} entries would expand past the limit of "
                f"{quoted('layers')} layers (docs/errors.md)")
        var = entry.get("as", "i")
        if "input" in entry:
            scope.previous = self.reference(entry, "input", scope)
        base_name = entry.get("name")
        names = dict(scope.names)   # one dict for every iteration: only the variable changes,
        for i in range(count):      # and nothing keeps it past its iteration (calls copy it)
            names[var] = i
            stage = self.stage(entry, names, scope)
            name = self.iteration_name(entry, names, i) if base_name is not None else None
            if "block" in entry:
                inner = _Scope(scope.prefix, scope.input, names, stage, scope.in_pieces)
                inner.previous, inner.counters = scope.previous, scope.counters
                self.call(entry, inner, pos, name, scope.previous, skip=REPEAT_KEYS)
                scope.previous = inner.previous
            else:  # a named repeat makes one scope per iteration
                self.inline(entry["layers"], scope, names, stage, name)

    def least_size(self, entry, active=()):
        """The fewest entries one expansion of ``entry``'s body visits: its ``layers``, or
        its block's layers (for a call, one more for the call itself), where a repeat
        whose count is written as a number counts that many times. Known before anything
        is expanded, so that nested repeats past the limit are refused at once."""
        body = 0
        layers, block = entry.get("layers"), entry.get("block")
        if isinstance(layers, list):
            body += self.least_list(layers, active)
        if isinstance(block, str) and block in self.spec.blocks and block not in active:
            body += self.least_list(self.spec.blocks[block].layers, active + (block,))
        return max(body, 1)

    def least_list(self, entries, active):
        key = (id(entries), active)
        total = self.sizes.get(key)
        if total is None:
            total = 0
            for entry in entries:
                total += 1
                if not isinstance(entry, dict) or not ("layers" in entry or "block" in entry):
                    continue
                count = entry.get("repeat", 1)
                if not (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
                    count = 0 if "repeat" in entry else 1
                total += count * self.least_size(entry, active)
                if total > LIMITS["layers"]:
                    break
            self.sizes[key] = total
        return total

    def iteration_name(self, entry, names, i):
        """``dws${i}`` is evaluated; a plain ``stage`` becomes stage1, stage2, ..."""
        base = entry["name"]
        if is_template(base):
            return self.value(entry, "name", names)
        return f"{base}{i + 1}"

    def group(self, entry, scope, pos):
        """``{layers: [...]}``: layers written in place, with a shared stage, condition
        or input, and a scope of their own when the group has a name."""
        stage = self.stage(entry, scope.names, scope)
        if "input" in entry:
            scope.previous = self.reference(entry, "input", scope)
        name = self.value(entry, "name", scope.names) if "name" in entry else None
        self.inline(entry["layers"], scope, scope.names, stage, name)

    def inline(self, entries, scope, names, stage, name):
        """Build ``entries`` in place after ``scope.previous``: in a new scope NAME, or in
        ``scope`` itself when unnamed. Either way 'input' inside is the enclosing block
        call's input: only a block call changes what 'input' means."""
        if name is not None:
            full = scope.full(self.name_text(name, entries.at))
            inner = _Scope(full, scope.input, names, stage, scope.in_pieces)
            inner.previous = scope.previous
        else:
            inner = _Scope(scope.prefix, scope.input, names, stage, scope.in_pieces)
            inner.previous, inner.counters = scope.previous, scope.counters
        self.sequence(entries, inner)
        scope.previous = inner.previous
        if name is not None:
            self.outputs[inner.prefix] = inner.previous

    def call(self, entry, scope, pos, name, block_input, skip=CALL_KEYS):
        if is_template(entry["block"]):   # a block named by an expression: checked now
            block = find_block(self.spec, self.value(entry, "block", scope.names),
                               entry.pos["block"])
            check_call_args(entry, block, skip)
        else:
            block = self.spec.blocks[entry["block"]]
        shape = self.shape_of(block_input)   # in_channels etc.: the shape of the call's input
        outer = dict(scope.names, **sides("in", shape))
        args = {key: _passed(self.value(entry, key, outer), scope, entry.pos[key])
                for key in entry if key not in skip and key not in CALL_KEYS}
        for arg, default in block.args.items():
            if arg not in args:
                if default is None:
                    raise pos.error(f"block {block.name} needs argument {arg!r}")
                args[arg] = default
        names = dict(scope.names)
        names.update(args)
        names.update(sides("input", shape))
        for arg in block.args:  # defaults may be expressions of other arguments
            try:
                names[arg] = substitute(names[arg], names)
            except ExprError as exc:
                raise block.pos.error(f"argument {arg} of block {block.name}: {exc}") from None
        name = scope.auto_name(block.name) if name is None else self.name_text(
            name, entry.pos.get("name", pos))
        names["block_name"] = name
        stage = scope.stage if "repeat" in entry else self.stage(entry, names, scope)
        inner = _Scope(scope.full(name), block_input, names, stage,
                       scope.in_pieces or block.in_pieces)
        if block.name in self.active:   # a block inside itself: bounded apart, as fan-out
            self.recursive_calls += 1       # (a block calling itself twice) doubles each level
            if self.recursive_calls > LIMITS["recursive_calls"]:
                raise pos.error(f"block {block.name} is called within itself more than "
                                f"{quoted('recursive_calls')} times (docs/errors.md)")
        self.active.append(block.name)
        if len(self.active) > LIMITS["nesting"]:
            raise pos.error(f"blocks nest more than {quoted('nesting')} deep (does {block.name} "
                            f"call itself?)")
        self.sequence(block.layers, inner)
        self.active.pop()
        if block.in_pieces and not scope.in_pieces and inner.previous >= 0:
            self.nodes[inner.previous].materialized = True   # the block's output is whole
        scope.previous = inner.previous
        self.outputs[inner.prefix] = inner.previous

    def layer(self, entry, scope, pos):
        type_name = entry["type"]
        if isinstance(type_name, str) and "$" in type_name:
            type_name = self.value(entry, "type", scope.names)
        key = (id(entry), type_name if isinstance(type_name, str) else None)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self.plan(entry, type_name, scope.names)
        layer_type, static_attrs, torch_call, in_pieces, simple = plan
        nodes = self.nodes
        if simple:   # one input, the previous layer's; no name, stage or expression
            source = scope.previous
            shape = nodes[source].shape if source >= 0 else self.graph_inputs[~source][1]
            self.add(scope.full(scope.auto_name(layer_type.name)), layer_type, static_attrs,
                     [source], (shape,), scope.stage, pos, plan, scope, entry)
            return
        if layer_type.inputs == 1 and "input" not in entry and "inputs" not in entry:
            inputs = [scope.previous]
        else:
            inputs = self.inputs(entry, scope, layer_type, pos)
        shapes = tuple(nodes[i].shape if i >= 0 else self.graph_inputs[~i][1] for i in inputs)
        if static_attrs is not None:  # no expression in the entry: same attributes each time
            attrs, names = static_attrs, scope.names
        else:
            names = dict(scope.names, **sides("in", shapes[0]))
            attrs = self.attributes(entry, layer_type, names, pos)
        name = self.value(entry, "name", names) if "name" in entry else None
        if name is not None:
            name = self.name_text(name, entry.pos["name"])
            if is_template(entry["name"]):
                check_layer_name(name, entry.pos["name"])
        name = scope.full(name if name is not None else scope.auto_name(layer_type.name))
        self.add(name, layer_type, attrs, inputs, shapes, self.stage(entry, names, scope), pos,
                 plan, scope, entry)

    def add(self, name, layer_type, attrs, inputs, shapes, stage, pos, plan, scope, entry):
        """Append the node: its shape and costs from the layer type, memoised per static
        attributes and input shapes (a repeated layer is evaluated once)."""
        if name in self.index:
            raise (entry.pos.get("name") or pos).error(
                f"layer name {show(name)} is used twice (first at line "
                f"{self.nodes[self.index[name]].pos.line})")
        key = (id(attrs), shapes) if plan[1] is not None else None
        result = self.results.get(key) if key else None
        if result is None:
            result = self.evaluate(layer_type, attrs, list(shapes), name, pos)
            if key:
                self.results[key] = result
        scope.previous = self.index[name] = len(self.nodes)
        self.nodes.append(Node(name, layer_type, attrs, inputs, result[0], stage, pos,
                               result[1], result[2], plan[2], not (scope.in_pieces or plan[3])))

    def flag(self, entry, key):
        value = entry.get(key, False)
        if not isinstance(value, bool):
            raise entry.pos[key].error(f"{key} must be true or false, not {show(value)}")
        return value

    def torch_call(self, entry, layer_type):
        """How the PyTorch model the spec follows computes this layer (TORCH_CALLS;
        docs/conventions.md)."""
        source = entry if "torch_call" in entry else self.spec.defaults.get(layer_type.name, {})
        call = source.get("torch_call", "module")
        if call not in TORCH_CALLS:
            raise source.pos["torch_call"].error(
                f"torch_call must be one of {', '.join(TORCH_CALLS)}, not {show(call)}")
        return call

    def evaluate(self, layer_type, attrs, shapes, name, pos):
        """(shape, cost, category) of one layer, within the tensor and count limits."""
        try:
            shape = layer_type.shape(attrs, shapes)
        except ShapeError as exc:
            raise pos.error(f"{name} ({layer_type.name}): {exc}") from None
        if shape.elements > LIMITS["elements"]:
            raise pos.error(f"{name} ({layer_type.name}): an output of {shape.text} is "
                            f"past the limit of {quoted('elements')} elements a tensor "
                            f"(docs/errors.md)")
        cost = layer_type.cost(attrs, shapes, shape)
        for count in (cost.mult_adds, cost.params, cost.bn_params, cost.other_ops):
            if count > LIMITS["number"]:
                raise pos.error(f"{name} ({layer_type.name}): a count of {show(count)} is "
                                f"past the limit of {quoted('number')} (docs/errors.md)")
        return shape, cost, layer_type.category(attrs, shapes, shape)

    def name_text(self, name, pos, what="name"):
        """A name as text: a string or a number, at most LIMITS['name'] characters."""
        check_text(name, pos, what)   # a literal one was checked with the spec
        name = str(name)
        if not name or len(name) > LIMITS["name"]:
            raise pos.error(f"a {what} must have 1 to {quoted('name')} characters")
        return name

    def plan(self, entry, type_name, names):
        """Check an entry's keys once; resolve its attributes once if nothing in them
        (or in the spec's defaults for its type) is an expression: (type, attributes or
        None, torch_call, in_pieces, simple), simple when the layer also reads the previous
        output and names nothing (the short path of ``layer``)."""
        layer_type = lookup(type_name, entry.pos["type"])
        if is_template(entry["type"]):   # a literal type's keys were checked with the spec
            check_layer_keys(entry, layer_type)
        defaults = self.spec.defaults.get(layer_type.name, {})
        static = not (is_template(entry["type"]) or any(
            _has_template(v) for k, v in entry.items() if k in layer_type.attrs) or any(
            _has_template(v) for v in defaults.values()))
        simple = (static and layer_type.inputs == 1
                  and not any(k in entry for k in ("input", "inputs", "name", "stage")))
        return (layer_type, self.attributes(entry, layer_type, names, entry.at) if static else None,
                self.torch_call(entry, layer_type), self.flag(entry, "in_pieces"), simple)

    def attributes(self, entry, layer_type, names, pos):
        """The attribute values of one layer. An expression may use the layer's other
        attributes by name (``padding: "${(k - 1) // 2}"``): the entry's own values
        come before the names of the scope."""
        defaults = self.spec.defaults.get(layer_type.name, {})
        attrs, pending = {}, []
        for key, (kind, default) in layer_type.attrs.items():
            source = entry if key in entry else (defaults if key in defaults else None)
            if source is None:
                if default is REQUIRED:
                    raise pos.error(f"{layer_type.name} needs attribute {key!r}")
                # under 'padding: explicit' a window is unpadded unless it says so
                attrs[key] = ((0, 0) if kind == "padding" and self.spec.padding == "explicit"
                              else default)
            elif _has_template(source[key]):
                pending.append((key, kind, source))
            else:
                attrs[key] = self.checked(layer_type, kind, key, source[key], source)
        if pending:
            own = {key: entry[key] for key in entry
                   if key in layer_type.attrs and not _has_template(entry[key])}
            for key, kind, source in pending:
                for name in names_read(source[key]) & own.keys() & names.keys():
                    if own[name] != names[name]:
                        raise source.pos[key].error(
                            f"{name!r} is ambiguous here: this layer's attribute {name} is "
                            f"{show(own[name])}, the {name} of the enclosing scope (a loop "
                            f"variable, block argument or parameter) is {show(names[name])}; "
                            f"rename one (docs/spec-language.md, 'Names and references')")
                value = self.value(source, key, dict(names, **own))
                if isinstance(value, list):  # [3, "${k}"]: each item on its own
                    value = [self.expr(item, dict(names, **own), source.pos[key])
                             for item in value]
                own[key] = value
                attrs[key] = self.checked(layer_type, kind, key, value, source)
        if attrs.get("ceil_mode") and attrs.get("padding") == "same":
            where = entry if "ceil_mode" in entry else defaults
            raise where.pos["ceil_mode"].error(
                f"{layer_type.name}: ceil_mode has no effect with padding 'same' (the output "
                f"side is ceil(side / stride)); give the padding explicitly, or declare "
                f"'padding: explicit' at the top of the spec")
        if layer_type.widens:
            scale = attrs["scale"]
            multiplier = self.factor if scale is True else (1 if scale is False else scale)
            self.thinned = self.thinned or scale is True
            try:
                attrs["out"] = self.spec.width.apply(attrs["out"], multiplier)
            except ValueError as exc:
                raise entry.pos.get("out", pos).error(str(exc)) from None
        return attrs

    def checked(self, layer_type, kind, key, value, source):
        if isinstance(value, _Passed):
            value = str(value)   # an attribute keeps plain text
        try:
            return check_attr(kind, value, key)
        except ValueError as exc:
            raise source.pos[key].error(f"{layer_type.name}: {exc}") from None

    def inputs(self, entry, scope, layer_type, pos):
        if "inputs" in entry and "input" in entry:
            raise pos.error("give either 'input' or 'inputs', not both")
        if layer_type.inputs == "many":
            if "inputs" not in entry:
                raise pos.error(f"{layer_type.name} needs 'inputs': a list of layer names")
            found = self.input_list(entry, scope)
            if len(found) < 2:   # one input: the identity, almost surely a mistake
                raise entry.pos["inputs"].error(
                    f"{layer_type.name} needs two or more inputs, not one (a one-input "
                    f"{layer_type.name} is its input unchanged)")
            return found
        if "inputs" in entry:
            raise entry.key_pos["inputs"].error(f"{layer_type.name} takes one input: use 'input'")
        if "input" in entry:
            return [self.reference(entry, "input", scope)]
        return [scope.previous]

    def input_list(self, entry, scope):
        """``inputs: [a, "${...}", ...]``: each item a name or an expression giving one."""
        refs = self.value(entry, "inputs", scope.names)
        pos = entry.pos["inputs"]
        if not isinstance(refs, list) or not refs:
            raise pos.error("inputs must be a non-empty list of layer names")
        found = []
        for i, ref in enumerate(refs):
            where = refs.pos[i] if hasattr(refs, "pos") else pos
            if is_template(ref):
                try:
                    ref = substitute(ref, scope.names)
                except ExprError as exc:
                    raise where.error(str(exc)) from None
            found.append(self.find(ref, scope, where))
        return found

    def reference(self, entry, key, scope):
        return self.find(self.value(entry, key, scope.names), scope, entry.pos[key])

    def find(self, ref, scope, pos):
        """Resolve a layer name: the innermost scope first, then outwards; 'input'
        is the enclosing block's input (the image at the top level). A block call's or
        group's name means its last layer's output. A name given as a block call's
        argument must mean here what it meant at the call: an inner layer of the same
        name (or, for 'input', the block's own input) is an error, not a silent swap."""
        found = self.lookup(ref, scope.prefix, scope.input, pos)
        if isinstance(ref, _Passed):
            there = self.lookup(ref, ref.prefix, ref.input, pos)
            if there is not None and there != found:
                raise pos.error(
                    f"{show(ref)}, given to the block at line {ref.line}, names "
                    f"{self.node_text(there)} there but {self.node_text(found)} here; "
                    f"rename one of them (or pass another name)")
        if found is not None:
            return found
        for full in _outwards(ref, scope.prefix):
            if full in self.skipped:
                cause = self.skipped[full]
                raise pos.error(f"layer {show(full)} was skipped: its condition "
                                f"{show(cause['when'])} (line {cause.pos['when'].line}) is "
                                f"false, so it cannot be an input here")
        names = list(self.index)[-500:]
        elsewhere = [n for n in names if n.rpartition("/")[2] == ref]  # in another scope
        near = (f" (did you mean {elsewhere[-1]!r}?)" if elsewhere
                else did_you_mean(ref, [n.rpartition("/")[2] for n in names]))
        raise pos.error(f"unknown layer {show(ref)}{near}: an input must name a layer (or a "
                        f"block call or group) defined before it, or 'input'")

    def lookup(self, ref, prefix, input_index, pos):
        """The index ``ref`` names seen from scope ``prefix`` (whose input is
        ``input_index``), innermost first; None if it names nothing."""
        if ref == "input":
            return input_index
        if not isinstance(ref, str) or isinstance(ref, bool):
            raise pos.error(f"a layer reference must be a name, not {show(ref)}")
        for full in _outwards(ref, prefix):
            if full in self.index:
                return self.index[full]
            if full in self.outputs:
                return self.outputs[full]
        return None

    def node_text(self, index):
        return f"layer {show(self.nodes[index].name)}" if index >= 0 else "the image"

    def stage(self, entry, names, scope):
        """The entry's own stage (text, evaluated with ``names``), or the scope's."""
        if "stage" not in entry:
            return scope.stage
        return self.name_text(self.value(entry, "stage", names), entry.pos["stage"], "stage")

    def expr(self, raw, names, pos):
        if not is_template(raw):
            return raw
        try:
            return substitute(raw, names)
        except ExprError as exc:
            raise pos.error(str(exc)) from None

    def value(self, entry, key, names):
        raw = entry[key]
        if not is_template(raw):
            return raw
        try:
            return substitute(raw, names)
        except ExprError as exc:
            raise entry.pos[key].error(str(exc)) from None
