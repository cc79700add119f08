"""The one error type a bad spec, option or value raises: it carries a position."""


class SpecError(Exception):
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
        if not self.line:  # no place in a file: a missing file or a bad option
            return f"{self.path}: error: {self.message}"
        return f"{self.path}:{self.line}:{self.col}: error: {self.message}"


class Pos:
    """A position in a spec file (1-based line and column)."""

    __slots__ = ("path", "line", "col")

    def __init__(self, path, line, col):
        self.path, self.line, self.col = path, line, col

    def error(self, message):
        return SpecError(message, self.path, self.line, self.col)

    def __repr__(self):
        return f"{self.path}:{self.line}:{self.col}"
