"""The JSON Schema of the spec language, generated from the declarations the validator
uses (top-level keys, entry keys, every layer type's attributes and their kinds, the
keys of expectations), so that an editor with a YAML language server checks and
completes specs (docs/spec-language.md). ``costcalc schema`` prints it.
"""
from costcalc.lang.entries import CALL_KEYS, ENTRY_KEYS, GROUP_KEYS, REPEAT_KEYS
from costcalc.layers import attr_schema, canonical_types
from costcalc.lang.expectations import KEYS as EXPECT_KEYS, METRICS, PRINTED_AS
from costcalc.lang.spec import PADDING_RULES, TOP_KEYS, VARIANT_KEYS, WIDTH_RULES

TEMPLATE = {"type": "string", "pattern": "\\$", "description": "an expression: $name or ${...}"}
_INT = {"type": "integer"}

NAME = {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def _value(kind):
    return {"anyOf": [attr_schema(kind, TEMPLATE), TEMPLATE]}


def _entry_keys(keys):
    """Schemas of the keys every entry kind shares."""
    known = {
        "name": NAME, "stage": NAME, "when": {"anyOf": [{"type": "boolean"}, TEMPLATE]},
        "input": {"type": "string"},
        "inputs": {"anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1},
                             TEMPLATE]},
        "repeat": {"anyOf": [{**_INT, "minimum": 0}, TEMPLATE]},
        "as": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
        "block": {"type": "string"}, "layers": {"$ref": "#/$defs/layers"},
        "torch_call": {"enum": ["module", "functional", "method", "linear"]},
        "in_pieces": {"type": "boolean"},
    }
    return {key: known[key] for key in keys if key in known}


def _layer_schema(layer_type):
    names = [layer_type.name] + list(layer_type.aliases)
    properties = {"type": {"anyOf": [{"enum": names}, TEMPLATE]}}
    properties.update({key: _value(kind) for key, (kind, _) in layer_type.attrs.items()})
    properties.update(_entry_keys(k for k in ENTRY_KEYS if k != "type"))
    doc = (type(layer_type).__doc__ or "").strip().splitlines()[0]
    return {"title": layer_type.name, "description": doc, "type": "object",
            # required attributes may come from the spec's defaults: checked when built
            "required": ["type"],
            "properties": properties, "additionalProperties": False}


def schema():
    """The JSON Schema (draft 2020-12) of a spec file."""
    layer_types = canonical_types()
    # a literal type picks its attributes; a type given by an expression is checked when built
    by_type = [{"if": {"properties": {"type": {"enum": [t.name, *t.aliases]}}},
                "then": _layer_schema(t)} for t in layer_types]
    entry = {"type": "object", "anyOf": [
        {"title": "layer", "required": ["type"], "not": {"required": ["repeat"]},
         "properties": {"type": {"anyOf": [
             {"enum": sorted(k for t in layer_types for k in [t.name, *t.aliases])}, TEMPLATE]}},
         "allOf": by_type},
        {"title": "block call", "required": ["block"], "not": {"required": ["repeat"]},
         "properties": _entry_keys(CALL_KEYS)},
        {"title": "repeat", "required": ["repeat"], "properties": _entry_keys(REPEAT_KEYS)},
        {"title": "group", "required": ["layers"], "not": {"required": ["repeat"]},
         "properties": _entry_keys(GROUP_KEYS), "additionalProperties": False},
    ]}
    param = {"anyOf": [{"type": ["number", "string", "boolean", "array", "object"]},
                       {"type": "object", "required": ["default"],
                        "properties": {"default": {}, "choices": {"type": "array"},
                                       "doc": {"type": "string"}},
                        "additionalProperties": False}]}
    expectation = {"type": "object", "required": ["metric", "printed", "source"],
                   "properties": {key: {} for key in EXPECT_KEYS}, "additionalProperties": False}
    expectation["properties"].update(metric={"enum": list(METRICS)},
                                     printed_as={"enum": list(PRINTED_AS)},
                                     printed={"type": ["string", "number"]},
                                     source={"type": "string"}, why={"type": "string"})
    properties = {
        "name": {"type": "string"}, "source": {"type": "string"},
        "description": {}, "notes": {},
        "input": {"type": "array", "items": {**_INT, "minimum": 1}, "minItems": 3, "maxItems": 3},
        "padding": {"enum": list(PADDING_RULES)},
        "params": {"type": "object", "additionalProperties": param},
        "width": {"type": "object", "additionalProperties": False,
                  "properties": {"rule": {"enum": list(WIDTH_RULES)},
                                 "min": {**_INT, "minimum": 1}, "divisor": {**_INT, "minimum": 1},
                                 "multiplier": {"type": ["number", "string"]}}},
        "defaults": {"type": "object", "additionalProperties": {"type": "object"},
                     "propertyNames": {"enum": sorted(k for t in layer_types
                                                      for k in [t.name, *t.aliases])}},
        "blocks": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["layers"], "additionalProperties": False,
            "properties": {"doc": {"type": "string"}, "layers": {"$ref": "#/$defs/layers"},
                           "in_pieces": {"type": "boolean"},
                           "args": {"anyOf": [{"type": "object"},
                                              {"type": "array", "items": {"type": "string"}}]}}}},
        "layers": {"$ref": "#/$defs/layers"},
        "variants": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {k: {"set": {"type": "object"}, "resolution": {**_INT, "minimum": 1},
                               "doc": {"type": "string"}}[k] for k in VARIANT_KEYS}}},
        "expect": {"type": "array", "items": expectation},
    }
    assert set(properties) == set(TOP_KEYS)  # one source of truth for the top level
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://costcalc.invalid/spec.schema.json",
        "title": "costcalc spec",
        "description": "A convolutional network for costcalc (docs/spec-language.md).",
        "type": "object", "required": ["name", "input", "layers"],
        "properties": properties, "additionalProperties": False,
        "$defs": {"layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/entry"}},
                  "entry": entry},
    }
