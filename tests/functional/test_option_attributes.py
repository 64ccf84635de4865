"""Select options carry attributes (CONTRACT §6): the object's metadata shows them,
and ``option(field, 'attr')`` reads them in formulas, validation rules and approval
conditions, following the record's current option."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from webtest import TestApp

from propolis.platform.db import Database
from tests.common.accounts import form_of
from tests.common.api import ApiClient, Tenant, error, login_admin
from tests.common.approvals import make_school, submit
from tests.functional.test_object_manager import admin_page, apply

STAGE = {
    "api_name": "stage", "type": "select", "label": {"zh": "阶段", "en": "Stage"},
    "options": [
        {"value": "proposal", "label": {"zh": "方案报价"},
         "attributes": {"probability": 60, "closed": False}},
        {"value": "won", "label": {"zh": "赢单"},
         "attributes": {"probability": 100, "closed": True, "won": True}},
        {"value": "lost", "label": {"zh": "输单"}, "attributes": {"closed": True}},
        {"value": "lead", "label": {"zh": "线索"}},
    ],
}
DEAL = {
    "label": {"zh": "商机", "en": "Deal"},
    "fields": [
        {"api_name": "name", "type": "text"},
        STAGE,
        {"api_name": "amount", "type": "currency", "precision": 2},
        {"api_name": "probability", "type": "formula", "returns": "percent",
         "expression": "option(stage, 'probability')"},
        {"api_name": "forecast", "type": "formula", "returns": "currency",
         "expression": "amount * option(stage, 'probability') / 100"},
    ],
    "validations": [{"rule": "!option(stage, 'won') || amount > 0",
                     "message": {"zh": "赢单须填写金额",
                                 "en": "A won deal has an amount"}}],
}


@dataclass
class Shop:
    api: ApiClient
    database: Database
    tenant: Tenant

    @property
    def account(self) -> str:
        return self.tenant.account

    def stored(self, record_id: str) -> dict[str, Any]:
        """The record's row as the database holds it."""
        with self.database.tenant_engine(self.account).connect() as conn:
            sqlite = self.database.dialect.name == "sqlite"
            schema = "" if sqlite else f"t_{self.account}."
            row = conn.execute(text(
                f"SELECT probability, forecast FROM {schema}o_deal WHERE id = :id"),
                {"id": record_id}).one()
        return dict(row._mapping)


@pytest.fixture
def shop(app: TestApp, database: Database, enterprise: Callable[..., Tenant]) -> Shop:
    tenant = enterprise()
    client = login_admin(app, tenant)
    client.define("deal", DEAL)
    return Shop(client, database, tenant)


def test_the_object_shows_each_option_with_its_attributes(shop: Shop):
    fields = {f["api_name"]: f for f in shop.api.get("/objects/deal").json["fields"]}
    assert [(o["value"], o["attributes"]) for o in fields["stage"]["options"]] == [
        ("proposal", {"probability": 60, "closed": False}),
        ("won", {"probability": 100, "closed": True, "won": True}),
        ("lost", {"closed": True}),
        ("lead", {}),
    ]


def test_a_formula_follows_the_option_of_the_stage(shop: Shop):
    api = shop.api
    deal = api.create("deal", {"name": "大单", "stage": "proposal", "amount": 1000})
    assert (deal["probability"], deal["forecast"]) == (60, 600)
    assert shop.stored(deal["id"]) in (
        {"probability": Decimal("60.00"), "forecast": Decimal("600.00")},
        {"probability": 6000, "forecast": 60000})  # SQLite: in hundredths
    path = f"/objects/deal/records/{deal['id']}"
    deal = api.patch(path, {"stage": "won", "version": deal["version"]},
                     status=200).json
    assert (deal["probability"], deal["forecast"]) == (100, 1000)
    deal = api.patch(path, {"stage": "lost", "version": deal["version"]},
                     status=200).json
    assert (deal["probability"], deal["forecast"]) == (None, None)
    assert shop.stored(deal["id"]) == {"probability": None, "forecast": None}
    deal = api.patch(path, {"stage": None, "version": deal["version"]},
                     status=200).json
    assert deal["probability"] is None
    found = api.query("deal", filters=[{"field": "probability", "op": "eq",
                                        "value": 100}])["records"]
    assert found == []


def test_a_validation_rule_reads_an_option_attribute(shop: Shop):
    response = shop.api.post("/objects/deal/records",
                             {"name": "空单", "stage": "won"}, status=400)
    assert error(response)["message"] == "赢单须填写金额"
    assert sorted(error(response)["fields"]) == ["amount", "stage"]
    assert shop.api.query("deal")["records"] == []
    shop.api.create("deal", {"name": "空单", "stage": "proposal"})


def test_an_approval_condition_reads_an_option_attribute(
        app: TestApp, database: Database):
    school = make_school(app, database)
    admin = school.admin
    admin.define("errand", {
        "label": {"zh": "外出单", "en": "Errand"},
        "fields": [
            {"api_name": "reason", "type": "text"},
            {"api_name": "urgency", "type": "select", "options": [
                {"value": "high", "attributes": {"escalate": True}},
                {"value": "low", "attributes": {"escalate": False}}]},
        ]})
    admin.put("/metadata/approvals/errand", {
        "label": {"zh": "外出", "en": "Errand"}, "form": "errand",
        "steps": [{"approver": {"users": [school.ids["finance"]]}},
                  {"approver": {"users": [school.ids["principal"]]},
                   "when": "option(urgency, 'escalate')"}]}, status=200)
    for urgency, second in (("high", "waiting"), ("low", "skipped")):
        instance = submit(school.teacher, "errand",
                          {"reason": "家中有事", "urgency": urgency})
        assert [s["status"] for s in instance["steps"]][1] == second
    response = admin.put("/metadata/approvals/errand", {
        "label": {"zh": "外出", "en": "Errand"}, "form": "errand",
        "steps": [{"approver": {"users": [school.ids["finance"]]},
                   "when": "option(urgency, 'escalates')"}]}, status=400)
    [message] = error(response)["fields"]["steps[0].when"]
    assert "'urgency' 的属性 'escalates'" in message


def test_editing_the_options_in_the_object_manager_keeps_their_attributes(
        app: TestApp, shop: Shop):
    client = admin_page(app, shop.tenant)
    action = "/admin/objects/deal/fields/stage"
    form = form_of(client.get(action), action)
    form.set("option_zh", "报价", index=0)
    apply(form.submit(status=200))
    options = {f["api_name"]: f for f in
               shop.api.get("/objects/deal").json["fields"]}["stage"]["options"]
    assert [(o["label"]["zh"], o["attributes"]) for o in options] == [
        ("报价", {"probability": 60, "closed": False}),
        ("赢单", {"probability": 100, "closed": True, "won": True}),
        ("输单", {"closed": True}),
        ("线索", {}),
    ]
