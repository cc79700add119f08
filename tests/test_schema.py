"""costcalc schema: a valid JSON Schema that accepts every shipped spec and refuses what
the validator refuses without building (unknown keys, types, kinds of value)."""
import json
import pathlib

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

SPECS = sorted((pathlib.Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator(run_cli_module):
    result = run_cli_module("schema")
    assert result.code == 0
    schema = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def run_cli_module():
    import io
    import sys

    from costcalc.cli import main

    class Result:
        pass

    def run(*args):
        out, saved = io.StringIO(), sys.stdout
        sys.stdout = out
        result = Result()
        try:
            main(list(args))
        except SystemExit as exc:
            result.code = exc.code or 0
        finally:
            sys.stdout = saved
        result.out = out.getvalue()
        return result

    return run


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_is_valid(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, errors[0].message


@pytest.mark.parametrize("text", [
    "name: t\ninput: [3, 8, 8]\nlayers: [{type: conv, k: 3, out: 8, kernel: 3}]",  # unknown attr
    "name: t\ninput: [3, 8, 8]\nlayers: [{type: convolution, k: 3, out: 8}]",      # unknown type
    "name: t\ninput: [3, 8, 8]\nlayers: [{type: conv, k: 3, out: -1}]",            # bad kind
    "name: t\ninput: [3, 8, 8]\nlayers: [{type: relu}]\nlayer: []",                # top key
    "name: t\ninput: [3, 8]\nlayers: [{type: relu}]",                              # input
    "name: t\ninput: [3, 8, 8]\npadding: torch\nlayers: [{type: relu}]",           # convention
    "name: t\ninput: [3, 8, 8]\nlayers: [{type: relu}]\nexpect: [{metric: macs, printed: '1',"
    " source: x}]",                                                                 # metric
])
def test_what_the_validator_refuses_the_schema_refuses(validator, text):
    assert list(validator.iter_errors(yaml.safe_load(text)))


def test_expressions_are_accepted_where_values_are(validator):
    spec = yaml.safe_load("name: t\ninput: [3, 8, 8]\nparams: {w: 8}\n"
                          "layers: [{type: conv, k: [3, '$w'], out: '${w * 2}', bias: '$b'}]")
    assert not list(validator.iter_errors(spec))


VALUES = [1, 2, 0, -1, 0.5, 2.5, True, False, "same", "valid", "x", [1, 2], [0, 0], [1, -1],
          [1], [1, 2, 3], None]


def test_each_attribute_kind_schema_takes_what_check_attr_takes():
    """The schema fragment of each kind (costcalc.layers.attr_schema, beside check_attr)
    accepts a value exactly when check_attr does, for every kind a layer type uses."""
    from costcalc.lang.schema import TEMPLATE
    from costcalc.layers import attr_schema, canonical_types, check_attr

    kinds = {kind for t in canonical_types() for kind, _ in t.attrs.values()}
    assert kinds == {"channels", "count", "index", "pair", "padding", "bool", "scale",
                     "fraction"}
    for kind in sorted(kinds | {"number"}):
        fragment = jsonschema.Draft202012Validator(attr_schema(kind, TEMPLATE))
        for value in VALUES:
            try:
                check_attr(kind, value, "a")
                taken = True
            except ValueError:
                taken = False
            assert fragment.is_valid(value) == taken, (kind, value)
