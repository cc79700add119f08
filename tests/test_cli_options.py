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


@pytest.mark.parametrize("columns", [60, 80, 140])
@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_help_is_whole_and_wraps_between_words(run_cli, columns, command):
    out = run_cli(command, "--help", columns=columns).out
    assert not re.search(r"\w-\n", out), "a line of the help ends inside a word"
    flat = " ".join(out.split())
    assert " ".join(inspect.cleandoc(cli.commands[command].callback.__doc__).split()) in flat
    for param in cli.commands[command].params:
        if getattr(param, "help", None):
            assert " ".join(param.help.split()) in flat, param.name
    assert max(len(line) for line in out.splitlines()) <= max(columns, 60)


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
    profiles = set(yaml.safe_load(ROOT.joinpath("costcalc", "analysis", "hardware.yaml").read_text()))
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

    from costcalc.output import textable

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


# ------------------------------------------------------------------ options that do not apply

# For each command, each option: a sample (its first word the option), and per format what it
# does there: "a" applies (the output changes), "n" a one-line note, the output unchanged (the
# format always shows what it asks for), "e" exit 2 naming the option and the format.
REPORT_FORMATS = ("table", "markdown", "json", "csv", "dot", "mermaid")
MATRIX = {
    "report": (["mobilenet"], REPORT_FORMATS, {
        "alpha": (["--alpha", "0.5"], "aaaaaa"),
        "rho": (["--rho", "0.5"], "aaaaaa"),
        "resolution": (["--resolution", "160"], "aaaaaa"),
        "sets": (["--set", "classes=10"], "aaaaaa"),
        "standard_conv": (["--standard-conv"], "aaaaaa"),
        "convention": (["--convention", "torch"], "aaaaaa"),
        "flops": (["--flops"], "aaaaee"),
        "explain": (["--explain"], "aaaaee"),
        "all_layers": (["--all-layers"], "aannnn"),
        "by": (["--by", "resolution"], "aaneee"),
        "depth": (["--depth", "1"], "aaeeee"),
        "compact": (["--compact"], "eeaeee"),
        "activation_bits": (["--activation-bits", "8"], "aaaaee"),   # csv: activation_bytes
        "weight_bits": (["--weight-bits", "8"], "aaaeee"),
        "density": (["--density", "0.5"], "aaaeee"),
        "index_bits": (["--index-bits", "4", "--density", "0.5"], "aaaeee"),
        "hardware": (["--hardware", "phone"], "aaaaee"),   # csv: the roofline fields
        "color": (["--color", "always"], "annnnn"),
    }),
    "compare": (["compare", "mobilenet", "shufflenet"], ("table", "json", "csv", "markdown"), {
        "alpha": (["--alpha", "0.5"], "aaaa"),
        "rho": (["--rho", "0.5"], "aaaa"),
        "resolution": (["--resolution", "160"], "aaaa"),
        "sets": (["--set", "classes=10"], "aaaa"),
        "convention": (["--convention", "torch"], "aaaa"),
        "sections": (["--by", "resolution"], "anaa"),
        "color": (["--color", "always"], "annn"),
    }),
    "sweep": (["sweep", "mobilenet"], ("table", "json", "csv", "markdown"), {
        "alphas": (["--alpha", "1,0.5"], "aaaa"),
        "rhos": (["--rho", "1,0.5"], "aaaa"),
        "resolutions": (["--resolution", "224,160"], "aaaa"),
        "sets": (["--set", "classes=10"], "aaaa"),
        "convention": (["--convention", "torch"], "aaaa"),
        "layout": (["--layout", "long"], "anna"),
        "plot_path": (["--plot", "PLOT"], "aaaa"),   # applies: writes the file
        "color": (["--color", "always"], "annn"),
    }),
    "check": (["check", "mobilenet"], ("table", "json", "junit", "github"), {
        "color": (["--color", "always"], "annn"),
    }),
}
CASES = [(command, name, fmt, sample, outcome[i])
         for command, (_, formats, options) in MATRIX.items()
         for name, (sample, outcome) in options.items()
         for i, fmt in enumerate(formats)]


@pytest.mark.parametrize("command", list(MATRIX))
def test_the_matrix_covers_every_option_and_format(command):
    import click

    base, formats, options = MATRIX[command]
    params = cli.commands[command].params
    fmt = next(p for p in params if p.name == "fmt")
    assert set(formats) == set(fmt.type.choices)
    assert set(options) == {p.name for p in params if isinstance(p, click.Option)
                            and p.name not in ("fmt", "help")}
    assert all(len(outcome) == len(formats) for _, outcome in options.values())


@pytest.mark.parametrize("command, name, fmt, sample, expected", CASES,
                         ids=[f"{c}-{n}-{f}" for c, n, f, _, _ in CASES])
def test_an_option_applies_or_says_why_not(run_cli, tmp_path, command, name, fmt, sample,
                                           expected):
    if name == "plot_path":
        pytest.importorskip("matplotlib")
    base = MATRIX[command][0] + ["--format", fmt]
    option = sample[0]
    sample = [str(tmp_path / "plot.png") if word == "PLOT" else word for word in sample]
    prerequisite = sample[2:]             # --index-bits needs a --density below 1
    before = run_cli(*base, *prerequisite)
    after = run_cli(*base, *sample)
    if expected == "e":
        assert (after.code, after.out) == (2, ""), after.err
        if before.code == 0:   # else the prerequisite is refused first, by the same rule
            assert after.err.startswith(f"costcalc: error: {option} does nothing with "
                                        f"--format {fmt}: it is for --format ")
        assert after.err.count("\n") == 1
        return
    assert before.code == after.code == 0, after.err
    if expected == "n":
        assert after.out == before.out
        assert after.err.startswith(f"costcalc: note: {option} does nothing with --format "
                                    f"{fmt}: ") and after.err.count("\n") == 1
    else:
        if name == "plot_path":
            assert after.err == f"costcalc: wrote {tmp_path / 'plot.png'}\n"
            assert (tmp_path / "plot.png").stat().st_size > 0
        else:
            assert after.err == ""
            assert after.out != before.out, f"{option} changed nothing in {fmt}"


@pytest.mark.parametrize("args", [
    ["mobilenet", "--rho", "0.5", "--resolution", "100"],
    ["compare", "mobilenet", "shufflenet", "--rho", "0.5", "--resolution", "100"],
    ["compare", "mobilenet@rho=0.5,resolution=100"],
    ["export", "mobilenet", "--rho", "0.5", "--resolution", "100", "--torch", "-"],
])
def test_rho_and_resolution_together_are_refused(run_cli, args):
    """--resolution silently won over --rho while the JSON still said rho 0.5."""
    result = run_cli(*args)
    assert (result.code, result.out) == (2, "")
    assert result.err == ("costcalc: error: rho 0.5 and resolution 100 both set the input "
                          "side (--rho, --resolution): give one of them\n")


def test_a_column_resolution_drops_the_global_rho(run_cli):
    import json

    out = run_cli("compare", "mobilenet@resolution=160", "mobilenet", "--rho", "0.714",
                  "--format", "json").out
    assert [(r["rho"], r["resolution"]) for r in json.loads(out)["reports"]] == [
        (1.0, 160), (0.714, round(224 * 0.714))]


def test_the_library_refuses_rho_with_resolution():
    import costcalc

    with pytest.raises(ValueError, match="both set the input side"):
        costcalc.analyze("mobilenet", rho=0.5, resolution=100)
