"""Reproduce fvcore's and ptflops's totals from costcalc's layer rows, to the integer.

A counting convention (.conventions/fvcore_ptflops.yaml, issue 10) gives, per costcalc
layer type, an expression of the layer's quantities for its mult-adds, and one for its
parameters. This script evaluates each convention on costcalc's ``analyze(name)`` rows of
every zoo model and compares the sum with the integers the tool itself printed
(tests/data/tool_counts.json, written by tests/measure_tools.py).

Quantities of a layer row (input shapes from the rows named in ``inputs``; the image shape
for "input"):

    mult_adds, params, bn_params, other_ops      costcalc's own counts
    weights       params without the bias: mult_adds / (out_height * out_width) for conv,
                  pointwise, depthwise and fc (fc's output is (N, 1, 1)), else 0
    biases        params - weights
    bias_adds     out_elements when biases > 0, else 0 (N*Ho*Wo for a conv, N for fc)
    in_elements   sum of C*H*W over the inputs      out_elements   C*H*W of the output
    in_channels, in_height, in_width (first input), out_channels, out_height, out_width
    kernel_elements   kh*kw of conv/pointwise/depthwise/maxpool/avgpool, 1 otherwise
    inputs        number of inputs
    module, functional   how torchvision computes the layer (see TORCH_CALLS below):
                  module 1 for an nn.Module of a torch.nn class itself, functional 1 for a
                  torch.nn.functional call from torchvision's code (or LayerNorm2d, whose
                  forward calls F.layer_norm), both 0 for a Tensor method or operator.
                  Default module 1, functional 0.

    python tests/conventions_check.py               # every model, both tools
    python tests/conventions_check.py --types-only  # without TORCH_CALLS (defaults only)
    python tests/conventions_check.py resnet50 -v   # per-type totals of one model
"""
import argparse
import json
import math
import pathlib
import re
import sys
from collections import defaultdict

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
COUNTS = pathlib.Path(__file__).resolve().parent / "data" / "tool_counts.json"
CONVENTIONS = ROOT / ".conventions" / "fvcore_ptflops.yaml"
TOOLS = {"fvcore": "flops", "ptflops": "macs"}      # tool: its key for the op count
WEIGHTED = {"conv", "pointwise", "depthwise", "fc"}
WINDOWED = {"conv", "pointwise", "depthwise", "maxpool", "avgpool"}

# How torchvision 0.29 computes the zoo layers that are not a torch.nn module of their own
# class: (model-name regex, costcalc layer type or None for any, layer-name regex, call).
# "functional": a torch.nn.functional call in torchvision's code; "method": a Tensor
# method or operator. Everything else is a module (nn.ReLU, nn.MaxPool2d, ...).
TORCH_CALLS = [
    # DenseNet.forward: F.relu(features, inplace=True); F.adaptive_avg_pool2d(out, (1, 1))
    (r"densenet\d+", "relu", r"relu5", "functional"),
    (r"densenet\d+", "adaptive_avgpool", r"avgpool", "functional"),
    # BasicConv2d.forward: F.relu(x, inplace=True) (googlenet.py:275, inception.py:407)
    (r"googlenet|inception_v3", "relu", r".*", "functional"),
    # InceptionA/C/E: F.avg_pool2d(x, 3, 1, 1); InceptionB/D: F.max_pool2d(x, 3, 2)
    (r"inception_v3", None, r"Mixed_\w+/pool", "functional"),
    # MobileNetV2._forward_impl: nn.functional.adaptive_avg_pool2d(x, (1, 1))
    (r"mobilenet_v2", "global_avgpool", r"pool", "functional"),
    # ShuffleNetV2 and MNASNet: x.mean([2, 3])
    (r"shufflenet_v2_.*", "global_avgpool", r"globalpool", "method"),
    (r"mnasnet.*", "global_avgpool", r"pool", "method"),
    # ConvNeXt: LayerNorm2d (stem, downsampling, head), a subclass of nn.LayerNorm whose
    # forward calls F.layer_norm; the blocks' norm is nn.LayerNorm itself
    (r"convnext_.*", "layernorm", r"stem_norm|.*/downsample/norm|norm", "functional"),
]


def torch_call(model, row):
    for model_re, layer_type, name_re, call in TORCH_CALLS:
        if (re.fullmatch(model_re, model) and layer_type in (None, row["type"])
                and re.fullmatch(name_re, row["name"])):
            return call
    return "module"


def _kernel_elements(row):
    if row["type"] in WINDOWED:
        match = re.match(r"(\d+)x(\d+)", row.get("kernel") or "")
        if match:
            return int(match.group(1)) * int(match.group(2))
        if row["type"] == "pointwise":
            return 1
        raise ValueError(f"no kernel in {row['name']}: {row.get('kernel')!r}")
    return 1


def quantities(report, model, use_calls=True):
    """[(row, {quantity: value})] for every layer of costcalc's ``report``."""
    shapes = {"input": list(report["input"])}
    out = []
    for row in report["layers"]:
        in_shapes = [shapes[name] for name in row["inputs"]]
        c, h, w = row["output"]
        out_elements = c * h * w
        weights = 0
        if row["type"] in WEIGHTED:
            weights, rest = divmod(row["mult_adds"], h * w)
            assert not rest, f"{model} {row['name']}: mult_adds not a multiple of Ho*Wo"
        biases = row["params"] - weights
        assert biases in (0, c) or row["type"] not in WEIGHTED, \
            f"{model} {row['name']}: {biases} biases for {c} output channels"
        call = torch_call(model, row) if use_calls else "module"
        q = {
            "mult_adds": row["mult_adds"], "params": row["params"],
            "bn_params": row["bn_params"], "other_ops": row["other_ops"],
            "weights": weights, "biases": biases,
            "bias_adds": out_elements if biases else 0,
            "in_elements": sum(math.prod(s) for s in in_shapes),
            "out_elements": out_elements,
            "in_channels": in_shapes[0][0], "in_height": in_shapes[0][1],
            "in_width": in_shapes[0][2],
            "out_channels": c, "out_height": h, "out_width": w,
            "kernel_elements": _kernel_elements(row), "inputs": len(in_shapes),
            "module": int(call == "module"), "functional": int(call == "functional"),
        }
        shapes[row["name"]] = row["output"]
        out.append((row, q))
    return out


def evaluate(expression, q):
    if isinstance(expression, (int, float)):
        return expression
    value = eval(str(expression), {"__builtins__": {}}, dict(q))   # noqa: S307 (own file)
    assert float(value).is_integer(), f"{expression!r} gave {value}"
    return int(value)


def convention_totals(convention, rows):
    """(total mult-adds, total params, {type: mult-adds}) of ``convention`` on ``rows``."""
    by_type = defaultdict(int)
    params = 0
    param_rule = convention.get("params", "params + bn_params")
    for row, q in rows:
        expression = convention["mult_adds"].get(row["type"], 0)
        by_type[row["type"]] += evaluate(expression, q)
        rule = param_rule.get(row["type"], 0) if isinstance(param_rule, dict) else param_rule
        params += evaluate(rule, q)
    return sum(by_type.values()), params, dict(by_type)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--conventions", default=str(CONVENTIONS))
    parser.add_argument("--counts", default=str(COUNTS))
    parser.add_argument("--types-only", action="store_true",
                        help="ignore TORCH_CALLS: every layer a module (module 1, functional 0)")
    parser.add_argument("-v", "--verbose", action="store_true", help="per-type totals")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from costcalc import analyze

    conventions = yaml.safe_load(pathlib.Path(args.conventions).read_text())
    measured = json.loads(pathlib.Path(args.counts).read_text())["models"]
    names = args.names or sorted(measured)
    exact = defaultdict(int)
    checked = defaultdict(int)
    failures = []
    for name in names:
        report = analyze(name)
        rows = quantities(report, name, use_calls=not args.types_only)
        line = [f"{name:<20}"]
        for tool, key in TOOLS.items():
            got = measured.get(name, {}).get(tool)
            if got is None:
                line.append(f"{tool}: not measured")
                continue
            total, params, by_type = convention_totals(conventions[tool], rows)
            checked[tool] += 1
            ok = total == got[key] and params == got["params"]
            exact[tool] += ok
            if ok:
                line.append(f"{tool} ok {total:>15,}")
            else:
                line.append(f"{tool} MISMATCH {key} {total:,} vs {got[key]:,} "
                            f"({total - got[key]:+,}), params {params:,} vs "
                            f"{got['params']:,}")
                failures.append((name, tool))
            if args.verbose:
                line.append("\n    " + ", ".join(f"{t} {v:,}" for t, v in
                                                 sorted(by_type.items()) if v))
        print("  ".join(line))
    print("; ".join(f"{tool}: {exact[tool]} of {checked[tool]} exact" for tool in TOOLS)
          + (" (types only, without TORCH_CALLS)" if args.types_only else ""))
    print(f"{sum(exact.values())} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
