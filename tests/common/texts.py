"""Messages as the user reads them: a gettext message (or a label) rendered in
both languages, so that tests assert the zh and en texts the API answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from propolis.platform.errors import both


def texts(messages: Iterable[Any]) -> list[dict[str, str]]:
    return [both(m) for m in messages]


def field_texts(fields: Mapping[str, Iterable[Any]]) -> dict[str, list[dict[str, str]]]:
    return {name: texts(messages) for name, messages in fields.items()}
