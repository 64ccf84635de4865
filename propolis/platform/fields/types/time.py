"""``time``: a time of day, ``09:30`` (seconds when not zero)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from propolis.metadata.expressions.typecheck import TIME
from propolis.platform.errors import _
from propolis.platform.fields.base import Field, Schema
from propolis.platform.fields.cells import bad
from propolis.platform.fields.temporal import Temporal
from propolis.platform.fields.values import TIME_RE, parse_time

TIME_LIKE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class Time(Temporal):
    name = "time"
    description = _("Time of day")
    value_kind = "time"
    cel = TIME

    def read(self, value: Any) -> Any:
        return parse_time(value)

    def from_iso(self, text: str) -> Any:
        return dt.time.fromisoformat(text)

    def value_schema(self, field: Field) -> Schema:
        return {"type": "string", "pattern": TIME_RE.pattern}

    def from_cell(self, field: Field, text: str, tz: str) -> Any:
        match = TIME_LIKE.match(text)
        if match is None:
            raise bad(_("a time looks like 09:30"))
        return (f"{int(match[1]):02d}:{match[2]}"
                + (f":{match[3]}" if match[3] else ""))
