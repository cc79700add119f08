"""``costcalc check``: the documented numbers of the specs, recomputed (docs/check.md).

Passing on the shipped specs, failing (exit 1, the right expectation lines named)
when a spec's architecture or one of its documented numbers is changed, and the
output formats: table, json, junit (read back with a JUnit parser) and GitHub
workflow annotations. Also the pre-commit hook definition (docs/ci.md).
"""
import json
import pathlib
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
import yaml

from costcalc.lang import shipped

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
MOBILENET = ROOT / "specs" / "mobilenet.yaml"
TABLE3 = HERE / "specs" / "table3_layer.yaml"
ANNOTATION = re.compile(r"^::error file=([^,:]+),line=(\d+)::(.*)$")


def line_of(text, fragment, start=1):
    """1-based number of the first line at or after ``start`` containing ``fragment``."""
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start and fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the spec")


def edited_copy(tmp_path, source, old, new, name=None):
    """Copy ``source`` into tmp_path with the first ``old`` replaced by ``new``."""
    text = source.read_text()
    assert old in text, old
    path = tmp_path / (name or source.name)
    path.write_text(text.replace(old, new, 1))
    return path


def failing(result_json):
    return [r for r in json.loads(result_json)["results"] if not r["passed"]]


# ------------------------------------------------------------------ passing

def test_shipped_specs_pass(run_cli):
    result = run_cli("check")
    assert result.code == 0, result.out + result.err
    assert re.search(r"^\d+ passed, 0 failed", result.out, re.M)


@pytest.mark.parametrize("name", shipped.names())
def test_each_shipped_spec_passes(run_cli, name):
    result = run_cli("check", name, "--format", "json")
    assert result.code == 0, result.out + result.err
    results = json.loads(result.out)["results"]
    assert results, f"{name} documents no numbers"
    assert all(r["passed"] for r in results)


def test_spec_files_and_names_alike(run_cli):
    by_name = json.loads(run_cli("check", "mobilenet", "--format", "json").out)["results"]
    by_path = json.loads(run_cli("check", MOBILENET, "--format", "json").out)["results"]
    assert [r["computed"] for r in by_name] == [r["computed"] for r in by_path]


# ------------------------------------------------------------------ failing

def test_architecture_change_fails_at_the_affected_lines(run_cli, tmp_path):
    """separable1 to 80 channels instead of 64: the mult-add totals move by
    pw1 32*16*112^2 + dw2 3*3*16*56^2 + pw2 16*128*56^2 (formulas of Table 1's
    layers), far beyond half a million; the parameters by 32*16 + 3*3*16 + 16*128
    = 2,704, within the 4.2M's tolerance of 50,000."""
    spec = edited_copy(tmp_path, MOBILENET, "- {block: separable, out: 64}",
                       "- {block: separable, out: 80}")
    text = spec.read_text()
    original = {r["line"]: r for r in json.loads(
        run_cli("check", MOBILENET, "--format", "json").out)["results"]}
    result = run_cli("check", spec, "--format", "json")
    assert result.code == 1
    failures = {r["line"]: r for r in failing(result.out)}
    total_569 = line_of(text, "{metric: mult_adds, printed: 569M")
    params_42 = line_of(text, "{metric: params, printed: 4.2M")
    assert total_569 in failures and params_42 not in failures
    delta_mult_adds = 32 * 16 * 112 * 112 + 3 * 3 * 16 * 56 * 56 + 16 * 128 * 56 * 56
    assert failures[total_569]["computed"] - original[total_569]["computed"] == delta_mult_adds
    every = {r["line"]: r for r in json.loads(result.out)["results"]}
    assert every[params_42]["computed"] - original[params_42]["computed"] == \
        32 * 16 + 3 * 3 * 16 + 16 * 128
    # every reported line is the first line of an expectation in the file
    lines = text.splitlines()
    for number in failures:
        assert lines[number - 1].lstrip().startswith("- "), lines[number - 1]
    # the table names them too
    table = run_cli("check", spec)
    assert table.code == 1
    assert re.search(rf"^\W*{total_569}\W.*FAIL", table.out, re.M)


def test_changed_expectation_fails_alone(run_cli, tmp_path):
    spec = edited_copy(tmp_path, MOBILENET, "{metric: params, printed: 4.2M",
                       "{metric: params, printed: 4.3M")
    line = line_of(spec.read_text(), "{metric: params, printed: 4.3M")
    result = run_cli("check", spec, "--format", "github")
    assert result.code == 1
    annotations = [ANNOTATION.match(x) for x in result.out.splitlines() if x.startswith("::")]
    assert [(m.group(1), int(m.group(2))) for m in annotations] == [(str(spec), line)]
    assert "documented 4.3M" in annotations[0].group(3)
    assert re.match(r"\d+ passed, 1 failed", result.out.splitlines()[-1])


def test_misprint_needs_its_expected_value(run_cli, tmp_path):
    """Without 'expected' (and 'why') the misprinted 1.19% of Table 2 fails."""
    text = MOBILENET.read_text()
    start = line_of(text, "printed: 1.19%") - 2
    lines = text.splitlines(keepends=True)
    block = "".join(lines[start - 1:start + 9])
    assert "expected: 1.91%" in block
    stripped = re.sub(r"    expected: 1\.91%\n    why: >\n(      .*\n)+", "", block)
    spec = tmp_path / "mobilenet.yaml"
    spec.write_text(text.replace(block, stripped))
    result = run_cli("check", spec, "--format", "json")
    assert result.code == 1
    (failure,) = failing(result.out)
    assert failure["line"] == start and failure["printed"] == "1.19%"
    assert failure["computed"] == pytest.approx(3 * 3 * 3 * 32 * 112 * 112 / 568_740_352)


def test_expected_without_why_is_a_spec_error(run_cli, tmp_path):
    spec = edited_copy(tmp_path, TABLE3, "printed: 52.3M,", "printed: 52.3M, expected: 52.28M,")
    line = line_of(spec.read_text(), "expected: 52.28M")
    result = run_cli("check", spec)
    assert result.code == 2
    assert result.err.startswith(f"{spec}:{line}:") and "needs 'why'" in result.err
    assert "Traceback" not in result.err


def test_unknown_layer_in_of_is_a_spec_error(run_cli, tmp_path):
    spec = edited_copy(tmp_path, TABLE3, "of: stage layer, printed: 52.3M",
                       "of: layer nosuch, printed: 52.3M")
    result = run_cli("check", spec)
    assert result.code == 2 and "no layer 'nosuch'" in result.err


# ------------------------------------------------------------------ formats

@pytest.fixture
def edited_table3(tmp_path, monkeypatch):
    """A copy of the Table 3 spec with one documented number changed (52.3M -> 52.5M),
    run from its folder so that paths in the output are relative."""
    spec = edited_copy(tmp_path, TABLE3, "printed: 52.3M,", "printed: 52.5M,")
    monkeypatch.chdir(tmp_path)
    return spec.name, line_of(spec.read_text(), "printed: 52.5M")


def test_format_table(run_cli, golden, edited_table3):
    name, line = edited_table3
    result = run_cli("check", name)
    assert result.code == 1
    assert "7 passed, 1 failed" in result.out
    golden("check_table3_edited.txt", result.out)


def test_format_json(run_cli, golden, edited_table3):
    name, line = edited_table3
    result = run_cli("check", name, "--format", "json")
    assert result.code == 1
    results = json.loads(result.out)["results"]
    for r in results:  # the contract's keys
        assert {"spec", "what", "expected", "computed", "passed", "source"} <= set(r)
    (bad,) = [r for r in results if not r["passed"]]
    assert bad["line"] == line and bad["expected"] == 52.5e6
    assert bad["computed"] == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14
    golden("check_table3_edited.json", result.out)


def test_format_junit(run_cli, golden, edited_table3):
    name, line = edited_table3
    result = run_cli("check", name, "--format", "junit")
    assert result.code == 1
    root = ET.fromstring(result.out)
    assert root.tag == "testsuites" and root.get("tests") == "8" and root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == name and suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert len(cases) == 8
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("file"), c.get("line")) for c in failed] == [(name, str(line))]
    assert "documented 52.5M" in failed[0].find("failure").get("message")
    golden("check_table3_edited.xml", result.out)


def test_junit_reads_with_junitparser(run_cli, edited_table3):
    junitparser = pytest.importorskip("junitparser")
    name, line = edited_table3
    xml = junitparser.JUnitXml.fromstring(run_cli("check", name, "--format", "junit").out)
    suites = list(xml)
    assert len(suites) == 1 and suites[0].tests == 8 and suites[0].failures == 1
    outcomes = [[type(r).__name__ for r in case.result] for case in suites[0]]
    assert outcomes.count(["Failure"]) == 1 and outcomes.count([]) == 7


def test_format_github(run_cli, golden, edited_table3):
    name, line = edited_table3
    result = run_cli("check", name, "--format", "github")
    assert result.code == 1
    out = result.out.splitlines()
    assert ANNOTATION.match(out[0]).groups()[:2] == (name, str(line))
    assert out[-1] == "7 passed, 1 failed"
    golden("check_table3_edited.github.txt", result.out)


def test_github_escapes_percent_signs(run_cli, tmp_path):
    """'%' starts an escape in workflow commands: 94.86% must be written 94.86%25."""
    spec = edited_copy(tmp_path, MOBILENET, "printed: 94.86%", "printed: 94.96%")
    result = run_cli("check", spec, "--format", "github")
    (annotation,) = [x for x in result.out.splitlines() if x.startswith("::error")]
    message = ANNOTATION.match(annotation).group(3)
    assert "documented 94.96%25" in message
    assert not re.search(r"%(?!25|0A|0D)", message)


def test_github_paths_are_relative_to_the_checkout(run_cli, tmp_path, monkeypatch):
    folder = tmp_path / "specs"
    folder.mkdir()
    spec = edited_copy(folder, TABLE3, "printed: 52.3M,", "printed: 52.5M,")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", spec, "--format", "github")   # an absolute path given
    assert result.out.startswith("::error file=specs/table3_layer.yaml,line=")


def test_all_pass_formats(run_cli):
    """Nothing to annotate: github prints the summary only; junit has no failure."""
    github = run_cli("check", TABLE3, "--format", "github")
    assert github.code == 0 and github.out == "8 passed, 0 failed\n"
    junit = ET.fromstring(run_cli("check", TABLE3, "--format", "junit").out)
    assert junit.get("failures") == "0" and not junit.findall(".//failure")


# ------------------------------------------------------------------ pre-commit hook

def test_pre_commit_hook_definition():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "costcalc-check"
    assert hook["entry"] == "costcalc check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    for path in ("specs/mobilenet.yaml", "models/specs/mine.yml", "tests/specs/table3_layer.yaml"):
        assert files.search(path), path
    for path in (".pre-commit-config.yaml", ".github/workflows/ci.yml", "specs/README.md",
                 "configs/train.yaml"):
        assert not files.search(path), path


def test_hook_entry_runs_on_changed_files(run_cli, tmp_path):
    """pre-commit runs 'entry' with the changed files as arguments."""
    shutil.copy(TABLE3, tmp_path / "a.yaml")
    shutil.copy(MOBILENET, tmp_path / "b.yaml")
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    args = hook["entry"].split()[1:] + list(hook.get("args", [])) + \
        [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    result = run_cli(*args)
    assert result.code == 0, result.out + result.err


def test_a_folder_means_the_specs_in_it(run_cli):
    from conftest import SPECS

    by_folder = json.loads(run_cli("check", SPECS, "--format", "json").out)["results"]
    by_name = json.loads(run_cli("check", "--format", "json").out)["results"]
    assert len(by_folder) == len(by_name) > 100
    assert all(r["passed"] for r in by_folder)


# ------------------------------------------------------------------ every spec checked

BAD_LINE = "  - {type: conv, k: 3, out: 8, bogus: 1}\n"
MALFORMED = "name: x\ninput: [3, 8, 8]\nlayers:\n" + BAD_LINE   # 'bogus' at 4:32


@pytest.fixture
def mixed_folder(tmp_path, monkeypatch):
    """A folder of three specs: a_good (passes), b_bad (malformed: an unknown attribute at
    line 4, column 32) and c_fail (one documented number changed), run from its parent."""
    folder = tmp_path / "specs"
    folder.mkdir()
    shutil.copy(TABLE3, folder / "a_good.yaml")
    (folder / "b_bad.yaml").write_text(MALFORMED)
    edited_copy(folder, TABLE3, "printed: 52.3M,", "printed: 52.5M,", "c_fail.yaml")
    monkeypatch.chdir(tmp_path)
    fail_line = line_of((folder / "c_fail.yaml").read_text(), "printed: 52.5M")
    return "specs", 4, BAD_LINE.index("bogus") + 1, fail_line


def test_malformed_spec_is_a_junit_error_and_the_others_are_checked(run_cli, mixed_folder):
    folder, line, col, fail_line = mixed_folder
    result = run_cli("check", folder, "--format", "junit")
    assert result.code == 2
    root = ET.fromstring(result.out)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("17", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["specs/a_good.yaml", "specs/b_bad.yaml", "specs/c_fail.yaml"]
    (case,) = suites["specs/b_bad.yaml"].findall("testcase")
    error = case.find("error")
    assert (case.get("file"), case.get("line")) == ("specs/b_bad.yaml", str(line))
    assert "unknown attribute 'bogus'" in error.get("message")
    assert error.text.startswith(f"specs/b_bad.yaml:{line}:{col}: error: ")
    failed = [c for c in suites["specs/c_fail.yaml"].findall("testcase")
              if c.find("failure") is not None]
    assert [c.get("line") for c in failed] == [str(fail_line)]
    assert result.err == f"specs/b_bad.yaml:{line}:{col}: error: {error.get('message')}\n"


def test_malformed_spec_reads_as_a_junit_error(run_cli, mixed_folder):
    junitparser = pytest.importorskip("junitparser")
    xml = junitparser.JUnitXml.fromstring(run_cli("check", mixed_folder[0], "--format",
                                                  "junit").out)
    outcomes = sorted(type(r).__name__ for suite in xml for case in suite for r in case.result)
    assert outcomes == ["Error", "Failure"]


def test_malformed_spec_is_a_github_annotation_at_its_line(run_cli, mixed_folder):
    folder, line, col, fail_line = mixed_folder
    result = run_cli("check", folder, "--format", "github")
    assert result.code == 2
    out = result.out.splitlines()
    assert out[0].startswith(f"::error file=specs/b_bad.yaml,line={line},col={col}::unknown "
                             f"attribute 'bogus'")
    assert ANNOTATION.match(out[1]).groups()[:2] == ("specs/c_fail.yaml", str(fail_line))
    assert out[-1] == "15 passed, 1 failed, 1 spec not checked"


def test_malformed_spec_is_a_row_in_json_and_table(run_cli, mixed_folder):
    folder, line, col, fail_line = mixed_folder
    result = run_cli("check", folder, "--format", "json")
    assert result.code == 2
    rows = json.loads(result.out)["results"]
    assert all(set(r) == set(rows[0]) for r in rows)   # one set of keys
    (bad,) = [r for r in rows if r["error"]]
    assert (bad["path"], bad["line"], bad["col"], bad["passed"]) == \
        ("specs/b_bad.yaml", line, col, False)
    assert [r["line"] for r in rows if not r["passed"] and not r["error"]] == [fail_line]
    table = run_cli("check", folder)
    assert table.code == 2
    assert re.search(rf"^specs/b_bad\.yaml:{line}:{col}\s+unknown attribute 'bogus'",
                     table.out, re.M)
    assert re.search(rf"^\W*{fail_line}\W.*FAIL", table.out, re.M)
    assert table.out.splitlines()[-1] == "15 passed, 1 failed, 1 spec not checked"


def test_every_broken_file_is_reported(run_cli, tmp_path):
    for n in range(60):
        (tmp_path / f"s{n:02}.yaml").write_text("name: x\ninput: [3, 8, 8\n")
    result = run_cli("check", tmp_path, "--format", "github")
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines == [f"{tmp_path}/s{n:02}.yaml:3:1: error: invalid YAML: did not find "
                     f"expected ',' or ']'" for n in range(60)]
    assert result.out.splitlines()[-1] == "0 passed, 0 failed, 60 specs not checked"


def test_problems_per_file_are_capped(run_cli, tmp_path):
    """30 unknown attributes: the first LIMITS['errors_per_file'] (10), then one line for the rest."""
    spec = tmp_path / "many.yaml"
    spec.write_text("name: x\ninput: [3, 8, 8]\nlayers:\n" + "".join(
        f"  - {{type: conv, k: 3, out: 8, bogus{n}: 1}}\n" for n in range(30)))
    result = run_cli("check", spec)
    lines = result.err.splitlines()
    assert len(lines) == 11 and all("unknown attribute 'bogus" in x for x in lines[:10])
    assert lines[10] == f"{spec}: error: 20 more problems in this file (costcalc {spec} " \
                        f"reports them all)"
    assert result.code == 2


def test_link_loops_fifos_and_special_files_are_named(run_cli, tmp_path, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    os.symlink("loop.yaml", "loop.yaml")
    os.symlink("gone.yaml", "dangling.yaml")
    os.mkfifo("fifo.yaml")   # opened without blocking: no writer, no hang
    monkeypatch.setenv("COSTCALC_TEST_SECRET", "hunter2")
    os.symlink("/proc/self/environ", "environ.yaml")
    shutil.copy(TABLE3, "good.yaml")
    result = run_cli("check", ".", "/proc/self/environ")
    assert result.code == 2
    assert result.err.splitlines() == [
        "./dangling.yaml: error: cannot read spec: a symbolic link to a missing file "
        "('gone.yaml')",
        "./environ.yaml: error: cannot read spec: not a regular file (its content is not the "
        "size it reports, as in /proc or /sys)",
        "./fifo.yaml: error: cannot read spec: not a regular file",
        "./loop.yaml: error: cannot read spec: a symbolic link loop",
        "/proc/self/environ: error: cannot read spec: not a regular file (its content is not "
        "the size it reports, as in /proc or /sys)"]
    assert "hunter2" not in result.out + result.err and "did you mean" not in result.err
    assert "8 passed, 0 failed, 5 specs not checked" in result.out


def test_special_files_are_refused_as_hardware_profiles(run_cli, tmp_path):
    import os

    profile = tmp_path / "environ.yaml"
    os.symlink("/proc/self/environ", profile)
    result = run_cli("mobilenet", "--hardware", profile)
    assert result.code == 2
    assert result.err == f"{profile}: error: cannot read hardware file: not a regular file " \
                         f"(its content is not the size it reports, as in /proc or /sys)\n"


@pytest.mark.parametrize("fmt", ["table", "github", "junit", "json"])
def test_control_characters_in_file_names_are_escaped(run_cli, tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    edited_copy(tmp_path, TABLE3, "printed: 52.3M,", "printed: 52.5M,", "a\x1b[2Jb\x9bc.yaml")
    (tmp_path / "d\x1b]0;title\x07e.yaml").write_text(MALFORMED)
    result = run_cli("check", ".", "--format", fmt)
    assert result.code == 2
    for text in (result.out, result.err):
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
    assert r"a\x1b[2Jb\x9bc.yaml" in result.out.replace("\\\\", "\\") or fmt == "json"
    if fmt == "junit":
        ET.fromstring(result.out)
    if fmt == "json":   # JSON's own escapes give back the real name
        assert {r["path"] for r in json.loads(result.out)["results"]} == \
            {"./a\x1b[2Jb\x9bc.yaml", "./d\x1b]0;title\x07e.yaml"}


@pytest.mark.parametrize("fmt", ["table", "github", "junit", "json"])
def test_a_spec_without_expectations_is_not_a_pass(run_cli, tmp_path, fmt):
    spec = tmp_path / "none.yaml"
    spec.write_text("name: x\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, k: 3, out: 8}\n")
    result = run_cli("check", spec, "--format", fmt)
    assert result.code == 2
    assert result.err == f"{spec}:1:1: error: nothing to check: the spec has no 'expect' " \
                         f"entries (docs/check.md)\n"
    assert "nothing to check" in result.out
    empty = tmp_path / "empty.yaml"
    empty.write_text(spec.read_text() + "expect: []\n")
    assert run_cli("check", empty, "--format", fmt).err.startswith(f"{empty}:5:1: error: "
                                                                     f"nothing to check")


def test_an_expectation_that_cannot_be_computed_leaves_the_others_checked(run_cli, tmp_path):
    spec = edited_copy(tmp_path, TABLE3, "of: stage layer, printed: 52.3M",
                       "of: layer nosuch, printed: 52.3M")
    line = line_of(spec.read_text(), "of: layer nosuch")
    result = run_cli("check", spec, "--format", "json")
    assert result.code == 2
    rows = json.loads(result.out)["results"]
    (bad,) = [r for r in rows if r["error"]]
    assert bad["line"] == line and bad["error"].startswith("no layer 'nosuch'")
    assert len(rows) == 8 and sum(r["passed"] for r in rows) == 7
    assert run_cli("check", spec).out.splitlines()[-1] == \
        "7 passed, 0 failed, 1 expectation not checked"


def test_junit_holds_characters_xml_forbids(run_cli, tmp_path, monkeypatch):
    """U+FFFE and U+FFFF cannot be in an XML document. A file name may hold them, and a
    spec may write them as YAML escapes (refused at their line: a problem row): the JUnit
    file writes them as escapes and parses."""
    monkeypatch.chdir(tmp_path)
    edited_copy(tmp_path, TABLE3, "printed: 52.3M,", "printed: 52.5M,", "a\ufffeb\uffff.yaml")
    (tmp_path / "escaped.yaml").write_text(
        'name: "n\\uFFFF"\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, k: 3, out: 8}\n'
        'expect:\n  - {metric: params, printed: "216", source: "a\\uFFFE"}\n')
    result = run_cli("check", ".", "--format", "junit")
    assert result.code == 2
    root = ET.fromstring(result.out)
    names = sorted(s.get("name") for s in root.findall("testsuite"))
    assert names == ["./a\\ufffeb\\uffff.yaml", "./escaped.yaml"]
    assert root.get("failures") == "1" and root.get("errors") == "1"
    junitparser = pytest.importorskip("junitparser")
    suites = list(junitparser.JUnitXml.fromstring(result.out))
    assert sorted((s.failures, s.errors) for s in suites) == [(0, 1), (1, 0)]


@pytest.mark.parametrize("columns", [60, 80, 140])
def test_check_tables_fit_the_width(run_cli, mixed_folder, columns):
    from costcalc.cli import cli

    for args in (["mobilenet", "mobilenet_v2", "resnet"], [mixed_folder[0]]):
        out = run_cli("check", *args, columns=columns).out
        assert max(len(line) for line in out.splitlines()) <= columns, out
        formats = cli.commands["check"].params[1].type.choices
        for suggested in re.findall(r"--format\s+(\w+)", out):
            assert suggested in formats


def test_a_problem_is_written_once_when_stdout_and_stderr_are_one_file(tmp_path):
    """`costcalc check > log 2>&1` (and a terminal): the table's problem row, not a second
    copy on stderr; to separate files (a pipe and a log) both."""
    import os
    import subprocess
    import sys

    spec = tmp_path / "bad.yaml"
    spec.write_text(MALFORMED)
    log = tmp_path / "log"
    env = dict(os.environ, COLUMNS="300")
    with open(log, "w") as both:
        code = subprocess.run([sys.executable, "-m", "costcalc", "check", str(spec)], cwd=ROOT,
                              stdout=both, stderr=both, env=env).returncode
    assert code == 2 and log.read_text().count("unknown attribute 'bogus'") == 1
    apart = subprocess.run([sys.executable, "-m", "costcalc", "check", str(spec)], cwd=ROOT,
                           capture_output=True, text=True, env=env)
    assert "unknown attribute 'bogus'" in apart.stdout
    assert apart.stderr.startswith(f"{spec}:4:32: error: unknown attribute 'bogus'")


def test_no_spec_files_names_each_folder_as_a_path_or_in_the_message(run_cli, tmp_path):
    """An empty folder is the PATH of its error line; two of them are named in the message
    of a costcalc: line (it wrote 'a b: error: ...', a path that does not exist)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    one = run_cli("check", empty)
    assert one.code == 2
    assert one.err == f"{empty}: error: no spec files (*.yaml, *.yml) to check\n"
    two = run_cli("check", empty, empty)
    assert two.code == 2
    assert two.err == (f"costcalc: error: no spec files (*.yaml, *.yml) to check in "
                       f"{empty}, {empty}\n")


CHECK_CODE = """
import sys
import costcalc.analysis.check as check
check.PROGRESS_FROM = {start}
from costcalc.cli import main
try:
    main(["check", "mobilenet", "shufflenet", "--format", "json"])
except SystemExit:
    pass
print("rich.progress" in sys.modules)
"""


def test_a_check_of_many_specs_shows_progress_on_a_terminal_only():
    """stderr a terminal (a pty) and 2 spec files at PROGRESS_FROM 1: a bar 'check ... 2/2
    specs' on stderr, erased, and stdout the JSON alone; NO_COLOR: the same bar without
    colours. Piped, with TERM=dumb, or fewer files than PROGRESS_FROM: no bar, and
    rich.progress never imported."""
    from terminal_support import on_a_terminal, piped

    shown, drawn = on_a_terminal(CHECK_CODE.format(start=1))
    out = shown.stdout.decode()
    assert out.endswith("}\nTrue\n") and json.loads(out[:-len("True\n")])["results"], out
    assert b"check" in drawn and b"2/2" in drawn and b"specs" in drawn, drawn
    assert b"\x1b[2K" in drawn and b"\x1b[32m" in drawn   # erased; coloured
    plain, drawn = on_a_terminal(CHECK_CODE.format(start=1), NO_COLOR="1")
    assert b"2/2 specs" in drawn and b"\x1b[32m" not in drawn and b"\x1b[3" not in drawn
    for quiet, drawn in ((piped(CHECK_CODE.format(start=1)), b""),
                         on_a_terminal(CHECK_CODE.format(start=1), TERM="dumb"),
                         on_a_terminal(CHECK_CODE.format(start=10**9))):
        assert quiet.stdout.decode() == out.replace("True\n", "False\n")
        assert drawn == b"" and not quiet.stderr
