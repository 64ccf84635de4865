"""Who acts: the value every service and the access policy are given for the user
of a request, a command or a task."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is saving: the user, their main department and their role api_names."""

    user_id: str | None
    department_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)


# The platform itself (a schedule, a backfill, a subscriber's follow-up write, the
# first records of a new enterprise): no user, every record, every field.
SYSTEM = Actor(user_id=None, roles=frozenset({"admin"}))
