"""Measure two third-party FLOPs counters, fvcore and ptflops, on every zoo model.

For each zoo variant (the names of ``costcalc.lang.shipped.variants()``: torchvision CNN
classifiers) this builds ``torchvision.models.get_model(name, weights=None)`` on the CPU
(``aux_logits=False, init_weights=False`` for googlenet and inception_v3, as
tests/zoo_reference.py does), in eval mode, and runs under ``torch.no_grad()``:

    fvcore  0.1.5.post20221221   FlopCountAnalysis(model, x).total()  and
                                 parameter_count(model)[""],  x = zeros(1, 3, R, R)
    ptflops 0.7.5                get_model_complexity_info(model, (3, R, R),
                                 as_strings=False, print_per_layer_stat=False)
                                 (its default backend, FLOPS_BACKEND.PYTORCH: module
                                 hooks plus patched torch.nn.functional / tensor ops)

with R the input side of costcalc's variant (torchvision's crop size). The integers go to
tests/data/tool_counts.json:

    {"tools": {"fvcore": {"version", "call"}, "ptflops": {"version", "call", ...}},
     "models": {name: {"fvcore": {"flops", "params"}, "ptflops": {"macs", "params"}}}}

The file is shared with other measurements (thop, torchinfo): every write re-reads it
and replaces only the "fvcore" and "ptflops" keys. A model whose two entries are already
there is skipped (the file is the cache) unless ``--force``; models run from the smallest
costcalc mult-add count to the largest, and the file is written after each one.

    python tests/measure_tools.py                        # every model not yet measured
    python tests/measure_tools.py --only resnet50,vgg16 --force
    python tests/measure_tools.py --threads 2

The counts depend on shapes only, not on values; PyTorch's meta device cannot be used
because fvcore traces the model with torch.jit, which fails on meta tensors.
tests/test_conventions.py reproduces these integers from the specs under costcalc/counting/conventions.yaml.
"""
import argparse
import contextlib
import io
import json
import os
import pathlib
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(__file__).resolve().parent / "data" / "tool_counts.json"
BUILD_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
                "inception_v3": {"aux_logits": False, "init_weights": False}}
TOOLS = ("fvcore", "ptflops")


def tool_info():
    from importlib.metadata import version

    return {
        "fvcore": {
            "version": version("fvcore"),
            "call": "FlopCountAnalysis(model, torch.zeros(1, 3, R, R)).total(); "
                    "parameter_count(model)['']",
            "unit": "flops = multiply-accumulates (fvcore counts one fused multiply-add "
                    "as one flop)",
        },
        "ptflops": {
            "version": version("ptflops"),
            "call": "get_model_complexity_info(model, (3, R, R), as_strings=False, "
                    "print_per_layer_stat=False)",
            "backend": "pytorch (FLOPS_BACKEND.PYTORCH, the default of "
                       "get_model_complexity_info in 0.7.5)",
            "unit": "macs = multiply-accumulates",
        },
        "_setup": {
            "measured_by": "tests/measure_tools.py",
            "model": "torchvision.models.get_model(name, weights=None) on the CPU, eval(), "
                     "torch.no_grad(); aux_logits=False, init_weights=False for googlenet "
                     "and inception_v3",
            "input": "(1, 3, R, R), R = the input side of costcalc's zoo variant",
            "torch": _torch_versions(),
        },
    }


def _torch_versions():
    import torch
    import torchvision

    return f"torch {torch.__version__}, torchvision {torchvision.__version__}"


def zoo_sides():
    """{name: input side} of every zoo variant, ordered by costcalc's mult-adds."""
    sys.path.insert(0, str(ROOT))
    from costcalc import analyze
    from costcalc.lang.shipped import variants

    reports = {name: analyze(name) for name in variants()}
    order = sorted(reports, key=lambda n: (reports[n]["totals"]["mult_adds"], n))
    return {name: reports[name]["input"][1] for name in order}


def build(name):
    from torchvision.models import get_model

    return get_model(name, weights=None, **BUILD_KWARGS.get(name, {})).eval()


def measure_fvcore(name, side):
    import torch
    from fvcore.nn import FlopCountAnalysis, parameter_count

    model = build(name)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(model, torch.zeros(1, 3, side, side))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops = analysis.total()
        unsupported = dict(analysis.unsupported_ops())
    return {"flops": int(flops), "params": int(parameter_count(model)[""]),
            "_unsupported": unsupported}


def measure_ptflops(name, side):
    import torch
    from ptflops import get_model_complexity_info

    model = build(name)
    text = io.StringIO()
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(text):
        warnings.simplefilter("ignore")
        macs, params = get_model_complexity_info(model, (3, side, side), as_strings=False,
                                                 print_per_layer_stat=False)
    if macs is None:
        raise RuntimeError(f"ptflops failed on {name}:\n{text.getvalue()}")
    return {"macs": int(macs), "params": int(params)}


def load(path=OUT):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def merge_write(results, path=OUT):
    """Re-read ``path`` and write it back with ``results`` ({name: {tool: entry}}) and
    this script's tool descriptions merged in; every other key is kept."""
    data = load(path)
    tools = data.setdefault("tools", {})
    info = tool_info()
    setup = info.pop("_setup")
    for tool, description in info.items():
        tools[tool] = {**description, "setup": setup}
    models = data.setdefault("models", {})
    for name, entries in results.items():
        models.setdefault(name, {}).update(entries)
    data["models"] = dict(sorted(models.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tool_counts.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated zoo names")
    parser.add_argument("--force", action="store_true", help="measure again")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    sides = zoo_sides()
    names = [n for n in args.only.split(",") if n] or list(sides)
    unknown = [n for n in names if n not in sides]
    if unknown:
        parser.error(f"not zoo variants: {', '.join(unknown)}")
    names = [n for n in sides if n in names]          # smallest first
    tools = [t for t in args.tools.split(",") if t]
    done = load().get("models", {})
    for name in names:
        todo = [t for t in tools if args.force or t not in done.get(name, {})]
        if not todo:
            continue
        entry = {}
        for tool in todo:
            start = time.time()
            result = (measure_fvcore if tool == "fvcore" else measure_ptflops)(name,
                                                                               sides[name])
            unsupported = result.pop("_unsupported", None)
            entry[tool] = result
            print(f"{name:<20} R={sides[name]:<4} {tool:<8} "
                  + "  ".join(f"{k} {v:>15,}" for k, v in result.items())
                  + f"  ({time.time() - start:.1f} s)"
                  + (f"  not counted: {sorted(unsupported)}" if unsupported else ""),
                  flush=True)
        merge_write({name: entry})
    return 0


if __name__ == "__main__":
    sys.exit(main())
