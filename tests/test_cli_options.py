"""The command line's own surface: --help, shell completion, --color, and options that
cannot apply to the format at hand (docs/commands.md)."""
import inspect
import re

import pytest

from costcalc.cli import cli


def first_paragraph(command):
    return " ".join(inspect.cleandoc(command.callback.__doc__).split("\n\n")[0].split())


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_help_shows_every_command_description_whole(run_cli, columns):
    result = run_cli("--help", columns=columns)
    assert result.code == 0
    commands = result.out.split("Commands:\n")[1].split("\n\n")[0]
    flat = " ".join(commands.split())
    for name, command in cli.commands.items():
        assert f"{name} {first_paragraph(command)}" in flat, name
    assert "..." not in commands
    assert max(len(line) for line in result.out.splitlines()) <= max(columns, 60)


@pytest.mark.parametrize("columns", [60, 80])
def test_help_wraps_between_words_never_inside_a_hyphenated_word(run_cli, columns):
    out = run_cli("--help", columns=columns).out
    assert not re.search(r"\w-\n", out), "a line of the help ends inside a word"
    flat = " ".join(out.split())
    for param in cli.commands["report"].params:
        if getattr(param, "help", None):
            assert " ".join(param.help.split()) in flat, param.name
