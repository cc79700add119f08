"""The typed API (docs/api.md): its examples run as doctests, and the types hold the JSON."""
import doctest
import json
import pathlib

import pytest

import costcalc
from costcalc.api import Comparison, Layer, Report, Sweep

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def api_doc_examples(with_pandas):
    """Run the examples of docs/api.md, all of them or those not marked '# needs pandas'."""
    text = (DOCS / "api.md").read_text()
    test = doctest.DocTestParser().get_doctest(text, {}, "api.md", str(DOCS / "api.md"), 0)
    test.examples = [e for e in test.examples if with_pandas or "# needs pandas" not in e.source]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    return runner.summarize(verbose=False)


def test_docs_api_examples_run():
    failures, tried = api_doc_examples(with_pandas=False)
    assert tried > 15 and failures == 0


def test_docs_api_dataframe_examples_run():
    pytest.importorskip("pandas")
    failures, tried = api_doc_examples(with_pandas=True)
    assert tried > 18 and failures == 0


def test_report_is_the_json_dict_with_typed_views(run_cli):
    report = costcalc.analyze("shufflenet", overrides={"groups": "8"})
    assert isinstance(report, Report) and isinstance(report, dict)
    cli = json.loads(run_cli("shufflenet", "--set", "groups=8", "--format", "json").out)
    assert report.to_dict() == cli
    assert all(isinstance(layer, Layer) for layer in report.layers)
    assert sum(layer.mult_adds for layer in report.layers) == report.totals.mult_adds
    assert sum(g.params for g in report.by_type) == report.totals.params
    assert report.parameters["groups"] == 8
    for compact in ((), ("--compact",)):   # to_json is the command's text, byte for byte
        text = run_cli("shufflenet", "--set", "groups=8", "--format", "json", *compact).out
        assert report.to_json(compact=bool(compact)) + "\n" == text


def test_compare_and_sweep_equal_the_commands(run_cli):
    both = costcalc.compare(["mobilenet", "shufflenet@groups=8"])
    assert isinstance(both, Comparison)
    assert both.to_dict() == json.loads(run_cli("compare", "mobilenet", "shufflenet@groups=8",
                                                "--format", "json").out)
    grid = costcalc.sweep("mobilenet", [1, 0.75], resolutions=[224, 192])
    assert isinstance(grid, Sweep) and grid.axis == "resolution"
    cli = json.loads(run_cli("sweep", "mobilenet", "--alpha", "1,0.75", "--resolution",
                             "224,192", "--format", "json").out)
    assert grid.to_dict() == cli


@pytest.mark.parametrize("call, message", [
    (lambda: costcalc.analyze("mobilenet", rho=float("nan")), "rho must be a finite number"),
    (lambda: costcalc.compare("mobilenet"), "a list of one or more specs"),
    (lambda: costcalc.compare(["mobilenet"], overrides={"groups": 8}),
     "none of the compared specs declares a parameter 'groups'"),
    (lambda: costcalc.sweep("mobilenet", [1], rhos=[1], resolutions=[224]),
     "give rhos or resolutions, not both"),   # the library names its own arguments
    (lambda: costcalc.sweep("no_such_spec"), "no_such_spec"),
])
def test_bad_arguments_raise_value_error_with_the_cli_line(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call()


def test_py_typed_ships():
    assert (pathlib.Path(costcalc.__file__).parent / "py.typed").exists()
    assert '"py.typed"' in (DOCS.parent / "pyproject.toml").read_text()
