"""Step 1: YAML text to plain values that remember where each value was written.

Mappings become ``Map`` (a dict) and sequences ``Seq`` (a list); both keep the
position of every child in ``.pos`` and their own in ``.at``. Scalars are
resolved with PyYAML's safe rules. Tags that would build Python objects,
anchors' merge keys and duplicate keys are errors.
"""
import yaml

from .errors import Pos, SpecError

try:  # the C parser is several times faster; fall back to pure Python
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null")}


class Map(dict):
    """A YAML mapping: ``pos[key]`` is where the value is, ``key_pos[key]`` the key."""

    __slots__ = ("at", "pos", "key_pos")


class Seq(list):
    """A YAML sequence: ``pos[i]`` is where item i is."""

    __slots__ = ("at", "pos")


def _pos(path, node):
    return Pos(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node, path, constructor):
    if isinstance(node, yaml.MappingNode):
        if node.tag != _STD + "map":
            raise _pos(path, node).error(f"unsupported tag {node.tag!r}")
        out = Map()
        out.at, out.pos, out.key_pos = _pos(path, node), {}, {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _STD + "merge":
                raise _pos(path, key_node).error("keys must be plain names")
            key = _build(key_node, path, constructor)
            if key in out:
                first = out.key_pos[key]
                raise _pos(path, key_node).error(
                    f"duplicate key {key!r} (first at line {first.line})")
            out[key] = _build(value_node, path, constructor)
            out.pos[key] = _pos(path, value_node)
            out.key_pos[key] = _pos(path, key_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _STD + "seq":
            raise _pos(path, node).error(f"unsupported tag {node.tag!r}")
        out = Seq()
        out.at, out.pos = _pos(path, node), []
        for item in node.value:
            out.append(_build(item, path, constructor))
            out.pos.append(_pos(path, item))
        return out
    if node.tag == _STD + "timestamp":  # a date is just text in a spec
        return node.value
    if node.tag not in _SCALAR_TAGS:
        raise _pos(path, node).error(f"unsupported tag {node.tag!r}")
    return constructor.construct_object(node)


def load(text, path="<spec>"):
    """Parse ``text`` into Map/Seq/scalars; raise SpecError with a position."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SpecError("the spec is empty", path, 1, 1)
        return _build(root, path, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecError(f"invalid YAML: {exc.problem or exc.context}", path, line, col) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", path, 1, 1) from None
    finally:
        loader.dispose()


def load_file(path):
    """Read and parse a spec file; an unreadable file is a SpecError too."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec: {exc.strerror if isinstance(exc, OSError) else exc}",
                        str(path), 0, 0) from None
    return load(text, str(path))
