"""The one pipeline (costcalc/analysis/pipeline.py): every command and the library build
through it with an ``Options`` value, checked once when made."""
import pytest

import costcalc
from costcalc.analysis import check, pipeline
from costcalc.core.errors import SpecError
from costcalc.interop.export import build_graph
from costcalc.lang.shipped import load


def test_every_command_and_the_library_build_through_the_pipeline(monkeypatch):
    """A new annotation is wired once: analyze, compare, sweep, check and export all make
    their graphs with pipeline.graph, given Options."""
    seen = []
    real = pipeline.graph

    def recording(spec, options):
        assert isinstance(options, pipeline.Options)
        seen.append((spec.name, options.alpha, options.convention))
        return real(spec, options)

    monkeypatch.setattr(pipeline, "graph", recording)
    callers = {
        "analyze": lambda: costcalc.analyze("mobilenet", alpha=0.5),
        "compare": lambda: costcalc.compare(["mobilenet@alpha=0.75,convention=fvcore"]),
        "sweep": lambda: costcalc.sweep("mobilenet", [0.25]),
        "check": lambda: check.run(load("squeezenet"), "squeezenet"),
        "export": lambda: build_graph("mobilenet", alpha=0.125),
    }
    for name, call in callers.items():
        seen.clear()
        call()
        assert seen, name
    assert seen == [("MobileNet", 0.125, "paper")]


def test_options_are_checked_once_when_made_and_frozen():
    with pytest.raises(SpecError, match="unknown convention 'nope'"):
        pipeline.Options(convention="nope")
    with pytest.raises(SpecError, match="flops must be True or False, not 1"):
        pipeline.Options(flops=1)
    with pytest.raises(SpecError, match="does not combine with --convention fvcore"):
        pipeline.Options(explain=True, convention="fvcore")
    with pytest.raises(TypeError, match="Options has no alhpa"):
        pipeline.Options(alhpa=0.5)
    options = pipeline.Options(alpha=0.5)
    with pytest.raises(AttributeError):
        options.alpha = 1.0
    assert options.replace(rho=0.5) == pipeline.Options(alpha=0.5, rho=0.5) != options
    with pytest.raises(SpecError, match="unknown convention"):
        options.replace(convention="nope")


def _importers(top):
    """The modules of costcalc (paths in the package) that import ``top`` anywhere."""
    import ast
    import pathlib

    package = pathlib.Path(costcalc.__file__).parent
    users = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == top for name in names):
                users.add(path.relative_to(package).as_posix())
    return users


def test_only_the_command_line_imports_click():
    """The library raises no click exceptions and echoes nothing: click is cli.py's alone
    (compare and sweep raised click.BadParameter and called click.echo)."""
    assert _importers("click") == {"cli.py"}


def test_no_analysis_draws():
    """rich is the writers' (a table's colours, the progress bar), never the analysis'
    (sweep drew its own bar)."""
    assert _importers("rich") and all(p.startswith("output/") for p in _importers("rich"))


def test_the_library_sweep_takes_numbers():
    """analysis.sweep.run is given numbers (api.sweep turned them into flag text for it)."""
    from costcalc.analysis import sweep

    grid = sweep.run("mobilenet", [0.5, 0.5], resolutions=[160])
    assert [(p["alpha"], p["resolution"]) for p in grid["points"]] == [(0.5, 160)]
    assert grid["repeated"] == {"alpha": [0.5]} and grid["axis"] == "resolution"
    with pytest.raises(SpecError, match="give rhos or resolutions, not both"):
        sweep.run("mobilenet", [1.0], [0.5], [160])


@pytest.mark.parametrize("text, integer, number", [
    ("0.5", False, 0.5), ("1e-3", False, 0.001), (" 2 ", False, 2.0), ("224", True, 224),
    ("0", False, None), ("-1", False, None), ("inf", False, None), ("nan", False, None),
    ("x", False, None), ("", False, None), ("160.5", True, None), ("0", True, None),
    ("-3", True, None),
])
def test_a_setting_read_from_text_one_way(text, integer, number, run_cli):
    """compare's SPEC@alpha=... and sweep's --alpha/--resolution lists read their text by
    one rule (core.model.setting_from_text): a positive finite number, a positive whole
    number of pixels; each words its refusal as before."""
    from costcalc.core.model import setting_from_text

    assert setting_from_text(text, integer) == number
    name = "resolution" if integer else "alpha"
    compared = run_cli("compare", f"mobilenet@{name}={text}", "--format", "csv")
    swept = run_cli("sweep", "mobilenet", f"--{name}", text, "--format", "csv")
    if number is None:
        assert compared.code == swept.code == 2
        assert f"{name} must be a positive " in compared.err or "nothing" in compared.err \
            or "expected NAME=VALUE" in compared.err
        assert "is not a positive" in swept.err
    else:
        assert compared.code == swept.code == 0, (compared.err, swept.err)


def test_lazy_rows_are_asked_for_the_streamed_formats_only(run_cli, monkeypatch):
    """Who reads the output is declared once (output/formats.py): the report command asks
    the pipeline for lazy rows exactly for the writers that read each row once (json, csv),
    and the pipeline gives a list wherever an annotation writes into the rows."""
    from costcalc.analysis.report import LayerRows
    from costcalc.output.formats import STREAMED
    from costcalc.output.render import RENDERERS

    asked = {}
    real = pipeline.run

    def recording(spec, options, label):
        graph, report = real(spec, options, label)
        asked[fmt] = (options.lazy_rows, isinstance(report["layers"], LayerRows))
        return graph, report

    monkeypatch.setattr(pipeline, "run", recording)
    for fmt in RENDERERS:
        assert run_cli("mobilenet", "--format", fmt).code == 0
    assert asked == {fmt: (fmt in STREAMED,) * 2 for fmt in RENDERERS}
    assert set(STREAMED) == {"json", "csv"}
    fmt = "json"
    assert run_cli("mobilenet", "--format", fmt, "--activation-bits", "8").code == 0
    assert asked[fmt] == (True, False)
