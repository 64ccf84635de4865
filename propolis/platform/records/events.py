"""What the record service tells the rest of the platform and the extensions.

Every change of a record notifies one event with ``registry.notify``, sent by the
record service INSIDE the transaction, after the write and before the commit: a
subscriber that writes through ``event.session`` (or through the request's
services, ``event.request.find_service(IRecordService)``) commits or rolls back
with the change, and one that raises (an ``AppError``: the client sees it) undoes
the whole request. Work for Celery is sent from a subscriber with
``event.request.task(fn).delay(...)``, which leaves only after the commit.

Subscribe with ``config.add_subscriber(fn, RecordUpdated)``; the ``object``
predicate keeps one object's events (``object="order"`` or a list of names).
``OwnerChanged`` and ``LifeStatusChanged`` are ``RecordUpdated`` events too (a
subscriber to ``RecordUpdated`` sees every change of a record's values); a
subscriber to ``RecordEvent`` sees them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from sqlalchemy.orm import Session
from zope.interface import implementedBy

from propolis.platform.permissions.actor import Actor

# {field: (old, new)} in JSON values, for the fields whose value changed
Changes = Mapping[str, tuple[Any, Any]]


@dataclass(frozen=True)
class PasswordSet:
    """A user's password was set through the record service (by an admin's edit of
    the user, an import …): the accounts end that user's sessions. ``request``:
    the request whose record service did it."""

    request: Any
    user_id: str


@dataclass(frozen=True)
class UserDeactivated:
    """A user stopped being active (disabled, or back to pending) through the
    record service: the accounts revoke every token they hold, so that enabling
    them again does not bring their old sessions back."""

    request: Any
    user_id: str


@dataclass(frozen=True, kw_only=True)
class RecordEvent:
    """A record changed. ``request``: the request whose record service changed it
    (its ``tenant``, ``registry``, ``task``); ``session``: the transaction's
    session; ``actor``: on whose behalf; ``record``: the record after the change,
    as JSON values with every field but the write-only ones (whatever the actor
    may see: subscribers are the system's code)."""

    request: Any
    session: Session
    actor: Actor
    object: str
    record_id: str
    record: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordCreated(RecordEvent):
    """A record was created (the API, a form, an import, extension code)."""


@dataclass(frozen=True, kw_only=True)
class RecordUpdated(RecordEvent):
    """A record's values changed: ``changes`` names each changed field with its
    old and new JSON value (a write-only field as ``"******"``). Also sent by a
    backfill that gives existing records the computed values of new fields
    (``version`` unchanged, the actor the system)."""

    changes: Changes


@dataclass(frozen=True, kw_only=True)
class OwnerChanged(RecordUpdated):
    """The record was handed to another user (a transfer, an employee's
    handover): ``changes`` holds ``owner`` and, when it moved, ``owner_department``."""


@dataclass(frozen=True, kw_only=True)
class LifeStatusChanged(RecordUpdated):
    """The record's ``life_status`` changed (``normal``, ``in_review`` while an
    approval runs, ``invalid`` after a rejection that says so): ``changes`` holds
    ``life_status``."""


@dataclass(frozen=True, kw_only=True)
class RecordDeleted(RecordEvent):
    """A record went to the recycle bin (``record`` as it is there)."""


@dataclass(frozen=True, kw_only=True)
class RecordRestored(RecordEvent):
    """A record came back out of the recycle bin."""


@dataclass(frozen=True, kw_only=True)
class ApprovalFinished(RecordEvent):
    """An approval of the record ended (sent by the approval engine after the
    record's ``LifeStatusChanged``): ``status`` is ``approved``, ``rejected`` or
    ``withdrawn``; the record's ``life_status`` is back to ``normal``
    (``invalid`` after a rejection when the definition says
    ``rejected_status: invalid``). ``record`` is empty when the record was
    deleted or its object removed since the submission."""

    instance_id: str
    definition: str
    submitter: str
    status: str


def pairs(changes: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, Any]]:
    """History's ``{field: [old, new]}`` as an event's ``changes``."""
    return {name: (old, new) for name, (old, new) in changes.items()}


class ObjectPredicate:
    """``config.add_subscriber(fn, RecordUpdated, object="order")``: only the
    events of that object (or of any of a list of objects)."""

    def __init__(self, value: str | Iterable[str], config: Configurator) -> None:
        self.objects = frozenset([value] if isinstance(value, str) else value)

    def text(self) -> str:
        return f"object in {sorted(self.objects)}"

    phash = text

    def __call__(self, event: object) -> bool:
        return getattr(event, "object", None) in self.objects


def listened(registry: Any, event_type: type) -> bool:
    """Whether any subscriber would receive an event of ``event_type`` (so that a
    bulk change reads its records back only for someone)."""
    return bool(registry.adapters.subscriptions((implementedBy(event_type),), None))


def includeme(config: Configurator) -> None:
    config.add_subscriber_predicate("object", ObjectPredicate)
