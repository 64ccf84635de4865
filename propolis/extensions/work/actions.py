"""The work extension's registered record actions (see the package docstring).

Each checks who may run it itself (a log's superiors, an instruction's assignee or
issuer: people who may read the record but not change it) and then writes the
fields no employee edits (``score``, ``status``, ``rating`` …) with the rights of
the enterprise, as the caller: the history names them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.errors import AppError, Forbidden, Message, _
from propolis.platform.records.inbox import notify
from propolis.platform.records.interfaces import IRecordService

MAX_CHAIN = 64  # superior chains are far shorter; a guard against a bad loop


def records(request: Request) -> Any:
    return request.find_service(IRecordService)


def privileged(request: Request) -> Any:
    """The request's record service with every right, as the caller."""
    return records(request).privileged()


def bad(field: str, message: Message) -> AppError:
    return AppError("invalid", _("Invalid input"), {field: [message]})


def stars(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise bad(name, _("must be a whole number from 1 to 5"))
    return value


def text(params: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(name, _("required"))
    if len(value) > 10000:
        raise bad(name, _("at most 10000 characters"))
    return value


def only(params: dict[str, Any], *names: str) -> None:
    for key in params:
        if key not in names:
            raise bad(key, _("unknown parameter"))


def not_yours() -> Forbidden:
    return Forbidden("forbidden", _("Not allowed"))


def above(request: Request, user: str | None) -> bool:
    """Whether the caller is above ``user`` in the superior chain."""
    me = request.actor.user_id
    service = privileged(request)
    for _step in range(MAX_CHAIN):
        if not user:
            return False
        user = service.get("user", user).get("superior")
        if user == me:
            return True
    return False


def score(request: Request, record: dict[str, Any], params: dict[str, Any]
          ) -> dict[str, Any]:
    """A log's ``score`` (1–5) and ``comment`` by someone above its author."""
    only(params, "score", "comment")
    value = stars(params, "score")
    comment = text(params, "comment", required=False)
    if not above(request, record["created_by"]):
        raise not_yours()
    privileged(request).update("log", record["id"],
                               {"score": value, "score_comment": comment})
    notify(request.db.connection(), [record["created_by"]], "score",
           _("Your log was scored ${value} stars", mapping={"value": value}),
           object="log", record_id=record["id"])
    return records(request).get("log", record["id"])  # type: ignore[no-any-return]


def complete(request: Request, record: dict[str, Any], params: dict[str, Any]
             ) -> dict[str, Any]:
    """The assignee completes an instruction with its ``result`` (and files)."""
    only(params, "result", "files")
    result = text(params, "result", required=True)
    if record["assignee"] != request.actor.user_id:
        raise not_yours()
    values: dict[str, Any] = {"status": "done", "result": result,
                              "completed_at": dt.datetime.now(dt.UTC).isoformat()}
    if params.get("files"):
        values["result_files"] = params["files"]
    privileged(request).update("instruction", record["id"], values)
    notify(request.db.connection(), [record["created_by"]], "instruction",
           _("Instruction “${content}” was completed",
             mapping={"content": record['content'][:40]}),
           object="instruction", record_id=record["id"])
    return records(request).get(  # type: ignore[no-any-return]
        "instruction", record["id"])


def rate(request: Request, record: dict[str, Any], params: dict[str, Any]
         ) -> dict[str, Any]:
    """The issuer rates a completed instruction (1–5)."""
    only(params, "rating")
    value = stars(params, "rating")
    if record["created_by"] != request.actor.user_id:
        raise not_yours()
    privileged(request).update("instruction", record["id"],
                               {"status": "rated", "rating": value})
    notify(request.db.connection(), [record["assignee"]], "instruction",
           _("Your completed instruction was rated ${value} stars",
             mapping={"value": value}),
           object="instruction", record_id=record["id"])
    return records(request).get(  # type: ignore[no-any-return]
        "instruction", record["id"])


# who each kind of reminder is for, and the field that says it was sent
DELIVERY = {
    "todo": (("assignee",), "reminded", "title"),
    "event": (("attendees",), "reminded", "title"),
    "reminder": (("attendees",), "done", "title"),
}


def deliverer(object: str) -> Any:
    """The ``deliver`` action of ``object``, run by its reminder schedule (as the
    system): tells the people the record is for (its owner when it names nobody;
    an event's owner always) and marks it sent."""
    fields, sent, title = DELIVERY[object]

    def deliver(request: Request, record: dict[str, Any], params: dict[str, Any]
                ) -> dict[str, Any]:
        users: list[str] = []
        for name in fields:
            value = record.get(name)
            users += value if isinstance(value, list) else [value] if value else []
        if object == "event" or not users:
            users.insert(0, record["owner"])
        notify(request.db.connection(), users, "reminder",
               _("Reminder: ${record}", mapping={"record": record[title]}),
               object=object, record_id=record["id"])
        return records(request).update(  # type: ignore[no-any-return]
            object, record["id"], {sent: True})

    return deliver


def system_only(request: Request, record: dict[str, Any]) -> bool:
    return request.actor.user_id is None


def register(config: Configurator) -> None:
    config.add_record_action("log", "score", score,
                             label={"zh": "点评", "en": "Score"}, verb="read")
    config.add_record_action(
        "instruction", "complete", complete, label={"zh": "完成", "en": "Complete"},
        verb="read",
        available=lambda request, r: r["status"] in ("open", "overdue"))
    config.add_record_action(
        "instruction", "rate", rate, label={"zh": "评价", "en": "Rate"},
        verb="read", available=lambda request, r: r["status"] == "done")
    for object in DELIVERY:
        config.add_record_action(object, "deliver", deliverer(object),
                                 label={"zh": "发送提醒", "en": "Send reminder"},
                                 verb=None, available=system_only)
