"""An object definition with a field of every type (the sales order of
tests/functional/test_lifecycle.py, 28 types with its product and payment), for
the tests that need every kind of field."""

from __future__ import annotations

from typing import Any

PRODUCT = {
    "label": {"zh": "产品", "en": "Product"},
    "fields": [
        {"api_name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"},
         "required": True, "unique": True, "searchable": True},
        {"api_name": "price", "type": "currency", "precision": 2,
         "label": {"zh": "单价", "en": "Price"}},
    ],
}

# The order without its rollups: those need the payment object, which needs this.
ORDER_FIELDS: list[dict[str, Any]] = [
    {"api_name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"},
     "required": True, "searchable": True, "max_length": 100},
    {"api_name": "notes", "type": "textarea", "searchable": True},
    {"api_name": "body", "type": "richtext"},
    {"api_name": "qty", "type": "number", "precision": 0, "min": 0},
    {"api_name": "amount", "type": "currency", "precision": 2,
     "label": {"zh": "金额", "en": "Amount"}},
    {"api_name": "discount", "type": "percent", "precision": 1, "max": 100},
    {"api_name": "due", "type": "date"},
    {"api_name": "remind_at", "type": "time"},
    {"api_name": "signed_at", "type": "datetime"},
    {"api_name": "urgent", "type": "boolean"},
    {"api_name": "stage", "type": "select", "default": "new", "options": [
        {"value": "new", "label": {"zh": "新建", "en": "New"}},
        {"value": "won", "label": {"zh": "赢单", "en": "Won"}},
        {"value": "lost", "label": {"zh": "输单", "en": "Lost"}}]},
    {"api_name": "tags", "type": "multiselect", "options": ["vip", "repeat", "cold"]},
    {"api_name": "product", "type": "lookup", "to": "product"},
    {"api_name": "items", "type": "table", "fields": [
        {"api_name": "product", "type": "lookup", "to": "product"},
        {"api_name": "qty", "type": "number", "precision": 0, "min": 1,
         "required": True},
        {"api_name": "price", "type": "currency", "precision": 2},
        {"api_name": "line", "type": "formula", "returns": "currency",
         "expression": "qty * price"}]},
    {"api_name": "code", "type": "autonumber", "format": "SO-{YYYY}{MM}-{seq:4}"},
    {"api_name": "total", "type": "formula", "returns": "currency",
     "expression": "sum(items.map(i, i.qty * i.price))"},
    {"api_name": "product_price", "type": "quote", "via": "product",
     "field": "price"},
    {"api_name": "phone", "type": "phone"},
    {"api_name": "email", "type": "email"},
    {"api_name": "site", "type": "url"},
    {"api_name": "contract", "type": "file"},
    {"api_name": "photos", "type": "image"},
    {"api_name": "place", "type": "location"},
    {"api_name": "region", "type": "area"},
    {"api_name": "handler", "type": "user"},
    {"api_name": "dept", "type": "department"},
]
ROLLUPS: list[dict[str, Any]] = [
    {"api_name": "payment_count", "type": "rollup", "from": "payment",
     "via": "sales_order", "function": "count"},
    {"api_name": "paid", "type": "rollup", "from": "payment", "via": "sales_order",
     "function": "sum", "field": "amount"},
]
PAYMENT = {
    "label": {"zh": "回款", "en": "Payment"},
    "fields": [
        {"api_name": "sales_order", "type": "master_detail", "to": "sales_order",
         "required": True},
        {"api_name": "amount", "type": "currency", "precision": 2},
    ],
}


def order_doc(*extra: dict[str, Any], without: tuple[str, ...] = (),
              label: dict[str, str] | None = None) -> dict[str, Any]:
    fields = [f for f in [*ORDER_FIELDS, *ROLLUPS, *extra]
              if f["api_name"] not in without]
    return {"label": label or {"zh": "销售订单", "en": "Sales order"},
            "name_field": "title", "fields": fields}
