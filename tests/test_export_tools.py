"""ptflops and thop on the file `costcalc export --torch` writes equal `--convention
ptflops` and `--convention thop` on the spec, to the integer (docs/torch.md, issue 15).

The exported file computes each layer as the spec's torch_call says (an nn.Module, a
torch.nn.functional call, a Tensor method, an nn.Linear on channels-last positions), and
the conventions of costcalc/counting/conventions.yaml count what each tool sees of those calls:
so the tool run on the exported module is an independent measurement of the convention.
Every name of `costcalc list` (spec files and variants), the example specs of docs/
(docs/examples/*.yaml and each ```yaml block of docs/*.md that is a whole spec) and one
spec of every layer type under every torch_call it has (the table of docs/torch.md).

thop (0.1.1.post2209072238) hooks modules and reads only shapes: it runs on PyTorch's
meta device, at each spec's own size. ptflops (0.7.5) also patches torch.nn.functional,
and on the meta device nn.Linear reaches the patched tensor ops, so it runs on the CPU
(the model made on the meta device, then zeros there): at the spec's own size when that
costs at most PTFLOPS_REAL_SIZE mult-adds, else at the first side of RESOLUTION the spec
accepts (the same file for another input size, against the convention at that size).
"""
import contextlib
import io
import pathlib
import re
import warnings

import pytest

torch = pytest.importorskip("torch")
ptflops = pytest.importorskip("ptflops")
thop = pytest.importorskip("thop")

from costcalc import analyze  # noqa: E402
from costcalc.lang import shipped  # noqa: E402
from costcalc.core.errors import SpecError  # noqa: E402
from costcalc.interop.export import ExportError, Plan, build_graph, torch_source  # noqa: E402
from costcalc.build.graph import TORCH_CALLS  # noqa: E402
from costcalc.layers import canonical_types  # noqa: E402
from costcalc.analysis.report import count_totals  # noqa: E402
from every_layer import EVERY_LAYER  # noqa: E402  (tests/ is on sys.path, as for conftest)

ROOT = pathlib.Path(__file__).resolve().parent.parent
PTFLOPS_REAL_SIZE = 300_000_000   # mult-adds: a forward pass of a few tenths of a second
RESOLUTION = (32, 64, 96)         # the first that the spec accepts (Inception needs 75)


def exported_model(graph, label, device):
    """build_model() of the file `costcalc export --torch` writes for ``graph``, made on the
    meta device and, for another device, moved there with zeros as every value (faster
    than initialising, and no denormals to slow the forward pass)."""
    namespace = {"__name__": "exported"}
    exec(compile(torch_source(graph, label), f"{label}.py", "exec"), namespace)
    with torch.device("meta"):
        model = namespace["build_model"]().eval()
    if device == "meta":
        return model
    model = model.to_empty(device=device)
    for tensor in list(model.parameters()) + list(model.buffers()):
        tensor.data.zero_()
    return model


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def measure_ptflops(model, shape):
    """(MACs, params) of ptflops' default call (docs/conventions.md)."""
    with _quiet(), torch.no_grad():
        macs, params = ptflops.get_model_complexity_info(
            model, tuple(shape), as_strings=False, print_per_layer_stat=False, verbose=False)
    return macs, params


def measure_thop(model, shape, device):
    """(MACs, params) of thop.profile, as integers (thop's float64 totals are exact here)."""
    x = torch.zeros((1,) + tuple(shape), device=device)
    with _quiet(), torch.no_grad():
        macs, params = thop.profile(model, inputs=(x,), verbose=False)
    assert macs == int(macs) and params == int(params)
    return int(macs), int(params)


def convention(spec, tool, **settings):
    totals = analyze(spec, convention=tool, **settings)["totals"]
    return totals["mult_adds"], totals["params"]


def tool_differences(spec, label):
    """[message] of every difference between each tool on the exported module of ``spec``
    and costcalc's convention of that tool on the spec (empty: equal to the integer)."""
    problems = []
    graph = build_graph(spec)
    measured = measure_thop(exported_model(graph, label, "meta"), graph.input_shape, "meta")
    if measured != convention(spec, "thop"):
        problems.append(f"thop {measured}, --convention thop {convention(spec, 'thop')}")
    settings = {}
    if count_totals(graph.nodes)["mult_adds"] > PTFLOPS_REAL_SIZE:
        for side in RESOLUTION:
            try:
                graph, settings = build_graph(spec, resolution=side), {"resolution": side}
                break
            except SpecError:
                continue
    measured = measure_ptflops(exported_model(graph, label, "cpu"), graph.input_shape)
    if measured != convention(spec, "ptflops", **settings):
        problems.append(f"ptflops {measured} {settings}, --convention ptflops "
                        f"{convention(spec, 'ptflops', **settings)}")
    return problems


SHIPPED = sorted(set(shipped.names()) | set(shipped.variants()))


def test_the_names_are_those_of_costcalc_list(run_cli):
    listed = [line.split()[0] for line in run_cli("list").out.splitlines()]
    assert sorted(listed) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_tools_on_the_export_of_every_shipped_name(name):
    problems = tool_differences(name, name)
    assert not problems, "\n".join(problems)


def doc_specs():
    """(label, YAML text) of docs/examples/*.yaml and of each ```yaml block of docs/*.md
    and README.md that is a whole spec (a mapping with name, input and layers)."""
    import yaml

    found = [(f"docs/examples/{p.name}", p.read_text())
             for p in sorted((ROOT / "docs" / "examples").glob("*.yaml"))]
    for page in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"^```yaml\n(.*?)^```", page.read_text(), flags=re.S | re.M)
        for number, text in enumerate(blocks, 1):
            try:
                tree = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(tree, dict) and {"name", "input", "layers"} <= set(tree):
                found.append((f"{page.relative_to(ROOT)} yaml block {number}", text))
    return found


DOC_SPECS = doc_specs()


def test_the_docs_have_example_specs():
    labels = [label for label, _ in DOC_SPECS]
    assert "docs/examples/branches.yaml" in labels and len(labels) > 1, labels


@pytest.mark.parametrize("label, text", DOC_SPECS, ids=[label for label, _ in DOC_SPECS])
def test_tools_on_the_export_of_every_doc_example(label, text):
    problems = tool_differences(text, label.replace(" ", "_"))
    assert not problems, "\n".join(problems)


def every_form(call):
    """EVERY_LAYER (every layer type) with each type that has a ``call`` form computed so
    (torch_call in its defaults; pw1 alone for a channels-last linear)."""
    if call == "linear":
        return EVERY_LAYER.replace("{name: pw1, type: pointwise, out: 24}",
                                   "{name: pw1, type: pointwise, out: 24, torch_call: linear}")
    has = [t.name for t in canonical_types() if _has_form(t.name, call)]
    return EVERY_LAYER + "defaults: {" + ", ".join(f"{k}: {{torch_call: {call}}}"
                                                   for k in has) + "}\n"


def _has_form(kind, call):
    try:
        Plan(build_graph(EVERY_LAYER + f"defaults: {{{kind}: {{torch_call: {call}}}}}\n"))
    except ExportError:
        return False
    return True


@pytest.mark.parametrize("call", TORCH_CALLS)
@pytest.mark.parametrize("resolution", [None, 33])
def test_tools_on_every_layer_type_in_every_form(call, resolution):
    spec = every_form(call)
    if resolution:
        spec = spec.replace("input: [3, 17, 19]", f"input: [3, {resolution}, {resolution}]")
    problems = tool_differences(spec, f"every_{call}")
    assert not problems, "\n".join(problems)
