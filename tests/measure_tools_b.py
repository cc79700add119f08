"""Measure two third-party counters, thop and torchinfo, on every zoo model.

For each zoo variant (a torchvision name in ``costcalc.lang.shipped.variants()``) this builds
``torchvision.models.get_model(name, weights=None)`` (googlenet and inception_v3 with
``aux_logits=False, init_weights=False``), puts it in eval mode and runs, on a zeros image
(1, 3, R, R) with R the costcalc variant's input side:

    thop:      macs, params = thop.profile(model, inputs=(x,), verbose=False)
    torchinfo: s = torchinfo.summary(model, input_size=(1, 3, R, R), verbose=0)
               s.total_mult_adds, s.total_params (s.trainable_params is checked equal)

and merges the integers into tests/data/tool_counts.json:

    {"tools": {"thop": {"version", "call"}, "torchinfo": {...}},
     "models": {name: {"thop": {"macs", "params"}, "torchinfo": {"mult_adds", "params"}}}}

Only the "thop" and "torchinfo" keys are ever written: the file is re-read right before
each write (under a lock) and every other key (another helper's fvcore/ptflops counts) is
kept as it is. A model already measured with the installed tool versions is skipped
(the file is the per-model cache), unless ``--force``. Models run smallest first (by
costcalc's mult-adds), so the big ones come last; one thread, torch.no_grad.

    python tests/measure_tools_b.py                       # every zoo model not yet measured
    python tests/measure_tools_b.py --only resnet50,vgg16 --force
"""
import argparse
import contextlib
import fcntl
import json
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "tool_counts.json"
TOOLS = ("thop", "torchinfo")

BUILD_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
                "inception_v3": {"aux_logits": False, "init_weights": False}}

CALLS = {
    "thop": "thop.profile(model, inputs=(x,), verbose=False) -> (macs, params); "
            "model = torchvision.models.get_model(name, weights=None).eval(), "
            "x = torch.zeros(1, 3, R, R), torch.no_grad, 1 thread",
    "torchinfo": "torchinfo.summary(model, input_size=(1, 3, R, R), verbose=0) -> "
                 ".total_mult_adds, .total_params (== .trainable_params); "
                 "model = torchvision.models.get_model(name, weights=None).eval()",
}


def tool_versions():
    from importlib.metadata import version

    return {"thop": version("thop"), "torchinfo": version("torchinfo")}


def zoo_sides():
    """{name: input side} of every zoo variant, smallest mult-adds first."""
    sys.path.insert(0, str(ROOT))
    from costcalc import analyze
    from costcalc.lang.shipped import variants

    rows = []
    for name in variants():
        report = analyze(name)
        rows.append((report["totals"]["mult_adds"], name, report["input"][1]))
    return {name: side for _, name, side in sorted(rows)}


def build(name):
    from torchvision.models import get_model

    return get_model(name, weights=None, **BUILD_KWARGS.get(name, {})).eval()


def measure(name, side):
    """{"thop": {...}, "torchinfo": {...}} for one model."""
    import thop
    import torch
    import torchinfo

    model = build(name)
    x = torch.zeros(1, 3, side, side)
    with torch.no_grad():
        macs, params = thop.profile(model, inputs=(x,), verbose=False)
    # thop returns float64 totals; every count here is far below 2**53, so exact.
    assert float(macs).is_integer() and float(params).is_integer(), (macs, params)
    stats = torchinfo.summary(model, input_size=(1, 3, side, side), verbose=0)
    assert stats.trainable_params == stats.total_params, name
    return {"thop": {"macs": int(macs), "params": int(params)},
            "torchinfo": {"mult_adds": int(stats.total_mult_adds),
                          "params": int(stats.total_params)}}


@contextlib.contextmanager
def locked(path):
    lock = pathlib.Path(tempfile.gettempdir()) / (path.name + ".lock")
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(path=OUT):
    if path.exists():
        return json.loads(path.read_text())
    return {}


def merge(new_models, versions, path=OUT):
    """Re-read the file and write back with only our tools' keys replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        data = read(path)
        tools = data.setdefault("tools", {})
        for tool in TOOLS:
            tools[tool] = {"version": versions[tool], "call": CALLS[tool]}
        models = data.setdefault("models", {})
        for name, counts in new_models.items():
            entry = models.setdefault(name, {})
            for tool in TOOLS:
                entry[tool] = counts[tool]
        data["models"] = dict(sorted(models.items()))
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
        os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated zoo names")
    parser.add_argument("--force", action="store_true", help="measure again if cached")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    versions = tool_versions()
    sides = zoo_sides()
    names = list(sides)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in sides]
        if unknown:
            parser.error(f"not zoo variants: {', '.join(unknown)}")
        names = [n for n in names if n in wanted]
    tools = read().get("tools", {})
    same_versions = all(tools.get(t, {}).get("version") == versions[t] for t in TOOLS)
    for name in names:
        cached = read().get("models", {}).get(name, {})
        if not args.force and same_versions and all(t in cached for t in TOOLS):
            print(f"{name:<20} cached")
            continue
        start = time.time()
        counts = measure(name, sides[name])
        merge({name: counts}, versions)
        print(f"{name:<20} R={sides[name]:<4} thop {counts['thop']}  torchinfo "
              f"{counts['torchinfo']}  ({time.time() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
