"""The values of the evaluator and its operators: numbers are exact decimals,
null propagates, and kinds are checked at run time.

Every number the evaluator sees is a :class:`decimal.Decimal` computed in one
private context (28 digits), whatever the calling thread has configured; the
operators below implement the semantics the package docstring lists.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Asia/Shanghai"

TimeZone = str | dt.tzinfo
# field → option value → that option's attributes (what option() reads)
OptionTable = Mapping[str, Mapping[str, Mapping[str, Any]]]

# A private context makes results independent of whatever decimal context the
# calling thread happens to have configured.
CTX = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
ZERO = Decimal(0)
ONE = Decimal(1)


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


class Frame:
    """Per-evaluation state handed to every compiled closure."""

    __slots__ = ("vars", "options", "locals", "tz", "_zone", "_now")

    def __init__(
        self, variables: Mapping[str, Any], tz: TimeZone, options: OptionTable,
        now: dt.datetime | None = None,
    ) -> None:
        self.vars = variables
        self.options = options
        # Macro loop variables; a dict because macros can nest and shadow.
        self.locals: dict[str, Any] = {}
        self.tz = tz
        self._zone: dt.tzinfo | None = None
        self._now = now

    def now(self) -> dt.datetime:
        """The moment ``now()`` and ``today()`` see, in the evaluator's zone: the
        clock, unless the caller fixed it (a schedule run ``--at`` a time)."""
        if self._now is None:
            return dt.datetime.now(self.zone())
        return self._now.astimezone(self.zone())

    def zone(self) -> dt.tzinfo:
        # Resolved lazily: most expressions never touch dates.
        if self._zone is None:
            self._zone = _resolve_zone(self.tz)
        return self._zone


Eval = Callable[[Frame], Any]


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


def norm(value: Any) -> Any:
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


def kind_of(value: Any) -> str:
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


def operand_error(op: str, *values: Any) -> ExpressionError:
    kinds = " and ".join(kind_of(v) for v in values)
    return ExpressionError(f"operator '{op}' cannot be applied to {kinds}")


def is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _whole_days(n: Decimal, op: str, other: Any) -> dt.timedelta:
    if n != n.to_integral_value():
        raise ExpressionError(
            f"operator '{op}' on a {kind_of(other)} needs a whole number of days"
        )
    return dt.timedelta(days=int(n))


# --- arithmetic ------------------------------------------------------------


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return CTX.add(a, b)
    if a is None or b is None:
        return None
    if ta is str and tb is str:
        return a + b
    if is_list(a) and is_list(b):
        return [*a, *b]
    if isinstance(a, dt.date) and tb is Decimal:
        return a + _whole_days(b, "+", a)
    if ta is Decimal and isinstance(b, dt.date):
        return b + _whole_days(a, "+", b)
    raise operand_error("+", a, b)


def sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return CTX.subtract(a, b)
    if a is None or b is None:
        return None
    if isinstance(a, dt.date) and tb is Decimal:
        return a - _whole_days(b, "-", a)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        raise ExpressionError(
            "operator '-' cannot subtract dates; use days_between(a, b)"
        )
    raise operand_error("-", a, b)


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
        raise operand_error(op, a, b)

    return apply


mul = _decimal_only("*", CTX.multiply)
# A zero divisor makes null: see the module docstring. remainder() truncates toward
# zero, matching CEL's '%' on ints.
div = _decimal_only("/", lambda a, b: CTX.divide(a, b) if b else None)
mod = _decimal_only("%", lambda a, b: CTX.remainder(a, b) if b else None)


def neg(a: Any) -> Any:
    if type(a) is Decimal:
        return CTX.minus(a)
    if a is None:
        return None
    raise operand_error("-", a)


# --- comparison ------------------------------------------------------------


def equals(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is tb and (ta is Decimal or ta is str or ta is bool):
        return bool(a == b)
    # Values inside lists and maps have not been normalised yet.
    a, b = norm(a), norm(b)
    kind = kind_of(a)
    if kind != kind_of(b):
        return False
    if kind == "list":
        return len(a) == len(b) and all(map(equals, a, b))
    if kind == "map":
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not equals(value, b[key]):
                return False
        return True
    return bool(a == b)


_ORDERED_KINDS = frozenset({"number", "string", "bool", "date", "datetime", "time"})


def ordering(op: str, compare: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    def run(a: Any, b: Any) -> Any:
        if type(a) is Decimal and type(b) is Decimal:
            return compare(a, b)
        if a is None or b is None:
            return None
        kind = kind_of(a)
        if kind != kind_of(b) or kind not in _ORDERED_KINDS:
            hint = ""
            if {kind, kind_of(b)} == {"date", "datetime"}:
                hint = "; convert with date(...)"
            raise ExpressionError(
                f"operator '{op}' cannot compare {kind} with {kind_of(b)}{hint}"
            )
        try:
            return compare(a, b)
        except TypeError as exc:  # aware vs naive datetime / time
            raise ExpressionError(f"operator '{op}': {exc}") from exc

    return run


def in_(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if is_list(b) or isinstance(b, Mapping):
        # Iterating maps yields keys; equals keeps `true in {1: ...}` false.
        return any(equals(a, item) for item in b)
    raise operand_error("in", a, b)


def truth(value: Any, op: str) -> bool:
    if value is True:
        return True
    if value is False or value is None:
        return False
    raise ExpressionError(f"'{op}' expects a boolean, got {kind_of(value)}")


# --- selection -------------------------------------------------------------


def select(obj: Any, name: str) -> Any:
    if type(obj) is dict:
        return norm(obj.get(name))
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return norm(obj.get(name))
    raise ExpressionError(f"cannot read field '{name}' of a {kind_of(obj)}")


def index(obj: Any, key: Any) -> Any:
    if obj is None or key is None:
        return None
    if is_list(obj):
        if type(key) is not Decimal or key != key.to_integral_value():
            raise ExpressionError(f"list index must be a whole number, got {key!r}")
        i = int(key)
        # Out of range -> null, like any other missing data; no negative
        # indexing from the end, which CEL does not have.
        return norm(obj[i]) if 0 <= i < len(obj) else None
    if isinstance(obj, Mapping):
        try:
            return norm(obj.get(key))
        except TypeError as exc:
            raise ExpressionError(f"invalid map key of type {kind_of(key)}") from exc
    raise ExpressionError(f"cannot index a {kind_of(obj)}")


def elements(coll: Any, macro: str) -> list[Any]:
    if is_list(coll):
        return [norm(item) for item in coll]
    if isinstance(coll, Mapping):
        return list(coll)  # CEL macros iterate over map keys
    raise ExpressionError(f"{macro}() expects a list or map, got {kind_of(coll)}")

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
        prec=max(CTX.prec, number.adjusted() + places + 2),
        rounding=ROUND_HALF_UP,
    )
    return number.quantize(ONE.scaleb(-places), context=context)
