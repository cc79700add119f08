"""Safe arithmetic expressions inside spec values: ``${out * t}``, ``$stride``.

A string value that is exactly ``$name`` or ``${expression}`` is replaced by
the expression's value; ``${...}`` inside a longer string (such as a layer
name ``fire${i}``) is replaced by its text. Expressions allow numbers, names,
``+ - * / // % **``, comparisons, ``and/or/not``, ``a if c else b``, lists,
dict literals with indexing (``{1: 144, 3: 240}[groups]``) and the functions
in ``FUNCTIONS``. Nothing else: no attributes, no imports, no builtins.
"""
import ast
import math
import re

_TEMPLATE = re.compile(r"\$\{([^{}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_WHOLE_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\Z")
_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.Call, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Dict,
    ast.Subscript, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Pow, ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
)


def make_divisible(value, divisor=8, min_value=None):
    """Round ``value`` to the nearest multiple of ``divisor``, never below 90% of it.

    This is MobileNetV2's ``_make_divisible``: max(min_value, int(v + d/2) // d * d),
    plus one ``divisor`` if that fell below 0.9 * v.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


FUNCTIONS = {
    "min": min, "max": max, "int": int, "round": round, "abs": abs,
    "floor": math.floor, "ceil": math.ceil, "make_divisible": make_divisible,
}


# ``ch(c)`` (channels c thinned by alpha with the spec's rounding rule) is
# supplied per spec by the graph builder, so it is callable but not global.
CALLABLE = set(FUNCTIONS) | {"ch"}


_GLOBALS = dict(FUNCTIONS, __builtins__={})


class ExprError(ValueError):
    """A bad expression; the caller attaches the position."""


_cache = {}


def compile_expr(text):
    """Parse and vet ``text`` once; return a code object (cached)."""
    code = _cache.get(text)
    if code is not None:
        return code
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"bad expression {text!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"bad expression {text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in CALLABLE and not node.keywords):
            raise ExprError(f"bad expression {text!r}: only these functions may be called: "
                            + ", ".join(sorted(CALLABLE)))
    code = _cache[text] = compile(tree, "<spec>", "eval")
    return code


def evaluate(text, names):
    """Evaluate one expression with ``names`` (a dict) in scope."""
    code = compile_expr(text)
    try:
        return eval(code, _GLOBALS, names)  # vetted above: arithmetic only
    except NameError as exc:
        raise ExprError(f"in {text!r}: unknown name {str(exc).split(chr(39))[1]!r}; "
                        f"known: {', '.join(sorted(names)) or 'none'}") from None
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise ExprError(f"in {text!r}: {type(exc).__name__}: {exc}") from None


def is_template(value):
    return isinstance(value, str) and "$" in value


def substitute(value, names):
    """Resolve ``$name`` / ``${expr}`` in a string value; other values pass through."""
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _WHOLE_NAME.match(value)
    if whole:
        return evaluate(whole.group(1), names)
    if value.startswith("${") and value.endswith("}") and value.count("${") == 1:
        return evaluate(value[2:-1], names)
    return _TEMPLATE.sub(lambda m: _text(evaluate(m.group(1) or m.group(2), names)), value)


def _text(result):
    if isinstance(result, float) and result.is_integer():
        return str(int(result))
    return str(result)
