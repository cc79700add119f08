"""The one error type a bad spec, option or value raises: it carries a position."""


import re

from costcalc.core.text import visible

# What no name or text of a spec may hold (docs/errors.md): C0 controls (tab, line feed and
# carriage return included), DEL, C1 controls, the line and paragraph separators, the
# bidirectional embeddings, overrides and isolates (text shown in another order than it
# is stored), and the noncharacters U+FFFE and U+FFFF (invalid in XML).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                        "\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_FORBIDDEN_IN_PROSE = re.compile(_FORBIDDEN.pattern.replace("\x00-\x1f",
                                                            "\x00-\x09\x0b-\x1f"))


def forbidden_character(text, prose=False):
    """The message for the first character of ``text`` that no spec text may hold (a
    control, separator or bidi character, as ``_FORBIDDEN``), or None. ``prose`` (a
    description, notes, doc, why) may also hold line feeds."""
    bad = (_FORBIDDEN_IN_PROSE if prose else _FORBIDDEN).search(text)
    if bad is None:
        return None
    where = "" if prose or bad.group() != "\n" else " (a line break; only description, notes, " \
        "note, doc and why may hold several lines)"
    kind = "control character" if bad.group() < "\xa0" else "character"
    return f"text may not hold the {kind} U+{ord(bad.group()):04X}{where}"


def one_line(text):
    """``text`` with line breaks and every other character that is not printable (control
    and format characters: ESC, U+202E, U+FFFE...) shown as escapes: textable.visible, the
    one escaping of every output."""
    return visible(text)


class SpecError(ValueError):
    """A problem in user input, reported as ``PATH:LINE:COL: error: MESSAGE``.

    ``line`` and ``col`` are 1-based; 0 means "unknown" (for example a bad
    command-line option, which has no position in a file).
    """

    def __init__(self, message, path="<spec>", line=0, col=0):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def at(self, pos):
        """Return a copy placed at ``pos`` (a Pos), unless already placed."""
        if self.line or pos is None:
            return self
        return SpecError(self.message, pos.path, pos.line, pos.col)

    def __str__(self):
        path, message = one_line(self.path or "''"), one_line(self.message)
        if not self.line:  # no place in a file: a missing file or a bad option
            return f"{path}: error: {message}"
        return f"{path}:{self.line}:{self.col}: error: {message}"


def bad_value(where, message):
    """A bad value of the command line's argument or option ``where`` ('SPEC...', '--set'),
    worded as the command line words it: ``Invalid value for WHERE: MESSAGE``."""
    return SpecError(f"Invalid value for {where}: {message}", "costcalc")


class SpecErrors(SpecError):
    """Several independent problems of one input, one line each, sorted by position."""

    def __init__(self, errors):
        flat = []
        for error in errors:
            flat.extend(error.errors if isinstance(error, SpecErrors) else [error])
        unique = {(e.path, e.line, e.col, e.message): e for e in flat}
        self.errors = [unique[k] for k in sorted(unique, key=lambda k: (k[1], k[2], k[3]))]
        first = self.errors[0]
        super().__init__(first.message, first.path, first.line, first.col)

    def __str__(self):
        return "\n".join(SpecError.__str__(e) for e in self.errors)


SpecError.__module__ = "costcalc"   # its public name: costcalc.SpecError (docs/api.md)


def gather(errors, check, *args):
    """Run ``check(*args)``; a SpecError it raises joins ``errors`` instead. Returns the
    check's result, or None when it failed."""
    try:
        return check(*args)
    except SpecError as exc:
        errors.append(exc)
        return None


class Pos:
    """A position in a spec file (1-based line and column)."""

    __slots__ = ("path", "line", "col")

    def __init__(self, path, line, col):
        self.path, self.line, self.col = path, line, col

    def error(self, message):
        return SpecError(message, self.path, self.line, self.col)

    def __repr__(self):
        return f"{self.path}:{self.line}:{self.col}"


def did_you_mean(word, candidates):
    """" (did you mean 'conv'?)" for the nearest of ``candidates``, or ''.

    Near means difflib's similarity of at least 0.6, or one name being the start of the
    other ('convolution' / 'conv')."""
    import difflib

    if not isinstance(word, str) or not word:
        return ""
    candidates = [c for c in candidates if isinstance(c, str)]
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        close = [c for c in candidates if len(c) >= 3 and (word.startswith(c) or c.startswith(word))]
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_keys(mapping, allowed, what):
    """An error at each key of ``mapping`` (a yamlload Map) that is not in ``allowed``:
    "unknown key 'x' in WHAT (did you mean 'y'?); known: ..."."""
    return [mapping.key_pos[key].error(f"unknown key {show(key)} in {what}"
                                       f"{did_you_mean(key, allowed)}; known: "
                                       f"{', '.join(allowed)}")
            for key in mapping if key not in allowed]


def check_keys(mapping, allowed, what):
    """Raise the first of ``unknown_keys``."""
    for error in unknown_keys(mapping, allowed, what):
        raise error


def _quote_repr():
    import reprlib

    quoter = reprlib.Repr()
    quoter.maxstring, quoter.maxother, quoter.maxlevel = 60, 60, 3
    quoter.maxlist = quoter.maxtuple = quoter.maxdict = quoter.maxset = 6
    quoter.repr_int = lambda value, level: _int_text(value)
    return quoter


def _int_text(value):
    if value.bit_length() > 64:
        return f"<an integer of {len(str(value)) if value.bit_length() < 10000 else 'over 3000'} digits>"
    return repr(value)


_QUOTER = None


def show(value):
    """How a message quotes a value from the input: its repr, cut short (strings at 60
    characters, lists at 6 items, integers past 64 bits by their size), control
    characters escaped, and never an object's address."""
    global _QUOTER
    if callable(value):
        return "a function"
    if _QUOTER is None:
        _QUOTER = _quote_repr()
    return _ADDRESS.sub("", _QUOTER.repr(value))


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
