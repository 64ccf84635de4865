"""Values as the pages write them: exact numbers, moments in the enterprise's
wall-clock time, and any JSON value as text in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from propolis.forms.texts import NO, YES
from propolis.metadata.texts import pick
from propolis.platform.errors import COMMA, translate
from propolis.platform.fields.values import parse_datetime, to_decimal, zone


def plain_number(value: Any) -> str:
    """A JSON number as plain decimal text, exactly (``0.1`` stays ``0.1``)."""
    return format(to_decimal(value), "f")


def money(value: Any, places: int | None) -> str:
    """An amount of money as pages show it: ``¥1,234.50`` (grouped thousands,
    the field's decimal places; ``-¥12.00`` below zero)."""
    amount = to_decimal(value)
    digits = f"{abs(amount):,.{places if places is not None else 2}f}"
    return f"-¥{digits}" if amount < 0 else f"¥{digits}"


def local_datetime(value: str, tz: str) -> str:
    """An ISO 8601 moment as the wall-clock time in ``tz``, ``YYYY-MM-DDTHH:MM``
    (with seconds only when they are not zero): what ``datetime-local`` shows."""
    moment = parse_datetime(value).astimezone(zone(tz))
    return moment.replace(tzinfo=None).isoformat(
        timespec="seconds" if moment.second else "minutes")


def joined(items: list[str], lang: str) -> str:
    return pick(COMMA, lang).join(items)


def generic_text(value: Any, lang: str) -> str:
    """Any JSON value as text (a value whose type the page does not know, or of
    an unexpected shape)."""
    if isinstance(value, bool):
        return translate(YES if value else NO, lang)
    if isinstance(value, int | float | Decimal):
        return plain_number(value)
    if isinstance(value, list):
        return joined([generic_text(v, lang) for v in value], lang)
    if isinstance(value, Mapping):
        parts = [v for v in value.values() if v not in (None, "")]
        return " ".join(generic_text(v, lang) for v in parts)
    return str(value)
