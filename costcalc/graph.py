"""Step 3: a Spec and its settings to a flat graph of layers with every shape known.

Blocks and repeats are expanded, ``$`` expressions evaluated, the width
multiplier applied to each widening layer's ``out``, and every input resolved
to an earlier layer, so the graph is in execution order. Each node also gets
its cost from its layer type (``layers.py``).
"""
from .expr import ExprError, is_template, substitute
from .layers import REQUIRED, ShapeError, check_attr, lookup

ENTRY_KEYS = ("type", "name", "input", "inputs", "stage", "when")
CALL_KEYS = ("block", "name", "input", "stage", "when")
REPEAT_KEYS = ("repeat", "as", "name", "stage", "layers", "block", "input", "when")
GROUP_KEYS = ("layers", "name", "stage", "input", "when")
IMAGE = -1   # the index that stands for the input image


class Node:
    """One layer of the expanded graph."""

    __slots__ = ("name", "type", "attrs", "inputs", "shape", "stage", "pos", "cost", "category")

    def __init__(self, name, layer_type, attrs, inputs, shape, stage, pos, cost, category):
        self.name, self.type, self.attrs, self.inputs = name, layer_type, attrs, inputs
        self.shape, self.stage, self.pos, self.cost, self.category = shape, stage, pos, cost, category


class Settings:
    """What the command line chose: multipliers, resolution, parameter overrides."""

    def __init__(self, alpha=1.0, rho=1.0, resolution=None, overrides=None, standard_conv=False):
        self.alpha, self.rho, self.resolution = alpha, rho, resolution
        self.overrides = dict(overrides or {})
        self.standard_conv = standard_conv  # replace depthwise separable pairs (transform.py)


class Graph:
    """The result: ``nodes`` in execution order, the input shape and parameters used."""

    def __init__(self, spec, settings, input_shape, params, nodes, replaced=0):
        self.spec, self.settings = spec, settings
        self.input_shape, self.params, self.nodes = input_shape, params, nodes
        self.replaced = replaced  # depthwise separable pairs --standard-conv replaced

    def shape_of(self, index):
        return self.input_shape if index == IMAGE else self.nodes[index].shape


def input_shape(spec, settings):
    """The image shape after ``--resolution`` or ``--rho``: side = round(side * rho)."""
    c, h, w = spec.input
    if settings.resolution is not None:
        return (c, settings.resolution, settings.resolution)
    rho = settings.rho
    return (c, max(1, int(h * rho + 0.5)), max(1, int(w * rho + 0.5)))


def build(spec, settings=None):
    """Expand ``spec`` under ``settings`` into a Graph, raising SpecError at the bad line."""
    settings = settings or Settings()
    params = spec.resolve_params(settings.overrides)
    shape = input_shape(spec, settings)
    builder = _Builder(spec, settings, shape)
    names = dict(params, alpha=settings.alpha, rho=settings.rho, resolution=shape[1],
                 ch=builder.channels, input_channels=shape[0], input_height=shape[1],
                 input_width=shape[2])
    builder.sequence(spec.layers, _Scope("", IMAGE, names, ""))
    graph = Graph(spec, settings, shape, params, builder.nodes)
    if settings.standard_conv:
        from .transform import standard_conv
        graph = standard_conv(graph)
    return graph


class _Scope:
    """Where names are looked up: the prefix, the block's input, expression names."""

    __slots__ = ("prefix", "input", "names", "stage", "previous", "counters")

    def __init__(self, prefix, input_index, names, stage):
        self.prefix, self.input, self.names, self.stage = prefix, input_index, names, stage
        self.previous = input_index
        self.counters = {}

    def auto_name(self, base):
        count = self.counters[base] = self.counters.get(base, 0) + 1
        return f"{base}{count}"

    def full(self, name):
        return f"{self.prefix}/{name}" if self.prefix else name


class _Builder:
    def __init__(self, spec, settings, shape):
        self.spec, self.settings, self.image = spec, settings, shape
        self.nodes, self.index, self.depth = [], {}, 0
        self.plans, self.results = {}, {}   # per spec entry, per (attributes, input shapes)

    def channels(self, count):
        """``ch(c)`` in expressions: c thinned by alpha with the spec's width rule."""
        return self.spec.width.apply(count, self.settings.alpha)

    # -- walking the spec
    def sequence(self, entries, scope):
        for i, entry in enumerate(entries):
            pos = entries.pos[i]
            if "when" in entry and not self.when(entry, scope):
                continue
            if "repeat" in entry:
                self.repeat(entry, scope, pos)
            elif "type" in entry:
                self.layer(entry, scope, pos)
            elif "block" in entry:
                block_input = (self.reference(entry, "input", scope) if "input" in entry
                               else scope.previous)
                name = self.value(entry, "name", scope.names) if "name" in entry else None
                self.call(entry, scope, pos, name, block_input)
            elif "layers" in entry:
                self.group(entry, scope, pos)
            else:
                raise pos.error("a layer needs 'type' (or 'block' to call a block, "
                                "'repeat' to repeat layers, 'layers' to group them)")

    def when(self, entry, scope):
        """``when: ${...}`` keeps an entry only if the condition holds; the names of
        the scope are in reach, and ``in_channels`` etc. of what would be its input."""
        shape = self.shape_of(scope.previous)
        names = dict(scope.names, in_channels=shape[0], in_height=shape[1], in_width=shape[2])
        value = self.value(entry, "when", names)
        if not isinstance(value, bool):
            raise entry.pos["when"].error(f"when must be true or false, not {value!r}")
        return value

    def shape_of(self, index):
        return self.image if index == IMAGE else self.nodes[index].shape

    def repeat(self, entry, scope, pos):
        if "layers" in entry:  # with 'block', the other keys are the block's arguments
            _check_keys(entry, REPEAT_KEYS, "repeat", pos)
        if ("layers" in entry) == ("block" in entry):
            raise pos.error("repeat needs either 'layers' or 'block'")
        count = self.value(entry, "repeat", scope.names)
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
            raise entry.pos["repeat"].error(f"repeat must be a non-negative integer, "
                                            f"not {count!r}")
        var = entry.get("as", "i")
        if not (isinstance(var, str) and var.isidentifier()):
            raise entry.pos["as"].error("'as' must name the loop variable, such as i")
        stage = self.value(entry, "stage", scope.names) if "stage" in entry else scope.stage
        if "input" in entry:
            scope.previous = self.reference(entry, "input", scope)
        base_name = entry.get("name")
        for i in range(count):
            names = dict(scope.names)
            names[var] = i
            if "block" in entry:
                inner = _Scope(scope.prefix, scope.input, names, stage)
                inner.previous, inner.counters = scope.previous, scope.counters
                name = _iteration_name(base_name, names, i) if base_name else None
                self.call(entry, inner, pos, name, scope.previous, skip=REPEAT_KEYS)
                scope.previous = inner.previous
            else:  # a named repeat makes one scope per iteration
                name = _iteration_name(base_name, names, i) if base_name else None
                self.inline(entry["layers"], scope, names, stage, name)

    def group(self, entry, scope, pos):
        """``{layers: [...]}``: layers written in place, with a shared stage, condition
        or input, and a scope of their own when the group has a name."""
        _check_keys(entry, GROUP_KEYS, "group", pos)
        stage = self.value(entry, "stage", scope.names) if "stage" in entry else scope.stage
        if "input" in entry:
            scope.previous = self.reference(entry, "input", scope)
        name = self.value(entry, "name", scope.names) if "name" in entry else None
        self.inline(entry["layers"], scope, scope.names, stage, name)

    def inline(self, entries, scope, names, stage, name):
        """Build ``entries`` in place after ``scope.previous``: in a new scope NAME
        (whose 'input' is what precedes it), or in ``scope`` itself when unnamed."""
        if name:
            inner = _Scope(scope.full(str(name)), scope.previous, names, stage)
        else:
            inner = _Scope(scope.prefix, scope.input, names, stage)
            inner.previous, inner.counters = scope.previous, scope.counters
        self.sequence(entries, inner)
        scope.previous = inner.previous

    def call(self, entry, scope, pos, name, block_input, skip=CALL_KEYS):
        block_name = entry["block"]
        block = self.spec.blocks.get(block_name)
        if block is None:
            known = ", ".join(self.spec.blocks) or "none are defined"
            raise entry.pos["block"].error(f"unknown block {block_name!r}; blocks: {known}")
        args = {}
        for key in entry:
            if key in skip or key in CALL_KEYS:
                continue
            if key not in block.args:
                raise entry.key_pos[key].error(
                    f"block {block_name} has no argument {key!r}; its arguments: "
                    f"{', '.join(block.args) or 'none'}")
            args[key] = self.value(entry, key, scope.names)
        for arg, default in block.args.items():
            if arg not in args:
                if default is None:
                    raise pos.error(f"block {block_name} needs argument {arg!r}")
                args[arg] = default
        names = dict(scope.names)
        names.update(args)
        shape = self.shape_of(block_input)
        names.update(input_channels=shape[0], input_height=shape[1], input_width=shape[2])
        for arg in block.args:  # defaults may be expressions of other arguments
            try:
                names[arg] = substitute(names[arg], names)
            except ExprError as exc:
                raise block.pos.error(f"argument {arg} of block {block_name}: {exc}") from None
        if name is None:
            name = scope.auto_name(block_name)
        elif not isinstance(name, str):
            raise entry.pos["name"].error("name must be text")
        names["block_name"] = name
        stage = self.value(entry, "stage", scope.names) if "stage" in entry else scope.stage
        inner = _Scope(scope.full(name), block_input, names, stage)
        self.depth += 1
        if self.depth > 50:
            raise pos.error(f"blocks nest more than 50 deep (does {block_name} call itself?)")
        self.sequence(block.layers, inner)
        self.depth -= 1
        scope.previous = inner.previous

    def layer(self, entry, scope, pos):
        plan = self.plans.get(id(entry))
        if plan is None:
            plan = self.plans[id(entry)] = self.plan(entry, scope.names)
        layer_type, static_attrs = plan
        if layer_type.inputs == 1 and "input" not in entry and "inputs" not in entry:
            inputs = [scope.previous]   # the common case, kept short: it runs per layer
        else:
            inputs = self.inputs(entry, scope, layer_type, pos)
        nodes = self.nodes
        shapes = [nodes[i].shape if i >= 0 else self.image for i in inputs]
        if static_attrs is not None:  # no expression in the entry: same attributes each time
            attrs, names = static_attrs, scope.names
        else:
            names = dict(scope.names, in_channels=shapes[0][0], in_height=shapes[0][1],
                         in_width=shapes[0][2])
            attrs = self.attributes(entry, layer_type, names, pos)
        name = self.value(entry, "name", names) if "name" in entry else None
        name = scope.full(name if name is not None else scope.auto_name(layer_type.name))
        if name in self.index:
            raise (entry.pos.get("name") or pos).error(
                f"layer name {name!r} is used twice (first at line "
                f"{self.nodes[self.index[name]].pos.line})")
        key = (id(attrs), tuple(shapes)) if static_attrs is not None else None
        result = self.results.get(key) if key else None
        if result is None:
            try:
                shape = layer_type.shape(attrs, shapes)
            except ShapeError as exc:
                raise pos.error(f"{name} ({layer_type.name}): {exc}") from None
            result = (shape, layer_type.cost(attrs, shapes, shape),
                      layer_type.category(attrs, shapes, shape))
            if key:
                self.results[key] = result
        stage = self.value(entry, "stage", names) if "stage" in entry else scope.stage
        scope.previous = self.index[name] = len(nodes)
        nodes.append(Node(name, layer_type, attrs, inputs, result[0], stage, pos, result[1],
                          result[2]))

    def plan(self, entry, names):
        """Check an entry's keys once; resolve its attributes once if nothing in them
        (or in the spec's defaults for its type) is an expression."""
        layer_type = lookup(self.value(entry, "type", names), entry.pos["type"])
        for key in entry:
            if key not in layer_type.attrs and key not in ENTRY_KEYS:
                raise entry.key_pos[key].error(
                    f"unknown attribute {key!r} for {layer_type.name}; its attributes: "
                    f"{', '.join(list(layer_type.attrs) + list(ENTRY_KEYS))}")
        defaults = self.spec.defaults.get(layer_type.name, {})
        static = not (is_template(entry["type"]) or any(
            is_template(v) for k, v in entry.items() if k in layer_type.attrs) or any(
            is_template(v) for v in defaults.values()))
        return layer_type, (self.attributes(entry, layer_type, names, entry.at)
                            if static else None)

    def attributes(self, entry, layer_type, names, pos):
        defaults = self.spec.defaults.get(layer_type.name, {})
        attrs = {}
        for key, (kind, default) in layer_type.attrs.items():
            if key in entry:
                source = entry
            elif key in defaults:
                source = defaults
            elif default is REQUIRED:
                raise pos.error(f"{layer_type.name} needs attribute {key!r}")
            else:  # under 'padding: explicit' a window is unpadded unless it says so
                attrs[key] = ((0, 0) if kind == "padding" and self.spec.padding == "explicit"
                              else default)
                continue
            value = self.value(source, key, names)
            try:
                attrs[key] = check_attr(kind, value, key)
            except ValueError as exc:
                raise source.pos[key].error(f"{layer_type.name}: {exc}") from None
        if attrs.get("ceil_mode") and attrs.get("padding") == "same":
            where = entry if "ceil_mode" in entry else defaults
            raise where.pos["ceil_mode"].error(
                f"{layer_type.name}: ceil_mode has no effect with padding 'same' (the output "
                f"side is ceil(side / stride)); give the padding explicitly, or declare "
                f"'padding: explicit' at the top of the spec")
        if layer_type.widens:
            scale = attrs["scale"]
            multiplier = self.settings.alpha if scale is True else (1 if scale is False else scale)
            try:
                attrs["out"] = self.spec.width.apply(attrs["out"], multiplier)
            except ValueError as exc:
                raise entry.pos.get("out", pos).error(str(exc)) from None
        return attrs

    def inputs(self, entry, scope, layer_type, pos):
        if "inputs" in entry and "input" in entry:
            raise pos.error("give either 'input' or 'inputs', not both")
        if layer_type.inputs == "many":
            if "inputs" not in entry:
                raise pos.error(f"{layer_type.name} needs 'inputs': a list of layer names")
            refs = self.value(entry, "inputs", scope.names)
            if not isinstance(refs, list) or not refs:
                raise entry.pos["inputs"].error("inputs must be a non-empty list of layer names")
            return [self.find(ref, scope, entry.pos["inputs"]) for ref in refs]
        if "inputs" in entry:
            raise entry.key_pos["inputs"].error(f"{layer_type.name} takes one input: use 'input'")
        if "input" in entry:
            return [self.reference(entry, "input", scope)]
        return [scope.previous]

    def reference(self, entry, key, scope):
        return self.find(self.value(entry, key, scope.names), scope, entry.pos[key])

    def find(self, ref, scope, pos):
        """Resolve a layer name: the innermost scope first, then outwards; 'input'
        is the enclosing block's input (the image at the top level)."""
        if ref == "input":
            return scope.input
        if not isinstance(ref, str):
            raise pos.error(f"a layer reference must be a name, not {ref!r}")
        prefix = scope.prefix
        while True:
            full = f"{prefix}/{ref}" if prefix else ref
            if full in self.index:
                return self.index[full]
            if not prefix:
                break
            prefix = prefix.rpartition("/")[0]
        raise pos.error(f"unknown layer {ref!r}: an input must name a layer defined before "
                        f"it (or 'input')")

    def value(self, entry, key, names):
        raw = entry[key]
        if not is_template(raw):
            return raw
        try:
            return substitute(raw, names)
        except ExprError as exc:
            raise entry.pos[key].error(str(exc)) from None


def _iteration_name(base, names, i):
    """``dws${i}`` is evaluated; a plain ``stage`` becomes stage1, stage2, ..."""
    return str(substitute(base, names)) if is_template(base) else f"{base}{i + 1}"


def _check_keys(entry, allowed, what, pos):
    for key in entry:
        if key not in allowed:
            raise entry.key_pos[key].error(f"unknown key {key!r} in {what}; known: "
                                           f"{', '.join(allowed)}")

