"""What the record service tells the rest of the platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
