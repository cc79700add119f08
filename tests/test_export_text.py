"""The text `costcalc export --torch` writes, without torch (docs/torch.md):

- each layer is written as its torch_call says, in the form the table "Each layer type" of
  docs/torch.md gives, and a torch_call marked there as having no form is refused at the
  layer's line (so the table and the behaviour agree, cell by cell);
- the cases export refuses are refused (ExportError, one line at the layer);
- the file compiles and runs as __main__ whatever the spec's and layers' names (keywords,
  builtins, dunders such as __debug__ and __name__, digits, nothing left).
"""
import pathlib
import re

import pytest

from costcalc.core.errors import SpecError
from costcalc.interop.export import ExportError, Plan, build_graph, class_name, torch_source
from costcalc.build.graph import TORCH_CALLS
from costcalc.layers import canonical_types
from every_layer import EVERY_LAYER  # tests/ is on sys.path, as for conftest


ROOT = pathlib.Path(__file__).resolve().parent.parent


def doc_forms():
    """{(layer type, torch_call): code fragment, or None for '—'} of docs/torch.md's table."""
    text = (ROOT / "docs" / "torch.md").read_text()
    table = text[text.index("| costcalc | `module` (the default) |"):]
    table = table[:table.index("\n\n")].splitlines()
    header = [cell.strip(" `") for cell in table[0].strip("|").split("|")]
    calls = [cell.split()[0].strip("`") for cell in header[1:]]
    assert calls == list(TORCH_CALLS)
    forms = {}
    for row in table[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        for kind in re.findall(r"`(\w+)`", cells[0]):
            for call, cell in zip(calls, cells[1:]):
                forms[kind, call] = None if cell == "—" else re.search(r"`([^`]+)`", cell).group(1)
    return forms


FORMS = doc_forms()


def fragment(code):
    """What the code of a cell must contain: 'nn.ReLU(' of `nn.ReLU()`, '.relu(' of
    `x.relu()`, ' + ' of `a + b + ...`, '' of `x`."""
    found = re.match(r"[\w.]*[(\[]", code)
    if found:
        text = found.group()
        return text[1:] if text.startswith(("x.", "x[")) else text
    operator = re.search(r" [+*] ", code)
    return operator.group() if operator else ""


def test_the_table_has_every_layer_type_and_alias():
    kinds = {kind for kind, _ in FORMS}
    assert {t.name for t in canonical_types()} <= kinds
    assert kinds - {t.name for t in canonical_types()} == {"stochastic_depth"}


@pytest.mark.parametrize("call", TORCH_CALLS)
def test_each_layer_is_written_as_its_torch_call_says(call):
    """EVERY_LAYER (every layer type) with `defaults: {TYPE: {torch_call: CALL}}`: each
    layer of TYPE is written with the table's code, or the spec is refused at that layer."""
    for layer_type in canonical_types():
        kind = layer_type.name
        spec = EVERY_LAYER + f"defaults: {{{kind}: {{torch_call: {call}}}}}\n"
        if (kind, call) == ("pointwise", "linear"):   # pw has stride 2 and groups 4
            spec = EVERY_LAYER.replace("{name: pw1, type: pointwise, out: 24}",
                                       "{name: pw1, type: pointwise, out: 24, torch_call: linear}")
        graph = build_graph(spec)
        form = FORMS[kind, call]
        first = next(node for node in graph.nodes if node.type.name == kind)
        if form is None:
            with pytest.raises(ExportError) as caught:
                Plan(graph)
            assert str(caught.value).startswith(f"<text>:{first.pos.line}:{first.pos.col}: "
                                                f"error: {first.name} ({kind}): torch_call "
                                                f"{call} has no PyTorch form for a {kind} "
                                                f"layer (it can be module"), str(caught.value)
            continue
        text = torch_source(graph, "every")
        plan = Plan(graph)
        checked = 0
        for i, node in enumerate(graph.nodes):
            if node.type.name != kind or node.torch_call != call:
                continue
            code = "\n".join(line for line in text.splitlines()
                             if line.endswith(f"# {node.name} ({kind}): " + "x".join(
                                 map(str, node.shape)))
                             or line.startswith(f"        self.{plan.names[i]} = "))
            assert fragment(form) in code, (kind, call, form, code)
            checked += 1
        assert checked, (kind, call)


def test_a_channels_last_linear_needs_stride_1_and_groups_1():
    spec = EVERY_LAYER + "defaults: {pointwise: {torch_call: linear}}\n"
    with pytest.raises(ExportError, match=r":9:5: error: pw \(pointwise\): torch_call linear "
                                          r"\(an nn.Linear at each position\) needs stride 1 "
                                          r"and groups 1$"):
        Plan(build_graph(spec))


HOSTILE = ["__debug__", "__name__", "__builtins__", "__class__", "__import__", "class",
           "None", "True", "lambda", "print", "float", "super", "object", "Exception",
           "self", "x", "image", "F", "nn", "torch", "INPUT_SHAPE", "build_model", "model",
           "LayerNorm2d", "9lives", "---", "é", "_", "__", "match", "type"]


def test_class_names():
    assert [class_name(n) for n in ("ResNet-50", "__debug__", "None", "print", "---")] == [
        "ResNet50", "Net__debug__", "NoneNet", "Print", "Net"]


@pytest.mark.parametrize("name", HOSTILE)
def test_every_export_of_a_hostile_name_compiles_and_runs(name):
    """The name as the spec's name, a layer's name and a stage's: the file compiles, and
    run as __main__ it builds the model and runs it (what `python FILE.py` does), when
    torch is there."""
    spec = {"name": name, "input": [3, 8, 8], "layers": [
        {"name": name, "type": "conv", "out": 4, "k": 3, "stage": name},
        {"name": name + "2", "type": "maxpool", "k": 3, "stride": 2, "padding": 1},
        {"name": "b", "type": "relu", "input": name},
        {"name": name + "3", "type": "add", "inputs": [name, "b"]}]}
    text = torch_source(build_graph(spec), name)
    code = compile(text, f"{name}.py", "exec")
    pytest.importorskip("torch")
    printed = []
    namespace = {"__name__": "__main__", "print": lambda *a: printed.append(a)}
    exec(code, namespace)
    assert printed == [(4 * 27 + 0, "parameters"), ((1, 4, 8, 8),)]


def test_a_refused_export_writes_nothing(run_cli, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, out: 4, k: 3, "
                    "torch_call: method}\n")
    out = tmp_path / "m.py"
    result = run_cli("export", str(spec), "--torch", str(out))
    assert result.code == 2 and not out.exists()
    assert result.err == (f"{spec}:4:5: error: conv1 (conv): torch_call method has no "
                          f"PyTorch form for a conv layer (it can be module)\n")
    assert isinstance(ExportError("x"), SpecError)


def test_each_layer_type_holds_its_own_pytorch_code():
    """export.py writes the file around the layers and names no layer type: a type's code
    is its torch_forms (costcalc.layers), so a new type needs nothing in costcalc.interop."""
    import ast

    from costcalc.interop import export
    from costcalc.layers import LayerCode, LayerType

    source = pathlib.Path(export.__file__).read_text()
    texts = {node.value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert texts & {t.name for t in canonical_types()} == set()

    class Doubling(LayerType):
        name = "doubling"

        def torch_forms(self, node, shapes):
            return {"module": LayerCode(None, lambda args, m: f"2 * {args[0]}")}

    class Node:
        type, torch_call, name, pos = Doubling(), "module", "d", None

    assert export.layer_code(Node(), [(8, 4, 4)]).call(["x"], None) == "2 * x"
    Node.torch_call = "functional"
    with pytest.raises(ExportError, match="torch_call functional has no PyTorch form for a "
                                          r"doubling layer \(it can be module\)"):
        export.layer_code(Node(), [(8, 4, 4)])


def test_the_layer_registry_imports_no_torch():
    """costcalc.layers writes PyTorch source as text; only costcalc.torch imports torch."""
    import ast

    for path in sorted((ROOT / "costcalc" / "layers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "torch" for n in names), path
