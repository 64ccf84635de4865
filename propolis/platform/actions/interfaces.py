"""The actions a user runs on a record, and the schedules the platform runs."""

from __future__ import annotations

from zope.interface import Interface


class IActionService(Interface):
    """The actions of the records of one enterprise, declared in metadata
    (``actions:``) or registered by extensions (``config.add_record_action``),
    run on the request's actor's behalf through the record service."""

    def available(object: str, id: str):
        """``[{"api_name", "label", "confirm"}]``: what the actor may run on the
        record now (edit access, one of the action's roles, ``when`` true); 404
        for a record they cannot read."""

    def run(object: str, id: str, name: str, params: dict):
        """Runs the action ``name`` on the record; returns the record. 404 for an
        unknown action or a record the actor cannot read, 403 without the right,
        409 ``action_unavailable`` when its ``when`` is false."""


class IScheduleService(Interface):
    """The schedules (``schedules:``) of one enterprise's objects, run as the
    system."""

    def run(now, names, *, due_only: bool):
        """Runs the schedules (all, or those ``names`` gives as ``name`` or
        ``object.name``) with ``now()``/``today()`` at ``now``; ``due_only``: only
        those due at ``now`` that have not run in its period. Returns one result
        per schedule run: ``object``, ``schedule``, ``period``, ``changed``,
        ``failed`` (and ``error``, {zh, en}, for one whose action does not
        exist: it is not run, and others are)."""
