"""Check the thop / torchinfo / Keras counting conventions against costcalc's rows.

Each convention (CONVENTIONS_YAML below; ``--write-yaml`` writes it to
.conventions/thop_torchinfo_keras.yaml) says, per costcalc layer type, which expression
of the layer's quantities a tool counts as mult-adds and as parameters. This script
computes those per-layer expressions from ``costcalc.analyze(name)`` rows, sums them per
model and compares the totals with the integers measured by tests/measure_tools_b.py
(tests/data/tool_counts.json):

    thop:      macs   == sum(mult_adds expr),  params == sum(params expr)
    torchinfo: mult_adds == sum(mult_adds expr), params == sum(params expr)

The expressions use two quantities costcalc does not have, from how torchvision computes
a layer: ``module`` (an instance of a torch.nn layer class itself) and ``linear`` (an
nn.Linear); the zoo's exceptions are the tables TORCH_CALLS and LINEAR. Two results per
model and tool: "types" (defaults only: every layer a module, only fc linear) and
"tables" (with the tables), which must be exact. Keras is not measured here (no
TensorFlow); its convention is held against seven keras.applications models counted
once with keras 3.15.1 on the torch backend (KERAS_APPLICATIONS).

    python tests/conventions_check_b.py                # every measured zoo model
    python tests/conventions_check_b.py resnet50 -v    # per-type breakdown of differences
    python tests/conventions_check_b.py --write-yaml
"""
import argparse
import json
import math
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "tool_counts.json"
YAML_OUT = ROOT / ".conventions" / "thop_torchinfo_keras.yaml"

CONVENTIONS_YAML = r'''# Counting conventions of thop, torchinfo and Keras, as expressions of costcalc's
# per-layer quantities (issue 10). Measured on every zoo model by tests/measure_tools_b.py
# (tests/data/tool_counts.json) and checked against these expressions by
# tests/conventions_check_b.py: all 68 zoo models exact for both tools.
#
# Quantities: mult_adds, params, weights (params without bias), biases, bias_adds (output
# elements of a conv/fc with bias: biases * Ho * Wo, or biases for fc), bn_params,
# other_ops, in_elements (sum of C*H*W of the inputs), out_elements (C*H*W of the
# output), in_channels, out_channels, in_height, in_width, out_height, out_width,
# kernel_elements (kh*kw, 1 for non-window layers), inputs. A type not listed counts 0;
# "/" is a float (IEEE double) division and floor() math.floor, as in the tool.
#
# Quantities beyond those costcalc has (how torchvision computes the layer; the zoo's
# exceptions are the tables TORCH_CALLS and LINEAR in tests/conventions_check_b.py):
#   module      1 when torchvision computes the layer by calling an instance of a torch.nn
#               layer class itself (nn.BatchNorm2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
#               nn.LayerNorm, ...), else 0. Default 1. 0 for (the same table as
#               .conventions/fvcore_ptflops.yaml):
#                 densenet*        relu5, avgpool          F.relu, F.adaptive_avg_pool2d
#                 googlenet        every relu              F.relu (BasicConv2d)
#                 inception_v3     every relu; Mixed_*/pool F.relu; F.avg_pool2d/F.max_pool2d
#                 mobilenet_v2     pool                    F.adaptive_avg_pool2d
#                 shufflenet_v2_*  globalpool              x.mean([2, 3])
#                 mnasnet*         pool                    x.mean([2, 3])
#                 convnext_*       stem_norm, */downsample/norm, norm   LayerNorm2d, a
#                                  subclass of nn.LayerNorm: not the class itself
#   linear      1 when torchvision computes the layer with nn.Linear, else 0: every fc, and
#               ConvNeXt's block pointwise layers fc1/fc2 (nn.Linear on a channels-last
#               (1, H, W, C) tensor, after Permute).
thop:
  tool: "thop 0.1.1.post2209072238 (PyPI thop, the newest; metadata version 0.1.1-2209072238): thop.profile(model, inputs=(x,))"
  counts: >-
    MACs of the modules whose exact type (type(m), not isinstance) is a key of
    register_hooks, per call: conv and Linear without bias, BatchNorm and LayerNorm 4 per
    input element (2, doubled when affine), AvgPool2d 1 per output element,
    AdaptiveAvgPool2d (kernel + 1) per output element, ReLU/ReLU6/LeakyReLU/MaxPool/Dropout 0.
    Parameters only of those hooked modules, once each. Functional calls (F.relu,
    F.avg_pool2d, F.adaptive_avg_pool2d), tensor arithmetic (x + y, x * s in SE blocks,
    torch.cat, x.mean, flatten, channel shuffle), modules without a hook (SiLU, Sigmoid,
    Hardswish, Hardsigmoid, GELU, Identity, Flatten, StochasticDepth, Permute,
    LayerNorm2d) count 0 ops and 0 params, and so do parameters held by a non-hooked
    module itself (ConvNeXt's CNBlock.layer_scale).
  mult_adds:
    conv: mult_adds
    pointwise: mult_adds
    depthwise: mult_adds
    fc: mult_adds
    batchnorm: 4 * in_elements * module
    layernorm: 4 * in_elements * module
    avgpool: out_elements * module
    adaptive_avgpool: floor(((in_height / out_height) * (in_width / out_width) + 1) * out_elements) * module
    global_avgpool: (in_elements + out_elements) * module
  params:
    conv: params
    pointwise: params
    depthwise: params
    fc: params
    batchnorm: bn_params * module
    layernorm: bn_params * module
  ignores: [relu, relu6, leaky_relu, sigmoid, tanh, hswish, swish, hardsigmoid, gelu,
            softmax, maxpool, adaptive_maxpool, add, multiply, concat, split, slice,
            shuffle, flatten, dropout, identity, layer_scale]
  source_notes: >-
    thop/profile.py: register_hooks lines 21-66 (the exact-type table); profile() 157-247:
    add_hooks 173-204 registers the op hook and count_parameters only when type(m) is in
    custom_ops or register_hooks (183-188); dfs_count 214-233 takes total_ops/total_params
    of a hooked module that is not Sequential/ModuleList and recurses into every other
    (whose own total_ops stays 0 and whose own parameters are never counted).
    thop/vision/basic_hooks.py: count_parameters 11-15 (total_params[0] = numel of
    m.parameters(): a module called twice counts its parameters once, its ops twice);
    zero_ops 18-19 (ReLU, ReLU6, MaxPool1-3d, AdaptiveMaxPool1-3d, Dropout, Sequential,
    ZeroPad2d, PixelShuffle); count_convNd 22-34 -> thop/vision/calc_func.py
    calculate_conv2d_flops 28-34: prod(output shape) * (in_c // groups) * kh * kw, the bias
    ignored; count_normalization 60-69: calculate_norm (calc_func 43-45) 2 * x.numel(),
    times 2 if affine / elementwise_affine (BatchNorm1-3d, SyncBatchNorm, LayerNorm,
    InstanceNorm1-3d), in eval mode too; count_relu 90-95 (LeakyReLU) ->
    calculate_relu_flops = 0 (calc_func 47-49); count_prelu 82-87; count_softmax 98-103
    (3 * nfeatures - 1 per row); count_avgpool 106-111: y.numel() (calc_func 65-66);
    count_adap_avgpool 114-121: int((prod(in_hw / out_hw) + 1) * y.numel()) in float64
    (calc_func 69-72); count_upsample 125-136 (nearest 1, linear 5, bilinear 11, bicubic
    259 per output element); count_linear 140-147: in_features * y.numel(), the bias
    ignored (calc_func 90-91). profile() returns float64 totals (exact here: below 2**53).

torchinfo:
  tool: "torchinfo 1.8.0: torchinfo.summary(model, input_size=(1, 3, R, R), verbose=0) -> total_mult_adds, total_params"
  counts: >-
    Per call of every leaf module, for each of its own parameters named exactly "weight"
    or "bias": numel * prod(output shape without dim 1) if the module's class name
    contains "Conv", else numel * output_shape[0] (the batch, 1 here). So a conv counts
    (weights + biases) * Ho * Wo (its mult-adds plus one add per output element for its
    bias); an nn.Linear its weights + biases, whatever the positions (ConvNeXt's
    channels-last fc1/fc2 too); BatchNorm2d, LayerNorm and LayerNorm2d their 2*C affine
    parameters, once. Modules without parameters, functional calls and tensor arithmetic
    count 0; so does layer_scale (a parameter of the non-leaf CNBlock, named
    "layer_scale"). Parameters: all of model.parameters() that executed modules hold
    (leaf modules' own plus each container's leftover, such as CNBlock.layer_scale).
  mult_adds:
    conv: mult_adds + bias_adds
    pointwise: "params if linear else mult_adds + bias_adds"
    depthwise: mult_adds + bias_adds
    fc: mult_adds + bias_adds
    batchnorm: bn_params
    layernorm: bn_params
  params: "params + bn_params"
  ignores: [relu, relu6, leaky_relu, sigmoid, tanh, hswish, swish, hardsigmoid, gelu,
            softmax, maxpool, avgpool, global_avgpool, adaptive_avgpool, adaptive_maxpool,
            add, multiply, concat, split, slice, shuffle, flatten, dropout, identity,
            layer_scale]
  source_notes: >-
    torchinfo/layer_info.py: calculate_macs 225-245 (line 233 name in ("weight", "bias");
    235-240 '"Conv" in self.class_name' -> int(numel * prod(output_size[:1] +
    output_size[2:])); 241-242 else output_size[0] * numel; 244-245 other names containing
    "weight"/"bias" (RNN weight_ih_l0 ...) prod(output_size[:2]) * numel);
    calculate_num_params 182-223 (numel of named_parameters(), trainable if
    requires_grad). torchinfo/torchinfo.py: construct_pre_hook 568-586 (a LayerInfo per
    call), construct_hook 589-603 (this call's output_size, then calculate_macs),
    apply_hooks 606-669. torchinfo/model_statistics.py 31-48: total_mult_adds sums macs
    of leaf layers (every call); total_params sums leaf num_params (a module's repeated
    call, marked recursive, skipped) plus each container's leftover_params
    (layer_info.py 299-308: its parameters not in its children, e.g. CNBlock.layer_scale).

keras:
  tool: "Keras 3.15.1: Model.count_params() / model.summary() 'Total params'"
  counts: >-
    Every weight variable of every layer, trainable or not, by shape. Conv2D, Dense and
    DepthwiseConv2D: kernel plus a bias of out channels when use_bias (Keras' default is
    True; costcalc's params hold the biases the spec declares). BatchNormalization: gamma
    and beta (trainable) plus moving_mean and moving_variance (non-trainable), 4 per
    channel: trainable params + bn_params, non-trainable bn_params.
    LayerNormalization: gamma and beta; ConvNeXt's LayerScale: gamma (C). No mult-adds.
  params:
    conv: params
    pointwise: params
    depthwise: params
    fc: params
    batchnorm: 2 * bn_params
    layernorm: bn_params
    layer_scale: bn_params
  ignores: [every layer without weights]
  notes: >-
    Conv2D(filters, k, groups=g, use_bias=True): kernel kh*kw*(C_in/g)*filters, bias
    filters. DepthwiseConv2D(k, depth_multiplier=m, use_bias=True): kernel kh*kw*C_in*m,
    bias C_in*m (one filter per channel: costcalc's depthwise params with bias).
    Dense(units, use_bias=True): in*units + units. Checked with keras 3.15.1 on the torch
    backend (keras.applications, weights=None, count_params()): MobileNetV2 3,538,984,
    DenseNet121 8,062,504, ConvNeXtTiny 28,589,128, VGG16 138,357,544 equal this
    convention on the torchvision spec; ResNet50 25,636,712 is it plus 26,560 conv biases
    (Keras' ResNet50 leaves use_bias=True); InceptionV3 23,851,784 is it minus 17,216
    (Keras' conv2d_bn uses BatchNormalization(scale=False): 3 per channel);
    EfficientNetB0 5,330,571 is it plus 7 (its input Normalization layer: mean 3, variance
    3, count 1). Non-trainable totals = bn_params (ResNet50 53,120; MobileNetV2 34,112).
  source_notes: >-
    keras/src/layers/normalization/batch_normalization.py 241-275: build adds gamma (if
    scale, trainable=True), beta (if center, trainable=True), moving_mean and
    moving_variance (trainable=False), each of shape (C,); center=scale=True by default
    (165-166). keras/src/layers/convolutional/base_conv.py 190-220: kernel kernel_size +
    (C_in // groups, filters), bias (filters,) if use_bias; use_bias=True by default
    (base_conv.py 101, conv2d.py 108). base_depthwise_conv.py 150-185: kernel kernel_size +
    (C_in, depth_multiplier), bias (depth_multiplier * C_in,) if use_bias (default True:
    base_depthwise_conv.py 93, depthwise_conv2d.py 110). keras/src/layers/core/dense.py
    136-150: kernel (in, units), bias (units,) if use_bias (default True, line 88).
    layers/normalization/layer_normalization.py 155-182: gamma and beta (C,).
    applications/convnext.py 199-204: LayerScale gamma (projection_dim,).
    layers/layer.py 712-730 (weights: the layer's and its sublayers' trainable and
    non-trainable variables, deduplicated), 1523-1537 (count_params);
    utils/summary_utils.py 20-22 (count_params = sum of prod(shape)), 324-344 (summary:
    Trainable + Non-trainable = Total params).
'''

# How torchvision 0.29 computes the zoo layers that are not an instance of a torch.nn
# layer class itself: (model-name regex, costcalc layer type or None for any, layer-name
# regex, call). The same table as TORCH_CALLS in tests/conventions_check.py. Every other
# layer is a module (module = 1).
TORCH_CALLS = [
    # DenseNet.forward: F.relu(features, inplace=True); F.adaptive_avg_pool2d(out, (1, 1))
    (r"densenet\d+", "relu", r"relu5", "functional"),
    (r"densenet\d+", "adaptive_avgpool", r"avgpool", "functional"),
    # BasicConv2d.forward: F.relu(x, inplace=True) (googlenet.py, inception.py)
    (r"googlenet|inception_v3", "relu", r".*", "functional"),
    # InceptionA/C/E: F.avg_pool2d(x, 3, 1, 1); InceptionB/D: F.max_pool2d(x, 3, 2)
    (r"inception_v3", None, r"Mixed_\w+/pool", "functional"),
    # MobileNetV2._forward_impl: nn.functional.adaptive_avg_pool2d(x, (1, 1))
    (r"mobilenet_v2", "global_avgpool", r"pool", "functional"),
    # ShuffleNetV2 and MNASNet: x.mean([2, 3])
    (r"shufflenet_v2_.*", "global_avgpool", r"globalpool", "method"),
    (r"mnasnet.*", "global_avgpool", r"pool", "method"),
    # ConvNeXt: LayerNorm2d (stem, downsampling, head), a subclass of nn.LayerNorm (not
    # the class itself: thop's exact-type lookup misses it); the blocks' norm is nn.LayerNorm
    (r"convnext_.*", "layernorm", r"stem_norm|.*/downsample/norm|norm", "functional"),
]

# Layers torchvision computes with nn.Linear (linear = 1): every fc, and ConvNeXt's block
# pointwise layers (CNBlock: Permute, nn.Linear(dim, 4 * dim), GELU, nn.Linear(4 * dim,
# dim), Permute): (model-name regex, layer type, layer-name regex).
LINEAR = [
    (r".*", "fc", r".*"),
    (r"convnext_.*", "pointwise", r"stage\d+/\d+/fc[12]"),
]

# Keras applications built with keras 3.15.1 on the torch backend (weights=None,
# Model.count_params()), against the keras convention on the torchvision spec of the same
# network: {zoo name: (Keras application, count_params(), difference explained)}.
KERAS_APPLICATIONS = {
    "mobilenet_v2": ("MobileNetV2", 3538984, None),
    "densenet121": ("DenseNet121", 8062504, None),
    "convnext_tiny": ("ConvNeXtTiny", 28589128, None),
    "vgg16": ("VGG16", 138357544, None),
    "resnet50": ("ResNet50", 25636712, "conv_biases"),      # every Conv2D use_bias=True
    "inception_v3": ("InceptionV3", 23851784, "bn_no_scale"),  # BatchNormalization(scale=False)
    "efficientnet_b0": ("EfficientNetB0", 5330571, 7),      # input Normalization: 3 + 3 + 1
}


def _prod(values):
    out = 1
    for v in values:
        out *= v
    return out


def _kernel_elements(row):
    match = re.match(r"^(\d+)x(\d+)", row.get("kernel") or "")
    if match and row["type"] in ("conv", "pointwise", "depthwise", "maxpool", "avgpool"):
        return int(match.group(1)) * int(match.group(2))
    return 1


def torch_call(model, row):
    for model_re, layer_type, name_re, call in TORCH_CALLS:
        if (re.fullmatch(model_re, model) and layer_type in (None, row["type"])
                and re.fullmatch(name_re, row["name"])):
            return call
    return "module"


def is_linear(model, row):
    return any(re.fullmatch(m, model) and t == row["type"] and re.fullmatch(n, row["name"])
               for m, t, n in LINEAR)


def layer_quantities(report, model, use_tables=True):
    """[(row, {quantity: value})] for every layer row of a costcalc report. Without the
    tables, module is 1 for every layer and linear 1 for fc only."""
    shapes = {"input": list(report["input"])}
    out = []
    for row in report["layers"]:
        ins = [shapes[name] for name in row["inputs"]]
        shapes[row["name"]] = row["output"]
        c, h, w = row["output"]
        first = ins[0]
        q = {"mult_adds": row["mult_adds"], "params": row["params"],
             "bn_params": row["bn_params"], "other_ops": row["other_ops"],
             "in_elements": sum(_prod(s) for s in ins), "out_elements": c * h * w,
             "in_channels": first[0], "in_height": first[1], "in_width": first[2],
             "out_channels": c, "out_height": h, "out_width": w,
             "kernel_elements": _kernel_elements(row), "inputs": len(ins)}
        weights = biases = bias_adds = 0
        if row["type"] in ("conv", "pointwise", "depthwise"):
            assert row["mult_adds"] % (h * w) == 0, row
            weights = row["mult_adds"] // (h * w)
            biases = row["params"] - weights
            bias_adds = biases * h * w
        elif row["type"] == "fc":
            weights = row["mult_adds"]
            biases = row["params"] - weights
            bias_adds = biases
        assert biases in (0, c), (row["name"], biases)
        q.update(weights=weights, biases=biases, bias_adds=bias_adds)
        if use_tables:
            q["module"] = int(torch_call(model, row) == "module")
            q["linear"] = int(is_linear(model, row))
        else:
            q["module"], q["linear"] = 1, int(row["type"] == "fc")
        out.append((row, q))
    return out


def evaluate(expr, q):
    return eval(str(expr), {"__builtins__": {}, "floor": math.floor, "ceil": math.ceil},
                dict(q))


def conventions():
    return yaml.safe_load(CONVENTIONS_YAML)


def _rule(rules, row_type):
    """Expression for a layer type: a mapping gives per-type (absent: 0), a string all."""
    if rules is None:
        return "0"
    if isinstance(rules, str):
        return rules
    return rules.get(row_type, "0")


def totals(conv, model, report, use_tables=True, breakdown=None):
    """{"mult_adds": int, "params": int} of a convention on one model."""
    rows = layer_quantities(report, model, use_tables)
    result = {}
    for key in ("mult_adds", "params"):
        if key not in conv:
            continue
        total = 0
        for row, q in rows:
            value = evaluate(_rule(conv[key], row["type"]), q)
            assert value == int(value) and value >= 0, (row["name"], key, value)
            total += int(value)
            if breakdown is not None:
                breakdown.setdefault(key, {}).setdefault(row["type"], 0)
                breakdown[key][row["type"]] += int(value)
        result[key] = total
    return result


def keras_expected(name, report, convention_params):
    """Keras count_params() of the application listed for ``name``, and what the keras
    convention plus the listed model difference predicts."""
    app, measured, diff = KERAS_APPLICATIONS[name]
    rows = report["layers"]
    if diff == "conv_biases":
        extra = sum(r["output"][0] for r in rows if r["type"] in ("conv", "pointwise",
                                                                    "depthwise"))
    elif diff == "bn_no_scale":
        extra = -sum(r["bn_params"] // 2 for r in rows if r["type"] == "batchnorm")
    else:
        extra = diff or 0
    return app, measured, convention_params + extra, extra


MEASURED_KEYS = {"thop": {"mult_adds": "macs", "params": "params"},
                 "torchinfo": {"mult_adds": "mult_adds", "params": "params"}}
MODES = ("types", "tables")   # per-type rules with the defaults only / with the tables


def check_model(name, report, measured, convs):
    """{tool: {mode: {key: ours - tool's}}}."""
    out = {}
    for tool, keys in MEASURED_KEYS.items():
        out[tool] = {}
        for mode in MODES:
            ours = totals(convs[tool], name, report, use_tables=(mode == "tables"))
            out[tool][mode] = {k: ours[k] - measured[tool][m] for k, m in keys.items()}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--write-yaml", action="store_true",
                        help=f"write the conventions to {YAML_OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.write_yaml:
        YAML_OUT.parent.mkdir(parents=True, exist_ok=True)
        YAML_OUT.write_text(CONVENTIONS_YAML)
        print(f"wrote {YAML_OUT}")
        return 0
    sys.path.insert(0, str(ROOT))
    from costcalc import analyze
    from costcalc.shipped import variants

    convs = conventions()
    data = json.loads(DATA.read_text())["models"]
    names = args.names or list(variants())
    exact = {(t, m): 0 for t in MEASURED_KEYS for m in MODES}
    count = keras_ok = keras_n = 0
    failed = []
    for name in names:
        measured = data.get(name, {})
        if not all(t in measured for t in MEASURED_KEYS):
            print(f"{name:<20} not measured")
            failed.append(name)
            continue
        count += 1
        report = analyze(name)
        result = check_model(name, report, measured, convs)
        cells = []
        for tool in MEASURED_KEYS:
            for mode in MODES:
                diff = result[tool][mode]
                ok = not any(diff.values())
                exact[tool, mode] += ok
                if mode == "tables" and not ok:
                    failed.append(name)
                if mode == "tables" or not ok:
                    cells.append(f"{tool}[{mode}] " + ("exact" if ok else ", ".join(
                        f"{k} {v:+,}" for k, v in diff.items() if v)))
        keras = totals(convs["keras"], name, report)["params"]
        line = f"{name:<20} " + "; ".join(cells) + f"; keras params {keras:,}"
        if name in KERAS_APPLICATIONS:
            app, measured_k, predicted, extra = keras_expected(name, report, keras)
            keras_n += 1
            keras_ok += predicted == measured_k
            line += (f" (keras.applications.{app} {measured_k:,}: "
                     f"{'equal' if predicted == measured_k else 'DIFFERS'}"
                     f"{f' with {extra:+,}' if extra else ''})")
        print(line)
        if args.verbose:
            for tool in MEASURED_KEYS:
                breakdown = {}
                totals(convs[tool], name, report, breakdown=breakdown)
                print(f"    {tool}: {breakdown}")
    print(f"{count} models measured")
    for (tool, mode), n in exact.items():
        print(f"  {tool:<10} {mode:<7} exact (mult-adds and params): {n}/{count}")
    print(f"  keras applications matching: {keras_ok}/{keras_n}")
    return 1 if failed or keras_ok != keras_n else 0


if __name__ == "__main__":
    sys.exit(main())
