"""The lifecycle events of an approval, sent with ``registry.notify`` for extension
hooks (``config.add_subscriber(handler, ApprovalFinished)``). Subscribers run inside
the request's transaction: what they write with ``session`` commits or rolls back
with the approval itself. ``ApprovalFinished`` is an event of the approval's record
(``propolis.platform.records.events``, with the record's other events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from propolis.platform.records.events import ApprovalFinished

__all__ = ["ApprovalFinished", "ApprovalStarted"]


@dataclass(frozen=True)
class ApprovalStarted:
    """An approval was submitted; its record is now ``in_review`` and locked."""

    instance_id: str
    definition: str
    object: str
    record_id: str
    submitter: str
    session: Session
    request: Any = None
