"""Every layer type, declared once: attributes, shape rule, cost formulas, PyTorch code, docs.

Shapes are ``Shape`` values (costcalc.core.shape), C x H x W today. A layer type is a
subclass of ``LayerType`` registered with ``@register``; its docstring is its user documentation (see
``docs/layers.md``, which ``tests/test_docs.py`` keeps in step with these modules), its
``torch_forms`` its PyTorch code as text (``costcalc.interop`` writes or evaluates it).

Cost of one layer (see ``docs/conventions.md``):

- ``mult_adds``: multiply-accumulates of conv and fully connected layers only;
- ``params``: their weights plus biases;
- ``bn_params``: batch norm's learned scale and shift (2 per channel);
- ``other_ops``: element operations of batch norm, activations, pooling, adds
  and softmax, counted apart and never mixed into the two headline numbers.

Symbols in the formulas: D_k (kernel side, kh x kw when not square), M input
channels, N output channels, D_f output side (Ho x Wo), g groups.

Modules: ``base`` (the registry, attribute kinds, ``LayerType``, ``Cost``), ``code``
(PyTorch text and padding), then the types: ``conv``, ``elementwise``, ``pool``,
``joins``, ``modern``. They register in that order, which is the order of docs/layers.md
and of the JSON Schema; a new type goes into the module of its kind.
"""
from costcalc.layers.base import (REQUIRED, TYPES, Cost, LayerType,  # noqa: F401
                                  attr_schema, canonical_types, check_attr, conv_side,
                                  lookup, register)
from costcalc.layers.code import (LayerCode, NoTorchForm, channels_last_code,  # noqa: F401
                                  expression_code, f_pad, module_code, pair_text, same_pads,
                                  window_pads)
from costcalc.layers.conv import Conv, Depthwise, FullyConnected, Pointwise  # noqa: F401
from costcalc.layers.elementwise import BatchNorm, Elementwise  # noqa: F401
from costcalc.layers.pool import (AvgPool, GlobalAvgPool, MaxPool, Pool,  # noqa: F401
                                  pool_pads, pooled_elements)
from costcalc.layers.joins import Add, ChannelShuffle, Concat, Dropout, Flatten  # noqa: F401
from costcalc.layers.modern import (AdaptiveAvgPool, AdaptiveMaxPool,  # noqa: F401
                                    AdaptivePool, Identity, LayerNorm, LayerScale,
                                    Multiply, Slice, Split, adaptive_windows)
