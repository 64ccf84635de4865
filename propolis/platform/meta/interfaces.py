"""What the API, the object manager and the role pages ask of an enterprise's
metadata."""

from __future__ import annotations

from typing import Any

from zope.interface import Interface


class IMetadataService(Interface):
    """The metadata of the caller's enterprise, read and changed by its admin (the
    caller checks). A change is validated, planned and applied in the request's
    transaction as a new metadata version; an applied one is in the admin audit
    log and its backfill jobs are queued after the commit. Refusals are
    ``MetadataError``s or ``AppError``s."""

    def plan(documents: list[Any]):
        """What applying ``documents`` would do (an ``Applied``, nothing
        stored)."""

    def apply(documents: list[Any], *, action: str, target: str | None,
              comment: str | None):
        """Applies ``documents``; ``action`` (``metadata.apply`` …) and
        ``target`` name the audit entry. Returns the ``Applied``."""

    def rollback(object: str, version: int, *, dry_run: bool):
        """Brings ``object`` back to how it was at ``version`` (or plans it)."""

    def answer(applied: Any, *, dry_run: bool):
        """What the API returns for a change: ``{"version", "dry_run", "plan",
        "steps", "jobs"}``."""

    def versions():
        """Every metadata version, newest first (``VersionInfo``s)."""

    def effective_at(version: int):
        """The effective metadata of a committed ``version``."""

    def job(job_id: str):
        """A backfill job's progress (a dict), or None."""

    def roles():
        """The roles with their grants and how many users hold each."""

    def put_role(role: str, body: dict[str, Any]):
        """Creates or changes a custom role (``{"label", "grants"}``); returns it
        with the new metadata version."""

    def delete_role(role: str):
        """Removes a custom role nobody holds any more."""
