"""What comes in: a command-line SPEC is a path or a shipped name (never YAML text), ``-``
is standard input; no text of a spec holds control, separator or bidi characters; YAML
syntax errors name tabs and indentation; ``${...}`` in text is substituted or refused;
every bad argument of the library is a SpecError with a stable message."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import costcalc
import costcalc.api
import costcalc.core.errors

ROOT = pathlib.Path(__file__).resolve().parent.parent
DECOY = "name: decoy\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, k: 1, out: 1}\n"
REAL = "name: real\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, k: 1, out: 4}\n"


@pytest.fixture
def decoy_named_file(tmp_path, monkeypatch):
    """A real spec whose file name is a decoy spec's YAML text."""
    monkeypatch.chdir(tmp_path)
    name = DECOY + ".yaml"
    (tmp_path / name).write_text(REAL)
    return name


def test_a_file_name_with_line_breaks_is_read_as_a_file(run_cli, decoy_named_file):
    report = json.loads(run_cli(decoy_named_file, "--format", "json").out)
    assert report["name"] == "real"
    assert report["totals"]["mult_adds"] == 8 * 8 * 3 * 4   # H * W * C_in * C_out, k = 1


def test_check_reads_the_file_not_its_name(run_cli, decoy_named_file):
    pathlib.Path(decoy_named_file).write_text(
        REAL + "expect:\n  - {metric: mult_adds, printed: '1', source: here}\n")
    result = run_cli("check", decoy_named_file)
    assert result.code == 1 and "768" in result.out.replace(",", "")


def test_yaml_text_on_the_command_line_is_not_a_spec(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(DECOY)
    assert result.code == 2 and "no spec file here" in result.err
    assert len(result.err.splitlines()) == 1


def test_the_library_still_takes_yaml_text_and_dicts():
    assert costcalc.analyze(REAL)["totals"]["mult_adds"] == 768
    assert costcalc.analyze({"name": "d", "input": [3, 8, 8],
                             "layers": [{"type": "conv", "k": 1, "out": 4}]})["name"] == "d"


def test_dash_reads_the_spec_from_standard_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "costcalc", "-", "--format", "json"],
                          input=REAL, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["mult_adds"] == 768
    proc = subprocess.run([sys.executable, "-m", "costcalc", "-"], input="name: [\n",
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.startswith("<stdin>:2:1: error: invalid YAML")


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b",
                                  "\u2028", "\u2029", "\u202e", "\u2066", "\ufffe", "\uffff"])
@pytest.mark.parametrize("where", ["name: 'N{c}'", "source: 'S{c}'", "notes: 'n{c}'",
                                   "layers: [{type: conv, k: 1, out: 4, name: 'a{c}'}]",
                                   "layers: [{type: conv, k: 1, out: 4, stage: 's{c}'}]",
                                   "params: {'p{c}': 1}",
                                   "variants: {'v{c}': {doc: x}}",
                                   "expect: [{metric: params, printed: '12', source: s, what: 'w{c}'}]",
                                   "expect: [{metric: params, printed: '12', source: 's{c}'}]",
                                   "expect: [{metric: params, printed: '12', source: s, why: 'w{c}'}]"])
def test_no_text_holds_a_control_or_bidi_character(char, where):
    """Through a JSON escape (dict) or a YAML escape, at the value's line."""
    top = {"name": "n", "input": [3, 8, 8], "layers": [{"type": "conv", "k": 1, "out": 4}]}
    line = where.replace("{c}", json.dumps(char)[1:-1])
    key = line.split(":", 1)[0]
    text = "\n".join(f"{k}: {json.dumps(v)}" for k, v in top.items() if k != key)
    yaml_text = text + "\n" + line.replace("'", '"') + "\n"
    prose = ("notes: " in line or "why:" in line) and char == "\n"
    if prose:  # a line feed is allowed in prose (block scalars write them)
        costcalc.analyze(yaml_text)
        return
    with pytest.raises(costcalc.core.errors.SpecError) as caught:
        costcalc.analyze(yaml_text)
    assert f"U+{ord(char):04X}" in str(caught.value)
    assert str(caught.value).startswith(f"<text>:{yaml_text.count(chr(10))}:")


def test_a_line_break_made_by_an_expression_is_refused():
    with pytest.raises(ValueError, match="U[+]000A"):
        costcalc.analyze("name: n\ninput: [3, 8, 8]\nlayers:\n"
                         "  - {type: relu, name: \"${'a' + '\\\\n'}\"}\n")


def test_a_tab_is_named_at_its_place(tmp_path):
    with pytest.raises(ValueError) as caught:
        costcalc.analyze("name: n\ninput: [3, 8, 8]\nlayers:\n\t- {type: relu}\n")
    assert str(caught.value) == ("<text>:4:1: error: invalid YAML: a tab character; indent "
                                 "with spaces (YAML does not allow tabs to indent)")


@pytest.mark.parametrize("text, expected", [
    ("name: n\ninput: [3, 8, 8]\nlayers:\n  - type: relu\n    name: a\n   when: true\n",
     "6:4: error: invalid YAML: bad indentation: this line is indented by 3 spaces; the lines "
     "above allow 4 (as line 5), 2 (as line 4) or 0 (as line 3)"),
    ("name: n\n input: [3, 8, 8]\n",
     "2:2: error: invalid YAML: bad indentation: this line is indented by 1 space; the lines "
     "above allow 0 (as line 1)"),
])
def test_bad_indentation_names_the_indentations_allowed(text, expected):
    with pytest.raises(ValueError) as caught:
        costcalc.analyze(text)
    assert str(caught.value) == "<text>:" + expected


def _names(text):
    spec = "name: n\nparams: {g: 3}\ninput: [3, 8, 8]\nlayers:\n" + text
    return [layer["name"] for layer in costcalc.analyze(spec)["layers"]]


def test_braces_inside_a_template_in_text_are_substituted():
    assert _names("  - {type: conv, k: 1, out: 4, name: \"c${ {3: 7}[g] }x\"}\n"
                  "  - {type: relu, name: \"r${'}'}${g}\"}\n"
                  "  - {type: relu, name: \"s$g-${g * 2}\"}\n") == ["c7x", "r}3", "s3-6"]


@pytest.mark.parametrize("name, message", [
    ("c${ {3: 7}[g] x", "bad expression after '${'"),
    ("c${1 + 2", "'${' without a closing '}'"),
    ("${g} ${", "'${' without a closing '}'"),
])
def test_a_template_no_brace_closes_is_refused_at_its_line(name, message):
    with pytest.raises(ValueError) as caught:
        _names(f"  - {{type: relu, name: \"{name}\"}}\n")
    assert str(caught.value).startswith("<text>:5:")
    assert message in str(caught.value)


# ------------------------------------------------------------- --set and library arguments

@pytest.mark.parametrize("args, expected", [
    (["--set", "classes=ten"], "costcalc: error: --set classes=ten: parameter classes takes "
                               "a number (its default is 1000), not 'ten'"),
    (["--set", "classes="], "costcalc: error: --set classes=: parameter classes takes a "
                            "number (its default is 1000), not ''"),
    (["--set", "classes=10", "--set", "classes=20"],
     "costcalc: error: Invalid value for '--set': classes is set twice (classes=10 and "
     "classes=20); give each parameter once"),
])
def test_set_problems_are_the_options_not_a_line_in_the_package(run_cli, args, expected):
    result = run_cli("mobilenet", *args)
    assert (result.code, result.out, result.err) == (2, "", expected + "\n")


def test_set_outside_the_choices_is_the_options_error(run_cli):
    result = run_cli("shufflenet", "--set", "groups=5")
    assert result.err == "costcalc: error: --set groups=5: 5 is not one of 1, 2, 3, 4, 8\n"


def _error(call):
    """The message of the SpecError ``call()`` raises (it must raise one)."""
    with pytest.raises(costcalc.core.errors.SpecError) as caught:
        call()
    return str(caught.value)


class Odd:
    """An object whose repr holds its address."""


def _self_holding():
    spec = {"name": "x", "input": [3, 8, 8], "layers": []}
    spec["layers"].append(spec)
    return spec


TINY = {"name": "t", "input": [3, 8, 8], "layers": [{"type": "conv", "k": 1, "out": 4}]}
ODD_VALUES = [b"mobilenet", bytearray(b"x"), None, 3, 2.5, True, Odd(), Odd, iter([1]),
              {1, 2}, frozenset(), object(), float("nan"), float("inf"), 10**400, ["mobilenet"],
              _self_holding(), {1: 2}, {("a", "b"): 1}, lambda: 0, range(3), complex(1, 2)]
ODD_SPECS = ODD_VALUES + [dict(TINY, name={1, 2}), dict(TINY, name=Odd()),
                          dict(TINY, input=[3, float("nan"), 8]),
                          dict(TINY, input=[3, 10**400, 8]),
                          dict(TINY, layers=[{"type": "conv", "k": 1, "out": 4, 5: 1}]),
                          dict(TINY, name="a\u202eb")]


def _calls():
    """Every public function, with each odd value in each argument."""
    api = costcalc.api
    for value in ODD_SPECS:
        shown = costcalc.core.errors.show(value)
        yield "analyze(spec)", shown, lambda v=value: costcalc.analyze(v)
        yield "api.analyze(spec)", shown, lambda v=value: api.analyze(v)
        yield "compare([spec])", shown, lambda v=value: costcalc.compare([v])
        yield "sweep(spec)", shown, lambda v=value: costcalc.sweep(v)
        yield "compare(specs)", shown, lambda v=value: api.compare(v)
    for value in ODD_VALUES:
        shown = costcalc.core.errors.show(value)
        for name in ("alpha", "rho", "resolution", "overrides", "convention", "flops",
                     "standard_conv", "explain", "hardware", "activation_bits", "weight_bits",
                     "density", "index_bits"):
            yield f"analyze({name}=)", shown, lambda v=value, n=name: costcalc.analyze(
                "mobilenet", **{n: v})
        yield "analyze(overrides={classes: })", shown, lambda v=value: costcalc.analyze(
            "mobilenet", overrides={"classes": v})
        for name in ("alphas", "rhos", "resolutions", "overrides", "convention"):
            yield f"sweep({name}=)", shown, lambda v=value, n=name: costcalc.sweep(
                "mobilenet", **{n: v})
        for name in ("alpha", "rho", "resolution", "overrides", "convention"):
            yield f"compare({name}=)", shown, lambda v=value, n=name: costcalc.compare(
                ["mobilenet"], **{n: v})
        yield "compare(overrides={classes: })", shown, lambda v=value: costcalc.compare(
            ["mobilenet"], overrides={"classes": v})
        yield "sweep(overrides={classes: })", shown, lambda v=value: costcalc.sweep(
            "mobilenet", overrides={"classes": v})
    for call in (lambda: costcalc.compare(["mobilenet"], overrides={"x": 1}),
                 lambda: costcalc.compare(["mobilenet@alpha=x"]),
                 lambda: costcalc.analyze("mobilenet", activation_bits=7),
                 lambda: costcalc.analyze("mobilenet", index_bits=3),
                 lambda: costcalc.analyze("mobilenet", explain=True, convention="torch")):
        yield "named arguments", "", call


ACCEPTED = {  # values that are a valid argument where they are given
    ("analyze(flops=)", "True"), ("analyze(activation_bits=)", "None"),
    ("analyze(weight_bits=)", "None"), ("analyze(density=)", "None"),
    ("analyze(index_bits=)", "None"), ("analyze(weight_bits=)", "3"),
    ("analyze(index_bits=)", "3"), ("analyze(weight_bits=)", "True"), ("analyze(standard_conv=)", "True"),
    ("analyze(explain=)", "True"), ("analyze(alpha=)", "2.5"), ("analyze(rho=)", "2.5"),
    ("analyze(alpha=)", "3"), ("analyze(rho=)", "3"), ("analyze(resolution=)", "3"),
    ("analyze(resolution=)", "None"), ("analyze(overrides=)", "None"),
    ("analyze(hardware=)", "None"), ("analyze(overrides={classes: })", "3"),
    ("analyze(overrides={classes: })", "2.5"), ("compare(overrides={classes: })", "3"),
    ("compare(overrides={classes: })", "2.5"), ("sweep(overrides={classes: })", "3"),
    ("sweep(overrides={classes: })", "2.5"), ("sweep(alphas=)", "range(0, 3)"),
    ("sweep(alphas=)", "None"), ("sweep(rhos=)", "None"), ("sweep(resolutions=)", "None"),
    ("sweep(overrides=)", "None"), ("compare(alpha=)", "2.5"), ("compare(rho=)", "2.5"),
    ("compare(alpha=)", "3"), ("compare(rho=)", "3"), ("compare(resolution=)", "3"),
    ("compare(resolution=)", "None"), ("compare(overrides=)", "None"),
    ("sweep(rhos=)", "range(0, 3)"), ("sweep(resolutions=)", "range(0, 3)"),
    ("compare(specs)", "['mobilenet']"),
}


@pytest.mark.parametrize("what, shown, call", list(_calls()),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_odd_argument_is_a_spec_error_with_a_stable_message(what, shown, call):
    """No TypeError, RecursionError, 'Circular reference detected' or internal error, and
    no object address in the message; the library speaks of its own arguments."""
    try:
        call()
    except costcalc.core.errors.SpecError as exc:
        message = str(exc)
        assert " at 0x" not in message and "0x7f" not in message, message
        assert not re.search(r"--[a-z]", message), message   # no command-line option
        assert message.splitlines()[0] == message.splitlines()[0].strip()
        return
    # a few odd values are valid arguments somewhere (a range of alphas, alpha=3)
    assert (what, shown) in ACCEPTED, (what, shown)
