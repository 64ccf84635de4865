"""P6: the generated JSON API against a bare Pyramid view with hand-written SQLAlchemy
Core, both called in-process through WSGI (WebTest), so that what differs is only what
Propolis adds: token authentication, the request's transaction, the metadata, the
permission checks, validation, defaults, history, search text and the JSON shaping of
the record."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy import Engine, insert, select
from webtest import TestApp

from benchmarks.common import Setup, timed
from benchmarks.runs import Row, deal_data, effective, install_deal, static_table
from propolis import main
from propolis.platform.ids import new_id

PASSWORD = "bench-password-1"


def propolis_app(s: Setup, files_dir: str) -> TestApp:
    return TestApp(main({}, **{
        "propolis.database_url": s.database.url,
        "propolis.tenant_dir": s.database.tenant_dir,
        "propolis.files_dir": files_dir,
        "propolis.secret": "bench",
        "propolis.celery_always_eager": "true",
        "propolis.broker_url": "memory://",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    }))


def bare_app(engine: Engine, owner: str) -> TestApp:
    """What a developer would write by hand: two views, Core statements, no auth."""
    table = static_table()

    def create(request: Request) -> dict[str, Any]:
        d = request.json_body
        now = dt.datetime.now(dt.UTC)
        row = {"id": new_id(), "owner": owner, "created_by": owner, "created_at": now,
               "updated_by": owner, "updated_at": now, "life_status": "normal",
               "version": 1, "name": d["name"], "amount": Decimal(str(d["amount"])),
               "qty": d["qty"], "status": d["status"],
               "close_date": dt.date.fromisoformat(d["close_date"]),
               "search_text": d["name"].lower()}
        with engine.begin() as conn:
            conn.execute(insert(table).values(row))
        request.response.status = 201
        return _json(row)

    def read(request: Request) -> dict[str, Any]:
        with engine.connect() as conn:
            row = conn.execute(select(table).where(
                table.c.id == request.matchdict["id"])).mappings().one()
        return _json(dict(row))

    with Configurator() as config:
        config.add_route("create", "/deals", request_method="POST")
        config.add_route("read", "/deals/{id}", request_method="GET")
        config.add_view(create, route_name="create", renderer="json")
        config.add_view(read, route_name="read", renderer="json")
    return TestApp(config.make_wsgi_app())


def _json(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "search_text"}
    for key in ("created_at", "updated_at", "close_date"):
        out[key] = out[key].isoformat()
    out["amount"] = float(out["amount"])
    out["qty"] = int(out["qty"])
    return out


def p1_api(s: Setup, n: int, files_dir: str) -> list[Row]:
    """``n`` creates and ``n`` reads by id through each app, alternating in rounds
    so that both share the machine's state fairly; best round of three."""
    engine = s.database.tenant_engine(s.account)
    if "deal" not in effective(s).objects:
        install_deal(s)
    with engine.begin() as conn:  # P3's, when it ran first
        static_table().create(conn, checkfirst=True)
    ours_app, base_app = propolis_app(s, files_dir), bare_app(engine, s.admin_id)
    token = ours_app.post_json("/api/v1/session", {
        "account": s.account, "login": "13800000000", "password": PASSWORD,
    }).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    data = [deal_data(i, rng) for i in range(n)]
    ours_ids: list[str] = []
    base_ids: list[str] = []

    def create_ours() -> None:
        for d in data:
            ours_ids.append(ours_app.post_json("/api/v1/objects/deal/records", d,
                                               headers=auth, status=201).json["id"])

    def create_base() -> None:
        for d in data:
            base_ids.append(base_app.post_json("/deals", d, status=201).json["id"])

    def read_ours() -> None:
        for record_id in ours_ids[:n]:
            ours_app.get(f"/api/v1/objects/deal/records/{record_id}", headers=auth,
                         status=200)

    def read_base() -> None:
        for record_id in base_ids[:n]:
            base_app.get(f"/deals/{record_id}", status=200)

    created = _rounds(create_ours, create_base)
    read = _rounds(read_ours, read_base)
    ours_app.app.registry.database.dispose()
    return [
        ("P6 API create (HTTP, one per request) vs bare Pyramid + Core",
         n / created[0], n / created[1], "records/s"),
        ("P6 API read by id (HTTP) vs bare Pyramid + Core",
         n / read[0], n / read[1], "records/s"),
    ]


def _rounds(ours: Any, base: Any) -> tuple[float, float]:
    ours_s, base_s = [], []
    for _ in range(3):
        ours_s += timed(ours, 1)
        base_s += timed(base, 1)
    return min(ours_s), min(base_s)

