"""What the organisation's services share: the messages, the checks of a request
body, and the service's state (the session, metadata, actor, the record service)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from propolis.platform.audit import record_event
from propolis.platform.errors import AppError, Message, _, _c
from propolis.platform.meta.effective import Effective
from propolis.platform.records.services import RecordService

INVALID = _("Invalid data")
UNKNOWN_KEY = _c("platform.org.base", "unknown key")
NOT_A_STRING = _("must be a record id (a string)")
# Statuses of people who still belong to the organisation.
PRESENT = ("active", "pending")

def invalid(field: str, message: Message, summary: Message = INVALID,
            code: str = "invalid") -> AppError:
    """A 400 naming one field."""
    return AppError(code, summary, {field: [message]})


def check_keys(data: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """``data`` as a dict, refused (400 naming each) when it has other keys."""
    if not isinstance(data, Mapping):
        raise AppError("invalid", _("The body must be a JSON object"))
    unknown = sorted(str(k) for k in set(data) - set(allowed))
    if unknown:
        raise AppError("invalid", _("The request has unknown keys"),
                       {k: [UNKNOWN_KEY] for k in unknown})
    return dict(data)


def optional_id(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise invalid(name, NOT_A_STRING)
    return value


class OrgBase:
    """The organisation of one enterprise, changed on behalf of the record
    service's actor (an admin, checked by the views), inside the caller's
    transaction."""


    def __init__(
        self,
        records: RecordService,
        *,
        sysdb: Session | Connection | None = None,
        enterprise_id: int | None = None,
        ip: str | None = None,
    ) -> None:
        self.records = records
        self.effective: Effective = records.effective
        self.sysdb = sysdb
        self.enterprise_id = enterprise_id
        self.ip = ip
        tables = self.effective.tables
        self.departments = tables.main["department"]
        self.users = tables.main["user"]
        self.user_departments = tables.children["user"]["departments"]

    @property
    def conn(self) -> Connection:
        return self.records.session.connection()

    @property
    def actor_id(self) -> str | None:
        return self.records.actor.user_id

    def _present_user(self, id: str, field: str) -> dict[str, Any]:
        """The user ``id`` (not in the recycle bin, not disabled) as a ``field``
        of the request names them; 400 naming the field otherwise."""
        u = self.users
        row = self.conn.execute(
            select(u.c.id, u.c.name, u.c.status, u.c.main_department, u.c.superior)
            .where(u.c.id == id, u.c.deleted_at.is_(None))).first()
        if row is None:
            raise invalid(field, _("no such user"))
        if row.status == "disabled":
            raise invalid(field, _("the user '${name}' is disabled",
                                   mapping={"name": row.name}))
        return dict(row._mapping)

    def audit(self, action: str, target: str | None,
              details: Mapping[str, Any] | None = None) -> None:
        record_event(self.conn, actor_id=self.actor_id, action=action, target=target,
                     details=details, ip=self.ip)
