"""A partial run says so: the tests skipped for a missing optional module are listed at the
end of the run with the command that installs it (tests/conftest.py, README.md)."""
import pathlib

CONFTEST = pathlib.Path(__file__).with_name("conftest.py")


def test_skipped_groups_are_listed_with_their_install_command(pytester):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_inner="""
        import pytest

        @pytest.mark.parametrize("n", range(3))
        def test_torch(n):
            pytest.skip("could not import 'torch': No module named 'torch'")

        def test_vision():
            pytest.skip("could not import 'torchvision.models.regnet': No module named "
                        "'torchvision'")

        def test_plot():
            pytest.skip("could not import 'matplotlib': No module named 'matplotlib'")

        def test_fork():
            pytest.skip("the fuzz harness needs os.fork")

        def test_runs():
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=6)
    out = result.stdout.str()
    assert "skipped: what they need" in out
    assert "4 tests need torch, torchvision (not installed): pip install '.[torch]'" in out
    assert "1 test needs matplotlib (not installed): pip install '.[plot]'" in out
    assert "1 test: the fuzz harness needs os.fork" in out


def test_a_whole_run_prints_no_skip_section(pytester):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_inner="def test_runs():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "skipped: what they need" not in result.stdout.str()


ROOT = CONFTEST.parent.parent


def test_virtual_environments_are_ignored_by_git():
    ignored = ROOT.joinpath(".gitignore").read_text().split()
    assert ".venv/" in ignored and ".ci-venv/" in ignored


def test_readme_says_what_its_test_command_skips_and_what_ci_adds():
    """Every extra CI installs beyond '.[test]' is named in the README beside its test
    command, and every module the skip summary knows maps to a declared extra."""
    import re

    readme = ROOT.joinpath("README.md").read_text()
    ci = ROOT.joinpath(".ci", "run").read_text()
    extras = set(re.findall(r"'\.\[(\w+)\]'", ci)) - {"test"}
    ci_pins = re.findall(r"'(torch|torchvision)==", ci)
    assert {"plot", "pandas"} <= extras and ci_pins, "CI installs the optional packages"
    for extra in extras | {"torch"}:
        assert f"'.[{extra}]'" in readme, extra
    assert "what CI runs" not in readme
    import conftest
    pyproject = ROOT.joinpath("pyproject.toml").read_text()
    for command in set(conftest.INSTALLS.values()):
        extra = re.search(r"\.\[(\w+)\]", command).group(1)
        assert re.search(rf"^{extra} = \[", pyproject, re.M), command


def test_every_module_costcalc_imports_is_declared():
    """Each third-party module costcalc imports is a dependency or in an extra of
    pyproject.toml (rich was declared and imported nowhere, then imported undeclared)."""
    import ast
    import re
    import sys

    pyproject = ROOT.joinpath("pyproject.toml").read_text()
    declared = {re.split(r"[<>=\[ ]", d)[0].lower()
                for d in re.findall(r'"([A-Za-z][\w.-]*[^"]*)"', pyproject.split("[project.scripts]")[0])}
    names = {"yaml": "pyyaml"}
    imported = set()
    for path in ROOT.joinpath("costcalc").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "costcalc"}
    assert {"click", "yaml", "rich", "torch", "matplotlib", "pandas"} <= third_party
    assert {names.get(m, m) for m in third_party} <= declared, third_party
