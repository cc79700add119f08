"""Every limit is declared once (costcalc/core/limits.py), with what it bounds; each check
and each message reads it there, and docs/errors.md's table of limits quotes it."""
import ast
import pathlib
import re

import pytest

from costcalc.core import limits
from costcalc.core.errors import SpecError
from costcalc.core.limits import DECLARED, FORMS, LIMITS, MEANINGS, quoted, written
from costcalc.lang.spec import spec_from_text

ROOT = pathlib.Path(__file__).resolve().parent.parent

# the first cell of each row of docs/errors.md's table -> the limits its second cell quotes
ROWS = {
    "a spec file (and a hardware file)": ["file_bytes"],
    "YAML nesting": ["depth"],
    "YAML size with aliases expanded": ["nodes"],
    "a number in the YAML": ["number"],
    "text in the YAML": [],
    "an expression": ["text"],
    "`**` and `*` on integers": ["number"],
    "repetition of text or lists by `*`": ["sequence"],
    "`round(x, n)`": ["round_digits"],
    "`**` on a floating-point base": ["float_exponent"],
    "an expression's result": ["number", "sequence"],
    "layers after expansion": ["layers"],
    "block nesting": ["nesting"],
    "a block called inside itself": ["recursive_calls"],
    "a layer or stage name": ["name"],
    "a tensor": ["elements"],
    "a count of one layer": ["number"],
    "`--alpha`, `--rho`": ["multiplier"],
    "`--resolution`": ["multiplier"],
    "`--weight-bits`, `--index-bits`": ["bits"],
    "a printed value in `expect`": ["printed"],
    "problems reported per file by `costcalc check`": ["errors_per_file"],
    "the points of a `sweep`": ["points"],
    "the work of a `sweep`": ["layer_results"],
    "a hardware profile's `mult_adds_per_second` and `bytes_per_second`": ["figure", "number"],
    "a module of `costcalc.torch.build` on a device that holds data": ["values"],
}


def table_rows():
    """{first cell: second cell} of the table under docs/errors.md's '## Limits'."""
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    section = text.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("what", "---"):
            rows[cells[0]] = cells[1]
    return rows


def test_written_as_the_messages_write_them():
    assert written(10**18, "power") == "10^18"
    assert written(10**6, "power") == "10^6"
    assert written(2_000_000) == "2,000,000"
    assert written(64 * 2**20, "MiB") == "64 MiB"
    assert written(5 * 10**6, "power") == "5,000,000"   # not a power of ten: with commas
    assert quoted("layers") == "2,000,000" and quoted("number") == "10^18"


def test_each_limit_is_declared_once_with_its_meaning():
    names = [name for name, _, _, _ in DECLARED]
    assert len(names) == len(set(names)) == len(LIMITS)
    for name, value, form, meaning in DECLARED:
        assert isinstance(value, int) and value > 0, name
        assert form in ("power", "commas", "MiB") and FORMS[name] == form
        assert meaning and MEANINGS[name] == meaning


def test_the_docs_table_quotes_every_limit_from_its_declaration():
    """Each row of docs/errors.md's table names its limits as declared (a power of ten
    as 10^k, others with commas); every declared limit is in a row, every row known."""
    rows = table_rows()
    assert set(rows) == set(ROWS)
    for what, names in ROWS.items():
        for name in names:
            forms = {written(LIMITS[name], form) for form in ("power", "commas", FORMS[name])}
            assert any(re.search(rf"(?<![\w^,.]){re.escape(text)}(?![\w^]|,\d)", rows[what])
                       for text in forms), (what, name, rows[what])
    assert {name for names in ROWS.values() for name in names} == set(LIMITS)


def _numbers(path):
    """(line, value) of every integer literal or 10**k written in the module at ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            yield node.lineno, node.value
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.Mult))
              and all(isinstance(side, ast.Constant) and type(side.value) is int
                      for side in (node.left, node.right))):
            yield node.lineno, eval(compile(ast.Expression(node), str(path), "eval"))


def test_no_module_declares_a_large_limit_again():
    """No module but core/limits.py writes one of the large limits' numbers (64 MiB, 10^7,
    10^12, 10^18, 10^30, 2,000,000, 5,000,000; 10^6 and 10^9 are also units, smaller ones
    other things)."""
    large = {value for value in LIMITS.values() if value > 10**6} - {10**9}
    found = []
    for path in sorted((ROOT / "costcalc").rglob("*.py")):
        if path.name == "limits.py" and path.parent.name == "core":
            continue
        found += [(path.name, line, value) for line, value in _numbers(path) if value in large]
    assert found == []


def test_no_message_spells_a_limit_by_hand():
    """No text of a message writes '10^k' itself (it quotes the limit: ``quoted``); the
    units' note (K = 10^3, ...) and docstrings aside."""
    found = []
    for path in sorted((ROOT / "costcalc").rglob("*.py")):
        if path.parent.name == "core" and path.name in ("limits.py", "units.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [(path.name, node.lineno) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in docstrings and re.search(r"10\^\d", node.value)]
    assert found == []


@pytest.mark.parametrize("name, value, text, message", [
    ("name", 5, "  - {type: relu, name: sixsix}\n", "a name must have 1 to 5 characters"),
    ("number", 10**6, "  - {type: conv, k: 1, out: 2000000}\n",
     "the number 2000000 is outside the limit of 10^6"),
    ("layers", 3, "  - {repeat: 4, layers: [{type: relu}]}\n",
     "repeat 4 of 1 entries would expand past the limit of 3 layers"),
    ("elements", 150, "  - {type: conv, k: 1, out: 5}\n",
     "an input of 3x8x8 is past the limit of 150 elements a tensor"),
])
def test_a_message_quotes_the_limit_from_its_declaration(monkeypatch, name, value, text,
                                                         message):
    """A limit changed in core/limits.py changes its check and its message alike."""
    from costcalc.build.graph import Settings, build

    monkeypatch.setitem(limits.LIMITS, name, value)
    with pytest.raises(SpecError) as error:
        build(spec_from_text(f"name: t\ninput: [3, 8, 8]\nlayers:\n{text}", "t.yaml"),
              Settings())
    assert message in str(error.value)
