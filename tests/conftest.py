"""Shared test helpers: run the CLI in-process, compare with golden files; at the end of
the run, the tests skipped for a missing optional dependency and the command that installs it."""
import collections
import io
import os
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
SPECS = ROOT / "specs"


pytest_plugins = ("pytester",)

# The extra of pyproject.toml that installs each optional module the tests import.
INSTALLS = {"torch": "pip install '.[torch]'", "torchvision": "pip install '.[torch]'",
            "matplotlib": "pip install '.[plot]'", "pandas": "pip install '.[pandas]'",
            "hypothesis": "pip install '.[test]'", "junitparser": "pip install '.[test]'",
            "jsonschema": "pip install '.[test]'"}


def skipped_groups(reasons):
    """[(command or None, modules, count)] of skip reasons: the tests skipped by
    ``importorskip`` ("could not import 'torch': ...") grouped by the command that installs
    their module, and every other reason as it is."""
    groups = collections.defaultdict(lambda: [set(), 0])
    for reason in reasons:
        found = re.search(r"could not import '([\w.]+)'", reason)
        module = found.group(1).split(".")[0] if found else None
        key = INSTALLS.get(module, f"pip install {module}") if module else reason
        groups[key][0].add(module or reason)
        groups[key][1] += 1
    return [(key if key.startswith("pip ") else None, sorted(mods), n)
            for key, (mods, n) in groups.items()]


def pytest_terminal_summary(terminalreporter):
    """After the run: how many tests were skipped for which missing module, and how to
    install it, so that a partial run never looks like a whole one (README.md)."""
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reasons.append(longrepr[2] if isinstance(longrepr, tuple) else str(longrepr))
    groups = skipped_groups(reasons)
    if not groups:
        return
    terminalreporter.section("skipped: what they need")
    for command, what, count in groups:
        tests = f"{count} test{'s' * (count != 1)}"
        if command:
            terminalreporter.line(f"{tests} need{'s' * (count == 1)} {', '.join(what)} (not installed): {command}")
        else:
            terminalreporter.line(f"{tests}: {what[0].removeprefix('Skipped: ')}")


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
