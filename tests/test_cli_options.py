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


# ------------------------------------------------------------------ shell completion

def completions(args, incomplete):
    """What the shell is offered after ``costcalc ARGS INCOMPLETE`` (click's ShellComplete,
    as `_COSTCALC_COMPLETE=bash_complete` runs it): [(value, type)]."""
    from click.shell_completion import ShellComplete

    found = ShellComplete(cli, {}, "costcalc", "_COSTCALC_COMPLETE").get_completions(
        args, incomplete)
    return [(c.value, c.type) for c in found]


def listed_names():
    """The first word of each line of `costcalc list` (every name that works as SPEC)."""
    import subprocess
    import sys

    from conftest import ROOT
    out = subprocess.run([sys.executable, "-m", "costcalc", "list"], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={"COLUMNS": "200"}).stdout
    return {line.split()[0] for line in out.splitlines()}


def test_completion_of_the_first_word_offers_commands_and_every_listed_name():
    offered = {value for value, kind in completions([], "") if kind == "plain"}
    assert set(cli.commands) <= offered
    assert listed_names() <= offered
    assert ("", "file") in completions([], "")   # paths: the shell's own completion


def test_completion_of_a_partial_name():
    names = {v for v, kind in completions([], "mobilenet_v3") if kind == "plain"}
    assert names == {n for n in listed_names() if n.startswith("mobilenet_v3")}
    assert {"mobilenet_v3_large", "mobilenet_v3_small"} <= names
    assert {v for v, _ in completions(["compare"], "shufflenet_v2_x")} >= {
        "shufflenet_v2_x0_5", "shufflenet_v2_x2_0"}
    assert "squeezenet_v1_1" in {v for v, _ in completions(["check"], "squeezenet_")}
    assert "resnet50" in {v for v, _ in completions(["export"], "resnet5")}
    assert "resnet50" in {v for v, _ in completions(["sweep"], "resnet5")}


@pytest.mark.parametrize("args, incomplete, expected", [
    (["mobilenet"], "--al", {"--alpha", "--all-layers"}),
    ([], "--al", {"--alpha", "--all-layers"}),            # the report's options at the start
    (["report", "mobilenet"], "--dep", {"--depth"}),
    (["sweep", "mobilenet"], "--la", {"--layout"}),
    (["mobilenet", "--format"], "", {"table", "json", "csv", "markdown", "dot", "mermaid"}),
    (["mobilenet", "--convention"], "f", {"fvcore"}),
    (["mobilenet", "--by"], "", {"type", "stage", "resolution"}),
    (["sweep", "mobilenet", "--layout"], "", {"grid", "long"}),
])
def test_completion_of_options_and_their_values(args, incomplete, expected):
    assert {v for v, kind in completions(args, incomplete) if kind == "plain"} == expected


def test_completion_of_hardware_profiles():
    import yaml

    from conftest import ROOT
    profiles = set(yaml.safe_load(ROOT.joinpath("costcalc", "hardware.yaml").read_text()))
    offered = completions(["mobilenet", "--hardware"], "")
    assert {v for v, kind in offered if kind == "plain"} == profiles
    assert ("", "file") in offered


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_through_the_environment_variable(shell):
    """What the shell runs at each TAB: exit 0, the candidates, nothing on stderr (it ended
    in 'internal error ... Exit: 0')."""
    import os
    import subprocess
    import sys

    from conftest import ROOT
    run = dict(cwd=ROOT, capture_output=True, text=True)
    env = dict(os.environ, _COSTCALC_COMPLETE=f"{shell}_source")
    source = subprocess.run([sys.executable, "-m", "costcalc"], env=env, **run)
    assert source.returncode == 0 and source.stderr == ""
    assert "_COSTCALC_COMPLETE" in source.stdout
    env = dict(os.environ, _COSTCALC_COMPLETE=f"{shell}_complete", COMP_WORDS="costcalc mobil",
               COMP_CWORD="mobil" if shell == "fish" else "1")
    done = subprocess.run([sys.executable, "-m", "costcalc"], env=env, **run)
    assert done.returncode == 0 and done.stderr == ""
    assert "mobilenet_v2" in done.stdout and "check" not in done.stdout


def test_costcalc_alone_still_prints_the_help(run_cli):
    result = run_cli()
    assert result.code == 0 and result.out.startswith("Usage: costcalc SPEC [OPTIONS]")


# ------------------------------------------------------------------ colour

BOLD = "\x1b[1m"


@pytest.mark.parametrize("env, choice, terminal, coloured", [
    ({}, "auto", True, True),
    ({}, "auto", False, False),
    ({"NO_COLOR": "1"}, "auto", True, False),            # NO_COLOR wins over a terminal
    ({"TERM": "dumb"}, "auto", True, False),
    ({"FORCE_COLOR": "1"}, "auto", False, True),         # FORCE_COLOR forces it
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, "auto", False, True),
    ({"FORCE_COLOR": "0"}, "auto", True, False),
    ({"NO_COLOR": ""}, "auto", True, True),              # empty: as if unset
    ({"FORCE_COLOR": "1"}, "never", True, False),        # --color wins over both
    ({"NO_COLOR": "1"}, "always", False, True),
    ({}, "always", False, True),
    ({}, "never", True, False),
])
def test_the_colour_rule(monkeypatch, env, choice, terminal, coloured):
    import io

    from costcalc import textable

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(textable, "COLOR", choice)
    assert textable.styled(Terminal() if terminal else io.StringIO()) is coloured


@pytest.mark.parametrize("args", [["mobilenet"], ["compare", "mobilenet", "shufflenet"],
                                  ["sweep", "mobilenet", "--alpha", "1,0.5"],
                                  ["check", "mobilenet"]])
def test_color_option_of_every_table_command(run_cli, args):
    """run_cli sets NO_COLOR and writes to a StringIO: only --color always colours."""
    assert BOLD in run_cli(*args, "--color", "always").out
    assert BOLD not in run_cli(*args, "--color", "never").out
    assert BOLD not in run_cli(*args).out        # the choice does not outlive its run


def run_on_terminal(args, env):
    """costcalc ARGS with its standard output on a pseudo-terminal: what it wrote."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT
    leader, follower = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    with subprocess.Popen([sys.executable, "-m", "costcalc", *args], cwd=ROOT, stdout=follower,
                          stderr=subprocess.DEVNULL, env=dict(clean, COLUMNS="80", **env)) as p:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:   # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        p.wait()
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_real_terminal():
    assert BOLD in run_on_terminal(["mobilenet"], {})
    assert BOLD not in run_on_terminal(["mobilenet"], {"NO_COLOR": "1"})
    assert BOLD not in run_on_terminal(["mobilenet", "--color", "never"], {"FORCE_COLOR": "1"})


def test_force_color_through_a_pipe():
    import os
    import subprocess
    import sys

    from conftest import ROOT

    def piped(env, *extra):
        clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        return subprocess.run([sys.executable, "-m", "costcalc", "mobilenet", *extra], cwd=ROOT,
                              capture_output=True, text=True, env=dict(clean, **env)).stdout
    assert BOLD not in piped({})
    assert BOLD in piped({"FORCE_COLOR": "1"})
    assert BOLD in piped({"NO_COLOR": "1"}, "--color", "always")
