"""PyTorch as a target (costcalc.torch, costcalc export --torch; docs/torch.md).

Every shipped spec and variant, at several settings, is built as an nn.Module and run once
under torch.utils.flop_counter.FlopCounterMode, on the meta device (shapes without data:
no weights are initialised, no arithmetic is done, so regnet_y_128gf and efficientnet_b7
take a fraction of a second). Then, exactly:

(a) sum(p.numel() for p in model.parameters()) == costcalc's params + bn_params, in total
    and layer by layer;
(b) FlopCounterMode's FLOPs / 2 == costcalc's mult-adds, per registered module
    (get_flop_counts()) and in total (so no product runs outside a layer's module);
(c) every node's output shape == costcalc's shape.

A patched cost formula makes the cross-check fail. Real forward passes on the CPU check
the semantics: TensorFlow's 'same' padding and pooling against brute force, the exported
file against build() value for value, and the exported file imported with only torch.
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from costcalc.lang import shipped  # noqa: E402
from costcalc.core.errors import SpecError  # noqa: E402
from costcalc.interop.export import (MODULE_ATTRS, build_graph, identifiers,  # noqa: E402
                                     torch_source)
from costcalc.layers import canonical_types, same_pads  # noqa: E402
from costcalc.analysis.report import count_totals  # noqa: E402
from costcalc.torch import build, from_graph  # noqa: E402
from every_layer import EVERY_LAYER  # noqa: E402  (tests/ is on sys.path, as for conftest)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))



# --------------------------------------------------------------------------- the cross-check

def cross_check(model, device="meta"):
    """Every difference between ``model`` (from costcalc.torch) and costcalc's counts and
    shapes of ``model.graph``, as messages (empty: an exact match). One forward pass of a
    zeros image under FlopCounterMode, recording each layer's output shape."""
    graph = model.graph
    problems = []
    x = torch.zeros((1,) + tuple(graph.input_shape), device=device)
    record = {}
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x, record=record)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    prefix = type(model).__name__ + "."
    totals = count_totals(graph.nodes)
    for node in graph.nodes:
        cost, label = node.cost, f"{node.name} ({node.type.name})"
        if record.get(node.name) != tuple(node.shape):
            problems.append(f"{label}: torch output {record.get(node.name)}, costcalc "
                            f"{tuple(node.shape)}")
        module_name = model.module_names.get(node.name)
        if module_name is None:
            if cost.mult_adds or cost.params or cost.bn_params:
                problems.append(f"{label}: costcalc counts {cost.mult_adds} mult-adds, "
                                f"{cost.params + cost.bn_params} parameters, torch no module")
            continue
        learned = sum(p.numel() for p in model.get_submodule(module_name).parameters())
        if learned != cost.params + cost.bn_params:
            problems.append(f"{label}: torch parameters {learned:,}, costcalc params + "
                            f"bn_params {cost.params + cost.bn_params:,}")
        measured = flops.get(prefix + module_name, 0)
        if measured != 2 * cost.mult_adds:
            problems.append(f"{label}: torch FLOPs / 2 = {measured // 2:,}, costcalc mult-adds "
                            f"{cost.mult_adds:,}")
    learned = sum(p.numel() for p in model.parameters())
    if learned != totals["params"] + totals["bn_params"]:
        problems.append(f"total: torch parameters {learned:,}, costcalc params + bn_params "
                        f"{totals['params'] + totals['bn_params']:,}")
    if counter.get_total_flops() != 2 * totals["mult_adds"]:
        problems.append(f"total: torch FLOPs / 2 = {counter.get_total_flops() // 2:,}, "
                        f"costcalc mult-adds {totals['mult_adds']:,}")
    return problems


def meta_model(spec, **settings):
    with torch.device("meta"):
        return build(spec, **settings).eval()


def _uses_alpha(name):
    try:
        one, half = (count_totals(build_graph(name, alpha=a).nodes)["params"]
                     for a in (1.0, 0.5))
    except ValueError:      # a broken spec fails its own case below, not the collection
        return False
    return one != half


def _cases():
    """Every shipped spec and variant at its defaults; the spec files at alpha 0.5 and
    0.75 (where alpha changes them) and rho 0.714; some --set values; every layer type."""
    names, cases, settings = shipped.names(), [], []
    for name in names:
        cases.append(pytest.param(name, {}, id=name))
        try:
            declared = shipped.load(name).variants
        except ValueError:
            declared = {}
        cases += [pytest.param(v, {}, id=v) for v in declared if v not in names]
        if _uses_alpha(name):
            settings += [pytest.param(name, {"alpha": a}, id=f"{name}-alpha{a}")
                         for a in (0.5, 0.75)]
        settings.append(pytest.param(name, {"rho": 0.714}, id=f"{name}-rho0.714"))
    cases += settings
    cases += [
        pytest.param("mobilenet", {"alpha": 0.5, "rho": 0.714, "params": {"classes": "10"}},
                     id="mobilenet-classes10-alpha0.5-rho0.714"),
        pytest.param("shufflenet", {"params": {"groups": "8"}}, id="shufflenet-groups8"),
        pytest.param("shufflenet", {"alpha": 0.5, "params": {"groups": 8}},
                     id="shufflenet-groups8-alpha0.5"),
        pytest.param("resnet", {"params": {"depth": "18"}}, id="resnet-depth18"),
        pytest.param("resnet", {"params": {"depth": 18}, "resolution": 97},
                     id="resnet-depth18-res97"),
        pytest.param(EVERY_LAYER, {}, id="every-layer-type"),
        pytest.param(EVERY_LAYER, {"alpha": 2.0, "resolution": 33},
                     id="every-layer-type-alpha2-res33"),
    ]
    return cases


@pytest.mark.parametrize("spec, settings", _cases())
def test_module_equals_costcalc(spec, settings):
    problems = cross_check(meta_model(spec, **settings))
    assert not problems, "\n".join(problems[:10])


def test_a_patched_formula_fails_the_cross_check(monkeypatch):
    from costcalc.layers import Cost, Depthwise

    assert not cross_check(meta_model("mobilenet"))
    formula = Depthwise.cost

    def one_more(self, a, shapes, out):
        cost = formula(self, a, shapes, out)
        return Cost(cost.mult_adds + 1, cost.params, cost.bn_params, cost.other_ops)

    monkeypatch.setattr(Depthwise, "cost", one_more)
    problems = cross_check(meta_model("mobilenet"))
    assert len(problems) == 13 + 1, problems     # 13 depthwise layers and the total
    assert problems[0] == ("separable1/dw (depthwise): torch FLOPs / 2 = 3,612,672, "
                           "costcalc mult-adds 3,612,673")
    assert problems[-1].startswith("total: torch FLOPs / 2")


def test_a_patched_parameter_count_fails_the_cross_check(monkeypatch):
    from costcalc.layers import BatchNorm, Cost

    monkeypatch.setattr(BatchNorm, "cost", lambda self, a, shapes, out: Cost(bn_params=out[0]))
    problems = cross_check(meta_model("resnet18"))
    assert any(p.startswith("total: torch parameters") for p in problems)
    assert "bn1 (batchnorm): torch parameters 128, costcalc params + bn_params 64" in problems


# --------------------------------------------------------------------------- every type, for real

def test_every_layer_type_is_covered():
    graph = build_graph(EVERY_LAYER)
    assert {n.type.name for n in graph.nodes} == {t.name for t in canonical_types()}


@pytest.fixture(scope="module")
def every_layer_cpu():
    torch.manual_seed(0)
    model = build(EVERY_LAYER).eval()
    with torch.no_grad():   # non-trivial norms and scales
        for parameter in model.parameters():
            parameter.normal_()
    return model


def test_every_layer_type_on_the_cpu(every_layer_cpu):
    model = every_layer_cpu
    record = {}
    with torch.no_grad():
        out = model(torch.randn(2, 3, 17, 19), record=record)
    assert out.shape == (2, 7, 1, 1)
    assert record == {n.name: n.shape for n in model.graph.nodes}
    assert torch.allclose(out.sum(1), torch.ones(2, 1, 1))      # softmax over channels
    assert not cross_check(model, device="cpu")
    # every layer an nn.Module computes has one (torch_call module, the default): all but
    # tensor code (+, *, torch.cat, chunk, slicing, the shuffle, flatten, the identities);
    # the layer names that are nn.Module attributes or not identifiers get a prefix
    plain = {"x", "scaled", "add", "cat", "third", "sl", "sl0", "shuf", "sd", "flat"}
    renamed = {"train": "layer_train", "forward": "layer_forward", "1": "layer_1",
               "a/b": "a_b"}
    assert model.module_names == {name: renamed.get(name, name) for name in model.layer_names
                                  if name not in plain}
    assert type(model.a_b) is torch.nn.ReLU and type(model.gelu1) is torch.nn.GELU
    assert model.dw.groups == 24 and model.dw.out_channels == 48   # multiplier 2
    assert model.c2.dilation == (2, 2) and model.c2.groups == 3
    assert tuple(model.layer_1.gamma.shape) == (48, 1, 1)


def _window_reference(x, k, stride, rows, cols, kind):
    """Pooling by brute force over the real pixels of each window: the window of output
    (i, j) starts at (i * sh - top, j * sw - left); padding is left out (TensorFlow)."""
    n, c, h, w = x.shape
    kh, kw = k
    ho = -(-h // stride[0])
    wo = -(-w // stride[1])
    out = torch.empty(n, c, ho, wo)
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * stride[0] - rows[0], j * stride[1] - cols[0]
            window = x[:, :, max(r0, 0):min(r0 + kh, h), max(c0, 0):min(c0 + kw, w)]
            out[:, :, i, j] = (window.amax((2, 3)) if kind == "maxpool"
                               else window.mean((2, 3)))
    return out


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
@pytest.mark.parametrize("side, k, stride", [((7, 8), 3, 2), ((6, 5), 3, 2), ((9, 9), 2, 2),
                                             ((5, 7), 3, 1), ((8, 6), (3, 2), (2, 3))])
def test_same_pooling_is_tensorflows(kind, side, k, stride):
    """'same' pooling: asymmetric padding (the extra pixel at the bottom and right), never
    part of a maximum (-inf) nor of an average (left out, as TensorFlow does)."""
    spec = {"name": "pool", "input": [2, *side], "layers": [
        {"name": "pool", "type": kind, "k": list(k) if isinstance(k, tuple) else k,
         "stride": list(stride) if isinstance(stride, tuple) else stride}]}
    model = build(spec)
    x = -1 - torch.rand(1, 2, *side)           # all negative: a zero pad would show
    k2 = k if isinstance(k, tuple) else (k, k)
    s2 = stride if isinstance(stride, tuple) else (stride, stride)
    rows = same_pads(side[0], -(-side[0] // s2[0]), k2[0], s2[0])
    cols = same_pads(side[1], -(-side[1] // s2[1]), k2[1], s2[1])
    expected = _window_reference(x, k2, s2, rows, cols, kind)
    assert torch.allclose(model(x), expected, atol=1e-6)


@pytest.mark.parametrize("side, k, stride, dilation", [(7, 3, 2, 1), (8, 3, 2, 1), (8, 5, 2, 1),
                                                       (9, 3, 1, 2), (10, 4, 3, 1)])
def test_same_convolution_is_tensorflows(side, k, stride, dilation):
    """TensorFlow's 'same': pad_total = max((out - 1) * stride + d * (k - 1) + 1 - in, 0),
    pad_total // 2 before, the rest after. The reference pads with torch.zeros by hand."""
    spec = {"name": "conv", "input": [2, side, side + 1], "layers": [
        {"name": "conv", "type": "conv", "out": 3, "k": k, "stride": stride,
         "dilation": dilation, "bias": True}]}
    model = build(spec)
    x = torch.randn(1, 2, side, side + 1)
    pads = []
    for size in (side, side + 1):
        out = -(-size // stride)
        total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    padded = torch.zeros(1, 2, side + sum(pads[0]), side + 1 + sum(pads[1]))
    padded[:, :, pads[0][0]:pads[0][0] + side, pads[1][0]:pads[1][0] + side + 1] = x
    expected = torch.nn.functional.conv2d(padded, model.conv.weight, model.conv.bias, stride,
                                          dilation=dilation)
    with torch.no_grad():
        got = model(x)
    assert got.shape == expected.shape == (1, 3, -(-side // stride), -(-(side + 1) // stride))
    assert torch.allclose(got, expected, atol=1e-5)


def test_channel_operations():
    """split is torch.chunk, slice is x[:, start:stop], shuffle is ShuffleNet's."""
    spec = {"name": "channels", "input": [6, 1, 1], "layers": [
        {"name": "shuffle", "type": "shuffle", "groups": 2},
        {"name": "second", "type": "split", "parts": 3, "part": 1, "input": "input"},
        {"name": "middle", "type": "slice", "start": 1, "stop": 4, "input": "input"},
        {"name": "twice", "type": "concat", "inputs": ["shuffle", "second", "middle"]}]}
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert build(spec)(x).flatten().tolist() == [0, 3, 1, 4, 2, 5, 2, 3, 1, 2, 3]


# --------------------------------------------------------------------------- names

def test_identifiers():
    class N:
        def __init__(self, name):
            self.name = name

    names = ["separable1/dw", "a/b_c", "a_b/c", "train", "forward", "1x", "x", "class",
             "_hidden", "é", "a_b_c"]
    assert identifiers([N(n) for n in names]) == [
        "separable1_dw", "a_b_c", "a_b_c_2", "layer_train", "layer_forward", "layer_1x",
        "layer_x", "layer_class", "layer__hidden", "layer__", "a_b_c_3"]


def test_module_attrs_cover_nn_module():
    public = {a for a in dir(torch.nn.Module) if not a.startswith("_")}
    assert public <= MODULE_ATTRS, sorted(public - MODULE_ATTRS)


# --------------------------------------------------------------------------- real forward passes

@pytest.mark.parametrize("name, settings", [
    ("googlenet", {"resolution": 64}), ("inception_v3", {"resolution": 96}),
    ("shufflenet_v2", {"resolution": 64}), ("convnext", {"resolution": 64}),
    ("effnet", {}), ("squeezenet", {"resolution": 67}), ("efficientnet", {"resolution": 65}),
    ("mobilenet_v3", {"resolution": 64}), ("densenet", {"resolution": 64}),
    ("shufflenet", {"resolution": 64, "params": {"groups": 8}}),
    ("mobilenet", {"alpha": 0.25, "resolution": 63}), ("alexnet", {"resolution": 95})])
def test_real_forward_on_the_cpu(name, settings):
    """The same counts and shapes on the CPU with real arithmetic at small sizes (the meta
    device computes shapes only)."""
    torch.manual_seed(0)
    model = build(name, **settings).eval()
    assert not cross_check(model, device="cpu")
    with torch.no_grad():
        out = model(torch.randn((1,) + model.graph.input_shape))
    assert torch.isfinite(out).all()


# --------------------------------------------------------------------------- export

def _import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("spec, args", [
    ("mobilenet", ["--resolution", "64"]),
    (None, ["--alpha", "2"]),                         # the every-layer-type spec
    ("shufflenet_v2", ["--resolution", "64"]),
    ("shufflenet", ["--set", "groups=8", "--resolution", "64"]),
    ("convnext", ["--resolution", "64"]),
    ("efficientnet", ["--resolution", "64", "--alpha", "0.75"])])
def test_export_equals_build(run_cli, tmp_path, spec, args):
    """The exported file defines the same modules (state_dict keys and shapes) and computes
    the same values as build(), on the CPU."""
    if spec is None:
        spec = str(tmp_path / "every.yaml")
        with open(spec, "w") as handle:
            handle.write(EVERY_LAYER)
    target = tmp_path / "model.py"
    result = run_cli("export", spec, "--torch", target, *args)
    assert result.code == 0, result.err
    assert result.out.startswith(f"wrote {target}: ")
    exported = _import_file(target, f"exported_{abs(hash(str(target)))}").build_model().eval()
    settings = {}
    if "--alpha" in args:
        settings["alpha"] = float(args[args.index("--alpha") + 1])
    if "--resolution" in args:
        settings["resolution"] = int(args[args.index("--resolution") + 1])
    if "--set" in args:
        settings["params"] = dict([args[args.index("--set") + 1].split("=")])
    torch.manual_seed(0)
    built = build(spec, **settings).eval()
    with torch.no_grad():
        for parameter in built.parameters():
            parameter.normal_(0, 0.2)
    exported.load_state_dict(built.state_dict())       # strict: the same names and shapes
    x = torch.randn((2,) + built.graph.input_shape)
    with torch.no_grad():
        assert torch.allclose(exported(x), built(x), rtol=1e-4, atol=1e-5)
    text = target.read_text()
    totals = count_totals(built.graph.nodes)
    assert f"mult-adds {totals['mult_adds']:,}" in text
    assert f"learned parameters {totals['params'] + totals['bn_params']:,}" in text


SUBPROCESS = textwrap.dedent("""\
    import importlib.util, json, sys
    for blocked in ("costcalc", "yaml", "click", "rich"):
        sys.modules[blocked] = None          # any import of them fails
    import torch
    found = {}
    for path, device in json.loads(sys.argv[1]):
        spec = importlib.util.spec_from_file_location("exported", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with torch.device(device):
            model = module.build_model().eval()
            with torch.no_grad():
                out = model(torch.randn(module.INPUT_SHAPE) if device == "cpu"
                            else torch.zeros(module.INPUT_SHAPE))
        found[path] = {"params": sum(p.numel() for p in model.parameters()),
                       "shape": list(out.shape),
                       "finite": bool(torch.isfinite(out).all()) if device == "cpu" else True,
                       "class": type(model).__name__}
    print(json.dumps(found))
    """)


def test_exported_files_need_only_torch(run_cli, tmp_path):
    """Exported files imported in a fresh interpreter where costcalc, yaml, click and rich
    cannot be imported: build_model() has costcalc's parameter count and output shape;
    mobilenet at 64 pixels and the others run on the CPU, the big ones on meta."""
    runs = [("mobilenet", ["--resolution", "64"], "cpu"),
            ("resnet", ["--set", "depth=18", "--rho", "0.714"], "cpu"),
            ("mobilenet_v3", ["--alpha", "0.75", "--resolution", "96"], "cpu"),
            ("regnet_y_128gf", [], "meta"),
            ("efficientnet_b7", [], "meta"),
            ("vgg19_bn", [], "meta")]
    files, expected = [], {}
    for name, args, device in runs:
        path = str(tmp_path / f"{name}.py")
        assert run_cli("export", name, "--torch", path, *args).code == 0
        files.append((path, device))
        report_args = {"alpha": 1.0, "rho": 1.0, "resolution": None, "overrides": None}
        for option, key, kind in (("--alpha", "alpha", float), ("--rho", "rho", float),
                                  ("--resolution", "resolution", int)):
            if option in args:
                report_args[key] = kind(args[args.index(option) + 1])
        if "--set" in args:
            report_args["overrides"] = dict([args[args.index("--set") + 1].split("=")])
        from costcalc import analyze
        report = analyze(name, **report_args)
        expected[path] = (report["totals"]["params"] + report["totals"]["bn_params"],
                          [1] + report["layers"][-1]["output"])
    done = subprocess.run([sys.executable, "-c", SUBPROCESS, json.dumps(files)],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    for path, (params, shape) in expected.items():
        assert found[path]["params"] == params, path
        assert found[path]["shape"] == shape, path
        assert found[path]["finite"], path
    assert found[files[0][0]]["class"] == "MobileNet"


def test_the_core_never_imports_torch(tmp_path):
    """costcalc, its CLI and the exporter work where torch cannot be imported."""
    script = textwrap.dedent(f"""\
        import sys
        sys.modules["torch"] = None
        from costcalc.cli import main
        from costcalc.interop.export import build_graph, torch_source
        text = torch_source(build_graph("convnext"), "convnext")
        assert "(nn.Module):" in text and "torch" not in sys.modules or sys.modules["torch"] is None
        try:
            main(["export", "shufflenet_v2", "--torch", {str(tmp_path / 'm.py')!r}])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        print("ok")
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "ok", done.stderr
    assert (tmp_path / "m.py").read_text().startswith("# ShuffleNet")


def test_export_to_stdout_and_errors(run_cli, tmp_path):
    result = run_cli("export", "mobilenet", "--alpha", "0.5", "--rho", "0.714", "--torch", "-")
    assert result.code == 0, result.err
    graph = build_graph("mobilenet", alpha=0.5, rho=0.714)
    assert result.out == torch_source(graph, "mobilenet")
    assert "# Settings: alpha 0.5, rho 0.714, input 3x160x160; parameters: classes=1000" \
        in result.out
    compile(result.out, "exported.py", "exec")
    missing = run_cli("export", "mobilenet")
    assert missing.code == 2 and "--torch" in missing.err
    unknown = run_cli("export", "mobilenett", "--torch", str(tmp_path / "m.py"))
    assert unknown.code == 2 and "did you mean" in unknown.err
    bad_set = run_cli("export", "resnet", "--set", "depth=19", "--torch", str(tmp_path / "m.py"))
    assert bad_set.code == 2 and "depth" in bad_set.err
    assert not (tmp_path / "m.py").exists()


def test_a_layer_pytorch_cannot_compute_is_an_error():
    """Max pooling with a padding past half the window: PyTorch refuses the padding, and
    so does the spec (tests/test_names.py checks the rule against torch)."""
    spec = {"name": "wide", "input": [1, 8, 8], "layers": [
        {"name": "pool", "type": "maxpool", "k": 2, "stride": 2, "padding": 2,
         "ceil_mode": True}]}
    with pytest.raises(SpecError, match="pool \\(maxpool\\): padding 2x2 is more than half"):
        build_graph(spec)


def test_names_and_text_in_the_file_are_safe(tmp_path):
    """Layer names and a spec name with quotes and code (line breaks are refused in a
    spec, docs/errors.md; the label may hold one) end up as comments and identifiers only:
    the file compiles and defines exactly the expected names."""
    spec = {"name": 'Evil"""; import os', "input": [3, 8, 8], "layers": [
        {"name": "a\"\"\"; import os; os.system('x')", "type": "conv", "out": 4, "k": 3},
        {"name": "b'); print('", "type": "relu"},
        {"name": "__init__", "type": "batchnorm"}]}
    text = torch_source(build_graph(spec), "evil\nspec")
    assert "\nimport os" not in text.replace("\nimport torch", "")
    assert not any(line.lstrip().startswith("import os") or ('"""; import' in line and
                                                              "#" not in line)
                   for line in text.splitlines()), text
    namespace = {}
    exec(compile(text, "evil.py", "exec"), namespace)
    model = namespace["build_model"]()
    assert [n for n, _ in model.named_children()] == [
        "a_____import_os__os_system__x__", "b____print__", "layer___init__"]
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 4, 8, 8)


# --------------------------------------------------------------------------- memory

HUGE = ("name: huge\ninput: [4096, 1, 1]\nlayers:\n  - {type: relu}\n"
        "  - {name: fc, type: fc, out: 1000000}\n")


def test_a_module_past_the_memory_limit_is_refused_at_its_layer():
    """4096 x 10^6 weights + 10^6 biases = 4,097,000,000 values (16 GB in float32): a
    SpecError at the fc's line before torch is asked for memory; on the meta device it is
    built, and exact."""
    from costcalc.torch import LIMITS

    assert LIMITS["values"] == 10**9
    with pytest.raises(SpecError) as caught:
        build(HUGE)
    assert str(caught.value) == (
        "<text>:5:5: error: fc (fc): the module's parameters and buffers reach "
        "4,097,000,000 values here, past the limit of 1,000,000,000 (docs/torch.md); "
        "build(..., device='meta') makes it without memory for them")
    model = build(HUGE, device="meta")
    assert model.fc.weight.device.type == "meta" and not cross_check(model)
    with torch.device("meta"):
        assert not cross_check(build(HUGE))
    with pytest.raises(SpecError, match="^costcalc: error: device must be a torch device "
                                        "such as 'cpu' or 'meta', not 'nowhere'$"):
        build(HUGE, device="nowhere")


def test_the_memory_limit_counts_parameters_and_buffers(monkeypatch):
    """conv 3 -> 4, k 3: 108 weights; batch norm of 4: 8 parameters and 8 running
    statistics: 124 values, built at a limit of 124 and refused at 123, at the batch norm."""
    from costcalc import torch as target

    spec = ("name: s\ninput: [3, 8, 8]\nlayers:\n  - {type: conv, out: 4, k: 3}\n"
            "  - {type: batchnorm}\n")
    monkeypatch.setitem(target.LIMITS, "values", 124)
    model = build(spec, device="cpu")
    assert sum(t.numel() for t in model.parameters()) + sum(
        t.numel() for t in model.buffers() if t.is_floating_point()) == 124
    monkeypatch.setitem(target.LIMITS, "values", 123)
    with pytest.raises(SpecError, match=r"^<text>:5:5: error: batchnorm1 \(batchnorm\): .* "
                                        r"reach 124 values"):
        build(spec, device="cpu")
