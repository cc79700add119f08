"""The entries of a spec (layers, block calls, repeats, groups): their keys and every
problem that does not depend on values, found once before anything is built."""
import keyword

from costcalc.core.errors import SpecError, SpecErrors, check_keys, did_you_mean, show
from costcalc.core.expr import FUNCTIONS, is_template, names_read
from costcalc.layers import check_attr, lookup

ENTRY_KEYS = ("type", "name", "input", "inputs", "stage", "when", "torch_call", "in_pieces")
# how a PyTorch model computes a layer: an nn.Module of the layer's own kind, a
# torch.nn.functional call, a Tensor method, or an nn.Linear on channels-last positions
TORCH_CALLS = ("module", "functional", "method", "linear")
CALL_KEYS = ("block", "name", "input", "stage", "when")
REPEAT_KEYS = ("repeat", "as", "name", "stage", "layers", "block", "input", "when")
GROUP_KEYS = ("layers", "name", "stage", "input", "when")
_INPUT_SHAPE = ("input_channels", "input_height", "input_width")
MULTIPLIERS = ("alpha", "rho", "resolution")   # names expressions can always use
# Names the language gives a meaning: a parameter, block argument or loop variable may
# not take one (it would be silently replaced by the built-in, or hide it).
RESERVED = MULTIPLIERS + (
    "ch", "input_channels", "input_height", "input_width", "in_channels", "in_height",
    "in_width", "block_name", "input") + tuple(FUNCTIONS)


def check_name(name, pos, what):
    """A parameter, argument or loop variable name: an identifier that is not reserved."""
    if not (isinstance(name, str) and name.isidentifier()) or keyword.iskeyword(name) \
            or name.startswith("_"):
        raise pos.error(f"{what} {show(name)} must be an identifier (letters, digits and _, "
                        f"not starting with _ or a digit, not a Python keyword)")
    if name in RESERVED:
        raise pos.error(f"{what} {name!r} is a name the language reserves "
                        f"(docs/spec-language.md, 'Names in scope')")


def layer_list(owner, key, where, required=False):
    """``owner[key]``, which must be a non-empty list of mappings (layer entries)."""
    if key not in owner:
        if required:
            raise where.at.error(f"{key!r} is missing: a list of layers is needed")
        return []
    value = owner[key]
    if not isinstance(value, list) or not value:
        raise owner.pos[key].error(f"{key} must be a non-empty list of layers")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise value.pos[i].error("each layer must be a mapping, such as {type: conv, ...}")
    return value


def kind_of(entry):
    """'repeat', 'layer', 'call' or 'group' of a mapping entry; None if it is none of them."""
    if "repeat" in entry:
        return "repeat"
    if "type" in entry:
        return "layer"
    if "block" in entry:
        return "call"
    if "layers" in entry:
        return "group"
    return None


def entry_kind(entry, pos):
    """'repeat', 'layer', 'call' or 'group'; an entry that is none of them is an error."""
    if not isinstance(entry, dict):
        raise pos.error("each layer must be a mapping, such as {type: conv, ...}")
    kind = kind_of(entry)
    if kind is not None:
        return kind
    keys = ", ".join(map(str, entry)) or "none"
    raise pos.error(f"a layer needs 'type' (or 'block' to call a block, 'repeat' to repeat "
                    f"layers, 'layers' to group them); this entry has: {show(keys)}")


def check_layer_keys(entry, layer_type):
    known = list(layer_type.attrs) + list(ENTRY_KEYS)
    for key in entry:
        if key not in known:
            raise entry.key_pos[key].error(
                f"unknown attribute {show(key)} for {layer_type.name}"
                f"{did_you_mean(key, known)}; its attributes: {', '.join(known)}")


def check_call_args(entry, block, skip):
    """The keys of a block call that are not entry keys must be the block's arguments. An
    argument given at the call may not read input_channels (..._height, ..._width): there
    it would be the caller's input, in the block's defaults it is the called block's."""
    for key in entry:
        if key in skip or key in CALL_KEYS:
            continue
        if key not in block.args:
            raise entry.key_pos[key].error(
                f"block {block.name} has no argument {show(key)}"
                f"{did_you_mean(key, block.args)}; its arguments: "
                f"{', '.join(block.args) or 'none'}")
        for name in sorted(names_read(entry[key]) & set(_INPUT_SHAPE)):
            raise entry.pos[key].error(
                f"{name} is ambiguous in a block call's argument: it would be the caller's "
                f"input, while in block {block.name}'s argument defaults it is the called "
                f"block's; write in_{name[6:]} for the input of this call")


def find_block(spec, name, pos):
    if not isinstance(name, str):
        raise pos.error(f"a block is named by text, not {show(name)}")
    block = spec.blocks.get(name)
    if block is None:
        names = spec.block_names or list(spec.blocks)
        raise pos.error(f"unknown block {show(name)}{did_you_mean(name, names)}; "
                        f"blocks: {', '.join(map(str, names)) or 'none are defined'}")
    return block


def check_entries(spec):
    """Every problem of the spec's entries that does not depend on values: raised together
    as SpecErrors (an empty spec of problems raises nothing)."""
    errors = []
    lists = [spec.layers] + [block.layers for block in spec.blocks.values()]
    while lists:
        entries = lists.pop()
        for i, entry in enumerate(entries):
            try:
                kind = entry_kind(entry, entries.pos[i])
            except SpecError as exc:
                errors.append(exc)
                continue
            for problem in _entry_problems(spec, entry, kind, entries.pos[i], lists):
                errors.append(problem)
    if errors:
        raise SpecErrors(errors)


def _entry_problems(spec, entry, kind, pos, lists):
    """The problems of one entry, each independent of the others; nested lists are queued."""
    checks = []
    if kind in ("repeat", "group") and "layers" in entry:
        checks.append(lambda: lists.append(layer_list(entry, "layers", entry, True)))
    if kind == "group" or (kind == "repeat" and "layers" in entry):
        checks.append(lambda: check_keys(entry, GROUP_KEYS if kind == "group" else REPEAT_KEYS,
                                         kind))
    if kind == "repeat" and ("layers" in entry) == ("block" in entry):
        checks.append(lambda: _raise(pos.error("repeat needs either 'layers' or 'block'")))
    if kind == "repeat" and "as" in entry:
        checks.append(lambda: check_name(entry["as"], entry.pos["as"], "the loop variable"))
    if kind == "layer" and not is_template(entry["type"]):
        def layer_checks():
            layer_type = lookup(entry["type"], entry.pos["type"])
            check_layer_keys(entry, layer_type)
            for key, (attr_kind, _) in layer_type.attrs.items():
                if key in entry and not _has_template(entry[key]):
                    try:
                        check_attr(attr_kind, entry[key], key)
                    except ValueError as exc:
                        raise entry.pos[key].error(f"{layer_type.name}: {exc}") from None
        checks.append(layer_checks)
    if kind in ("call", "repeat") and "block" in entry and not is_template(entry["block"]):
        def call_checks():
            name = entry["block"]
            if isinstance(name, str) and name not in spec.blocks and (
                    spec.block_names is None or name in spec.block_names):
                return   # the block's own problem is reported where it is defined
            block = find_block(spec, name, entry.pos["block"])
            check_call_args(entry, block, REPEAT_KEYS if kind == "repeat" else CALL_KEYS)
        checks.append(call_checks)
    if kind == "layer" and "name" in entry:
        checks.append(lambda: check_layer_name(entry["name"], entry.pos["name"]))
    for key in ("name", "stage"):
        if key in entry:
            checks.append(lambda key=key: check_text(entry[key], entry.pos[key], key))
    problems = []
    for check in checks:
        try:
            check()
        except SpecError as exc:
            problems.append(exc)
    return problems


def check_text(value, pos, what):
    """A name or stage is text: a string or a number (not true/false)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise pos.error(f"{what} must be text, not {show(value)}")


def check_layer_name(name, pos):
    """A layer may not be named 'input' (a reference to 'input' is the block's input)."""
    if name == "input":
        raise pos.error("'input' is reserved: it means the input of the enclosing block (the "
                        "image at the top)")


def _raise(error):
    raise error


def _has_template(value):
    return is_template(value) or (isinstance(value, list) and any(map(is_template, value)))


