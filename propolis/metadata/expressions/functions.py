"""The functions expressions may call (``sum``, ``date``, ``matches`` …): each takes
the evaluation frame and already-evaluated, non-null arguments (a null argument
makes the call null before it gets here, see ``call``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation, Overflow
from typing import Any

import re2

from propolis.metadata.expressions.values import (
    CTX,
    ZERO,
    Eval,
    ExpressionError,
    Frame,
    is_list,
    kind_of,
    norm,
)


def _to_date(value: Any, frame: Frame, fn: str) -> dt.date:
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
        f"{fn}() expects a date, datetime or string, got {kind_of(value)}"
    )


def _parse_number(value: str, fn: str) -> Decimal:
    # In the evaluator's context: 28 significant digits, and an exponent past its
    # range ('1e99999999') is refused rather than spelt out by string() or rounding.
    try:
        result = CTX.create_decimal(value.strip())
    except Overflow:
        message = f"{fn}() cannot convert {value!r}: out of range"
        raise ExpressionError(message) from None
    except InvalidOperation:
        result = Decimal("NaN")
    if not result.is_finite():
        raise ExpressionError(f"{fn}() cannot convert {value!r} to a number")
    return result


def _fn_size(frame: Frame, value: Any) -> Decimal:
    if isinstance(value, str | list | tuple | Mapping):
        return Decimal(len(value))
    raise ExpressionError(f"size() expects a string, list or map, got {kind_of(value)}")


def _string_args(fn: str, value: Any, arg: Any) -> None:
    if type(value) is not str or type(arg) is not str:
        raise ExpressionError(
            f"{fn}() expects strings, got {kind_of(value)} and {kind_of(arg)}"
        )


def _fn_contains(frame: Frame, value: Any, arg: Any) -> bool:
    _string_args("contains", value, arg)
    return arg in value


def _fn_starts_with(frame: Frame, value: Any, arg: Any) -> bool:
    _string_args("startsWith", value, arg)
    return bool(value.startswith(arg))


def _fn_ends_with(frame: Frame, value: Any, arg: Any) -> bool:
    _string_args("endsWith", value, arg)
    return bool(value.endswith(arg))


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # refusals are reported to the caller, not stderr


@functools.lru_cache(maxsize=256)
def regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2, whose matching takes time linear in the text
    whatever the pattern (no catastrophic backtracking on ``(a+)+$``). RE2 refuses
    what it cannot do in linear time (backreferences, lookaround): ExpressionError
    saying why."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ExpressionError(
            f"matches(): the regular expression {pattern!r} is not supported: "
            f"{reason} (RE2 syntax: no backreferences or lookaround)"
        ) from None


def _fn_matches(frame: Frame, value: Any, pattern: Any) -> bool:
    _string_args("matches", value, pattern)
    # CEL matches() is a partial match (RE2 semantics), hence search().
    return regex(pattern).search(value) is not None


def _fn_int(frame: Frame, value: Any) -> Decimal:
    if type(value) is str:
        value = _parse_number(value, "int")
    if type(value) is Decimal:
        return value.to_integral_value(rounding=ROUND_DOWN)
    raise ExpressionError(f"int() cannot convert a {kind_of(value)}")


def _fn_double(frame: Frame, value: Any) -> Decimal:
    if type(value) is str:
        return _parse_number(value, "double")
    if type(value) is Decimal:
        return value
    raise ExpressionError(f"double() cannot convert a {kind_of(value)}")


def _fn_string(frame: Frame, value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is Decimal:
        return format(value, "f")  # never scientific notation such as '1E+3'
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise ExpressionError(f"string() cannot convert a {kind_of(value)}")


def _fn_sum(frame: Frame, values: Any) -> Decimal:
    if not is_list(values):
        raise ExpressionError(f"sum() expects a list, got {kind_of(values)}")
    total = ZERO
    for item in values:
        item = norm(item)
        if item is None:
            continue  # empty cells in table rows do not poison the total
        if type(item) is not Decimal:
            raise ExpressionError(f"sum() expects numbers, got a {kind_of(item)}")
        total = CTX.add(total, item)
    return total


def _fn_today(frame: Frame) -> dt.date:
    return frame.now().date()


def _fn_now(frame: Frame) -> dt.datetime:
    return frame.now()


def _fn_date(frame: Frame, value: Any) -> dt.date:
    return _to_date(value, frame, "date")


def _fn_days_between(frame: Frame, start: Any, end: Any) -> Decimal:
    days = _to_date(end, frame, "days_between") - _to_date(start, frame, "days_between")
    return Decimal(days.days)


# name -> (implementation, number of arguments including a method receiver)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {
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
GLOBAL_FUNCTIONS = frozenset(
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
METHODS = frozenset({"size", "contains", "startsWith", "endsWith", "matches"})
MACROS = frozenset({"map", "filter", "all", "exists", "exists_one"})


def call(impl: Callable[..., Any], args: list[Eval]) -> Eval:
    """Build a call closure; any null argument makes the result null."""
    if not args:
        return impl
    if len(args) == 1:
        (arg0,) = args

        def call1(frame: Frame) -> Any:
            value = arg0(frame)
            return None if value is None else impl(frame, value)

        return call1
    if len(args) == 2:
        arg0, arg1 = args

        def call2(frame: Frame) -> Any:
            a = arg0(frame)
            if a is None:
                return None
            b = arg1(frame)
            return None if b is None else impl(frame, a, b)

        return call2
    raise AssertionError("no function takes more than two arguments")

