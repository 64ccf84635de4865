"""CEL expressions for business metadata: validation rules, formulas, conditions.

Expressions are written in CEL (Common Expression Language) and parsed with the
``celpy`` parser.  Evaluation is *not* done by celpy: plain CEL refuses mixed
``int * double`` arithmetic, uses binary floats and errors on missing data, all
of which is wrong for business formulas.  Instead the lark parse tree is compiled
once into a tree of small Python closures which is then cheap to run on every
record save.  Python ``eval`` is never used.

Semantics (deliberate differences from plain CEL are marked *)
--------------------------------------------------------------

* Numbers*: every number is a :class:`decimal.Decimal`.  Input ``int`` and
  ``float`` values are converted on read (floats through their shortest
  ``repr``, so ``0.1`` becomes ``Decimal('0.1')``), literals such as ``1.1`` are
  parsed straight to ``Decimal('1.1')``.  Integers and decimals therefore mix
  freely: ``qty * price``, ``price * 1.1`` and ``7 / 2 == 3.5`` all work.
  Arithmetic uses a fixed 28-digit context, independent of the caller's thread
  context.  Functions that CEL types as ``int`` (``size``, ``int``,
  ``days_between``) also return integral Decimals.
* Division or modulo by zero* yields null rather than raising: a formula such as
  ``amount / qty`` on a record whose quantity is still 0 is "not computable
  yet", exactly like a record whose quantity is empty.
* Null propagation*: arithmetic, ordering comparisons (``<`` ...), ``in``,
  field selection, indexing, macros and functions whose input is null yield
  null.  ``==`` / ``!=`` compare null normally (``x == null``).
* Null in a boolean position* (operands of ``||``, ``&&``, ``!``, a ternary
  condition, a macro predicate) counts as false.  ``||`` and ``&&`` short
  circuit and absorb an error on one side when the other side decides the
  result, as in CEL.  A non-boolean, non-null value there is an error.
* Missing data*: an unknown variable, a missing map key, and a list index out
  of range are null instead of errors (records routinely lack optional fields).
* Equality across kinds (``1 == "1"``, ``true == 1``, date vs datetime) is
  false, following CEL's heterogeneous equality.  Ordering across kinds is an
  error: compare a date with ``date(some_datetime)``.
* Dates*: ``date ± n`` shifts by ``n`` whole days.  ``date()``, ``today()`` and
  ``days_between()`` use the evaluator's time zone (default Asia/Shanghai) to
  turn an aware datetime into a calendar date.
* ``has(m.f)`` is true when map ``m`` has key ``f`` with a non-null value.

Runtime type errors (``"a" * 2``) raise :class:`ExpressionError`.  For
validation rules, :func:`evaluate_rule` treats a null result as "passes".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable, Mapping
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from types import MappingProxyType
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import celpy
from celpy.celparser import CELParseError
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

__all__ = [
    "DEFAULT_TZ",
    "CompiledExpression",
    "ExpressionError",
    "compile_expression",
    "evaluate_rule",
    "to_decimal_places",
]

DEFAULT_TZ = "Asia/Shanghai"

_Tree = Tree[Any]

TimeZone = str | dt.tzinfo

# A private context makes results independent of whatever decimal context the
# calling thread happens to have configured.
_CTX = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_ZERO = Decimal(0)
_ONE = Decimal(1)


class ExpressionError(ValueError):
    """A CEL expression failed to compile or to evaluate.

    ``line`` and ``column`` (1-based) are set for syntax errors.
    """

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


# ---------------------------------------------------------------------------
# Runtime values
# ---------------------------------------------------------------------------


class _Frame:
    """Per-evaluation state handed to every compiled closure."""

    __slots__ = ("vars", "locals", "tz", "_zone")

    def __init__(self, variables: Mapping[str, Any], tz: TimeZone) -> None:
        self.vars = variables
        # Macro loop variables; a dict because macros can nest and shadow.
        self.locals: dict[str, Any] = {}
        self.tz = tz
        self._zone: dt.tzinfo | None = None

    def zone(self) -> dt.tzinfo:
        # Resolved lazily: most expressions never touch dates.
        if self._zone is None:
            self._zone = _resolve_zone(self.tz)
        return self._zone


_Eval = Callable[[_Frame], Any]


@functools.lru_cache(maxsize=64)
def _zone_by_name(name: str) -> dt.tzinfo:
    return ZoneInfo(name)


def _resolve_zone(tz: TimeZone) -> dt.tzinfo:
    if isinstance(tz, dt.tzinfo):
        return tz
    try:
        return _zone_by_name(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ExpressionError(f"unknown time zone {tz!r}") from exc


def _float_to_decimal(value: float) -> Decimal:
    # repr() is the shortest string that round-trips, so 0.1 -> Decimal('0.1')
    # instead of the exact binary expansion 0.1000000000000000055511151231...
    result = Decimal(repr(value))
    if not result.is_finite():
        raise ExpressionError(f"number {value!r} is not finite")
    return result


def _norm(value: Any) -> Any:
    """Bring a value read from the outside world into the evaluator's model."""
    cls = type(value)
    if cls is Decimal or cls is str or cls is bool or value is None:
        return value
    if cls is int:
        return Decimal(value)
    if cls is float:
        return _float_to_decimal(value)
    # Subclasses (IntEnum, numpy-free float subclasses...) take the slow path;
    # bool is excluded above, so isinstance(int) here means a real number.
    if isinstance(value, int):
        return Decimal(int(value))
    if isinstance(value, float):
        return _float_to_decimal(float(value))
    return value


def _kind(value: Any) -> str:
    """A CEL-ish type name, used both for messages and for kind matching."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Decimal | int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    # datetime is a subclass of date, so it must be tested first.
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "map"
    return type(value).__name__


def _operand_error(op: str, *values: Any) -> ExpressionError:
    kinds = " and ".join(_kind(v) for v in values)
    return ExpressionError(f"operator '{op}' cannot be applied to {kinds}")


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _whole_days(n: Decimal, op: str, other: Any) -> dt.timedelta:
    if n != n.to_integral_value():
        raise ExpressionError(
            f"operator '{op}' on a {_kind(other)} needs a whole number of days"
        )
    return dt.timedelta(days=int(n))


# --- arithmetic ------------------------------------------------------------


def _add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return _CTX.add(a, b)
    if a is None or b is None:
        return None
    if ta is str and tb is str:
        return a + b
    if _is_list(a) and _is_list(b):
        return [*a, *b]
    if isinstance(a, dt.date) and tb is Decimal:
        return a + _whole_days(b, "+", a)
    if ta is Decimal and isinstance(b, dt.date):
        return b + _whole_days(a, "+", b)
    raise _operand_error("+", a, b)


def _sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return _CTX.subtract(a, b)
    if a is None or b is None:
        return None
    if isinstance(a, dt.date) and tb is Decimal:
        return a - _whole_days(b, "-", a)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        raise ExpressionError(
            "operator '-' cannot subtract dates; use days_between(a, b)"
        )
    raise _operand_error("-", a, b)


def _decimal_only(
    op: str, compute: Callable[[Decimal, Decimal], Decimal | None]
) -> Callable[[Any, Any], Any]:
    """An operator of numbers alone: a null operand makes null, anything else but
    two numbers is an error."""

    def apply(a: Any, b: Any) -> Any:
        if type(a) is Decimal and type(b) is Decimal:
            return compute(a, b)
        if a is None or b is None:
            return None
        raise _operand_error(op, a, b)

    return apply


_mul = _decimal_only("*", _CTX.multiply)
# A zero divisor makes null: see the module docstring. remainder() truncates toward
# zero, matching CEL's '%' on ints.
_div = _decimal_only("/", lambda a, b: _CTX.divide(a, b) if b else None)
_mod = _decimal_only("%", lambda a, b: _CTX.remainder(a, b) if b else None)


def _neg(a: Any) -> Any:
    if type(a) is Decimal:
        return _CTX.minus(a)
    if a is None:
        return None
    raise _operand_error("-", a)


# --- comparison ------------------------------------------------------------


def _equals(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is tb and (ta is Decimal or ta is str or ta is bool):
        return bool(a == b)
    # Values inside lists and maps have not been normalised yet.
    a, b = _norm(a), _norm(b)
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "list":
        return len(a) == len(b) and all(map(_equals, a, b))
    if kind == "map":
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not _equals(value, b[key]):
                return False
        return True
    return bool(a == b)


_ORDERED_KINDS = frozenset({"number", "string", "bool", "date", "datetime", "time"})


def _ordering(op: str, compare: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    def run(a: Any, b: Any) -> Any:
        if type(a) is Decimal and type(b) is Decimal:
            return compare(a, b)
        if a is None or b is None:
            return None
        kind = _kind(a)
        if kind != _kind(b) or kind not in _ORDERED_KINDS:
            hint = ""
            if {kind, _kind(b)} == {"date", "datetime"}:
                hint = "; convert with date(...)"
            raise ExpressionError(
                f"operator '{op}' cannot compare {kind} with {_kind(b)}{hint}"
            )
        try:
            return compare(a, b)
        except TypeError as exc:  # aware vs naive datetime / time
            raise ExpressionError(f"operator '{op}': {exc}") from exc

    return run


def _in(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if _is_list(b) or isinstance(b, Mapping):
        # Iterating maps yields keys; _equals keeps `true in {1: ...}` false.
        return any(_equals(a, item) for item in b)
    raise _operand_error("in", a, b)


def _truth(value: Any, op: str) -> bool:
    if value is True:
        return True
    if value is False or value is None:
        return False
    raise ExpressionError(f"'{op}' expects a boolean, got {_kind(value)}")


# --- selection -------------------------------------------------------------


def _select(obj: Any, name: str) -> Any:
    if type(obj) is dict:
        return _norm(obj.get(name))
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return _norm(obj.get(name))
    raise ExpressionError(f"cannot read field '{name}' of a {_kind(obj)}")


def _index(obj: Any, key: Any) -> Any:
    if obj is None or key is None:
        return None
    if _is_list(obj):
        if type(key) is not Decimal or key != key.to_integral_value():
            raise ExpressionError(f"list index must be a whole number, got {key!r}")
        i = int(key)
        # Out of range -> null, like any other missing data; no negative
        # indexing from the end, which CEL does not have.
        return _norm(obj[i]) if 0 <= i < len(obj) else None
    if isinstance(obj, Mapping):
        try:
            return _norm(obj.get(key))
        except TypeError as exc:
            raise ExpressionError(f"invalid map key of type {_kind(key)}") from exc
    raise ExpressionError(f"cannot index a {_kind(obj)}")


def _elements(coll: Any, macro: str) -> list[Any]:
    if _is_list(coll):
        return [_norm(item) for item in coll]
    if isinstance(coll, Mapping):
        return list(coll)  # CEL macros iterate over map keys
    raise ExpressionError(f"{macro}() expects a list or map, got {_kind(coll)}")


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------


def _to_date(value: Any, frame: _Frame, fn: str) -> dt.date:
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value
        if moment.utcoffset() is not None:
            # An instant has a calendar date only in some time zone: the
            # evaluator's one, so "created today" means today locally.
            moment = moment.astimezone(frame.zone())
        return moment.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return _to_date(dt.datetime.fromisoformat(text), frame, fn)
        except ValueError:
            raise ExpressionError(f"{fn}() cannot parse {value!r} as a date") from None
    raise ExpressionError(
        f"{fn}() expects a date, datetime or string, got {_kind(value)}"
    )


def _parse_number(value: str, fn: str) -> Decimal:
    try:
        result = Decimal(value.strip())
    except InvalidOperation:
        result = Decimal("NaN")
    if not result.is_finite():
        raise ExpressionError(f"{fn}() cannot convert {value!r} to a number")
    return result


def _fn_size(frame: _Frame, value: Any) -> Decimal:
    if isinstance(value, str | list | tuple | Mapping):
        return Decimal(len(value))
    raise ExpressionError(f"size() expects a string, list or map, got {_kind(value)}")


def _string_args(fn: str, value: Any, arg: Any) -> None:
    if type(value) is not str or type(arg) is not str:
        raise ExpressionError(
            f"{fn}() expects strings, got {_kind(value)} and {_kind(arg)}"
        )


def _fn_contains(frame: _Frame, value: Any, arg: Any) -> bool:
    _string_args("contains", value, arg)
    return arg in value


def _fn_starts_with(frame: _Frame, value: Any, arg: Any) -> bool:
    _string_args("startsWith", value, arg)
    return bool(value.startswith(arg))


def _fn_ends_with(frame: _Frame, value: Any, arg: Any) -> bool:
    _string_args("endsWith", value, arg)
    return bool(value.endswith(arg))


def _fn_matches(frame: _Frame, value: Any, pattern: Any) -> bool:
    _string_args("matches", value, pattern)
    # CEL matches() is a partial match (RE2 semantics), hence search().
    try:
        return re.search(pattern, value) is not None
    except re.error as exc:
        raise ExpressionError(f"matches(): invalid pattern {pattern!r}: {exc}") from exc


def _fn_int(frame: _Frame, value: Any) -> Decimal:
    if type(value) is str:
        value = _parse_number(value, "int")
    if type(value) is Decimal:
        return value.to_integral_value(rounding=ROUND_DOWN)
    raise ExpressionError(f"int() cannot convert a {_kind(value)}")


def _fn_double(frame: _Frame, value: Any) -> Decimal:
    if type(value) is str:
        return _parse_number(value, "double")
    if type(value) is Decimal:
        return value
    raise ExpressionError(f"double() cannot convert a {_kind(value)}")


def _fn_string(frame: _Frame, value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is Decimal:
        return format(value, "f")  # never scientific notation such as '1E+3'
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise ExpressionError(f"string() cannot convert a {_kind(value)}")


def _fn_sum(frame: _Frame, values: Any) -> Decimal:
    if not _is_list(values):
        raise ExpressionError(f"sum() expects a list, got {_kind(values)}")
    total = _ZERO
    for item in values:
        item = _norm(item)
        if item is None:
            continue  # empty cells in table rows do not poison the total
        if type(item) is not Decimal:
            raise ExpressionError(f"sum() expects numbers, got a {_kind(item)}")
        total = _CTX.add(total, item)
    return total


def _fn_today(frame: _Frame) -> dt.date:
    return dt.datetime.now(frame.zone()).date()


def _fn_now(frame: _Frame) -> dt.datetime:
    return dt.datetime.now(frame.zone())


def _fn_date(frame: _Frame, value: Any) -> dt.date:
    return _to_date(value, frame, "date")


def _fn_days_between(frame: _Frame, start: Any, end: Any) -> Decimal:
    days = _to_date(end, frame, "days_between") - _to_date(start, frame, "days_between")
    return Decimal(days.days)


# name -> (implementation, number of arguments including a method receiver)
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {
    "size": (_fn_size, 1),
    "contains": (_fn_contains, 2),
    "startsWith": (_fn_starts_with, 2),
    "endsWith": (_fn_ends_with, 2),
    "matches": (_fn_matches, 2),
    "int": (_fn_int, 1),
    "double": (_fn_double, 1),
    "string": (_fn_string, 1),
    "sum": (_fn_sum, 1),
    "today": (_fn_today, 0),
    "now": (_fn_now, 0),
    "date": (_fn_date, 1),
    "days_between": (_fn_days_between, 2),
}
_GLOBAL_FUNCTIONS = frozenset(
    {
        "size",
        "matches",
        "int",
        "double",
        "string",
        "sum",
        "today",
        "now",
        "date",
        "days_between",
    }
)
_METHODS = frozenset({"size", "contains", "startsWith", "endsWith", "matches"})
_MACROS = frozenset({"map", "filter", "all", "exists", "exists_one"})


def _call(impl: Callable[..., Any], args: list[_Eval]) -> _Eval:
    """Build a call closure; any null argument makes the result null."""
    if not args:
        return impl
    if len(args) == 1:
        (arg0,) = args

        def call1(frame: _Frame) -> Any:
            value = arg0(frame)
            return None if value is None else impl(frame, value)

        return call1
    if len(args) == 2:
        arg0, arg1 = args

        def call2(frame: _Frame) -> Any:
            a = arg0(frame)
            if a is None:
                return None
            b = arg1(frame)
            return None if b is None else impl(frame, a, b)

        return call2
    raise AssertionError("no function takes more than two arguments")


# ---------------------------------------------------------------------------
# Compiler: lark parse tree -> closures
# ---------------------------------------------------------------------------

# Grammar rules that are a plain wrapper when they have a single child.
_PASSTHROUGH = frozenset(
    {
        "expr",
        "conditionalor",
        "conditionaland",
        "relation",
        "addition",
        "multiplication",
        "unary",
        "member",
        "primary",
        "paren_expr",
    }
)
_BINARY = {
    "relation_lt": _ordering("<", lambda a, b: a < b),
    "relation_le": _ordering("<=", lambda a, b: a <= b),
    "relation_gt": _ordering(">", lambda a, b: a > b),
    "relation_ge": _ordering(">=", lambda a, b: a >= b),
    "relation_eq": _equals,
    "relation_ne": lambda a, b: not _equals(a, b),
    "relation_in": _in,
    "addition_add": _add,
    "addition_sub": _sub,
    "multiplication_mul": _mul,
    "multiplication_div": _div,
    "multiplication_mod": _mod,
}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\"'\\`?])|[xX]([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})"
    r"|U([0-9a-fA-F]{8})|([0-3][0-7]{2})|(.|$))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "`": "`",
    "?": "?",
}
_UNSET = object()


def _unwrap(node: Any) -> Any:
    while (
        isinstance(node, Tree) and node.data in _PASSTHROUGH and len(node.children) == 1
    ):
        node = node.children[0]
    return node


def _decode_escape(match: re.Match[str]) -> str:
    simple, hex2, hex4, hex8, octal, bad = match.groups()
    if simple is not None:
        return _SIMPLE_ESCAPES[simple]
    if bad is not None:
        raise ExpressionError(f"invalid escape sequence '\\{bad}' in string literal")
    code = int(octal, 8) if octal else int(hex2 or hex4 or hex8, 16)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        raise ExpressionError(f"invalid code point {code:#x} in string") from None


def _decode_string(text: str) -> str:
    raw = text[0] in "rR"
    if raw:
        text = text[1:]
    quote = 3 if text[:3] in ('"""', "'''") else 1
    body = text[quote:-quote]
    return body if raw else _ESCAPE.sub(_decode_escape, body)


def _literal(token: Token) -> Any:
    kind, text = token.type, str(token)
    if kind == "INT_LIT":
        return Decimal(int(text, 16) if "x" in text.lower() else int(text))
    if kind == "UINT_LIT":
        text = text[:-1]
        return Decimal(int(text, 16) if "x" in text.lower() else int(text))
    if kind == "FLOAT_LIT":
        return Decimal(text)  # exact: 1.1 is Decimal('1.1'), not a binary float
    if kind in ("STRING_LIT", "MLSTRING_LIT"):
        return _decode_string(text)
    if kind == "BOOL_LIT":
        return text == "true"
    if kind == "NULL_LIT":
        return None
    raise ExpressionError("bytes literals are not supported")


class _Compiler:
    """Turns a celpy parse tree into closures, collecting references on the way.

    ``scope`` maps each macro loop variable in scope to the top-level variable
    whose elements it iterates (or None), so that ``i.qty`` inside
    ``items.map(i, ...)`` is reported as a member reference of ``items``.
    """

    def __init__(self) -> None:
        self.scope: dict[str, str | None] = {}
        self.references: set[str] = set()
        self.members: dict[str, set[str]] = {}

    # -- static analysis helpers ------------------------------------------

    def _ident_name(self, node: Any) -> str | None:
        node = _unwrap(node)
        if isinstance(node, Tree) and node.data == "ident":
            return str(node.children[0])
        return None

    def _value_origin(self, node: Any) -> str | None:
        """Top-level variable that a field selection on ``node`` reads from."""
        node = _unwrap(node)
        if not isinstance(node, Tree):
            return None
        if node.data == "ident":
            name = str(node.children[0])
            return self.scope[name] if name in self.scope else name
        if node.data == "dot_ident":
            return str(node.children[0])
        if node.data == "member_index" and self._string_key(node.children[1]) is None:
            # items[0].qty reads qty of an element of items.
            base = _unwrap(node.children[0])
            if isinstance(base, Tree) and base.data == "ident":
                name = str(base.children[0])
                if name not in self.scope:
                    return name
        return None

    def _element_origin(self, node: Any) -> str | None:
        """Top-level variable whose elements a macro over ``node`` iterates."""
        node = _unwrap(node)
        if not isinstance(node, Tree):
            return None
        if node.data in ("ident", "dot_ident"):
            name = str(node.children[0])
            if node.data == "dot_ident" or name not in self.scope:
                return name
            return None
        if node.data == "member_dot_arg" and str(node.children[1]) == "filter":
            # filter() keeps the original elements.
            return self._element_origin(node.children[0])
        return None

    def _string_key(self, node: Any) -> str | None:
        node = _unwrap(node)
        if isinstance(node, Tree) and node.data == "literal":
            token = cast(Token, node.children[0])
            if token.type in ("STRING_LIT", "MLSTRING_LIT"):
                return _decode_string(str(token))
        return None

    def _member_read(self, base: Any, field: str) -> None:
        origin = self._value_origin(base)
        if origin is not None:
            self.members.setdefault(origin, set()).add(field)

    @staticmethod
    def _args(node: _Tree, index: int) -> list[Any]:
        # maybe_placeholders=False: an empty argument list has no exprlist.
        if len(node.children) > index:
            return list(node.children[index].children)
        return []

    # -- compilation --------------------------------------------------------

    def compile(self, node: Any) -> _Eval:
        node = _unwrap(node)
        handler: Callable[[_Tree], _Eval] | None = getattr(
            self, "_c_" + node.data, None
        )
        if handler is None:
            raise ExpressionError(f"unsupported syntax: {node.data}")
        return handler(node)

    def _c_expr(self, node: _Tree) -> _Eval:
        cond, when_true, when_false = (self.compile(c) for c in node.children)

        def ternary(frame: _Frame) -> Any:
            branch = when_true if _truth(cond(frame), "?:") else when_false
            return branch(frame)

        return ternary

    def _c_conditionalor(self, node: _Tree) -> _Eval:
        left, right = (self.compile(c) for c in node.children)

        def or_(frame: _Frame) -> bool:
            try:
                if _truth(left(frame), "||"):
                    return True
            except ExpressionError:
                # CEL: an error on one side is absorbed if the other is true.
                if _truth(right(frame), "||"):
                    return True
                raise
            return _truth(right(frame), "||")

        return or_

    def _c_conditionaland(self, node: _Tree) -> _Eval:
        left, right = (self.compile(c) for c in node.children)

        def and_(frame: _Frame) -> bool:
            try:
                if not _truth(left(frame), "&&"):
                    return False
            except ExpressionError:
                if not _truth(right(frame), "&&"):
                    return False
                raise
            return _truth(right(frame), "&&")

        return and_

    def _binary(self, node: _Tree) -> _Eval:
        op_node, right_node = node.children
        op = _BINARY[op_node.data]
        left = self.compile(op_node.children[0])
        right = self.compile(right_node)

        def binary(frame: _Frame) -> Any:
            return op(left(frame), right(frame))

        return binary

    _c_relation = _c_addition = _c_multiplication = _binary

    def _c_unary(self, node: _Tree) -> _Eval:
        op_node, operand_node = node.children
        operand = self.compile(operand_node)
        if op_node.data == "unary_not":

            def not_(frame: _Frame) -> bool:
                return not _truth(operand(frame), "!")

            return not_

        def neg(frame: _Frame) -> Any:
            return _neg(operand(frame))

        return neg

    def _c_member_dot(self, node: _Tree) -> _Eval:
        base_node, name_token = node.children
        name = str(name_token)
        self._member_read(base_node, name)
        base = self.compile(base_node)

        def select(frame: _Frame) -> Any:
            return _select(base(frame), name)

        return select

    def _c_member_index(self, node: _Tree) -> _Eval:
        base_node, key_node = node.children
        key_name = self._string_key(key_node)
        if key_name is not None:
            self._member_read(base_node, key_name)
        base = self.compile(base_node)
        key = self.compile(key_node)

        def index(frame: _Frame) -> Any:
            return _index(base(frame), key(frame))

        return index

    def _c_member_object(self, node: _Tree) -> _Eval:
        raise ExpressionError(
            "message construction (Type{field: ...}) is not supported"
        )

    def _c_member_dot_arg(self, node: _Tree) -> _Eval:
        receiver_node, name = node.children[0], str(node.children[1])
        args = self._args(node, 2)
        if name in _MACROS:
            return self._macro(name, receiver_node, args)
        if name not in _METHODS:
            raise ExpressionError(f"unknown method '{name}'")
        return self._function(name, [receiver_node, *args], method=True)

    def _c_ident_arg(self, node: _Tree) -> _Eval:
        name = str(node.children[0])
        args = self._args(node, 1)
        if name == "has":
            return self._has(args)
        if name not in _GLOBAL_FUNCTIONS:
            hint = f" (use it as a method: x.{name}(...))" if name in _METHODS else ""
            if name in _MACROS:
                hint = f" (use it as a method: list.{name}(x, ...))"
            raise ExpressionError(f"unknown function '{name}'{hint}")
        return self._function(name, args, method=False)

    _c_dot_ident_arg = _c_ident_arg

    def _function(self, name: str, arg_nodes: list[Any], *, method: bool) -> _Eval:
        impl, arity = _FUNCTIONS[name]
        if len(arg_nodes) != arity:
            given = len(arg_nodes) - 1 if method else len(arg_nodes)
            expected = arity - 1 if method else arity
            raise ExpressionError(
                f"{name}() takes {expected} argument(s), {given} given"
            )
        return _call(impl, [self.compile(n) for n in arg_nodes])

    def _has(self, arg_nodes: list[Any]) -> _Eval:
        target = _unwrap(arg_nodes[0]) if len(arg_nodes) == 1 else None
        if not (isinstance(target, Tree) and target.data == "member_dot"):
            raise ExpressionError("has() expects a field selection such as has(a.b)")
        base_node, name = target.children[0], str(target.children[1])
        self._member_read(base_node, name)
        base = self.compile(base_node)

        def has(frame: _Frame) -> bool:
            obj = base(frame)
            if obj is None:
                return False
            if isinstance(obj, Mapping):
                return obj.get(name) is not None
            raise ExpressionError(f"has() cannot test a field of a {_kind(obj)}")

        return has

    def _macro(self, name: str, receiver_node: Any, arg_nodes: list[Any]) -> _Eval:
        allowed = (2, 3) if name == "map" else (2,)
        if len(arg_nodes) not in allowed:
            raise ExpressionError(
                f"{name}() takes {' or '.join(map(str, allowed))} arguments, "
                f"{len(arg_nodes)} given"
            )
        var = self._ident_name(arg_nodes[0])
        if var is None:
            raise ExpressionError(
                f"the first argument of {name}() must be a variable name"
            )
        receiver = self.compile(receiver_node)
        origin = self._element_origin(receiver_node)
        saved = self.scope.get(var, _UNSET)
        self.scope[var] = origin
        try:
            bodies = [self.compile(n) for n in arg_nodes[1:]]
        finally:
            if saved is _UNSET:
                del self.scope[var]
            else:
                self.scope[var] = saved  # type: ignore[assignment]
        return _macro_closure(name, var, receiver, bodies)

    def _c_ident(self, node: _Tree) -> _Eval:
        name = str(node.children[0])
        if name in self.scope:

            def local(frame: _Frame) -> Any:
                return frame.locals[name]

            return local
        return self._global(name)

    def _c_dot_ident(self, node: _Tree) -> _Eval:
        # A leading dot explicitly names the root scope, skipping loop vars.
        return self._global(str(node.children[0]))

    def _global(self, name: str) -> _Eval:
        self.references.add(name)

        def variable(frame: _Frame) -> Any:
            return _norm(frame.vars.get(name))  # unknown variable -> null

        return variable

    def _c_literal(self, node: _Tree) -> _Eval:
        token = cast(Token, node.children[0])
        value = _literal(token)

        def constant(frame: _Frame) -> Any:
            return value

        return constant

    def _c_list_lit(self, node: _Tree) -> _Eval:
        items = [self.compile(n) for n in self._args(node, 0)]

        def list_(frame: _Frame) -> list[Any]:
            return [item(frame) for item in items]

        return list_

    def _c_map_lit(self, node: _Tree) -> _Eval:
        flat = [self.compile(n) for n in self._args(node, 0)]
        pairs = list(zip(flat[::2], flat[1::2], strict=True))

        def map_(frame: _Frame) -> dict[Any, Any]:
            result: dict[Any, Any] = {}
            for key_fn, value_fn in pairs:
                key = key_fn(frame)
                if type(key) not in (str, Decimal, bool):
                    raise ExpressionError(
                        f"map keys must be strings, numbers or booleans, "
                        f"got {_kind(key)}"
                    )
                if key in result:
                    raise ExpressionError(f"duplicate map key {key!r}")
                result[key] = value_fn(frame)
            return result

        return map_


def _macro_closure(name: str, var: str, receiver: _Eval, bodies: list[_Eval]) -> _Eval:
    def run(frame: _Frame) -> Any:
        coll = receiver(frame)
        if coll is None:
            return None
        items = _elements(coll, name)
        scope = frame.locals
        saved = scope.get(var, _UNSET)
        try:
            return _iterate(name, var, items, bodies, frame)
        finally:
            if saved is _UNSET:
                scope.pop(var, None)
            else:
                scope[var] = saved

    return run


def _iterate(
    name: str, var: str, items: list[Any], bodies: list[_Eval], frame: _Frame
) -> Any:
    scope = frame.locals
    if name == "map":
        *pred, transform = bodies
        result = []
        for item in items:
            scope[var] = item
            if pred and not _truth(pred[0](frame), "map"):
                continue
            result.append(transform(frame))
        return result
    (pred_fn,) = bodies
    if name == "filter":
        kept = []
        for item in items:
            scope[var] = item
            if _truth(pred_fn(frame), "filter"):
                kept.append(item)
        return kept
    if name == "all":
        for item in items:
            scope[var] = item
            if not _truth(pred_fn(frame), "all"):
                return False
        return True
    if name == "exists":
        for item in items:
            scope[var] = item
            if _truth(pred_fn(frame), "exists"):
                return True
        return False
    count = 0  # exists_one
    for item in items:
        scope[var] = item
        count += _truth(pred_fn(frame), "exists_one")
    return count == 1


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


class CompiledExpression:
    """A parsed, ready-to-run expression.  Immutable and safe to share.

    Attributes:
        source: the original expression text.
        references: top-level variable names the expression reads (not macro
            loop variables, not function names).
        member_references: for each top-level variable, the member names read
            from it directly (``area.city``) or through a macro loop variable
            (``items.map(i, i.qty)``).  Only variables with members appear.
    """

    __slots__ = ("source", "references", "member_references", "_root")

    source: str
    references: frozenset[str]
    member_references: Mapping[str, frozenset[str]]

    def __init__(
        self,
        source: str,
        root: _Eval,
        references: frozenset[str],
        member_references: Mapping[str, frozenset[str]],
    ) -> None:
        self.source = source
        self.references = references
        self.member_references = member_references
        self._root = root

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def evaluate(
        self, variables: Mapping[str, Any], *, tz: TimeZone = DEFAULT_TZ
    ) -> Any:
        """Evaluate against a record's fields (by api_name).

        ``tz`` (an IANA name or a tzinfo) is used by ``today()``, ``now()`` and
        to take the calendar date of aware datetimes.  Returns None for a null
        result; numbers come back as Decimal.  Raises ExpressionError on
        runtime type errors.
        """
        frame = _Frame(variables, tz)
        try:
            return self._root(frame)
        except ExpressionError:
            raise
        except RecursionError as exc:
            raise ExpressionError("expression is nested too deeply") from exc
        except (ArithmeticError, TypeError, ValueError, LookupError, re.error) as exc:
            # Safety net for failures not anticipated above (e.g. decimal
            # overflow, a date shifted past year 9999).
            raise ExpressionError(f"cannot evaluate expression: {exc}") from exc


_parse_lock = threading.Lock()
_environment: celpy.Environment | None = None


def _parse(source: str) -> _Tree:
    global _environment
    # celpy keeps one shared lark parser and stores the text on it while
    # parsing; serialise (parsing is rare thanks to the compile cache).
    with _parse_lock:
        if _environment is None:
            _environment = celpy.Environment()
        try:
            return _environment.compile(source)
        except CELParseError as exc:
            raise _syntax_error(source, exc) from None


def _syntax_error(source: str, exc: CELParseError) -> ExpressionError:
    cause = exc.__context__
    line, column = exc.line, exc.column
    if isinstance(cause, UnexpectedToken):
        if cause.token.type == "$END":
            what = "unexpected end of expression"
        else:
            what = f"unexpected {str(cause.token)!r}"
    elif isinstance(cause, UnexpectedCharacters):
        pos = cause.pos_in_stream or 0
        char = source[pos] if pos < len(source) else ""
        what = f"unexpected character {char!r}"
        if char in "\"'":
            what += " (unterminated string?)"
    else:
        what = "invalid syntax"
    where = f" at line {line}, column {column}" if line and column else ""
    return ExpressionError(f"syntax error{where}: {what}", line=line, column=column)


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str) -> CompiledExpression:
    if not source.strip():
        raise ExpressionError("expression is empty")
    tree = _parse(source)
    compiler = _Compiler()
    try:
        root = compiler.compile(tree)
    except RecursionError:
        raise ExpressionError("expression is nested too deeply") from None
    members = MappingProxyType(
        {name: frozenset(fields) for name, fields in compiler.members.items()}
    )
    return CompiledExpression(source, root, frozenset(compiler.references), members)


def compile_expression(source: str) -> CompiledExpression:
    """Parse and compile a CEL expression; results are cached by source text.

    Raises ExpressionError (with ``line``/``column`` when known) for syntax
    errors, unknown functions, wrong argument counts and unsupported syntax.
    """
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    return _compile_cached(source)


def evaluate_rule(
    compiled: CompiledExpression,
    variables: Mapping[str, Any],
    *,
    tz: TimeZone = DEFAULT_TZ,
) -> bool:
    """Evaluate a validation rule: True (passes) if the result is true or null.

    Null passes because a rule over empty inputs has nothing to check; making
    a field mandatory is the job of the "required" flag, not of a rule.
    Raises ExpressionError if the result is neither boolean nor null.
    """
    result = compiled.evaluate(variables, tz=tz)
    if result is None or result is True:
        return True
    if result is False:
        return False
    raise ExpressionError(f"validation rule must return a boolean, got {_kind(result)}")


def to_decimal_places(value: Decimal | int | None, places: int) -> Decimal | None:
    """Round ``value`` to ``places`` decimal places with ROUND_HALF_UP.

    Used to bring a formula result to the precision of its currency/number
    field; None (a null formula result) stays None.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"expected a Decimal, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"cannot round {number}")
    # Enough precision for every digit left of the point plus `places`, so
    # quantize() never fails with InvalidOperation on large amounts.
    context = Context(
        prec=max(_CTX.prec, number.adjusted() + places + 2),
        rounding=ROUND_HALF_UP,
    )
    return number.quantize(_ONE.scaleb(-places), context=context)
