"""The import rule of docs/architecture.md: each package imports only from the packages
below it (and itself), every import counted, those inside functions included; and no
module imports, directly or through others, itself."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "costcalc"

# lowest first: a module may import its own package and the ones before it (docs/architecture.md)
TIERS = ("core", "layers", "counting", "lang", "build", "analysis", "output", "interop",
         "entry")
ENTRY = ("costcalc", "costcalc.__main__", "costcalc.api", "costcalc.cli", "costcalc.torch")


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def tier(module):
    if module in ENTRY:
        return "entry"
    return module.split(".")[1]


def imports(path):
    """(line, the costcalc module) of every import in the file, anywhere in it."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "costcalc"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "costcalc":
                continue
            for alias in node.names:   # from costcalc.x import y: y may be a module
                sub = f"{module}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else module))
    return found


def _is_module(name):
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


# Imports against the rule that the restructuring (issue 17) has not yet removed: this set
# may only shrink, and is empty when the restructuring is done.
KNOWN = set()

MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_tier():
    assert {tier(m) for m in MODULES} <= set(TIERS)


def test_imports_go_downwards():
    against = []
    for name, path in MODULES.items():
        rank = TIERS.index(tier(name))
        for line, module in imports(path):
            if module == "costcalc" and name != "costcalc":
                against.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports the package costcalc")
            elif module in MODULES and TIERS.index(tier(module)) > rank \
                    and (name, module) not in KNOWN:
                against.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {tier(name)} imports "
                               f"{module} ({tier(module)})")
    assert against == []


def test_the_known_violations_are_still_there():
    """An entry of KNOWN that no import makes any more is taken out of it."""
    made = {(name, module) for name, path in MODULES.items() for _, module in imports(path)}
    assert KNOWN <= made


def test_no_module_reaches_itself():
    graph = {name: {m for _, m in imports(path) if m in MODULES and m != name}
             for name, path in MODULES.items()}
    # a package's __init__ is imported by each of its modules: only real edges count
    cycles = []
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("source, expected", [
    ("from costcalc.output.render import x\n", ["costcalc.output.render"]),
    ("def f():\n    from costcalc.analysis import memory\n", ["costcalc.analysis.memory"]),
    ("import costcalc.build.graph\n", ["costcalc.build.graph"]),
])
def test_the_scanner_sees_every_kind_of_import(tmp_path, source, expected, monkeypatch):
    path = PACKAGE / "core" / "_scanned_here.py"
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: source)
    assert [m for _, m in imports(path)] == expected


def test_docs_architecture_states_this_rule():
    """docs/architecture.md names every package in its table, in the rule's order, and its
    rule line is TIERS."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    rows = [line.split("`")[1] for line in text.splitlines() if line.startswith("| `costcalc.")]
    assert [row.split(".")[1] for row in rows] == list(TIERS[:-1])
    assert sorted(TIERS[:-1]) == packages
    assert " < ".join(TIERS[:-1]) + " < entry points" in text
    for module in ENTRY:
        assert f"`{module}`" in text or module == "costcalc.__main__"
