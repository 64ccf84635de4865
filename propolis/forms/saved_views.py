"""Saved list views (``ISavedViewService``): a user's own named query strings of
an object's list page (filters, sort, columns, keyword). Each user sees, renames
and deletes only theirs; another user's view id is the same "not found" as a
missing one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from propolis.forms.interfaces import ISavedViewService
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import saved_list_views as views

MAX_NAME = 100
MAX_VIEWS = 50  # per user and object: the switcher stays a short list
MAX_PARAMS = 200


@dataclass(frozen=True)
class SavedView:
    id: str
    name: str
    params: list[tuple[str, str]]


def _row(row: Any) -> SavedView:
    return SavedView(row.id, row.name, [(k, v) for k, v in row.params])


def _name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME:
        raise AppError("invalid", _("Invalid view name"), {"name": [
            _("give a name of 1 to ${max_name} characters",
              mapping={"max_name": MAX_NAME})]})
    return text


def _params(params: Sequence[tuple[str, str]]) -> list[list[str]]:
    if len(params) > MAX_PARAMS:
        raise AppError("invalid", _("Too many filters"))
    return [[str(k), str(v)] for k, v in params]


@implementer(ISavedViewService)
class SavedViews:
    """The saved views of user ``user_id``, in the enterprise storage of
    ``session`` (the caller's transaction)."""

    def __init__(self, session: Session, user_id: str) -> None:
        self.session = session
        self.user_id = user_id

    @property
    def conn(self) -> Connection:
        return self.session.connection()

    def list(self, object: str) -> list[SavedView]:
        """The user's saved views of ``object``, by name."""
        rows = self.conn.execute(select(views).where(
            views.c.user_id == self.user_id, views.c.object == object)
            .order_by(views.c.name, views.c.id))
        return [_row(r) for r in rows]

    def get(self, object: str, id: str) -> SavedView:
        """One of the user's views (404 for anyone else's or a missing one)."""
        row = self.conn.execute(select(views).where(
            views.c.id == id, views.c.user_id == self.user_id,
            views.c.object == object)).first()
        if row is None:
            raise NotFound("not_found", _("There is no such view"))
        return _row(row)

    def _check_unique(self, object: str, name: str, exclude: str | None) -> None:
        stmt = select(views.c.id).where(views.c.user_id == self.user_id,
                                        views.c.object == object,
                                        views.c.name == name)
        if exclude is not None:
            stmt = stmt.where(views.c.id != exclude)
        if self.conn.execute(stmt).first() is not None:
            raise AppError("invalid", _("Duplicate view name"), {
                "name": [_("you already have a view of that name")]})

    def save(self, object: str, name: Any, params: Sequence[tuple[str, str]]
             ) -> SavedView:
        """Saves the list page's query string ``params`` under ``name`` (a new
        view; 400 naming the field for an empty, too long or taken name)."""
        text = _name(name)
        self._check_unique(object, text, None)
        count = self.conn.execute(select(func.count()).select_from(views).where(
            views.c.user_id == self.user_id, views.c.object == object)).scalar_one()
        if count >= MAX_VIEWS:
            raise AppError("invalid", _("At most ${max_views} saved views per object",
                                        mapping={"max_views": MAX_VIEWS}))
        now = dt.datetime.now(dt.UTC)
        view_id = new_id()
        stored = _params(params)
        self.conn.execute(insert(views).values(
            id=view_id, user_id=self.user_id, object=object, name=text,
            params=stored, created_at=now, updated_at=now))
        return SavedView(view_id, text, [(k, v) for k, v in stored])

    def rename(self, object: str, id: str, name: Any) -> SavedView:
        view = self.get(object, id)
        text = _name(name)
        self._check_unique(object, text, id)
        self.conn.execute(update(views).where(views.c.id == view.id).values(
            name=text, updated_at=dt.datetime.now(dt.UTC)))
        return SavedView(view.id, text, view.params)

    def delete(self, object: str, id: str) -> None:
        view = self.get(object, id)
        self.conn.execute(delete(views).where(views.c.id == view.id))
