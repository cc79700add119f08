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

from costcalc import shipped

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
