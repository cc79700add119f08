"""A spec with every layer type (tests/test_torch_target.py, tests/test_export_text.py)."""

EVERY_LAYER = """\
name: Every layer type
input: [3, 17, 19]
layers:
  - {name: x, type: identity}
  - {name: c1, type: conv, out: 12, k: 3, stride: 2, input: input}
  - {name: c2, type: conv, out: 12, k: [3, 5], stride: [1, 2], dilation: 2, groups: 3, bias: true}
  - {name: c3, type: conv, out: 12, k: 3, padding: [2, 1]}
  - {name: c4, type: conv2d, out: 12, k: 3, padding: valid}
  - {name: pw, type: pointwise, out: 24, groups: 4, stride: 2, bias: true}
  - {name: pw1, type: pointwise, out: 24}
  - {name: dw, type: depthwise, k: 3, stride: 2, multiplier: 2, bias: true}
  - {name: train, type: batchnorm}
  - {name: forward, type: layernorm}
  - {name: 1, type: layer_scale}
  - {name: a/b, type: relu}
  - {type: relu6}
  - {type: leaky_relu}
  - {type: sigmoid}
  - {type: tanh}
  - {type: hswish}
  - {type: swish}
  - {type: hardsigmoid}
  - {type: gelu}
  - {name: se_pool, type: global_avgpool}
  - {name: se_gate, type: sigmoid}
  - {name: scaled, type: multiply, inputs: [gelu1, se_gate]}
  - {name: add, type: add, inputs: [scaled, gelu1, scaled]}
  - {name: mp_same, type: maxpool, k: 3, stride: 2, input: c1}
  - {name: ap_same, type: avgpool, k: 3, stride: 2, input: c1}
  - {name: ap_sym, type: avgpool, k: 3, stride: 1, input: c1}
  - {name: mp_ceil, type: maxpool, k: 3, stride: 2, padding: 1, ceil_mode: true, input: c1}
  - {name: ap_ceil, type: avgpool, k: 2, stride: 2, padding: [1, 0], ceil_mode: true, input: c1}
  - {name: mp_valid, type: maxpool, k: [2, 1], padding: valid, input: c1}
  - {name: amp, type: adaptive_maxpool, size: [5, 3], input: c1}
  - {name: aap, type: adaptive_avgpool, size: 4, input: c1}
  - {name: cat, type: concat, inputs: [mp_same, ap_same]}
  - {name: third, type: split, parts: 3, part: 1}
  - {name: sl, type: slice, start: 2, stop: 7, input: cat}
  - {name: sl0, type: slice, stop: 6, input: cat}
  - {name: shuf, type: shuffle, groups: 3}
  - {name: drop, type: dropout, rate: 0.1}
  - {name: sd, type: stochastic_depth, rate: 0.2}
  - {name: flat, type: flatten}
  - {name: fc1, type: fc, out: 10, bias: false, input: add}
  - {name: fc2, type: fc, out: 7}
  - {name: prob, type: softmax}
"""
