"""Plain text tables that fit the terminal, shared by every ``--format table`` output.

The rules (docs/commands.md, "Tables"): one line per row; a number or a shape is never split;
a column marked ``elide`` (layer names) is shortened in the middle first
(``bottleneck17/…/project``), never two names alike (the segments in which they differ
stay, or every segment is shortened alike); then the columns with the lowest ``keep`` are dropped whole and
the caller says which; no trailing spaces; prose is wrapped at the width; escape codes
(bold headers, bold red failures, made by rich's ``Style``, imported only for a styled
table) as ``styled`` decides (``--color``, ``FORCE_COLOR``, ``NO_COLOR``, a terminal). A column marked ``wrap`` (check's descriptions) wraps between words instead, the
one exception to one line per row; a word longer than the room left breaks.
"""
import os
import shutil
import textwrap

from costcalc.core.text import visible

GAP = "  "
ELLIPSIS = "…"
RULE = "─"


def width():
    """The terminal's width: $COLUMNS, else the terminal's, else 80 (output to a file)."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


COLOR = "auto"   # the command line's --color: auto, always or never


def styled(out):
    """Whether ``out`` gets escape codes: ``--color always|never`` decides; under ``auto``,
    ``FORCE_COLOR`` not empty gives them (``0`` or ``false`` does not), else ``NO_COLOR`` not
    empty or ``TERM=dumb`` withholds them, else only a terminal gets them."""
    if COLOR != "auto":
        return COLOR == "always"
    force = os.environ.get("FORCE_COLOR", "")
    if force:
        return force.lower() not in ("0", "false")
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(out, "isatty", lambda: False)())


def bold(text, on, red=False):
    """``text`` bold (or bold red) if ``on``: ECMA-48 SGR codes, ESC [1m (ESC [1;31m) before
    it and ESC [0m after it, as rich's ``Style`` writes them."""
    if not on:
        return text
    start, end = _CODES.get(red) or _codes(red)
    return start + text + end


_CODES = {}   # red: (start, end)


def _codes(red):
    """(start, end) codes of bold, or bold red, from rich's Style (rich is imported here,
    once a table is styled: start-up stays free of it). A missing rich gives plain text."""
    try:
        from rich.color import ColorSystem
        from rich.style import Style
    except ImportError:   # a broken install: the table without colour
        _CODES[red] = "", ""
    else:
        style = Style(bold=True, color="red" if red else None)
        _CODES[red] = tuple(style.render("\0", color_system=ColorSystem.STANDARD).split("\0"))
    return _CODES[red]


def wrap(text, columns, indent="", break_words=False):
    """Prose wrapped between words at ``columns`` (a long word stays whole unless
    ``break_words``); control characters escaped (``visible``)."""
    return textwrap.wrap(visible(text), columns, subsequent_indent=indent,
                         break_long_words=break_words,
                         break_on_hyphens=False) or [""]


def elide(text, room):
    """``text`` in at most ``room`` characters, shortened in the middle: inner path
    segments give way, those without digits and the longest first, so that indices stay
    (``stage5/1/…/stochastic_depth``, ``bottleneck17/…/project``); else characters in the
    middle."""
    short = _drop_segments(text, room)
    return short if short is not None else _middle(text, room)


def _drop_segments(text, room, keep=()):
    """``text`` with inner path segments replaced by an ellipsis (elide's order) until it
    fits ``room``, or None if it cannot."""
    if len(text) <= room:
        return text
    parts = text.split("/")
    inner, gone = [k for k in range(1, len(parts) - 1) if k not in keep], set()
    while inner:
        j = max(inner, key=lambda k: (not any(c.isdigit() for c in parts[k]), len(parts[k]), k))
        inner.remove(j)
        gone.add(j)
        kept = [p if k not in gone else None for k, p in enumerate(parts)]
        short = "/".join(p if p is not None else ELLIPSIS for k, p in enumerate(kept)
                         if p is not None or kept[k - 1] is not None)
        if len(short) <= room:
            return short
    return None


def _middle(text, room):
    """``text`` in ``room`` characters: its head, an ellipsis, its tail."""
    if len(text) <= room:
        return text
    if room < 3:
        return text[:room]
    tail = (room - 1) // 2 + (room - 1) % 2
    return text[:room - 1 - tail] + ELLIPSIS + text[-tail:]


def _squeeze(text, room):
    """``text`` in ``room`` characters with every path segment kept, each longer one
    shortened in its middle to the same length (``stage_w…name1/bottleneck1/gho…and``);
    None if that cannot fit."""
    parts = text.split("/")
    for size in range(max(map(len, parts)) - 1, 2, -1):
        short = "/".join(_middle(p, size) for p in parts)
        if len(short) <= room:
            return short
    return None


def _window(text, room, at):
    """``text`` in ``room`` characters with its character ``at`` shown: its head, an
    ellipsis, a few characters around ``at``, an ellipsis and its tail."""
    tail = (room - 1) // 2 + (room - 1) % 2
    if len(text) <= room or at < room - 1 - tail or at >= len(text) - tail or room < 9:
        return _middle(text, room)
    head = (room - 5) // 2
    back = room - 5 - head
    return text[:head] + ELLIPSIS + text[at - 1:at + 2] + ELLIPSIS + text[len(text) - back:]


def _collisions(shorts):
    """{short: distinct texts} of the shortened texts that two or more texts share."""
    seen = {}
    for text, short in shorts.items():
        seen.setdefault(short, []).append(text)
    return {short: texts for short, texts in seen.items() if len(texts) > 1}


def elide_all(texts, room):
    """{text: shortened} of a column's cells, each in ``room`` characters and no two
    different texts shortened alike: colliding names keep the path segments in which they
    differ; where that does not fit, every segment, each shortened alike (``_squeeze``);
    else they show the first character in which they differ (``_window``)."""
    shorts = {text: elide(text, room) for text in dict.fromkeys(texts)}
    keeps = {}
    for _ in range(8):
        clashes = _collisions(shorts)
        if not clashes:
            return shorts
        for group in clashes.values():
            parts = [text.split("/") for text in group]
            differ = {k for k in range(1, max(map(len, parts)) - 1)
                      if len({p[k] if k < len(p) else None for p in parts}) > 1}
            for text in group:
                keeps[text] = keeps.get(text, set()) | differ
                shorts[text] = _drop_segments(text, room, keeps[text]) or shorts[text]
    for group in _collisions(shorts).values():
        for text in group:
            shorts[text] = _squeeze(text, room) or shorts[text]
    for _ in range(room):
        clashes = _collisions(shorts)
        if not clashes:
            break
        for group in clashes.values():
            at = next((k for k in range(min(map(len, group)))
                       if len({text[k] for text in group}) > 1), min(map(len, group)) - 1)
            for text in group:
                shorts[text] = _window(text, room, at)
    return shorts


def clip(text, room):
    """``text`` in at most ``room`` characters, cut at its end with an ellipsis (prose that
    must stay on one line: ``costcalc list``'s descriptions)."""
    text = visible(text)
    return text if len(text) <= room else text[:max(room - 1, 0)].rstrip() + ELLIPSIS


class Column:
    """A column: header (lines split at '\\n'), alignment, whether it may be elided or
    wrapped, and ``keep``: columns are dropped lowest first (None: never)."""

    def __init__(self, header, right=True, keep=None, elide=False, wrap=False, least=8):
        self.header, self.right, self.keep = header, right, keep
        self.elide, self.wrap, self.least = elide, wrap, least


def fit(columns, rows, room, gap=GAP):
    """(indices of the columns shown, their widths) for ``room`` characters."""
    natural = []
    for j, col in enumerate(columns):
        cells = [len(row[j]) for row in rows]
        natural.append(max([len(line) for line in col.header.split("\n")] + cells))
    shown = list(range(len(columns)))

    def least(j):
        col = columns[j]
        if col.wrap:
            return min(natural[j], max([col.least] + [len(w) for w in col.header.split("\n")]
                                       + [len(w) for row in rows for w in row[j].split()]))
        if col.elide:
            return min(natural[j], max(col.least, len(col.header)))
        return natural[j]

    def total(js, widths):
        return sum(widths[j] for j in js) + len(gap) * (len(js) - 1)

    while True:
        widths = {j: least(j) for j in shown}
        if total(shown, widths) <= room or all(columns[j].keep is None for j in shown):
            break
        shown.remove(min((j for j in shown if columns[j].keep is not None),
                         key=lambda j: (columns[j].keep, -j)))
    spare = room - total(shown, widths)
    for j in shown:  # still too wide: wrapped columns break their longest words
        if spare < 0 and columns[j].wrap:
            floor = max([columns[j].least] + [len(w) for w in columns[j].header.split("\n")])
            cut = max(0, min(widths[j] - floor, -spare))
            widths[j] -= cut
            spare += cut
    for j in shown:  # give the room back to the shrinkable columns, in order
        extra = min(natural[j] - widths[j], max(spare, 0))
        widths[j] += extra
        spare -= extra
    return shown, [widths[j] for j in shown]


def render(columns, rows, room, footer=None, style=False, marked=(), gap=GAP):
    """The table's lines and the headers of the columns dropped for lack of room.
    ``footer`` is one more row under a rule (totals); rows whose index is in ``marked``
    are drawn bold red where ``style`` allows. Every cell and header is shown with its
    control characters escaped (``visible``)."""
    columns = [Column("\n".join(map(visible, c.header.split("\n"))), c.right, c.keep,
                      c.elide, c.wrap, c.least) for c in columns]
    rows = [[visible(cell) for cell in row] for row in rows]
    footer = [visible(cell) for cell in footer] if footer else footer
    shown, widths = fit(columns, rows + ([footer] if footer else []), room, gap)
    dropped = [columns[j].header.replace("\n", " ") for j in range(len(columns))
               if j not in shown]
    cols = [columns[j] for j in shown]
    everything = rows + ([footer] if footer else [])
    short = {j: elide_all([row[j] for row in everything], w)
             for j, col, w in zip(shown, cols, widths) if col.elide}

    def line(cells):
        text = gap.join(c.rjust(w) if col.right else c.ljust(w)
                        for c, col, w in zip(cells, cols, widths))
        return text.rstrip()

    def lines(row):
        cells = []
        for j, col, w in zip(shown, cols, widths):
            cell = row[j]
            if col.wrap:
                cell = wrap(cell, w, break_words=True)
            else:
                cell = [short[j][cell] if col.elide else cell]
            cells.append(cell)
        height = max(len(c) for c in cells)
        return [line([c[k] if k < len(c) else "" for c in cells]) for k in range(height)]

    header = [col.header.split("\n") for col in cols]
    depth = max(len(h) for h in header)
    out = [bold(line([(h[k - depth + len(h)] if k >= depth - len(h) else "") for h in header]),
                style) for k in range(depth)]
    out.append(RULE * min(room, sum(widths) + len(gap) * (len(widths) - 1)))
    for i, row in enumerate(rows):
        red = i in marked
        out += [bold(text, style and red, red=True) for text in lines(row)]
    if footer:
        out.append(RULE * min(room, sum(widths) + len(gap) * (len(widths) - 1)))
        out += [bold(text, style) for text in lines(footer)]
    return out, dropped


def titled(columns, rows, room, title=None, footer=None, style=False, marked=(),
           shows="--format csv"):
    """The lines of a table as every command prints one: its title wrapped above it, then
    the table (``render``), then the note on the columns dropped for lack of room and what
    ``shows`` them (``dropped_note``)."""
    table, dropped = render(columns, rows, room, footer, style, marked)
    return (wrap(title, room) if title else []) + table + dropped_note(dropped, room, shows)


def dropped_note(dropped, room, shows="--format csv"):
    """One line (wrapped) naming the columns left out and what ``shows`` them, or nothing."""
    if not dropped:
        return []
    return wrap(f"Not shown at {room} columns: {', '.join(dropped)} (a wider terminal, "
                f"COLUMNS=N, or {shows} shows {'them' if len(dropped) > 1 else 'it'}).",
                room)
