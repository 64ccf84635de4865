"""The lifecycle events of an approval, sent with ``registry.notify`` for extension
hooks (``config.add_subscriber(handler, ApprovalFinished)``). Subscribers run inside
the request's transaction: what they write with ``session`` commits or rolls back
with the approval itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


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


@dataclass(frozen=True)
class ApprovalFinished:
    """An approval ended: ``status`` is ``approved``, ``rejected`` or ``withdrawn``;
    its record's ``life_status`` is back to ``normal`` (``invalid`` after a rejection
    when the definition says ``rejected_status: invalid``)."""

    instance_id: str
    definition: str
    object: str
    record_id: str
    submitter: str
    status: str
    session: Session
    request: Any = None
