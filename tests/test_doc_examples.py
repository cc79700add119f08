"""Every example output in README.md and docs/ is the program's (issue 11).

In a ```console (or ```text) block, a line `$ costcalc ARGS` followed by lines of output is run (in the
checkout, 80 columns, no colour) and its standard output and error must equal those lines.
A line starting with `...` stands for lines left out: the lines before it must be the
output's first lines and those after it must follow, together, somewhere after them. `pytest --update-golden` rewrites the
outputs (keeping as many first and last lines). Commands that write files (--plot, export)
are not run. Every relative link of those pages must point at a file of the repository.
"""
import pathlib
import re
import shlex

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
SKIP = ("--plot", "export")


def examples(text):
    """[(first line index, last line index + 1, args, output lines)] of a page."""
    lines = text.split("\n")
    found, in_console, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_console = not in_console and line.strip() in ("```console", "```text")
        elif in_console and line.startswith("$ costcalc"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("$ ", "```")):
                j += 1
            args = shlex.split(line[2:], comments=True)[1:]
            if j > i + 1 and not any(s in args for s in SKIP):
                found.append((i + 1, j, args, lines[i + 1:j]))
            i = j
            continue
        i += 1
    return found


def expected_matches(shown, actual):
    gap = [k for k, line in enumerate(shown) if line.strip().startswith("...")]
    if not gap:
        return shown == actual
    head, tail = shown[:gap[0]], shown[gap[0] + 1:]
    rest = actual[len(head):]
    return actual[:len(head)] == head and any(
        rest[k:k + len(tail)] == tail for k in range(len(rest) - len(tail) + 1))


def regenerated(shown, actual):
    gap = [k for k, line in enumerate(shown) if line.strip().startswith("...")]
    if not gap:
        return actual
    head, tail = gap[0], len(shown) - gap[0] - 1
    return actual[:head] + [shown[gap[0]]] + (actual[-tail:] if tail else [])


@pytest.mark.parametrize("page", PAGES)
def test_example_outputs_are_the_programs(page, run_cli, request, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = ROOT / page
    text = path.read_text()
    lines = text.split("\n")
    stale = []
    for start, end, args, shown in reversed(examples(text)):
        result = run_cli(*args)
        actual = (result.out + result.err).rstrip("\n").split("\n")
        if not expected_matches(shown, actual):
            stale.append(" ".join(args))
            lines[start:end] = regenerated(shown, actual)
    if stale and request.config.getoption("--update-golden"):
        path.write_text("\n".join(lines))
        stale = []
    assert not stale, f"{page}: stale example output of {stale}; pytest --update-golden"


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_point_at_files(page):
    path = ROOT / page
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (path.parent / target.split("#")[0]).exists(), f"{page}: {target}"
