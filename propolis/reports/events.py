"""The events of reports, sent with ``registry.notify``: a gateway (SMS, WeChat …)
subscribes with ``config.add_subscriber(handler, ReportDue)`` to pass a reminder on
beyond the inbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportDue:
    """``users`` have not filled ``period`` of report ``report`` by its due time;
    each has been sent a notification. Sent inside the reminder's transaction."""

    report: str
    period: str
    users: tuple[str, ...]
    message: dict[str, str]
