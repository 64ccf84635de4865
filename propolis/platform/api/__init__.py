"""The JSON API under /api/v1 (CONTRACT §4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyramid.config import Configurator
from pyramid.renderers import JSON


def decimal_number(value: Decimal, request: object) -> int | float:
    # JSON numbers: integral values as integers, others through float, whose repr
    # is the shortest string that reads back as the same value (exact for money up
    # to 15 significant digits).
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def includeme(config: Configurator) -> None:
    renderer = JSON(ensure_ascii=False)
    renderer.add_adapter(Decimal, decimal_number)
    renderer.add_adapter(dt.datetime, lambda v, r: v.isoformat())
    renderer.add_adapter(dt.date, lambda v, r: v.isoformat())
    renderer.add_adapter(dt.time, lambda v, r: v.isoformat(timespec="minutes"))
    config.add_renderer("json", renderer)
    config.include(".routes", route_prefix="/api/v1")
    config.scan(".")
