"""The CRM's registered record actions (see the package docstring): the public
pool's ``return``, ``claim``, ``assign`` and ``auto_return``, ``transfer`` with
related records, and an opportunity's ``lose``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request

from propolis.platform.actions.interfaces import IActionService
from propolis.platform.actions.registry import ActionParam
from propolis.platform.errors import AppError, Conflict, NotFound, _, _c
from propolis.platform.permissions.policy import forbidden
from propolis.platform.records.interfaces import IRecordService

CUSTOMER = "customer"
# the records that follow their customer to a new owner: (object, lookup)
RELATED = (("contact", "customer"), ("opportunity", "customer"),
           ("contract", "customer"))
PAGE = 200
NO_POOL = _("No such pool")
REQUIRED = _("required")
# the reason the auto_return schedule writes (a value, in the enterprise's language)
STALE = "超期未成交，自动退回公海"


def installed(request: Request) -> bool:
    """Whether the enterprise has the CRM's customers (the include serves every
    enterprise of the process; another one may have an object of that name)."""
    customer = request.effective.object(CUSTOMER)
    return (customer is not None and "pool" in customer.fields
            and request.effective.object("pool") is not None)


def records(request: Request) -> Any:
    return request.find_service(IRecordService)


def every(service: Any, object: str, filters: list[dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """Every record of ``object`` the service reaches that matches ``filters``."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = service.query(object, filters=filters, sort=[], limit=PAGE,
                             cursor=cursor, q=None)
        found += page["records"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def now_of(request: Request) -> dt.datetime:
    """The moment of the run: a schedule's ``--at``, else the clock."""
    moment: dt.datetime | None = request.find_service(IActionService).now
    return moment or dt.datetime.now(dt.UTC)


def param(params: dict[str, Any], name: str, *, required: bool = True) -> Any:
    value = params.get(name)
    if required and (not isinstance(value, str) or not value.strip()):
        raise AppError("invalid", _("${name} is required", mapping={"name": name}),
                       {name: [REQUIRED]})
    if value is not None and not isinstance(value, str):
        raise AppError("invalid", _("Invalid ${name}", mapping={"name": name}),
                       {name: [_c("extensions.crm.actions", "must be a string")]})
    return value


def no_extra(params: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(params) - set(allowed)
    if unknown:
        raise AppError("invalid", _("Unknown parameters"),
                       {k: [_("unknown parameter")]
                        for k in sorted(unknown)})


# -- pools -------------------------------------------------------------------------

def pool_of(request: Request, pool_id: Any, field: str = "pool") -> dict[str, Any]:
    """The pool record (400 naming ``field`` when there is none)."""
    try:
        if not isinstance(pool_id, str):
            raise NotFound("not_found", NO_POOL)
        pool: dict[str, Any] = records(request).privileged().get("pool", pool_id)
    except NotFound:
        raise AppError("invalid", NO_POOL, {field: [NO_POOL]}) from None
    return pool


def pool_admins(pool: dict[str, Any]) -> set[str]:
    return set(pool.get("admins") or ())


def pool_members(request: Request, pool: dict[str, Any]) -> set[str]:
    """The users a pool is published to: those it names, the active users of
    its departments and the departments below them, and its admins."""
    users = set(pool.get("members") or ()) | pool_admins(pool)
    departments = set(pool.get("member_departments") or ())
    service = records(request).privileged()
    frontier = set(departments)
    while frontier:
        below = {d["id"] for d in every(service, "department", [
            {"field": "parent", "op": "in", "value": sorted(frontier)}])}
        frontier = below - departments
        departments |= below
    if departments:
        users |= {u["id"] for u in every(service, "user", [
            {"field": "main_department", "op": "in", "value": sorted(departments)},
            {"field": "status", "op": "eq", "value": "active"}])}
    return users


def crm_admin(request: Request) -> bool:
    return bool(request.actor.roles & {"admin", "crm_admin"})


def into_pool(request: Request, record: dict[str, Any], pool: dict[str, Any],
              reason: str | None) -> dict[str, Any]:
    """Puts the customer into ``pool``: no owner, the pool's members follow it
    (read), who returned it and when kept for the cooldown."""
    service = records(request).privileged()
    id = record["id"]
    service.update(CUSTOMER, id, {
        "pool": pool["id"], "last_pool": pool["id"], "returned_by": record["owner"],
        "returned_at": now_of(request).isoformat(), "return_reason": reason,
        "claimed_by": None, "claimed_at": None})
    for user in sorted(pool_members(request, pool)):
        service.add_to_team(CUSTOMER, id, {"user": user, "access": "read"})
    released: dict[str, Any] = service.release(CUSTOMER, id)
    return released


def out_of_pool(request: Request, record: dict[str, Any], pool: dict[str, Any],
                owner: str, *, claimed: bool) -> dict[str, Any]:
    """Gives the customer in ``pool`` to ``owner`` (claimed by them, or assigned
    by a pool admin: only claims count against the claim limit)."""
    service = records(request).privileged()
    id = record["id"]
    service.transfer(CUSTOMER, id, owner)
    service.update(CUSTOMER, id, {
        "pool": None, "last_pool": pool["id"],
        "claimed_by": owner if claimed else None,
        "claimed_at": dt.datetime.now(dt.UTC).isoformat()})
    for user in sorted(pool_members(request, pool) - {owner}):
        service.remove_from_team(CUSTOMER, id, user)
    got: dict[str, Any] = service.get(CUSTOMER, id)
    return got


def in_pool(request: Request, record: dict[str, Any]) -> bool:
    return installed(request) and bool(record.get("pool"))


# -- the actions --------------------------------------------------------------------

def can_return(request: Request, record: dict[str, Any]) -> bool:
    return installed(request) and not record.get("pool") and bool(record["owner"])


def return_customer(request: Request, record: dict[str, Any],
                    params: dict[str, Any]) -> dict[str, Any]:
    """``return`` ``{"pool", "reason"}``: the owner (or above) gives the customer
    back to a pool."""
    no_extra(params, ("pool", "reason"))
    pool = pool_of(request, param(params, "pool"))
    return into_pool(request, record, pool,
                     param(params, "reason", required=False))


def can_claim(request: Request, record: dict[str, Any]) -> bool:
    """In a pool, for its members (anyone else: 403, and not offered)."""
    if not in_pool(request, record) or request.actor.user_id is None:
        return False
    pool = pool_of(request, record["pool"])
    if request.actor.user_id not in pool_members(request, pool):
        raise forbidden()
    return True


def claim(request: Request, record: dict[str, Any], params: dict[str, Any]
          ) -> dict[str, Any]:
    """``claim``: a pool member takes the customer; refused past the pool's
    claim limit and, for whoever returned it, within its cooldown."""
    no_extra(params, ())
    me = request.actor.user_id
    pool = pool_of(request, record["pool"])
    cooldown = pool.get("cooldown_days")
    returned_at = parse_time(record.get("returned_at"))
    if (cooldown and record.get("returned_by") == me and returned_at is not None
            and dt.datetime.now(dt.UTC) < returned_at + dt.timedelta(days=cooldown)):
        raise Conflict("claim_cooldown", _("You returned this customer: you cannot "
                                           "claim it back within ${cooldown} days",
                                           mapping={"cooldown": cooldown}))
    limit = pool.get("claim_limit")
    if limit is not None:
        held = every(records(request).privileged(), CUSTOMER, [
            {"field": "owner", "op": "eq", "value": me},
            {"field": "claimed_by", "op": "eq", "value": me},
            {"field": "last_pool", "op": "eq", "value": pool["id"]}])
        if len(held) >= limit:
            raise Conflict("claim_limit", _("You hold as many customers from this "
                                            "pool as it allows (${limit})",
                                            mapping={"limit": limit}))
    return out_of_pool(request, record, pool, str(me), claimed=True)


def can_assign(request: Request, record: dict[str, Any]) -> bool:
    """In a pool, for its admins and the CRM admins (anyone else: 403)."""
    if not in_pool(request, record):
        return False
    if not (crm_admin(request) or request.actor.user_id in pool_admins(
            pool_of(request, record["pool"]))):
        raise forbidden()
    return True


def assign(request: Request, record: dict[str, Any], params: dict[str, Any]
           ) -> dict[str, Any]:
    """``assign`` ``{"owner"}``: a pool admin gives the customer to someone."""
    no_extra(params, ("owner",))
    owner = param(params, "owner")
    pool = pool_of(request, record["pool"])
    return out_of_pool(request, record, pool, owner, claimed=False)


def transfer(request: Request, record: dict[str, Any], params: dict[str, Any]
             ) -> dict[str, Any]:
    """``transfer`` ``{"owner"}``: the customer with its contacts, opportunities
    and contracts goes to another owner."""
    no_extra(params, ("owner",))
    owner = param(params, "owner")
    service = records(request)
    out: dict[str, Any] = service.transfer(CUSTOMER, record["id"], owner)
    related = service.privileged()
    for object, field in RELATED:
        for found in every(related, object, [
                {"field": field, "op": "eq", "value": record["id"]}]):
            related.transfer(object, found["id"], owner)
    return out


def due_back(request: Request, record: dict[str, Any]) -> bool:
    """For the ``auto_return`` schedule (the system only): claimed from a pool
    more than its ``return_days`` ago, with no opportunity won since."""
    if (request.actor.user_id is not None or not installed(request)
            or record.get("pool") or not record.get("last_pool")
            or not record["owner"]):
        return False
    claimed_at = parse_time(record.get("claimed_at"))
    pool = pool_of(request, record["last_pool"])
    days = pool.get("return_days")
    if claimed_at is None or not days:
        return False
    if now_of(request) < claimed_at + dt.timedelta(days=days):
        return False
    won = every(records(request), "opportunity", [
        {"field": "customer", "op": "eq", "value": record["id"]},
        {"field": "stage", "op": "eq", "value": "won"}])
    return not any((parse_time(o["updated_at"]) or claimed_at) >= claimed_at
                   for o in won)


def auto_return(request: Request, record: dict[str, Any], params: dict[str, Any]
                ) -> dict[str, Any]:
    pool = pool_of(request, record["last_pool"])
    return into_pool(request, record, pool, STALE)


def can_lose(request: Request, record: dict[str, Any]) -> bool:
    return installed(request) and record.get("stage") not in ("won", "lost")


def lose(request: Request, record: dict[str, Any], params: dict[str, Any]
         ) -> dict[str, Any]:
    """``lose`` ``{"reason"}`` on an opportunity: closed as lost, with why."""
    no_extra(params, ("reason",))
    reason = param(params, "reason")
    out: dict[str, Any] = records(request).update(
        "opportunity", record["id"], {"stage": "lost", "lost_reason": reason})
    return out


# what the record page asks for before running an action
NEW_OWNER = ActionParam("owner", _("New owner"), "record", to="user",
                        required=True)
REASON = ActionParam("reason", _("Reason"), "textarea")


def register(config: Configurator) -> None:
    add = config.add_record_action
    add(CUSTOMER, "return", return_customer, label={"zh": "退回公海", "en": "Return"},
        verb="edit", available=can_return,
        params=(ActionParam("pool", _("Pool"), "record", to="pool",
                            required=True), REASON))
    add(CUSTOMER, "claim", claim, label={"zh": "领取", "en": "Claim"}, verb=None,
        available=can_claim)
    add(CUSTOMER, "assign", assign, label={"zh": "分配", "en": "Assign"}, verb=None,
        available=can_assign, params=(NEW_OWNER,))
    add(CUSTOMER, "transfer", transfer, label={"zh": "更换负责人", "en": "Transfer"},
        verb="transfer", available=lambda request, record: installed(request),
        params=(NEW_OWNER,))
    add(CUSTOMER, "auto_return", auto_return,
        label={"zh": "超期自动退回", "en": "Return when stale"}, verb=None,
        available=due_back)
    add("opportunity", "lose", lose, label={"zh": "输单", "en": "Mark lost"},
        verb="edit", available=can_lose,
        params=(ActionParam("reason", _("Reason lost"), "textarea",
                            required=True),))

