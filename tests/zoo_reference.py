"""The zoo's reference: torchvision's own models, measured layer by layer.

For every zoo variant (a torchvision name declared under ``variants:`` in a spec in
specs/: the family specs, and paper specs that are a torchvision model as they stand,
such as mobilenet_v2) this builds ``torchvision.models.get_model(name, weights=None)``, hooks every nn.Conv2d
and nn.Linear, runs one forward pass on a zeros image of the variant's input size, and
records per module call, in execution order:

    mult_adds = weight.numel() * output positions  (conv: Ho * Wo; linear:
                out.numel() / out_features, 1 for a (1, N) output)
    params    = weight.numel() + bias.numel()

``compare(report, measured)`` holds that list against costcalc's layer rows (those with
mult_adds > 0 or params > 0, in order) as (mult_adds, params) pairs, exactly, and the
total ``params + bn_params`` against ``sum(p.numel() for p in model.parameters())``. In
the same forward pass a dispatch mode counts every convolution and matrix product with
the formulas of PyTorch's flop counter, in a module or not; half its FLOPs must equal the hooked modules' mult-adds, so
no product escapes the comparison (a functional F.conv2d or torch.matmul would).

The forward pass runs on PyTorch's meta device: parameters and activations have shapes
but no data, so no weights are initialised and no arithmetic is done, while every module
runs the same code as on the CPU (the counts depend on shapes only). Building
regnet_y_128gf on the CPU takes over 20 s; on the meta device a fraction of a second.
``--device cpu`` measures on the CPU instead (zeros image, real arithmetic), to confirm
that both agree.

Command line (from the checkout):

    python tests/zoo_reference.py                 # compare every zoo variant
    python tests/zoo_reference.py resnet50 vgg16  # some of them, with the first mismatch
    python tests/zoo_reference.py --dump          # rewrite tests/data/torchvision_meta.json

``--dump`` writes, for every classifier of ``torchvision.models.list_models(module=
torchvision.models)``: its DEFAULT weights' enum name, their meta ``_ops`` (GFLOPS, which
torchvision counts as multiply-accumulates) and ``num_params``, and the crop and resize
sizes of their transforms (the crop is torchvision's input size, the zoo's resolution).
"""
import argparse
import json
import os
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
META_JSON = pathlib.Path(__file__).resolve().parent / "data" / "torchvision_meta.json"

# torchvision's keyword arguments beyond weights=None: no auxiliary classifiers (they
# only run in training) and no truncated-normal initialisation (slow, and irrelevant).
BUILD_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
                "inception_v3": {"aux_logits": False, "init_weights": False}}

# --------------------------------------------------------------------------- the zoo

def zoo_variants(specs_dir=SPECS):
    """{torchvision name: (spec path, variant mapping)} for every ``variants:`` entry of
    every spec in ``specs_dir``, sorted by name."""
    found = {}
    for path in sorted(pathlib.Path(specs_dir).glob("*.yaml")):
        with open(path, encoding="utf-8") as handle:
            tree = yaml.safe_load(handle)
        for name, variant in ((tree or {}).get("variants") or {}).items():
            found[name] = (str(path), dict(variant or {}))
    return dict(sorted(found.items()))


def costcalc_report(name, variants=None):
    """costcalc's report for zoo variant ``name``, asked for by its torchvision name (as
    ``costcalc resnet50`` does). The name must lead to the family spec that declares it."""
    from costcalc import analyze
    from costcalc.lang.shipped import resolve

    path, variant = (variants or zoo_variants())[name]
    found = resolve(name)[0]
    if os.path.realpath(found) != os.path.realpath(path):
        raise AssertionError(f"costcalc finds {name} in {found}, not in {path}")
    return analyze(name)


def costcalc_report_of(path, variant):
    """costcalc's report for a ``variant`` mapping ({set, resolution}) of the spec at
    ``path``: the same as by name, for a spec that is not shipped (a changed copy)."""
    from costcalc import analyze

    return analyze(str(path), overrides=variant.get("set") or None,
                   resolution=variant.get("resolution"))


def costcalc_rows(report):
    """[(layer name, mult_adds, params)] of the rows that have mult-adds or parameters."""
    return [(row["name"], row["mult_adds"], row["params"]) for row in report["layers"]
            if row["mult_adds"] > 0 or row["params"] > 0]


# --------------------------------------------------------------------------- torch side

def _build(name, device):
    """torchvision's model ``name`` without weights, in eval mode, on ``device``."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torchvision.models import get_model

    kwargs = BUILD_KWARGS.get(name, {})
    if device != "meta":
        return get_model(name, weights=None, **kwargs).eval().to(device)

    class EmptyOnMeta(TorchFunctionMode):
        """torch.empty (how nn.Conv2d, nn.Linear, nn.BatchNorm2d ... allocate their
        parameters) makes meta tensors; every other factory stays on the CPU, so model
        code that computes its widths with tensors (RegNet's BlockParams) still runs."""

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.empty and kwargs.get("device") is None:
                kwargs["device"] = "meta"
            return func(*args, **kwargs)

    with EmptyOnMeta():
        model = get_model(name, weights=None, **kwargs)
    return model.eval().to("meta")   # buffers made by torch.zeros/ones follow


def measure(name, side, device="meta"):
    """torchvision's ``name`` on a (1, 3, side, side) zeros image: {"layers": [(module
    name, type, mult_adds, params)] per Conv2d/Linear call in execution order,
    "params": sum of model.parameters(), "all_mult_adds": half the FLOPs of every convolution
    and matrix product of the same pass, in a module or not, by the formulas of
    PyTorch's flop counter}."""
    import torch
    from torch import nn

    model = _build(name, device)
    layers, handles = [], []

    def hook(module_name):
        def record(module, inputs, output):
            weight = module.weight.numel()
            if isinstance(module, nn.Conv2d):
                positions = output.shape[-2] * output.shape[-1]
            else:  # Linear: one product per output row ((1, N) -> 1; (1, L, N) -> L)
                positions = output.numel() // module.out_features
            bias = module.bias.numel() if module.bias is not None else 0
            layers.append((module_name, type(module).__name__, weight * positions,
                           weight + bias))
        return record

    for module_name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            handles.append(module.register_forward_hook(hook(module_name)))
    counter = _product_counter()
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, side, side, device=device))
    for handle in handles:
        handle.remove()
    return {"layers": layers, "params": sum(p.numel() for p in model.parameters()),
            "all_mult_adds": counter.flops // 2}


def _product_counter():
    """A dispatch mode that adds up the FLOPs of every operator PyTorch's flop counter
    has a formula for (convolution, mm, addmm, bmm, baddbmm, attention ...), with its
    formulas. Unlike FlopCounterMode it does not decompose the other operators first
    (batch norm's decomposition makes the pass several times slower); the products that
    a model writes functionally (F.conv2d, F.linear, torch.matmul, einsum) reach the
    dispatcher as those registered operators all the same."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class ProductCounter(TorchDispatchMode):
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.flops += formula(*args, **kwargs, out_val=out)
            return out

    return ProductCounter()


# --------------------------------------------------------------------------- comparison

def compare_rows(ours, theirs):
    """None if costcalc's rows [(name, mult_adds, params)] equal torch's [(module, type,
    mult_adds, params)] pairwise, else a readable description of the first mismatch."""
    for index, (mine, torch_row) in enumerate(zip(ours, theirs)):
        if mine[1:] != torch_row[2:]:
            before = ""
            if index:
                before = (f"\n  (layer {index - 1} matched: costcalc {ours[index - 1][0]} = "
                          f"torch {theirs[index - 1][0]})")
            return (f"layer {index}: costcalc {mine[0]!r} has mult_adds {mine[1]:,}, params "
                    f"{mine[2]:,}; torch {torch_row[0]!r} ({torch_row[1]}) has mult_adds "
                    f"{torch_row[2]:,}, params {torch_row[3]:,}" + before)
    if len(ours) != len(theirs):
        longer, who = (ours, "costcalc") if len(ours) > len(theirs) else (theirs, "torch")
        extra = longer[min(len(ours), len(theirs))][0]
        return (f"costcalc has {len(ours)} layers with mult-adds or parameters, torch "
                f"{len(theirs)} Conv2d/Linear calls; all {min(len(ours), len(theirs))} "
                f"in common match, then {who} goes on with {extra!r}")
    return None


def compare_totals(report, measured):
    """None if costcalc's params + bn_params equal model.parameters(), else the message."""
    totals = report["totals"]
    learned = totals["params"] + totals["bn_params"]
    if learned == measured["params"]:
        return None
    return (f"learned parameters: costcalc params {totals['params']:,} + bn_params "
            f"{totals['bn_params']:,} = {learned:,}; torch model.parameters() "
            f"{measured['params']:,} (difference {learned - measured['params']:+,})")


def compare_unhooked(measured):
    """None if the Conv2d/Linear calls are all the model's products, else the message:
    the dispatcher also sees functional convolutions and matrix products (F.conv2d,
    torch.matmul) that no module hook sees, and costcalc would have to count them too."""
    hooked = sum(row[2] for row in measured["layers"])
    if hooked == measured["all_mult_adds"]:
        return None
    return (f"torch computes {measured['all_mult_adds']:,} mult-adds (FLOPs / 2) "
            f"but its Conv2d/Linear modules only {hooked:,}: "
            f"{measured['all_mult_adds'] - hooked:,} are outside them")


def compare(report, measured):
    """Every difference between costcalc's ``report`` and torch's ``measured``, as a list
    of messages (empty: an exact match)."""
    problems = [compare_rows(costcalc_rows(report), measured["layers"]),
                compare_totals(report, measured), compare_unhooked(measured)]
    return [p for p in problems if p]


# --------------------------------------------------------------------------- metadata

def torchvision_meta():
    """{name: {weights, gflops, num_params, crop_size, resize_size}} for every classifier
    torchvision ships, from its DEFAULT weights (no download: metadata only)."""
    import torchvision
    from torchvision.models import get_model_weights, list_models

    meta = {}
    for name in list_models(module=torchvision.models):
        weights = get_model_weights(name).DEFAULT
        transforms = weights.transforms()
        meta[name] = {
            "weights": f"{type(weights).__name__}.{weights.name}",
            "gflops": weights.meta["_ops"],
            "num_params": weights.meta["num_params"],
            "crop_size": _side(transforms.crop_size),
            "resize_size": _side(transforms.resize_size),
        }
    return {"torchvision": torchvision.__version__.split("+")[0],
            "note": "DEFAULT weights of every classifier in torchvision.models: meta _ops "
                    "(GFLOPS, counted as multiply-accumulates), num_params, and the crop "
                    "and resize sizes of weights.transforms(). Written by "
                    "tests/zoo_reference.py --dump.",
            "models": meta}


def _side(size):
    size = list(size) if isinstance(size, (list, tuple)) else [size]
    return size[0] if len(set(size)) == 1 else size


def dump(path=META_JSON):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(torchvision_meta(), indent=1, sort_keys=True) + "\n")
    return path


# --------------------------------------------------------------------------- command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="zoo variants (default: all)")
    parser.add_argument("--dump", action="store_true",
                        help=f"write {os.path.relpath(META_JSON, ROOT)} and stop")
    parser.add_argument("--device", default="meta", choices=["meta", "cpu"])
    args = parser.parse_args(argv)
    if args.dump:
        print(f"wrote {dump()}")
        return 0
    sys.path.insert(0, str(ROOT))
    variants = zoo_variants()
    unknown = [n for n in args.names if n not in variants]
    if unknown:
        parser.error(f"not zoo variants: {', '.join(unknown)} (known: {', '.join(variants)})")
    failed = 0
    for name in args.names or variants:
        report = costcalc_report(name, variants)
        measured = measure(name, report["input"][1], args.device)
        problems = compare(report, measured)
        failed += bool(problems)
        totals = report["totals"]
        print(f"{name:<20} {'ok' if not problems else 'MISMATCH':<9} "
              f"mult_adds {totals['mult_adds']:>15,}  learned params "
              f"{totals['params'] + totals['bn_params']:>12,}  ({len(measured['layers'])} "
              f"conv/linear, input {report['input'][1]})")
        for problem in problems:
            print("    " + problem)
    print(f"{len(args.names or variants) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
