"""Differential test against PyTorch: generated specs, built by costcalc.torch.build and
written by `costcalc export --torch`, equal costcalc exactly (docs/fuzzing.md).

Each spec is a random valid network of every layer type (a seeded random.Random, not
hypothesis: a valid spec in a few milliseconds): a chain of layers with random attributes
(kernels, strides, dilations, every padding form, ceil_mode, groups, biases, branches
read by add, multiply and concat, torch_call forms), at random input sizes, some under
`padding: explicit`, some at alpha 0.5. A layer that makes the spec invalid, or that
export refuses (docs/torch.md), is drawn again. Then, on PyTorch's meta device:

- build(): tests/test_torch_target.py's cross-check (parameters per layer and in total,
  FlopCounterMode's FLOPs / 2 per layer's module and in total, every layer's shape);
- the exported file: the same parameter and buffer shapes, the same FLOPs per module and
  in total, the same output shape of every module and of the network as build()'s.

CI runs CASES specs at seed COSTCALC_FUZZ_SEED (0); COSTCALC_FUZZ=long runs LONG_CASES;
COSTCALC_DIFF_CASES sets the number.
"""
import os
import random

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from costcalc.core.errors import SpecError  # noqa: E402
from costcalc.interop.export import Plan, build_graph, torch_source  # noqa: E402
from costcalc.build.graph import TORCH_CALLS  # noqa: E402
from costcalc.layers import canonical_types  # noqa: E402
from costcalc.torch import build  # noqa: E402
from test_torch_target import cross_check  # noqa: E402  (tests/ is on sys.path)

CASES, LONG_CASES = 300, 3000
LONG = os.environ.get("COSTCALC_FUZZ", "ci").strip().lower() == "long"
COUNT = int(os.environ.get("COSTCALC_DIFF_CASES", LONG_CASES if LONG else CASES))
SEED = int(os.environ.get("COSTCALC_FUZZ_SEED", "0"))
KINDS = [t.name for t in canonical_types()]
MULTI = {"add", "multiply", "concat"}


def _attrs(r, kind, c):
    """Random attributes of a ``kind`` layer whose input has ``c`` channels."""
    divisors = [g for g in range(1, c + 1) if c % g == 0]
    pair = lambda *options: r.choice(options)  # noqa: E731
    window = {"k": pair(1, 2, 3, 5, [1, 3], [3, 2]), "stride": pair(1, 1, 2, 3, [2, 1]),
              "padding": pair("same", "same", "valid", 0, 1, 2, [1, 0], [0, 2])}
    if kind == "conv":
        groups = r.choice(divisors)
        return dict(window, out=groups * r.randint(1, 6), groups=groups,
                    dilation=pair(1, 1, 2), bias=r.random() < 0.3)
    if kind == "pointwise":
        groups = r.choice(divisors)
        return {"out": groups * r.randint(1, 6), "groups": groups, "stride": pair(1, 1, 2),
                "bias": r.random() < 0.3}
    if kind == "depthwise":
        return dict(window, multiplier=r.choice([1, 1, 2]), dilation=pair(1, 1, 2),
                    bias=r.random() < 0.3)
    if kind == "fc":
        return {"out": r.randint(1, 12), "bias": r.random() < 0.7}
    if kind in ("maxpool", "avgpool"):
        return dict(window, ceil_mode=r.random() < 0.3)
    if kind == "shuffle":
        return {"groups": r.choice(divisors)}
    if kind == "dropout":
        return {"rate": 0.1}
    if kind == "split":
        parts = r.choice([g for g in divisors if g > 1] or [1])
        return {"parts": parts, "part": r.randrange(parts)}
    if kind == "slice":
        stop = r.randint(1, c)
        return {"start": r.randrange(stop), "stop": stop}
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        return {"size": pair(1, 2, 3, [2, 3])}
    return {}


def _inputs(r, kind, graph):
    """Names for a layer with several inputs: the previous layer and others of its
    shape (add, and multiply also a C x 1 x 1 gate) or of its height and width (concat)."""
    last = graph.nodes[-1]
    c, h, w = last.shape
    fits = [n.name for n in graph.nodes[:-1] if (
        n.shape == last.shape if kind == "add" else
        n.shape in (last.shape, (c, 1, 1)) if kind == "multiply" else n.shape[1:] == (h, w))]
    return [last.name] + r.sample(fits, min(len(fits), r.randint(1, 2))) if fits \
        else [last.name, last.name]


def generated(r):
    """(spec dict, build settings) of one random valid network that export can write."""
    spec = {"name": f"diff{r.randrange(10**6)}",
            "input": [r.choice([1, 3, 4, 8, 16]), r.randint(1, 40), r.randint(1, 40)],
            "layers": []}
    if r.random() < 0.2:
        spec["padding"] = "explicit"
    settings = {"alpha": 0.5} if r.random() < 0.2 else {}
    graph = None
    for _ in range(r.randint(1, 14)):
        for _attempt in range(8):
            kind = r.choice(KINDS)
            if graph is None and kind in MULTI:
                continue
            c = graph.nodes[-1].shape[0] if graph else spec["input"][0]
            entry = dict({"name": f"l{len(spec['layers'])}", "type": kind}, **_attrs(r, kind, c))
            if kind in MULTI:
                entry["inputs"] = _inputs(r, kind, graph)
            if r.random() < 0.3:
                entry["torch_call"] = r.choice(TORCH_CALLS)
            spec["layers"].append(entry)
            try:
                candidate = build_graph(spec, **settings)
                Plan(candidate)
            except SpecError:       # invalid here, or refused by export: draw again
                spec["layers"].pop()
                continue
            graph = candidate
            break
    return (spec, settings) if graph else generated(r)


def file_problems(model, graph, label):
    """Differences between the exported file's module and ``model`` (build()'s, whose every
    layer the cross-check holds to costcalc) on the meta device: the parameter and buffer
    shapes, FLOPs per module and in total, each module's output shape, the output's."""
    namespace = {"__name__": "exported"}
    exec(compile(torch_source(graph, label), f"{label}.py", "exec"), namespace)
    with torch.device("meta"):
        exported = namespace["build_model"]().eval()
    found = []
    for module in (exported, model):
        shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        outputs = {}
        hooks = [child.register_forward_hook(
            lambda m, args, out, name=name: outputs.__setitem__(name, tuple(out.shape)))
            for name, child in module.named_children()]
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            out = module(torch.zeros((1,) + tuple(graph.input_shape), device="meta"))
        for hook in hooks:
            hook.remove()
        flops = {k.split(".", 1)[-1]: sum(v.values())
                 for k, v in counter.get_flop_counts().items()}
        found.append({"state dict shapes": shapes, "module outputs": outputs,
                      "FLOPs per module": flops, "FLOPs": counter.get_total_flops(),
                      "output": tuple(out.shape)})
    return [f"{key}: the file {found[0][key]}, build() {found[1][key]}"
            for key in found[0] if found[0][key] != found[1][key]]


def test_generated_specs_equal_pytorch():
    r = random.Random(SEED)
    failures, kinds = [], set()
    for number in range(COUNT):
        spec, settings = generated(r)
        graph = build_graph(spec, **settings)
        kinds |= {node.type.name for node in graph.nodes}
        with torch.device("meta"):
            model = build(spec, **settings).eval()
        problems = cross_check(model) + file_problems(model, graph, spec["name"])
        if problems:
            failures.append(f"case {number} {settings} {spec}:\n  " + "\n  ".join(problems[:5]))
    print(f"differential: {COUNT} generated specs, seed {SEED}, {len(failures)} failures")
    assert not failures, f"{len(failures)} of {COUNT} specs differ:\n" + "\n".join(failures[:5])
    assert kinds == set(KINDS), sorted(set(KINDS) - kinds)
