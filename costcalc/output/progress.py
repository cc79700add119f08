"""A progress bar for long work, on stderr and only when stderr is a terminal (docs/commands.md).

The library never draws one: analysis calls a ``progress(done, total)`` callback if it is
given one, and the command line gives it a ``Bar``. rich draws it and is imported only when
a bar is drawn, so a short run starts as fast as before.
"""
import os
import sys


def drawable(stream):
    """Whether a bar may be drawn on ``stream``: a terminal, and not TERM=dumb (NO_COLOR
    leaves the bar, without colours: rich honours it)."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):   # no isatty, or closed
        return False


class Bar:
    """``progress(done, total)`` drawn as '<what> ━━━━ done/total <unit> time-left' on
    ``stream`` (stderr), started by the first call, erased when the ``with`` block ends; on
    anything but a terminal (a pipe, a file), or without rich, it does nothing."""

    def __init__(self, what, unit, stream=None):
        self.what, self.unit = what, unit
        self.stream = sys.stderr if stream is None else stream
        self.bar = self.task = None
        self.off = False

    def __call__(self, done, total):
        if self.off:
            return
        if self.bar is None:
            self.off = not drawable(self.stream) or not self._start(total)
            if self.off:
                return
        self.bar.update(self.task, completed=done, total=total, refresh=True)

    def _start(self, total):
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
                TimeRemainingColumn
        except ImportError:   # a broken install: the work is still done, without a bar
            return False
        # redrawn at each call, by no thread of its own, and sys.stdout and sys.stderr left
        # as they are: safe to fork under (the fuzzer's children), nothing else rerouted
        self.bar = Progress(TextColumn(self.what), BarColumn(), MofNCompleteColumn(),
                            TextColumn(self.unit), TimeRemainingColumn(),
                            console=Console(file=self.stream), transient=True,
                            auto_refresh=False, redirect_stdout=False, redirect_stderr=False)
        self.task = self.bar.add_task(self.what, total=total)
        self.bar.start()
        return True

    def __enter__(self):
        return self

    def __exit__(self, *_):
        if self.bar is not None:
            self.bar.stop()
