"""Delegation (代批): a user's delegate for a period, who gets the tasks assigned
to them meanwhile and acts on their behalf."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select

from propolis.platform.errors import _
from propolis.platform.fields.values import ValueProblem, parse_datetime
from propolis.platform.storage.platform_tables import approval_delegations
from propolis.platform.workflow.engine import (
    ApprovalEngine,
    check_keys,
    invalid,
    utcnow,
)


class Delegations(ApprovalEngine):
    """A user's delegate."""

    def delegation(self) -> dict[str, Any] | None:
        """The actor's delegation setting (None when they have none)."""
        d = approval_delegations.c
        row = self.conn.execute(select(approval_delegations).where(
            d.user_id == self.me)).first()
        if row is None:
            return None
        name = self.directory.names([row.delegate]).get(row.delegate)
        return {"delegate": {"id": row.delegate, "name": name},
                "from": row.starts_at, "to": row.ends_at,
                "active": row.starts_at <= utcnow() < row.ends_at}

    def set_delegation(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """While away from ``from`` to ``to`` (ISO 8601 with offset), tasks
        assigned to the actor go to ``delegate``, who acts on their behalf."""
        check_keys(body, ("delegate", "from", "to"))
        delegate = self._user_field(body.get("delegate"), "delegate", required=True)
        if delegate == self.me:
            raise invalid("delegate", _("cannot be yourself"))
        period = {}
        for key in ("from", "to"):
            try:
                period[key] = parse_datetime(body.get(key))
            except ValueProblem as exc:
                raise invalid(key, exc.args[0]) from None
        if period["to"] <= period["from"]:
            raise invalid("to", _("must be after from"))
        d = approval_delegations.c
        self.conn.execute(approval_delegations.delete().where(d.user_id == self.me))
        self.conn.execute(insert(approval_delegations).values(
            user_id=self.me, delegate=delegate, starts_at=period["from"],
            ends_at=period["to"], updated_at=utcnow()))
        return self.delegation() or {}

    def clear_delegation(self) -> None:
        self.conn.execute(approval_delegations.delete().where(
            approval_delegations.c.user_id == self.me))
