"""The CRM's record-event subscribers: a follow-up stamps its customer's
``last_follow_up_at`` (the customer it names, else that of its opportunity,
contract or contact), in the same transaction as the follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.config import Configurator

from propolis.platform.errors import NotFound
from propolis.platform.records.events import RecordCreated
from propolis.platform.records.interfaces import IRecordService

# where a follow-up's customer is found when it names none: (field, object)
THROUGH = (("opportunity", "opportunity"), ("contract", "contract"),
           ("contact", "contact"))


def customer_of(service: Any, follow_up: dict[str, Any]) -> str | None:
    if follow_up.get("customer"):
        return str(follow_up["customer"])
    for field, object in THROUGH:
        if follow_up.get(field):
            try:
                found = service.get(object, follow_up[field])
            except NotFound:
                continue
            if found.get("customer"):
                return str(found["customer"])
    return None


def stamp_customer(event: RecordCreated) -> None:
    request = event.request
    customer = request.effective.object("customer")
    if customer is None or "last_follow_up_at" not in customer.fields:
        return
    service = request.find_service(IRecordService).privileged()
    id = customer_of(service, dict(event.record))
    if id is None:
        return
    when = event.record["created_at"]
    try:
        current = service.get("customer", id)["last_follow_up_at"]
    except NotFound:
        return
    if current is None or (dt.datetime.fromisoformat(current)
                           < dt.datetime.fromisoformat(when)):
        service.update("customer", id, {"last_follow_up_at": when})


def register(config: Configurator) -> None:
    config.add_subscriber(stamp_customer, RecordCreated, object="follow_up")
