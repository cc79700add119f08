"""Step 2: a loaded YAML tree to a validated ``Spec`` (the language: docs/spec-language.md).

A ``Spec`` exists only validated: its constructor checks the whole document (top-level
keys, input, parameters, variants, width rule, defaults, blocks, every entry with
``entries.check_entries``, every expectation) and raises every problem found together.
What depends on values and shapes is checked as the graph is built (``build.graph``).
"""
import copy
import math
import re


from costcalc.core.errors import SpecError, SpecErrors, check_keys, did_you_mean, gather, show, unknown_keys
from costcalc.core.expr import ExprError, make_divisible, substitute
from costcalc.core.limits import LIMITS, quoted
from costcalc.core.yamlload import Map, check_data, load, load_file
from costcalc.lang.entries import check_entries, check_name, layer_list
from costcalc.lang.expectations import expectations

TOP_KEYS = ("name", "source", "description", "notes", "input", "padding", "params", "width",
            "defaults", "blocks", "layers", "variants", "expect")
PADDING_RULES = ("same", "explicit")   # TensorFlow's 'same' (today's default), PyTorch's 0
VARIANT_KEYS = ("set", "resolution", "doc")
WIDTH_RULES = ("floor", "make_divisible", "round", "exact", "none")
_ALPHA = re.compile(r"\balpha\b|\bch\s*\(")
class Param:
    """A spec-level parameter: a default, optional choices, optional doc."""

    __slots__ = ("name", "default", "choices", "doc", "pos")

    def __init__(self, name, default, choices, doc, pos):
        self.name, self.default, self.choices, self.doc, self.pos = name, default, choices, doc, pos


class Block:
    """A reusable group of layers with named arguments (None = required)."""

    __slots__ = ("name", "args", "layers", "pos", "in_pieces")

    def __init__(self, name, args, layers, pos, in_pieces=False):
        self.name, self.args, self.layers, self.pos = name, args, layers, pos
        self.in_pieces = in_pieces  # computed in pieces: only its output is materialised


class Variant:
    """A named setting of a family spec (a torchvision name): parameter values and an
    input side that replace the spec's defaults."""

    __slots__ = ("name", "overrides", "resolution", "doc", "pos")

    def __init__(self, name, overrides, resolution, doc, pos):
        self.name, self.overrides, self.resolution = name, overrides, resolution
        self.doc, self.pos = doc, pos

    def describe(self):
        """'depth=18, resolution 224'."""
        parts = [f"{k}={v}" for k, v in self.overrides.items()]
        if self.resolution is not None:
            parts.append(f"resolution {self.resolution}")
        return ", ".join(parts)


class WidthRule:
    """How the width multiplier turns ``c`` channels into an integer, with
    ``f = multiplier * alpha`` (``multiplier``: the family's own width, default 1):

    floor:          max(int(c * f), min)                   MobileNet (TF-slim)
    make_divisible: make_divisible(c * f, divisor)          MobileNetV2, V3, EfficientNet
    round:          max(floor(c * f + 0.5), min)            halves up (ShuffleNet)
    exact:          c * f must be a whole number
    none:           the family defines no width multiplier: alpha must be 1
    A factor of exactly 1 leaves every count unchanged.
    """

    def __init__(self, rule="floor", minimum=1, divisor=8, multiplier=1):
        self.rule, self.minimum, self.divisor = rule, minimum, divisor
        self.multiplier = multiplier   # a number or a ${...} of the parameters

    def apply(self, channels, multiplier):
        if multiplier == 1:
            return channels
        scaled = channels * multiplier
        if not (isinstance(scaled, (int, float)) and math.isfinite(scaled)
                and abs(scaled) <= LIMITS["number"]):
            raise ValueError(f"{show(channels)} channels x {show(multiplier)} is outside the "
                             f"limit of {quoted('number')} (docs/errors.md)")
        if self.rule == "floor":
            return max(int(scaled), self.minimum)
        if self.rule == "make_divisible":
            return make_divisible(scaled, self.divisor)
        if self.rule == "round":
            return max(math.floor(scaled + 0.5), self.minimum)
        if abs(scaled - round(scaled)) > 1e-9:
            raise ValueError(f"{channels} channels x {multiplier} = {scaled:g} is not a whole "
                             f"number (width rule 'exact')")
        return int(round(scaled))

    def text(self, multiplier=1):
        """The rule as the expression language writes it (``multiplier``: its value)."""
        if self.rule == "none":
            return "none (the family defines no width multiplier; alpha 1 only)"
        c = f"c * {multiplier:g} * alpha" if multiplier != 1 else "c * alpha"
        if self.rule == "make_divisible":
            return f"make_divisible({c}, {self.divisor})"
        if self.rule == "exact":
            return f"{c} (exact)"
        if self.rule == "round":
            return f"max(floor({c} + 0.5), {self.minimum})"
        return f"max(int({c}), {self.minimum})"


class Spec:
    """A validated spec; ``layers`` and block bodies stay as positioned YAML.

    ``Spec(path, tree, variant=None)`` is the one way to make one (``load_spec``,
    ``spec_from_text`` and ``lang.shipped`` call it): every problem of ``tree`` that does
    not depend on values or shapes is raised here, together (SpecErrors); ``variant``
    names a variant the spec declares, whose settings replace its defaults. Its
    ``expectations`` are the parsed ``expect`` entries (lang/expectations.py), for check."""

    def __init__(self, path, tree, variant=None):
        if not isinstance(tree, Map):
            pos = getattr(tree, "at", None)
            raise SpecError("a spec must be a mapping with name, input and layers", str(path),
                            pos.line if pos else 1, pos.col if pos else 1)
        self.path = str(path)
        self.tree = tree
        errors = unknown_keys(tree, TOP_KEYS, "the spec")
        self.name = gather(errors, _text, tree, "name", True)
        self.source = gather(errors, _text, tree, "source") or ""
        self.input = gather(errors, _input, tree)
        self.padding = gather(errors, _choice, tree, "padding", PADDING_RULES, "same")
        self.params = gather(errors, _params, tree)
        self.variants = gather(errors, _variants, tree, self.params) if self.params is not None \
            else {}
        self.variant = None   # the Variant this spec was loaded as, if any
        self.width = gather(errors, _width, tree)
        self.defaults = gather(errors, _defaults, tree)
        self.blocks = gather(errors, _blocks, tree, errors)
        # every block name declared, good or bad (None: 'blocks' is not a mapping), so that
        # a call to a block with its own error is not reported again as unknown
        self.block_names = None if self.blocks is None else list(tree.get("blocks", ()))
        self.blocks = self.blocks or {}
        self.layers = gather(errors, layer_list, tree, "layers", tree, True)
        self.expect = tree.get("expect", [])
        if not isinstance(self.expect, list):
            errors.append(tree.pos["expect"].error("expect must be a list of documented numbers"))
            self.expect = []
        if self.layers is not None:
            gather(errors, check_entries, self)
        if self.params is not None and self.variants is not None:
            self.expectations = gather(errors, expectations, self)   # parsed once, for check
        if errors:
            raise SpecErrors(errors)
        if variant is not None:
            self._take(self.variants[variant])

    def with_variant(self, name):
        """A copy of this (validated) spec whose parameter defaults and input side are
        variant ``name``'s, as ``Spec(path, tree, name)`` makes it."""
        spec = copy.copy(self)
        spec._take(self.variants[name])
        return spec

    def _take(self, variant):
        """Make ``variant``'s parameter values and input side this spec's defaults."""
        params = dict(self.params)
        for key, value in variant.overrides.items():
            old = params[key]
            params[key] = Param(key, value, old.choices, old.doc, variant.pos)
        self.params = params
        if variant.resolution is not None:
            self.input = (self.input[0], variant.resolution, variant.resolution)
        self.variant = variant

    def title(self, params):
        """The spec's name with its parameters substituted (``name: "ResNet-${depth}"``)."""
        try:
            return str(substitute(self.name, params))
        except ExprError as exc:
            raise self.tree.pos["name"].error(f"name: {exc}") from None

    def label(self, params):
        """'convnext_tiny (ConvNeXt-tiny)' for a variant, else the title."""
        title = self.title(params)
        return f"{self.variant.name} ({title})" if self.variant is not None else title

    def width_factor(self, params, alpha):
        """``f = multiplier * alpha``, the factor the width rule applies; alpha other than
        1 is refused when the family defines no width multiplier (rule 'none')."""
        if self.width.rule == "none":
            if alpha != 1:
                raise self.tree.key_pos["width"].error(
                    f"alpha {alpha:g} cannot apply: {self.label(params)} defines no width "
                    f"multiplier (width rule 'none'), so only alpha 1 is accepted")
            return 1
        multiplier = self.width.multiplier
        if isinstance(multiplier, str):
            pos = self.tree["width"].pos["multiplier"]
            try:
                multiplier = substitute(multiplier, params)
            except ExprError as exc:
                raise pos.error(f"width multiplier: {exc}") from None
            if not (isinstance(multiplier, (int, float)) and not isinstance(multiplier, bool)
                    and 0 < multiplier <= LIMITS["multiplier"]):
                raise pos.error(f"width multiplier must be a number in "
                                f"(0, {quoted('multiplier')}], not {show(multiplier)}")
        return multiplier * alpha if multiplier != 1 else alpha

    def mentions_alpha(self):
        """Whether any ${...} of the spec names alpha or calls ch()."""
        stack = [self.tree]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if "$" in item and _ALPHA.search(item):
                    return True
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return False

    def resolve_params(self, overrides=None, option="--set"):
        """Parameter values after overrides; later defaults may use earlier ones.

        ``overrides`` maps name -> text (parsed as a YAML scalar) or a value. A problem of an
        override is the option's (``option`` "--set": ``costcalc: error: --set
        classes=ten: ...``; "overrides": the library's argument), never a line of the spec:
        a name the spec does not declare, a value that is not data, one not among the
        parameter's choices, or of another kind than its written default (a number, text,
        true/false, a list, a mapping).
        """
        if overrides is not None and not isinstance(overrides, dict):
            raise SpecError(f"{option} must be a mapping of parameter name to value, not "
                            f"{show(overrides)}", "costcalc")
        overrides = dict(overrides or {})
        for name in overrides:
            if name not in self.params:
                declared = ", ".join(self.params) or "none"
                raise SpecError(f"{_label(option, name, overrides[name])}: the spec declares "
                                f"no parameter {show(name)}{did_you_mean(name, self.params)}; "
                                f"declared: {declared}", "costcalc")
        values = {}
        for name, param in self.params.items():
            if name in overrides:
                label = _label(option, name, overrides[name])
                check_data(overrides[name], label, "costcalc")
                value = _scalar(overrides[name], label)
                _check_override(param, value, label)
            else:
                try:
                    value = substitute(param.default, values)
                except ExprError as exc:
                    raise param.pos.error(f"parameter {name}: {exc}") from None
                if param.choices is not None and value not in param.choices:
                    raise param.pos.error(f"parameter {name} = {show(value)} is not one of "
                                          f"{', '.join(map(str, param.choices))}")
            values[name] = value
        return values


def _label(option, name, value):
    """How a message names one override: ``--set classes=ten`` or ``overrides['classes']``."""
    if option == "--set" and isinstance(value, str):
        return f"--set {name}={show(value)[1:-1]}"
    return f"{option}[{show(name)}] = {show(value)}"


_KINDS = ((bool, "true or false"), ((int, float), "a number"), (list, "a list"),
          (dict, "a mapping"))


def _check_override(param, value, label):
    """An override is one of the parameter's choices, or of its written default's kind
    (a number, true/false, a list, a mapping; a text default takes any value)."""
    if param.choices is not None:
        if value not in param.choices:
            raise SpecError(f"{label}: {show(value)} is not one of "
                            f"{', '.join(map(str, param.choices))}", "costcalc")
        return
    if isinstance(param.default, str):   # a template, or a word such as 'auto' beside numbers
        return
    for types, kind in _KINDS:
        if isinstance(param.default, types):
            if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
                raise SpecError(f"{label}: parameter {param.name} takes {kind} (its default "
                                f"is {show(param.default)}), not {show(value)}", "costcalc")
            return


def load_spec(path, variant=None):
    """Read, parse and validate the spec at ``path`` (as its ``variant``, if named)."""
    return Spec(path, load_file(path), variant)


def spec_from_text(text, label):
    """Parse and validate a spec held in a string (``label`` stands for its path)."""
    return Spec(label, load(text, label))


def _scalar(text, label):
    """An override's value: text read as a YAML value (8 is a number, true a boolean,
    [1, 2] a list) under the same rules and limits as a spec."""
    if not isinstance(text, str):
        return text
    try:
        return load(text, label) if text.strip() else text
    except SpecError as exc:
        raise SpecError(f"{label}: {exc.message}", "costcalc") from None


def _text(tree, key, required=False):
    if key not in tree:
        if required:
            raise tree.at.error(f"the spec needs a {key!r}")
        return ""
    if not isinstance(tree[key], str):
        raise tree.pos[key].error(f"{key} must be text")
    return tree[key]


def _choice(tree, key, valid, default):
    value = tree.get(key, default)
    if value not in valid:
        raise tree.pos[key].error(f"invalid {key} {show(value)}; valid: {', '.join(valid)}")
    return value


def _variants(tree, params):
    raw = tree.get("variants", Map())
    if not isinstance(raw, dict):
        raise tree.pos["variants"].error("variants must map a name to {set, resolution, doc}")
    variants = {}
    for name, body in raw.items():
        pos = raw.pos[name]
        if not (isinstance(name, str) and name.isidentifier()):
            raise raw.key_pos[name].error(f"variant name {show(name)} must be an identifier")
        if not isinstance(body, dict):
            raise pos.error(f"variant {name} must be a mapping with set, resolution, doc")
        check_keys(body, VARIANT_KEYS, f"variant {name}")
        overrides = body.get("set", Map())
        if not isinstance(overrides, dict):
            raise body.pos["set"].error("set must map parameter names to values")
        for key, value in overrides.items():
            if key not in params:
                raise overrides.key_pos[key].error(
                    f"variant {name}: the spec declares no parameter {show(key)}; declared: "
                    f"{', '.join(params) or 'none'}")
            choices = params[key].choices
            if choices is not None and value not in choices:
                raise overrides.pos[key].error(f"variant {name}: {key} = {show(value)} is not "
                                               f"one of {', '.join(map(str, choices))}")
        resolution = body.get("resolution")
        if resolution is not None and not (isinstance(resolution, int)
                                           and not isinstance(resolution, bool) and resolution > 0):
            raise body.pos["resolution"].error("resolution must be a positive integer")
        variants[name] = Variant(name, dict(overrides), resolution, _text(body, "doc"), pos)
    return variants


def _input(tree):
    if "input" not in tree:
        raise tree.at.error("the spec needs an 'input': [channels, height, width]")
    value = tree["input"]
    if not (isinstance(value, list) and len(value) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise tree.pos["input"].error(f"input must be [channels, height, width] of positive "
                                      f"integers, not {show(value)}")
    return tuple(value)


def _params(tree):
    raw = tree.get("params", Map())
    if not isinstance(raw, dict):
        raise tree.pos["params"].error("params must be a mapping of name: default")
    params = {}
    for name, value in raw.items():
        pos = raw.pos[name]
        check_name(name, raw.key_pos[name], "parameter")
        choices, doc = None, ""
        if isinstance(value, dict):
            unknown = set(value) - {"default", "choices", "doc"}
            if unknown or "default" not in value:
                raise pos.error(f"parameter {name}: a mapping needs 'default' and may have "
                                f"'choices' and 'doc' (got {', '.join(map(str, value))})")
            choices, doc, value = value.get("choices"), value.get("doc", ""), value["default"]
            if choices is not None and not isinstance(choices, list):
                raise pos.error(f"parameter {name}: choices must be a list")
            if not isinstance(doc, str):
                raise pos.error(f"parameter {name}: doc must be text")
        if value is None:
            raise pos.error(f"parameter {name}: a default must be a number, text, true/false, "
                            f"a list or a mapping")
        params[name] = Param(name, value, choices, doc, pos)
    return params


def _width(tree):
    raw = tree.get("width", Map())
    if not isinstance(raw, dict):
        raise tree.pos["width"].error("width must be a mapping: {rule, min, divisor, multiplier}")
    check_keys(raw, ("rule", "min", "divisor", "multiplier"), "width")
    rule = raw.get("rule", "floor")
    if rule not in WIDTH_RULES:
        raise raw.pos["rule"].error(f"invalid width rule {show(rule)}; valid: {', '.join(WIDTH_RULES)}")
    for key in ("min", "divisor"):
        if key in raw and not (isinstance(raw[key], int) and not isinstance(raw[key], bool)
                               and raw[key] > 0):
            raise raw.pos[key].error(f"width {key} must be a positive integer")
    multiplier = raw.get("multiplier", 1)
    if not (isinstance(multiplier, str) or isinstance(multiplier, (int, float))
            and not isinstance(multiplier, bool) and 0 < multiplier <= LIMITS["multiplier"]):
        raise raw.pos["multiplier"].error(f"width multiplier must be a number in "
                                          f"(0, {quoted('multiplier')}] or a ${{...}} of the "
                                          f"parameters, not {show(multiplier)}")
    if rule == "none" and len(raw) > 1:
        raise raw.key_pos[next(k for k in raw if k != "rule")].error(
            "width rule 'none' (no width multiplier) takes no min, divisor or multiplier")
    return WidthRule(rule, raw.get("min", 1), raw.get("divisor", 8), multiplier)


def _defaults(tree):
    from costcalc.layers import lookup  # the layer registry is the only judge of type names
    raw = tree.get("defaults", Map())
    if not isinstance(raw, dict):
        raise tree.pos["defaults"].error("defaults must map a layer type to {attribute: value}")
    defaults = {}
    for type_name, values in raw.items():
        layer_type = lookup(type_name, raw.key_pos[type_name])
        if not isinstance(values, dict):
            raise raw.pos[type_name].error(f"defaults for {type_name} must be a mapping")
        for key in values:
            if key not in layer_type.attrs and key != "torch_call":
                raise values.key_pos[key].error(
                    f"{type_name} has no attribute {show(key)}; known: "
                    f"{', '.join(layer_type.attrs) or 'none'}")
        defaults.setdefault(layer_type.name, Map()).update(values)
        defaults[layer_type.name].pos = values.pos
    return defaults


def _blocks(tree, errors):
    """The good blocks; every problem is added to ``errors``. A block with bad argument
    names is kept (so calls to it are not also reported); a block with another problem
    is left out, and calls to it are not checked (Spec.block_names)."""
    raw = tree.get("blocks", Map())
    if not isinstance(raw, dict):
        raise tree.pos["blocks"].error("blocks must map a block name to {args, layers}")
    blocks = {}
    for name, body in raw.items():
        gather(errors, _block, blocks, name, body, raw.pos[name], errors)
    return blocks


def _block(blocks, name, body, pos, errors):
    """Add block ``name`` to ``blocks``, or raise its first problem."""
    if not isinstance(body, dict):
        raise pos.error(f"block {name} must be a mapping with 'layers' (and 'args')")
    check_keys(body, ("args", "layers", "doc", "in_pieces"), f"block {name}")
    if not isinstance(body.get("in_pieces", False), bool):
        raise body.pos["in_pieces"].error("in_pieces must be true or false")
    args = body.get("args", Map())
    if isinstance(args, list):  # [a, b] is short for {a: null, b: null}
        for i, arg in enumerate(args):
            check_name(arg, args.pos[i], f"argument of block {name}:")
        args = Map({a: None for a in args})
    if not isinstance(args, dict):
        raise body.pos["args"].error(f"args of block {name} must map name to default "
                                     f"(null: required)")
    for arg in args:
        gather(errors, check_name, arg,
               args.key_pos[arg] if hasattr(args, "key_pos") else body.pos["args"],
               f"argument of block {name}:")
    blocks[name] = Block(name, dict(args), layer_list(body, "layers", body, True), pos,
                         body.get("in_pieces", False))
