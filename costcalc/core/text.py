"""Text shown to a person: every character printable."""


def visible(text):
    """``text`` with each character that is not printable (a control or format character:
    CR, LF, ESC, U+202E...) written as Python writes it in a string, ``\\n``, ``\\r``,
    ``\\x1b``, ``\\u202e``, so that no row, cell or label is broken or rewritten by one."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)
