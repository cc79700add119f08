"""Names, sources and notes from a spec are printed literally in every format: no rich
markup or emoji codes interpreted, pipes escaped in markdown, valid XML in JUnit."""
import json
import xml.etree.ElementTree as ET

import pytest

SPEC = """\
name: "Net [bold]x[/bold] :smile:"
source: "src [/x] <tag> & \\"q\\""
input: [3, 8, 8]
layers:
  - {type: conv, k: 3, out: 4, name: "a[b]c|d", stage: "[red]s"}
  - {type: conv, k: 1, out: 4, name: "[/x]"}
expect:
  - {metric: mult_adds, printed: "1", source: "<bad> & [/x]"}
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "markup.yaml"
    path.write_text(SPEC)
    return path


def test_table_prints_markup_literally(run_cli, spec):
    out = run_cli(spec).out
    assert "Net [bold]x[/bold] :smile:" in out
    assert "a[b]c|d" in out and "[/x]" in out
    assert "\x1b" not in out


def test_markdown_escapes_pipes(run_cli, spec):
    out = run_cli(spec, "--format", "markdown").out
    assert "| a\\[b\\]c\\|d | conv 3x3 |" in out   # brackets too: [b](url) would be a link


def test_json_keeps_the_text(run_cli, spec):
    report = json.loads(run_cli(spec, "--format", "json").out)
    assert report["name"] == "Net [bold]x[/bold] :smile:"
    assert report["source"] == 'src [/x] <tag> & "q"'
    assert [r["name"] for r in report["layers"]] == ["a[b]c|d", "[/x]"]


def test_junit_is_valid_xml_with_the_text(run_cli, spec):
    result = run_cli("check", spec, "--format", "junit")
    assert result.code == 1
    root = ET.fromstring(result.out)
    failure = root.find(".//failure")
    assert "<bad> & [/x]" in failure.get("message")


def test_compare_header_is_literal(run_cli, spec):
    out = run_cli("compare", spec, "mobilenet", columns=140).out
    assert "Net [bold]x[/bold] :smile:" in out
