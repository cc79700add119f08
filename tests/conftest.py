"""Shared test helpers: run the CLI in-process, compare with golden files."""
import io
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
SPECS = ROOT / "specs"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/* from the current output")


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli(monkeypatch):
    """run_cli("mobilenet", "--format", "json") -> Result(code, out, err), in-process,
    80 columns wide, no colour."""
    from costcalc.cli import main

    def run(*args, columns=80):
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def golden(request):
    """golden("name.txt", text): compare with tests/golden/name.txt (--update-golden
    rewrites it). Paths of the checkout are replaced by <ROOT> first."""
    update = request.config.getoption("--update-golden")

    def check(name, text):
        text = text.replace(str(ROOT), "<ROOT>")
        path = GOLDEN / name
        if update or not path.exists() and os.environ.get("COSTCALC_NEW_GOLDEN"):
            path.write_text(text)
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
        assert text == path.read_text(), f"output differs from {path}"

    return check


@pytest.fixture
def generated_section(request):
    """generated_section(path, begin, end, text): the part of ``path`` between the two
    marker lines must be ``text`` (``pytest --update-golden`` rewrites it)."""
    def check(path, begin, end, text):
        whole = path.read_text()
        assert begin in whole and end in whole, f"{path} lost its markers"
        head, _, rest = whole.partition(begin)
        fresh = head + begin + "\n\n" + text + "\n\n" + end + rest.partition(end)[2]
        if request.config.getoption("--update-golden"):
            path.write_text(fresh)
        assert whole == fresh, f"{path} is stale: pytest --update-golden"

    return check
