"""Step 1: YAML text to plain values that remember where each value was written.

Mappings become ``Map`` (a dict) and sequences ``Seq`` (a list); both keep the
position of every child in ``.pos`` and their own in ``.at``. The values are built
from PyYAML's event stream by a loop (no recursion), so the declared limits
(``core.limits``, docs/errors.md) hold before anything large is built: file size,
nesting depth, the size of the tree with every alias expanded, the size of a
number. Scalars are resolved with PyYAML's safe rules; tags that would build
Python objects, merge keys, duplicate keys, non-finite numbers and control
characters in text are errors.
"""
import math
import os
import stat

import yaml

from costcalc.core.errors import Pos, SpecError, forbidden_character, show
from costcalc.core.limits import LIMITS, quoted

try:  # the C parser is several times faster; fall back to pure Python
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null")}
PROSE_KEYS = ("description", "notes", "note", "doc", "why")  # the values that may span lines


class Map(dict):
    """A YAML mapping: ``pos[key]`` is where the value is, ``key_pos[key]`` the key."""

    __slots__ = ("at", "pos", "key_pos")


class Seq(list):
    """A YAML sequence: ``pos[i]`` is where item i is."""

    __slots__ = ("at", "pos")


def _pos(path, mark):
    return Pos(path, mark.line + 1, mark.column + 1)


def _scalar(loader, event, path, prose=False):
    """The Python value of one scalar event (str, int, float, bool or None); text holds no
    character errors.forbidden_character refuses (line feeds only if ``prose``)."""
    tag, text = event.tag, event.value
    if tag is None or tag == "!":
        if event.style is None or event.style == "":  # plain: 8, true, null, conv
            tag = loader.resolve(yaml.ScalarNode, text, event.implicit)
        else:                                         # quoted or block: text
            tag = _STD + "str"
    if tag == _STD + "str" and text.isprintable():   # the common case, kept short
        return text
    here = _pos(path, event.start_mark)
    if tag == _STD + "timestamp":  # a date is just text in a spec
        return event.value
    if tag not in _SCALAR_TAGS:
        raise here.error(f"unsupported tag {show(tag)}")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        value = loader.yaml_constructors[tag](loader, node)
    except (ValueError, KeyError, TypeError, ArithmeticError, yaml.YAMLError):
        if tag == _STD + "int" and len(event.value) > 20:
            raise here.error(f"an integer of {len(event.value)} digits is outside the limit "
                             f"of {quoted('number')} (docs/errors.md)") from None
        raise here.error(f"{show(event.value)} is not a valid {tag[len(_STD):]}") from None
    if isinstance(value, str):
        bad = forbidden_character(value, prose)
        if bad:
            raise here.error(bad)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) > LIMITS["number"] or not math.isfinite(value):
            raise here.error(f"the number {show(value)} is outside the limit of "
                             f"{quoted('number')} (docs/errors.md)")
    return value


def load(text, path="<spec>", what="spec"):
    """Parse ``text`` (a ``what``: a spec, a hardware file) into Map/Seq/scalars; raise
    SpecError with a position."""
    loader = _Loader(text)
    try:
        return _compose(loader, path, what)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SpecError(f"invalid YAML: the character U+{exc.character:04X} is not allowed "
                        f"in YAML", path, line, col) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message, col = _syntax_message(exc.problem or exc.context, text, line, col)
        raise SpecError(f"invalid YAML: {message}", path, line, col) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", path, 1, 1) from None
    finally:
        loader.dispose()


_INDENTATION_PROBLEMS = ("did not find expected key", "did not find expected '-' indicator",
                         "mapping values are not allowed", "expected <block end>")


def _syntax_message(problem, text, line, col):
    """(message, column) for PyYAML's ``problem`` at ``line``: a tab used to indent is
    named as such; a line indented where no mapping or list can continue gets the
    indentations the lines above allow (those of the previous line and of each line it is
    nested in), at the line's first character."""
    lines = text.split("\n")
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in here[:len(here) - len(here.lstrip(" \t")) + 1] or (
            0 < col <= len(here) and here[col - 1] == "\t"):
        return "a tab character; indent with spaces (YAML does not allow tabs to indent)", \
            here.index("\t") + 1
    if not any(problem.startswith(p) for p in _INDENTATION_PROBLEMS):
        return problem, col
    indent = len(here) - len(here.lstrip(" "))
    allowed, deepest = [], None     # (indentation, line) of the lines this one may follow
    for number in range(line - 1, 0, -1):
        above = lines[number - 1]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        width = len(above) - len(above.lstrip(" "))
        if deepest is None or width < deepest:
            allowed.append((width, number))
            deepest = width
        if width == 0:
            break
    if not allowed or indent in (width for width, _ in allowed):
        return problem, col
    options = [f"{width} (as line {number})" for width, number in allowed]
    expected = options[0] if len(options) == 1 else \
        ", ".join(options[:-1]) + " or " + options[-1]
    return (f"bad indentation: this line is indented by {indent} "
            f"space{'' if indent == 1 else 's'}; the lines above allow {expected}"), indent + 1


def _compose(loader, path, what):
    """Build the single document's value from the event stream, with a stack."""
    anchors = {}           # anchor -> (value, expanded size)
    stack = []             # open collections: [value, pending key, key position, size, anchor]
    root, nodes, next_event = None, 0, loader.get_event
    next_event()           # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        raise SpecError(f"the {what} is empty", path, 1, 1)
    next_event()           # DocumentStart
    while True:
        event = next_event()
        kind = event.__class__
        if kind is _MAP_END or kind is _SEQ_END:
            value, _, _, size, anchor = stack.pop()
            if stack:  # the parent counted this collection as 1 when it opened
                stack[-1][3] += size - 1
            if anchor is not None:
                anchors[anchor] = (value, size)
            continue
        if kind is yaml.DocumentEndEvent:
            break
        mark = event.start_mark
        here = Pos(path, mark.line + 1, mark.column + 1)
        opened = False
        if kind is _SCALAR:
            top = stack[-1] if stack else None
            value = _scalar(loader, event, path, top is not None and top[1] in PROSE_KEYS
                            and top[0].__class__ is Map)
            size = 1
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise here.error(f"unknown or recursive alias *{event.anchor}")
            value, size = anchors[event.anchor]
        else:
            if event.tag not in (None, "!", _STD + "map", _STD + "seq"):
                raise here.error(f"unsupported tag {show(event.tag)}")
            if len(stack) >= LIMITS["depth"]:
                raise here.error(f"the YAML nests deeper than {quoted('depth')} levels "
                                 f"(docs/errors.md)")
            if kind is yaml.MappingStartEvent:
                value = Map()
                value.pos, value.key_pos = {}, {}
            else:
                value = Seq()
                value.pos = []
            value.at, size, opened = here, 1, True
        nodes += size
        if nodes > LIMITS["nodes"]:
            raise here.error(f"the YAML holds more than {quoted('nodes')} values with "
                             f"its aliases expanded (docs/errors.md)")
        if stack:
            _attach(stack[-1], value, size, here, event)
        else:
            root = value
        if opened:
            stack.append([value, _NO_KEY, None, 1, event.anchor])
    if not loader.check_event(yaml.StreamEndEvent):
        raise _pos(path, loader.peek_event().start_mark).error(
            f"a {what} is one YAML document; found a second one")
    return root


def _attach(parent, value, size, here, event):
    """Put ``value`` into the open collection ``parent`` (a stack entry), as an item,
    a key or a key's value."""
    container = parent[0]
    parent[3] += size
    if container.__class__ is Seq:
        container.append(value)
        container.pos.append(here)
    elif parent[1] is _NO_KEY:
        if value.__class__ is Map or value.__class__ is Seq or (
                event.__class__ is _SCALAR and event.tag is None
                and event.value == "<<" and event.implicit[0]):
            raise here.error("keys must be plain names")
        if value in container:
            first = container.key_pos[value]
            raise here.error(f"duplicate key {show(value)} (first at line {first.line})")
        parent[1], parent[2] = value, here
    else:
        key = parent[1]
        container[key] = value
        container.pos[key] = here
        container.key_pos[key] = parent[2]
        parent[1] = _NO_KEY


_SCALAR, _MAP_END, _SEQ_END = yaml.ScalarEvent, yaml.MappingEndEvent, yaml.SequenceEndEvent
_NO_KEY = object()


def check_data(tree, where, path):
    """Raise a SpecError (at ``path``, naming the place: ``spec['layers'][0]['k']``) unless
    ``tree`` is what YAML could have given: mappings with text keys, lists or tuples, text
    (without the characters errors.forbidden_character refuses), true/false, None and
    finite numbers within LIMITS['number'], nested at most LIMITS['depth'] deep (a dict that
    holds itself nests without end)."""
    stack, count = [(tree, where, 0)], 0
    while stack:
        value, where, depth = stack.pop()
        count += 1
        if depth > LIMITS["depth"] or count > LIMITS["nodes"]:
            raise SpecError(f"the value nests deeper than {quoted('depth')} levels or holds "
                            f"more than {quoted('nodes')} values (does it hold itself?)", path)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise SpecError(f"{where}: the key {show(key)} is not text", path)
                stack.append((key, f"{where}: the key {show(key)}", depth + 1))
                stack.append((item, f"{where}[{show(key)}]", depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            bad = forbidden_character(value)
            if bad:
                raise SpecError(f"{where}: {bad}", path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not abs(value) <= LIMITS["number"]:   # nan and inf included
                raise SpecError(f"{where}: the number {show(value)} is not finite or outside "
                                f"the limit of {quoted('number')} (docs/errors.md)", path)
        elif not (value is None or isinstance(value, bool)):
            raise SpecError(f"{where}: {type(value).__name__} is not a spec value (text, a "
                            f"number, true/false, null, a list or a mapping)", path)


def load_file(path, what="spec"):
    """Read and parse a spec (or other YAML) file; an unreadable, special or oversized file
    is a SpecError. ``-`` is standard input (read to its end, under the same size limit)."""
    path = str(path)
    try:
        fd = 0 if path == "-" else os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if fd and not stat.S_ISREG(info.st_mode):
                raise SpecError(f"cannot read {what}: not a regular file", path, 0, 0)
            if info.st_size > LIMITS["file_bytes"] and stat.S_ISREG(info.st_mode):
                raise _too_large(what, path)
            # a regular file holds its size; more (a /proc file reports 0) or less (a /sys
            # file reports 4096) is a special file: refused after reading at most one byte
            # more than the size it reports. Standard input is read to its end.
            size = info.st_size if fd else LIMITS["file_bytes"]
            raw, chunk = b"", b"."
            while chunk and len(raw) <= size:
                chunk = os.read(fd, size + 1 - len(raw))
                raw += chunk
            if fd and len(raw) != size:
                raise SpecError(f"cannot read {what}: not a regular file (its content is not "
                                f"the size it reports, as in /proc or /sys)", path, 0, 0)
        finally:
            if fd:
                os.close(fd)
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror or exc}", path, 0, 0) from None
    if len(raw) > LIMITS["file_bytes"]:
        raise _too_large(what, path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(f"the {what} is not UTF-8 text", path, line, col) from None
    return load(text, "<stdin>" if path == "-" else path, what)


def _too_large(what, path):
    return SpecError(f"the {what} is larger than the limit of "
                     f"{quoted('file_bytes')} (docs/errors.md)", path, 0, 0)
