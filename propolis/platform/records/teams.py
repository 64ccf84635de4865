"""A record's joint followers (联合跟进人) and why a user may or may not act on a
record, through the record service: the team API and the record pages ask the
same methods, so the same checks apply (``read`` to see a team, ``edit`` to
change it, a member the actor may read)."""

from __future__ import annotations

from typing import Any

from propolis.platform.errors import AppError, Forbidden, NotFound, _, _c
from propolis.platform.permissions import team
from propolis.platform.permissions.explain import explain
from propolis.platform.records.reads import Reads

MISSING_USER = _c("platform.records.teams", "No such user")


class Teams(Reads):
    def team(self, object: str, id: str) -> list[dict[str, Any]]:
        """The record's joint followers, with their names and access."""
        self.check(object, id, "read")
        return team.members(self.session.connection(), self.effective, object, id)

    def add_to_team(self, object: str, id: str, body: Any) -> list[dict[str, Any]]:
        """Adds a joint follower (``{"user", "access": "read" | "edit"}``) or
        changes their access; returns the team."""
        self.check(object, id, "edit")
        user, access = team.parse_member(body)
        try:
            self.check("user", user, "read")
        except (NotFound, Forbidden):
            raise AppError("invalid", _("Invalid team member"),
                           {"user": [MISSING_USER]}) from None
        conn = self.session.connection()
        team.put_member(conn, object, id, user, access, self.actor.user_id)
        return team.members(conn, self.effective, object, id)

    def remove_from_team(self, object: str, id: str, user: str) -> None:
        self.check(object, id, "edit")
        team.remove_member(self.session.connection(), object, id, user)

    def explain(self, object: str, id: str, user: str) -> dict[str, Any]:
        """Why ``user`` can or cannot read, edit and delete the record (for the
        enterprise admin: the caller checks)."""
        return explain(self.session.connection(), self.effective, object, id, user,
                       self.lang)
