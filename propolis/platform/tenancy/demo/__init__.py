"""The demo enterprise of ``make serve``: account ``demo``, admin ``13800000000``, a
small sales organisation and sample CRM data, and the approval forms (the ``oa``
extension) with the people its expense chain needs: the sales department's head,
a finance director, a principal (校长) and the chairman (the admin)."""

from __future__ import annotations

import os
import random
import secrets

from pyramid.registry import Registry
from sqlalchemy import select

from propolis.metadata import load_paths
from propolis.platform.db import Database
from propolis.platform.permissions.actor import Actor
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.storage.system import Enterprise
from propolis.platform.tenancy.services import apply_metadata, create_enterprise
from propolis.platform.web.offline import service_request

HERE = os.path.dirname(__file__)
OBJECTS = ("product.yaml", "customer.yaml", "contact.yaml", "opportunity.yaml")
CUSTOMERS = [
    ("上海建工集团", "A", "construction", "021-63215678"),
    ("杭州美家装饰工程有限公司", "A", "construction", "0571-88776655"),
    ("北京华联超市", "B", "retail", "010-65432100"),
    ("深圳育才教育科技", "B", "education", "0755-26661234"),
    ("苏州精工机械制造", "C", "manufacturing", "0512-67891234"),
    ("成都锦城家居广场", "C", "retail", "028-85551234"),
]
PEOPLE = [("王伟", "销售总监", "13800000001"), ("李娜", "销售经理", "13800000002"),
          ("张敏", "销售代表", "13800000003"), ("刘洋", "销售代表", "13800000004")]
# positions (职务) the oa approval chains name
OFFICERS = [("赵静", "finance_director", "13800000005"),
            ("孙明", "principal", "13800000006")]


def create_demo(registry: Registry) -> str | None:
    """Creates the demo enterprise in the database of the application whose
    registry is given, its records through the application's record service (its
    subscribers hear of them as of any other); returns the admin password, or
    None when the enterprise exists already."""
    database: Database = registry.database
    with database.system_sessionmaker() as sysdb:
        if sysdb.execute(select(Enterprise.id).where(Enterprise.account == "demo")
                         ).first():
            return None
    password = secrets.token_urlsafe(9)
    created = create_enterprise(database, account="demo",
                                name="演示企业（示例科技有限公司）",
                                admin_phone="13800000000", admin_password=password,
                                admin_name="陈总", extensions=["oa"])
    apply_metadata(database, "demo",
                   load_paths([os.path.join(HERE, f) for f in OBJECTS]),
                   comment="demo CRM objects")
    rng = random.Random(7)
    admin = Actor(user_id=created.admin_id, department_id=created.department_id,
                  roles=frozenset({"admin", "employee"}))
    with service_request(registry, "demo", admin) as request:
        records = request.find_service(IRecordService)
        sales = records.create("department", {"name": "销售部",
                                              "parent": created.department_id})
        superior = created.admin_id
        for name, position, phone in PEOPLE:
            user = records.create("user", {
                "name": name, "phone": phone, "position": position,
                "main_department": sales["id"], "superior": superior,
                "roles": ["employee"], "status": "active"})
            if position == "销售总监":
                superior = user["id"]
                records.update("department", sales["id"], {"head": user["id"]})
        for name, position, phone in OFFICERS:
            records.create("user", {
                "name": name, "phone": phone, "position": position,
                "main_department": created.department_id,
                "superior": created.admin_id, "roles": ["employee"],
                "status": "active"})
        records.update("user", created.admin_id, {"position": "chairman"})
        products = [records.create("product", {"name": n, "price": p,
                                               "category": c})
                    for n, p, c in (("智能门锁 X1", 1299, "hardware"),
                                    ("全屋智能套装", 19800, "hardware"),
                                    ("装修管理软件（年）", 6800, "software"),
                                    ("上门测量设计", 800, "service"))]
        for name, level, industry, phone in CUSTOMERS:
            customer = records.create("customer", {
                "name": name, "level": level, "industry": industry, "phone": phone,
                "amount": rng.randrange(50_000, 5_000_000) / 100})
            records.create("contact", {"name": name[:2] + "经理",
                                       "customer": customer["id"],
                                       "title": "采购经理",
                                       "mobile": f"139{rng.randrange(10**8):08d}"})
            items = [{"product": p["id"], "qty": rng.randint(1, 20),
                      "price": p["price"]} for p in rng.sample(products, 2)]
            records.create("opportunity", {
                "name": f"{name[:4]} 年度采购", "customer": customer["id"],
                "stage": rng.choice(["lead", "needs", "proposal", "negotiation"]),
                "probability": rng.choice([10, 30, 50, 70]), "items": items})
    return password
