"""The demo enterprise of ``make serve``: account ``demo``, admin ``13800000000``,
the ``crm`` extension installed with a sales team and its sample data (customers,
contacts, opportunities at every stage, a contract with its payment plans and a
payment, follow-ups, products, a public pool holding one customer), and the
approval forms (the ``oa`` extension) with the people its expense chain needs:
the sales department's head, a finance director, a principal (校长) and the
chairman (the admin).

The demo is data only: the objects are the extensions' (the core carries no
product object)."""

from __future__ import annotations

import random
import secrets
from typing import Any

from pyramid.registry import Registry
from sqlalchemy import select

from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.storage.system import Enterprise
from propolis.platform.tenancy.services import create_enterprise
from propolis.platform.web.offline import service_request

CUSTOMERS = [  # name, short name, level, industry, phone, owner (a rep's phone)
    ("上海建工集团股份有限公司", "上海建工", "A", "construction", "021-63215678",
     "13800000003"),
    ("杭州美家装饰工程有限公司", "美家装饰", "A", "construction", "0571-88776655",
     "13800000003"),
    ("北京华联超市有限公司", "华联超市", "B", "retail", "010-65432100", "13800000004"),
    ("深圳育才教育科技有限公司", "育才教育", "B", "education", "0755-26661234",
     "13800000004"),
    ("苏州精工机械制造有限公司", "精工机械", "C", "manufacturing", "0512-67891234",
     "13800000002"),
    ("成都锦城家居广场", "锦城家居", "C", "retail", "028-85551234", "13800000003"),
]
# key, name, position, phone, superior key, department key
PEOPLE = [("director", "王伟", "sales_manager", "13800000001", "admin", "sales"),
          ("manager", "李娜", "sales_manager", "13800000002", "director", "sales"),
          ("rep1", "张敏", "sales", "13800000003", "manager", "east"),
          ("rep2", "刘洋", "sales", "13800000004", "manager", "east")]
# positions (职务) the oa approval chains name
OFFICERS = [("赵静", "finance_director", "13800000005"),
            ("孙明", "principal", "13800000006")]
STAGES = ["lead", "needs", "proposal", "negotiation", "won", "lost"]
ACTIONS = ["call", "visit", "wechat", "email"]


def create_demo(registry: Registry) -> str | None:
    """Creates the demo enterprise in the database of the application whose
    registry is given, its records through the application's record service (its
    subscribers hear of them as of any other), each rep's as that rep; returns the
    admin password, or None when the enterprise exists already."""
    database: Database = registry.database
    with database.system_sessionmaker() as sysdb:
        if sysdb.execute(select(Enterprise.id).where(Enterprise.account == "demo")
                         ).first():
            return None
    password = secrets.token_urlsafe(9)
    created = create_enterprise(database, account="demo",
                                name="演示企业（示例科技有限公司）",
                                admin_phone="13800000000", admin_password=password,
                                admin_name="陈总", extensions=["oa", "crm"])
    admin = Actor(user_id=created.admin_id, department_id=created.department_id,
                  roles=frozenset({"admin", "employee"}))
    people: dict[str, dict[str, Any]] = {"admin": {"id": created.admin_id}}
    sellers: dict[str, Actor] = {}
    with service_request(registry, "demo", admin) as request:
        records = request.find_service(IRecordService)
        sales = records.create("department", {"name": "销售部",
                                              "parent": created.department_id})
        east = records.create("department", {"name": "华东组", "parent": sales["id"]})
        departments = {"sales": sales["id"], "east": east["id"]}
        for key, name, position, phone, superior, department in PEOPLE:
            people[key] = records.create("user", {
                "name": name, "phone": phone, "position": position,
                "main_department": departments[department],
                "superior": people[superior]["id"], "roles": ["employee"],
                "status": "active"})
            sellers[phone] = Actor(user_id=people[key]["id"],
                                   department_id=departments[department],
                                   roles=frozenset({"employee"}))
        records.update("department", sales["id"], {"head": people["director"]["id"]})
        for name, position, phone in OFFICERS:
            records.create("user", {
                "name": name, "phone": phone, "position": position,
                "main_department": created.department_id,
                "superior": created.admin_id, "roles": ["employee"],
                "status": "active"})
        records.update("user", created.admin_id,
                       {"position": "chairman", "roles": ["admin", "crm_admin",
                                                          "employee"]})
    _sample_crm(registry, admin, sellers, people, east["id"], random.Random(7))
    return password


def _sample_crm(registry: Registry, admin: Actor, sellers: dict[str, Actor],
                people: dict[str, dict[str, Any]], east: str,
                rng: random.Random) -> None:
    """Products, a pool, customers of the reps and the manager with their
    contacts, opportunities, follow-ups, a contract with plans and a payment."""
    with service_request(registry, "demo", admin) as request:
        records = request.find_service(IRecordService)
        products = [records.create("product", {"name": n, "price": p,
                                               "category": c})
                    for n, p, c in (("智能门锁 X1", 1299, "hardware"),
                                    ("全屋智能套装", 19800, "hardware"),
                                    ("装修管理软件（年）", 6800, "software"),
                                    ("上门测量设计", 800, "service"))]
        records.create("competitor", {"name": "某友商科技", "strengths": "价格低",
                                      "weaknesses": "售后慢"})
    for i, row in enumerate(CUSTOMERS):
        with service_request(registry, "demo", sellers[row[-1]]) as request:
            _sample_customer(request.find_service(IRecordService), i, products, rng,
                             row)
    with service_request(registry, "demo", admin) as request:
        _sample_pool(request.find_service(IRecordService), people, east)


def _sample_pool(records: Any, people: dict[str, dict[str, Any]], east: str
                 ) -> None:
    """华东公海, holding one customer: no owner, the east team follows it."""
    pool = records.create("pool", {
        "name": "华东公海", "member_departments": [east],
        "admins": [people["manager"]["id"]], "claim_limit": 5,
        "return_days": 30, "remind_days": 3, "cooldown_days": 7})
    waiting = records.create("customer", {"name": "无锡新景园林工程有限公司",
                                          "short_name": "新景园林", "level": "B"})
    records.update("customer", waiting["id"], {
        "pool": pool["id"], "last_pool": pool["id"], "return_reason": "暂无需求"})
    for key in ("rep1", "rep2", "manager"):
        records.add_to_team("customer", waiting["id"],
                            {"user": people[key]["id"], "access": "read"})
    records.release("customer", waiting["id"])


def _sample_customer(mine: Any, i: int, products: list[dict[str, Any]],
                     rng: random.Random, row: tuple[str, ...]) -> None:
    """A rep's customer with a contact, an opportunity at stage ``i``, a
    follow-up, and for a won one a contract with plans and a payment."""
    name, short, level, industry, phone, _ = row
    customer = mine.create("customer", {
        "name": name, "short_name": short, "level": level, "industry": industry,
        "phone": phone, "status": "intent" if i % 2 else "potential"})
    contact = mine.create("contact", {
        "name": short[:1] + "经理", "customer": customer["id"], "title": "采购经理",
        "mobile": f"139{rng.randrange(10**8):08d}"})
    items = [{"product": p["id"], "qty": rng.randint(1, 20), "price": p["price"]}
             for p in rng.sample(products, 2)]
    stage = STAGES[i % len(STAGES)]
    deal = mine.create("opportunity", {
        "name": f"{short} 年度采购", "customer": customer["id"],
        "amount": sum(item["qty"] * item["price"] for item in items),
        "close_date": f"2026-12-{10 + i:02d}", "stage": stage,
        "lost_reason": "预算取消" if stage == "lost" else None,
        "products": items})
    mine.create("follow_up", {
        "content": f"与{contact['name']}沟通需求", "action": ACTIONS[i % 4],
        "customer": customer["id"], "contact": contact["id"]})
    if stage == "won":
        contract = mine.create("contract", {
            "name": f"{short} 采购合同", "number": f"HT-2026-{i + 1:03d}",
            "customer": customer["id"], "opportunity": deal["id"],
            "amount": deal["amount"], "sign_date": "2026-11-20",
            "start_date": "2026-12-01", "end_date": "2027-11-30"})
        half = round(deal["amount"] / 2, 2)
        first = mine.create("payment_plan", {
            "title": "首期款", "contract": contract["id"],
            "due_date": "2026-12-15", "amount": half})
        mine.create("payment_plan", {
            "title": "尾款", "contract": contract["id"],
            "due_date": "2027-06-30", "amount": deal["amount"] - half})
        mine.create("payment", {"contract": contract["id"], "plan": first["id"],
                                "amount": half, "paid_on": "2026-12-01"})
        mine.create("follow_up", {"content": "首期款已到账",
                                  "contract": contract["id"]})
