"""The docs stay true: docs/layers.md is generated from the layer registry's docstrings
(``pytest --update-golden`` rewrites it), and every command and layer type is documented."""
import inspect
import pathlib

from costcalc.layers import REQUIRED, canonical_types

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"

HEADER = """# Layer types

Generated from the docstrings in the modules of `costcalc/layers/` (one class per type) by
`tests/test_docs.py`; run `python -m pytest tests/test_docs.py --update-golden` after
changing a layer type. Symbols: D_k kernel side, M input channels, N output channels,
D_f output side, g groups (see [formulas.md](formulas.md)). Every layer also accepts the
entry keys `name`, `input`/`inputs`, `stage` and `when` ([spec-language.md](spec-language.md)).
Kinds of value: *channels*/*count* a positive integer; *pair* a positive integer or
`[height, width]`; *padding* `same`, `valid`, an integer or `[height, width]`; *scale*
`true` (alpha), `false` (1) or a number.
"""


def render_layers_doc():
    parts = [HEADER]
    for layer_type in canonical_types():
        title = f"## `{layer_type.name}`"
        if layer_type.aliases:
            title += " (also " + ", ".join(f"`{a}`" for a in layer_type.aliases) + ")"
        parts.append(title + "\n")
        doc = inspect.cleandoc(type(layer_type).__doc__)
        first, _, rest = doc.partition("\n\n")
        parts.append(first.replace("\n", " ") + "\n")
        if rest.strip():
            parts.append("```text\n" + rest.strip() + "\n```\n")
        if layer_type.inputs == "many":
            parts.append("Takes `inputs: [NAME, ...]` (two or more layers).\n")
        if layer_type.attrs:
            rows = ["| attribute | kind | default |", "| --- | --- | --- |"]
            for key, (kind, default) in layer_type.attrs.items():
                shown = ("required" if default is REQUIRED else
                         "the kernel" if default is None else f"`{_yaml(default)}`")
                rows.append(f"| `{key}` | {kind} | {shown} |")
            parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)


def _yaml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return str(value[0]) if value[0] == value[1] else f"[{value[0]}, {value[1]}]"
    return str(value)


def test_layers_doc_is_generated_from_the_registry(request):
    text = render_layers_doc()
    path = DOCS / "layers.md"
    if request.config.getoption("--update-golden"):
        path.write_text(text)
    assert path.read_text() == text, "docs/layers.md is stale: pytest --update-golden"


def test_every_command_is_documented():
    from costcalc.cli import cli

    commands_doc = (DOCS / "commands.md").read_text()
    for name in cli.commands:
        assert f"costcalc {name}" in commands_doc or name == "report", name
    for option in ("--alpha", "--rho", "--resolution", "--set", "--format", "--flops",
                   "--all-layers"):
        assert option in commands_doc, option


def test_readme_starts_with_the_two_setup_commands():
    readme = (DOCS.parent / "README.md").read_text()
    assert "pip install . && costcalc mobilenet --alpha 0.5 --rho 0.714" in readme[:300]
    assert "pip install '.[test]' && python -m pytest" in readme[:300]
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "pip install '.[test]' && python -m pytest" in ci
