"""Check the thop / torchinfo / Keras counting conventions against costcalc's rows.

Each convention (CONVENTIONS_YAML below; ``--write-yaml`` writes it to
.conventions/thop_torchinfo_keras.yaml) says, per costcalc layer type, which expression
of the layer's quantities a tool counts as mult-adds and as parameters. This script
computes those per-layer expressions from ``costcalc.analyze(name)`` rows, sums them per
model and compares the totals with the integers measured by tests/measure_tools_b.py
(tests/data/tool_counts.json):

    thop:      macs   == sum(mult_adds expr),  params == sum(params expr)
    torchinfo: mult_adds == sum(mult_adds expr), params == sum(params expr)

Two results per model and tool: the per-type convention alone, and the convention with
its ``overrides`` (model- and layer-name-specific corrections, each with the PyTorch
module/op that makes the type rule wrong there). Keras has no measurement here (no
TensorFlow); its parameter totals are printed for reference.

    python tests/conventions_check_b.py                # every measured zoo model
    python tests/conventions_check_b.py resnet50 -v    # per-type breakdown of differences
    python tests/conventions_check_b.py --write-yaml
"""
import argparse
import fnmatch
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
# per-layer quantities (tests/conventions_check_b.py checks them against the measured
# tests/data/tool_counts.json). Quantities: mult_adds, params, weights (params without
# bias), biases, bias_adds (output elements of a conv/fc with bias: biases * Ho * Wo, or
# biases for fc), bn_params, other_ops, in_elements (sum of C*H*W of the inputs),
# out_elements (C*H*W of the output), in_channels, out_channels, in_height, in_width,
# out_height, out_width, kernel_elements (kh*kw, 1 for non-window layers), inputs.
# A type not listed under mult_adds/params counts 0. floor() is math.floor; "/" is a
# float (IEEE double) division, as in the tool.
thop:
  tool: "thop 0.1.1.post2209072238 (PyPI 'thop', the newest; import name thop, metadata 0.1.1-2209072238): thop.profile(model, inputs=(x,))"
  counts: >-
    MACs of the leaf modules whose exact type (type(m), not isinstance) is a key of
    register_hooks, summed per call; parameters only of those modules (numel of
    m.parameters(), once per module). Conv and Linear without bias, BatchNorm and
    LayerNorm as 4 ops per input element (2 per element, doubled when affine), AvgPool2d
    one per output element, AdaptiveAvgPool2d (kernel + 1) per output element. Every
    functional call (F.relu, F.avg_pool2d, F.adaptive_avg_pool2d, x.mean), tensor
    arithmetic (x + y, x * s, torch.cat, flatten, channel shuffle) and every module type
    without a hook (SiLU, Sigmoid, Hardswish, Hardsigmoid, GELU, Identity, Flatten,
    StochasticDepth, Permute, LayerNorm2d, SqueezeExcitation's own code) counts 0 ops
    and 0 params; so do parameters held directly by a non-hooked module (ConvNeXt's
    CNBlock.layer_scale).
  mult_adds:
    conv: mult_adds
    pointwise: mult_adds
    depthwise: mult_adds
    fc: mult_adds
    batchnorm: 4 * in_elements
    layernorm: 4 * in_elements
    avgpool: out_elements
    adaptive_avgpool: floor(((in_height / out_height) * (in_width / out_width) + 1) * out_elements)
  params:
    conv: params
    pointwise: params
    depthwise: params
    fc: params
    batchnorm: bn_params
    layernorm: bn_params
  ignores: [relu, relu6, leaky_relu, sigmoid, tanh, hswish, swish, hardsigmoid, gelu,
            softmax, maxpool, adaptive_maxpool, global_avgpool, add, multiply, concat,
            split, slice, shuffle, flatten, dropout, identity, layer_scale, conv bias,
            fc bias]
  overrides:
    # The type rule holds where the layer is an nn.Module of the hooked type in
    # torchvision; these layers are written otherwise there.
    - models: [inception_v3]
      layers: "*/pool"
      type: avgpool
      mult_adds: "0"
      why: "InceptionA/C/E branch_pool is F.avg_pool2d(x, 3, 1, 1), a function: no hook"
    - models: ["densenet*"]
      layers: avgpool
      type: adaptive_avgpool
      mult_adds: "0"
      why: "DenseNet.forward does F.adaptive_avg_pool2d(out, (1, 1)), a function: no hook"
    - models: ["convnext*"]
      layers: [stem_norm, "stage*/downsample/norm", norm]
      type: layernorm
      mult_adds: "0"
      params: "0"
      why: >-
        torchvision's LayerNorm2d (stem, downsample and head norms) subclasses
        nn.LayerNorm, but thop looks hooks up by exact type: no hook, no ops and its 2*C
        parameters are not counted. The block norms are nn.LayerNorm (hooked, 4 per
        element, 2*C params)
  source_notes: >-
    thop/profile.py: register_hooks lines 21-66 (exact-type table); profile() 157-247:
    add_hooks 173-204 registers fn and count_parameters only for types in custom_ops or
    register_hooks (line 188: m_type in register_hooks, with m_type = type(m)); dfs_count
    214-233 sums total_ops/total_params of hooked modules other than Sequential/ModuleList
    and recurses into the rest (a module's own total_ops is 0 unless hooked, its own
    parameters never counted). thop/vision/basic_hooks.py: count_parameters 11-15
    (total_params[0] = numel of m.parameters(), so a module called twice counts once);
    zero_ops 18-19 (ReLU, ReLU6, MaxPool*, AdaptiveMaxPool*, Dropout, Sequential,
    ZeroPad2d, PixelShuffle); count_convNd 22-34 -> calc_func.calculate_conv2d_flops 28-34
    = prod(output shape) * (in_c // groups) * kh * kw, bias ignored; count_normalization
    60-69 = calculate_norm (2 * x.numel(), calc_func 43-45) doubled if affine /
    elementwise_affine (BatchNorm1-3d, SyncBatchNorm, LayerNorm, InstanceNorm1-3d), in eval
    mode too; count_relu 90-95 (LeakyReLU) -> calculate_relu_flops = 0 (calc_func 47-49);
    count_prelu 82-87; count_softmax 98-103 (3*nfeatures-1 per row); count_avgpool 106-111
    = y.numel() (calc_func 65-66); count_adap_avgpool 114-121 = int((prod(in_hw / out_hw)
    + 1) * y.numel()) in float64 (calc_func 69-72); count_upsample 125-136 (nearest 1,
    linear 5, bilinear 11, bicubic 259 per output element); count_linear 140-147 =
    in_features * y.numel(), bias ignored (calc_func 90-91). The totals are float64
    tensors (profile returns floats); every zoo count is an integer below 2**53.

torchinfo:
  tool: "torchinfo 1.8.0: torchinfo.summary(model, input_size=(1, 3, R, R), verbose=0) -> total_mult_adds, total_params"
  counts: >-
    For every call of every leaf module (one LayerInfo per call), for each of its own
    parameters named exactly "weight" or "bias": numel * prod(output shape without
    dim 1) if the class name contains "Conv", else numel * output_shape[0] (the batch,
    1 here). So a conv counts (weights + biases) * Ho * Wo (its mult-adds plus one add
    per output element for the bias), an nn.Linear on (1, N) its weights + biases, and
    BatchNorm2d / LayerNorm / LayerNorm2d their 2*C affine parameters, once. Parameter-free
    modules, functional calls and tensor arithmetic count 0. Parameters: every parameter
    of the model that is reached by an executed module (leaf modules' own, plus a
    container's parameters not in its children, such as CNBlock.layer_scale): all of
    model.parameters() here.
  mult_adds:
    conv: mult_adds + bias_adds
    pointwise: mult_adds + bias_adds
    depthwise: mult_adds + bias_adds
    fc: mult_adds + bias_adds
    batchnorm: bn_params
    layernorm: bn_params
  params: "params + bn_params"
  ignores: [relu, relu6, leaky_relu, sigmoid, tanh, hswish, swish, hardsigmoid, gelu,
            softmax, maxpool, avgpool, global_avgpool, adaptive_avgpool, adaptive_maxpool,
            add, multiply, concat, split, slice, shuffle, flatten, dropout, identity,
            layer_scale (mult-adds only: its C parameters are counted)]
  overrides:
    - models: ["convnext*"]
      layers: "*"
      type: pointwise
      mult_adds: params
      why: >-
        ConvNeXt's fc1/fc2 (costcalc pointwise) are nn.Linear on a channels-last
        (1, H, W, C) tensor: the class name has no "Conv", so torchinfo multiplies their
        weight and bias numel by output_size[0] = 1, not by H * W
  source_notes: >-
    torchinfo/layer_info.py: calculate_macs 225-245 (the rule above: line 233 name in
    ("weight", "bias"), line 235 '"Conv" in self.class_name' -> numel *
    prod(output_size[:1] + output_size[2:]), line 242 else output_size[0] * numel; names
    with "weight"/"bias" inside, RNNs, 244-245: prod(output_size[:2]) * numel);
    calculate_num_params 182-223 (numel of named_parameters(), requires_grad ->
    trainable). torchinfo/torchinfo.py: construct_pre_hook 568-586 (a LayerInfo per call),
    construct_hook 589-603 (output_size of this call, calculate_macs), apply_hooks 606-669.
    torchinfo/model_statistics.py 31-48: total_mult_adds sums macs of leaf layers (every
    call); total_params sums leaf num_params (a repeated call marked recursive is skipped)
    plus each container's leftover_params (layer_info.py 299-308: its parameters not in
    its children, e.g. CNBlock.layer_scale).

keras:
  tool: "Keras 3.15.1: Model.count_params() / model.summary() 'Total params'"
  counts: >-
    Every weight variable of every layer, trainable or not (Layer.weights), by shape:
    Conv2D/Dense/DepthwiseConv2D kernel plus a bias of out channels when use_bias
    (default True in Keras; costcalc counts the bias the spec declares), BatchNormalization
    gamma, beta (trainable) and moving_mean, moving_variance (non-trainable): 4 per
    channel. LayerNormalization gamma and beta (2 per channel), ConvNeXt's LayerScale
    gamma (1 per channel). No mult-adds.
  params:
    conv: params
    pointwise: params
    depthwise: params
    fc: params
    batchnorm: 2 * bn_params
    layernorm: bn_params
    layer_scale: bn_params
  trainable_params: "params + bn_params"
  non_trainable_params: {batchnorm: bn_params}
  ignores: [every layer without weights]
  notes: >-
    Conv2D(filters, k, use_bias=True): kernel kh*kw*(C_in/groups)*filters + bias filters.
    DepthwiseConv2D(k, depth_multiplier=m, use_bias=True): kernel kh*kw*C_in*m + bias
    C_in*m (a per-channel conv, no C_in x C_out product). Dense(units, use_bias=True):
    in*units + units. A Keras model converted from a torchvision one keeps use_bias=False
    where torch has bias=False, so costcalc's params (weights plus the spec's biases)
    are its conv/dense counts; a Keras-native model that leaves use_bias at True has
    out_channels more per conv (its biases are then in the spec or not counted).
  source_notes: >-
    keras/src/layers/normalization/batch_normalization.py 241-275: build adds gamma
    (if scale, trainable=True), beta (if center, trainable=True), moving_mean and
    moving_variance (trainable=False), each of shape (C,); center=scale=True by default
    (165-166). keras/src/layers/convolutional/base_conv.py 190-220: kernel
    kernel_size + (C_in // groups, filters), bias (filters,) if use_bias; use_bias=True by
    default (base_conv.py 101, conv2d.py 108). base_depthwise_conv.py 150-185: kernel
    kernel_size + (C_in, depth_multiplier), bias (depth_multiplier * C_in,) if use_bias
    (default True: base_depthwise_conv.py 93, depthwise_conv2d.py 110).
    keras/src/layers/core/dense.py 136-150: kernel (in, units), bias (units,) if use_bias
    (default True, line 88). layer_normalization.py 155-182: gamma and beta of shape
    (C,). applications/convnext.py 199-204: LayerScale gamma (projection_dim,).
    layers/layer.py 712-730 (weights = trainable + non-trainable variables of the layer
    and its sublayers, deduplicated) and 1523-1537 (count_params);
    utils/summary_utils.py 20-22 (count_params = sum of prod(shape)) and 324-344
    (summary: Trainable + Non-trainable = Total params).
'''


# --------------------------------------------------------------------------- quantities

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


def layer_quantities(report):
    """[(row, {quantity: value})] for every layer row of a costcalc report."""
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
        out.append((row, q))
    return out


def evaluate(expr, q):
    return eval(str(expr), {"__builtins__": {}, "floor": math.floor, "ceil": math.ceil},
                dict(q))


# --------------------------------------------------------------------------- conventions

def conventions():
    return yaml.safe_load(CONVENTIONS_YAML)


def _rule(rules, row_type):
    """Expression for a layer type: a mapping gives per-type (absent: 0), a string all."""
    if rules is None:
        return "0"
    if isinstance(rules, str):
        return rules
    return rules.get(row_type, "0")


def _override(conv, model, row, key):
    for over in conv.get("overrides") or []:
        if over.get("type") != row["type"] or key not in over:
            continue
        if not any(fnmatch.fnmatchcase(model, pat) for pat in over["models"]):
            continue
        layers = over.get("layers", "*")
        layers = [layers] if isinstance(layers, str) else layers
        if any(fnmatch.fnmatchcase(row["name"], pat) for pat in layers):
            return over[key]
    return None


def totals(conv, model, report, use_overrides=True, breakdown=None):
    """{"mult_adds": int, "params": int} of a convention on one model."""
    result = {}
    for key in ("mult_adds", "params"):
        if key not in conv:
            continue
        total = 0
        for row, q in layer_quantities(report):
            expr = _override(conv, model, row, key) if use_overrides else None
            if expr is None:
                expr = _rule(conv[key], row["type"])
            value = evaluate(expr, q)
            assert value == int(value), (expr, value)
            total += int(value)
            if breakdown is not None:
                breakdown.setdefault(key, {}).setdefault(row["type"], 0)
                breakdown[key][row["type"]] += int(value)
        result[key] = total
    return result


MEASURED_KEYS = {"thop": {"mult_adds": "macs", "params": "params"},
                 "torchinfo": {"mult_adds": "mult_adds", "params": "params"}}


def check_model(name, report, measured, convs):
    """{tool: {"plain": {key: diff}, "overrides": {key: diff}}} (diff = ours - tool)."""
    out = {}
    for tool, keys in MEASURED_KEYS.items():
        if tool not in measured:
            continue
        out[tool] = {}
        for mode in ("plain", "overrides"):
            ours = totals(convs[tool], name, report, use_overrides=(mode == "overrides"))
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
    names = args.names or [n for n in variants() if n in data]
    exact = {(t, m): 0 for t in MEASURED_KEYS for m in ("plain", "overrides")}
    count = 0
    for name in names:
        measured = data.get(name, {})
        if not all(t in measured for t in MEASURED_KEYS):
            print(f"{name:<20} not measured")
            continue
        count += 1
        report = analyze(name)
        result = check_model(name, report, measured, convs)
        cells = []
        for tool in MEASURED_KEYS:
            for mode in ("plain", "overrides"):
                diff = result[tool][mode]
                ok = not any(diff.values())
                exact[tool, mode] += ok
                if mode == "overrides" or not ok:
                    cells.append(f"{tool}/{mode}: " + ("exact" if ok else ", ".join(
                        f"{k} {v:+,}" for k, v in diff.items() if v)))
        keras = totals(convs["keras"], name, report)
        print(f"{name:<20} " + "; ".join(cells) + f"; keras params {keras['params']:,}")
        if args.verbose:
            for tool in MEASURED_KEYS:
                breakdown = {}
                totals(convs[tool], name, report, breakdown=breakdown)
                print(f"    {tool}: {breakdown}")
    print(f"{count} models measured")
    for (tool, mode), n in exact.items():
        print(f"  {tool:<10} {mode:<10} exact (mult-adds and params): {n}/{count}")
    return 0 if all(exact[t, "overrides"] == count for t in MEASURED_KEYS) else 1


if __name__ == "__main__":
    sys.exit(main())
