"""Safe arithmetic expressions inside spec values: ``${out * t}``, ``$stride``.

A string value that is exactly ``$name`` or ``${expression}`` is replaced by
the expression's value; ``${...}`` inside a longer string (such as a layer
name ``fire${i}``) is replaced by its text. A ``${`` ends at the first ``}`` that
closes a whole expression, so braces and text inside it are allowed
(``${ {1: 144}[g] }``, ``${'}'}``); a ``${`` that no ``}`` closes is an error. Expressions allow numbers, names,
``+ - * / // % **``, comparisons, ``and/or/not``, ``a if c else b``, lists,
dict literals with indexing (``{1: 144, 3: 240}[groups]``) and the functions
in ``FUNCTIONS``. Nothing else: no attributes, no imports, no builtins.
"""
import ast
import math
import re
import warnings

from costcalc.core.errors import did_you_mean, forbidden_character, show
from costcalc.core.limits import LIMITS, quoted

_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
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


def _round(value, ndigits=None):
    """round(), with at most LIMITS['round_digits'] digits either side of the point
    (round(1, -10**9) would run for minutes)."""
    if ndigits is not None and not (isinstance(ndigits, int)
                                    and abs(ndigits) <= LIMITS["round_digits"]):
        raise ValueError(f"round() takes at most {quoted('round_digits')} digits, not "
                         f"{show(ndigits)}")
    return round(value) if ndigits is None else round(value, ndigits)


FUNCTIONS = {
    "min": min, "max": max, "int": int, "round": _round, "abs": abs,
    "floor": math.floor, "ceil": math.ceil, "make_divisible": make_divisible, "len": len,
}


# ``ch(c)`` (channels c thinned by alpha with the spec's rounding rule) is
# supplied per spec by the graph builder, so it is callable but not global.
CALLABLE = set(FUNCTIONS) | {"ch"}


def _too_big(what):
    return ExprError(f"{what} is outside the limit of the expression language "
                     f"(docs/errors.md)")


def _power(base, exponent):
    """``base ** exponent``, refused when an integer result would pass LIMITS['number']."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        limit = LIMITS["number"]   # past its bits, base ** exponent is past it: not computed
        if (abs(base).bit_length() - 1) * exponent > limit.bit_length() or \
                abs(base) ** exponent > limit:
            raise _too_big(f"{show(base)} ** {show(exponent)}")
    if isinstance(exponent, int) and abs(exponent) > LIMITS["float_exponent"] \
            and isinstance(base, float):
        raise _too_big(f"an exponent of {show(exponent)}")
    return base ** exponent


def _times(left, right):
    """``left * right``; a text or list repeated past LIMITS['sequence'] items, or an
    integer product past LIMITS['number'], is refused."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            if len(seq) * max(count, 0) > LIMITS["sequence"]:
                raise _too_big(f"{show(seq)} repeated {show(count)} times")
    product = left * right
    if isinstance(product, int) and abs(product) > LIMITS["number"]:
        raise _too_big(f"the product {show(left)} * {show(right)}")
    return product


class _Guard(ast.NodeTransformer):
    """Turn ``a ** b`` and ``a * b`` into calls of the guarded _power and _times."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        guard = {ast.Pow: "_power", ast.Mult: "_times"}.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right],
                                          []), node)


_GLOBALS = dict(FUNCTIONS, __builtins__={}, _power=_power, _times=_times)


class ExprError(ValueError):
    """A bad expression; the caller attaches the position."""


_cache = {}


def compile_expr(text):
    """Parse and vet ``text`` once; return a code object (cached)."""
    code = _cache.get(text)
    if code is not None:
        return code
    if len(text) > LIMITS["text"]:
        raise ExprError(f"an expression of {len(text):,} characters is longer than the limit "
                        f"of {quoted('text')} (docs/errors.md)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")   # a SyntaxWarning is a bad expression too
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, SyntaxWarning, ValueError) as exc:
        raise ExprError(f"bad expression {show(text)}: {getattr(exc, 'msg', None) or exc}") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"the expression {show(text)} nests too deeply") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"bad expression {show(text)}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in CALLABLE and not node.keywords):
            raise ExprError(f"bad expression {show(text)}: only these functions may be called: "
                            + ", ".join(sorted(CALLABLE)))
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExprError(f"bad expression {show(text)}: names may not start with '_'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = ast.fix_missing_locations(_Guard().visit(tree))
            code = compile(tree, "<spec>", "eval")
    except (SyntaxError, SyntaxWarning, ValueError) as exc:
        raise ExprError(f"bad expression {show(text)}: {getattr(exc, 'msg', None) or exc}") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"the expression {show(text)} nests too deeply") from None
    _cache[text] = code
    return code


def evaluate(text, names):
    """Evaluate one expression with ``names`` (a dict) in scope; the result must be data
    (a number, text, true/false, a list or a mapping), with finite numbers."""
    code = compile_expr(text)
    try:
        result = eval(code, _GLOBALS, names)  # vetted above: arithmetic only
    except ExprError as exc:
        raise ExprError(f"in {show(text)}: {exc}") from None
    except NameError as exc:
        name = str(exc).split(chr(39))[1]
        known = sorted(n for n in names if not n.startswith("_"))
        hint = did_you_mean(name, known) or (
            "; known: " + (", ".join(known[:30]) + (", ..." if len(known) > 30 else "")
                           if known else "none"))
        raise ExprError(f"in {show(text)}: unknown name {name!r}{hint}") from None
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, RecursionError,
            MemoryError) as exc:
        detail = str(exc) if not isinstance(exc, (KeyError, RecursionError, MemoryError)) else (
            f"no key {show(exc.args[0])}" if isinstance(exc, KeyError) and exc.args else "")
        detail = re.sub(r" at 0x[0-9a-f]+", "", detail)[:120]
        raise ExprError(f"in {show(text)}: {type(exc).__name__}: {detail}") from None
    _check_result(result, text)
    return result


def _check_result(value, text):
    """Refuse results that are not data: functions, non-finite or oversized numbers, text
    with a character no spec text may hold (errors.forbidden_character)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > LIMITS["sequence"]:
            raise ExprError(f"in {show(text)}: the result holds more than "
                            f"{quoted('sequence')} values")
        if isinstance(item, str):
            bad = forbidden_character(item)
            if bad:
                raise ExprError(f"in {show(text)}: the result {show(item)}: {bad}")
            continue
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, (int, float)):
            if abs(item) > LIMITS["number"] or not math.isfinite(item):
                raise ExprError(f"in {show(text)}: the number {show(item)} is outside the "
                                f"limit of {quoted('number')} (docs/errors.md)")
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        else:
            raise ExprError(f"in {show(text)}: the result is {show(item)}, not a value")


def is_template(value):
    return isinstance(value, str) and "$" in value


def names_read(value):
    """The names a template (``$name``, ``${expr}``, or a list of them) reads; an
    expression that does not parse reads none here (its evaluation reports it)."""
    found = set()
    for item in value if isinstance(value, list) else [value]:
        if is_template(item):
            try:
                pieces = _pieces(item)
            except ExprError:
                continue
            for code, _ in pieces:
                try:
                    if code is not None:
                        found.update(compile_expr(code).co_names)
                except ExprError:
                    pass
    return found


def substitute(value, names):
    """Resolve ``$name`` / ``${expr}`` in a string value; other values pass through."""
    if not isinstance(value, str) or "$" not in value:
        return value
    pieces = _pieces(value)
    if len(pieces) == 1 and pieces[0][0] is not None:   # exactly $name or ${expr}
        return evaluate(pieces[0][0], names)
    return "".join(text if code is None else _text(evaluate(code, names))
                   for code, text in pieces)


_pieces_cache = {}


def _pieces(value):
    """``value`` cut into (expression, None) and (None, literal text) pieces, in order."""
    pieces = _pieces_cache.get(value)
    if pieces is not None:
        return pieces
    pieces, at = [], 0
    while True:
        start = value.find("$", at)
        if start < 0:
            break
        if value.startswith("${", start):
            end = _closing(value, start + 2)
            code, after = value[start + 2:end], end + 1
        else:
            name = _NAME.match(value, start)
            if name is None:          # a '$' before anything else is text
                pieces.append((None, value[at:start + 1]))
                at = start + 1
                continue
            code, after = name.group(1), name.end()
        if start > at:
            pieces.append((None, value[at:start]))
        pieces.append((code, None))
        at = after
    if at < len(value):
        pieces.append((None, value[at:]))
    if len(_pieces_cache) < 10**5:
        _pieces_cache[value] = pieces
    return pieces


def _closing(value, start):
    """The index of the '}' that ends the expression starting at ``start``: the first one
    (within the length limit of an expression) before which the text parses."""
    end = value.find("}", start)
    last_error = None
    while 0 <= end <= start + LIMITS["text"]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(value[start:end].strip(), mode="eval")
            return end
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            last_error = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        end = value.find("}", end + 1)
    if end > start + LIMITS["text"]:
        length = value.rfind("}") - start
        raise ExprError(f"an expression of {length:,} characters is longer than the limit "
                        f"of {quoted('text')} (docs/errors.md)")
    if last_error is None:
        raise ExprError(f"'${{' without a closing '}}' in {show(value)}")
    raise ExprError(f"bad expression after '${{' in {show(value)}: {last_error}")


def _text(result):
    if isinstance(result, float) and result.is_integer():
        return str(int(result))
    return str(result)
