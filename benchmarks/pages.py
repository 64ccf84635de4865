"""P7: server time of the generated pages, through the WSGI application with a
logged-in session cookie (no network, no browser: what the server spends)."""

from __future__ import annotations

import tempfile
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from benchmarks.common import Setup, p50, timed
from benchmarks.runs import Row, effective
from propolis import main

PASSWORD = "bench-password-1"  # the bench enterprise's admin (benchmarks.common)


def _app(s: Setup, files_dir: str) -> TestApp:
    router = main({}, **{
        "propolis.database_url": s.database.url,
        "propolis.tenant_dir": s.database.tenant_dir,
        "propolis.files_dir": files_dir,
        "propolis.secret": "bench",
        "propolis.celery_always_eager": "true",
        "propolis.broker_url": "memory://",
        "tm.manager_hook": "pyramid_tm.explicit_manager",
    })
    return TestApp(router, extra_environ={"REMOTE_ADDR": "203.0.113.7"})


def _log_in(app: TestApp, s: Setup) -> None:
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action == "/login")
    form["account"] = s.account
    form["login"] = "13800000000"
    form["password"] = PASSWORD
    form.submit(status=303)


def _some_id(s: Setup) -> Any:
    table = effective(s).tables.main["deal"]
    with s.database.tenant_engine(s.account).connect() as conn:
        return conn.execute(select(table.c.id).where(table.c.deleted_at.is_(None))
                            .order_by(table.c.id).limit(1)).scalar_one()


def p7_detail(s: Setup, rows: int) -> Row:
    """``GET /o/deal/r/{id}`` (the detail page: layout, names, related lists, the
    actions the user may take) against the JSON API's read of the same record
    with a bearer token; p50 of 50 runs each."""
    record_id = _some_id(s)
    with tempfile.TemporaryDirectory(prefix="propolis-bench-files-") as files_dir:
        app = _app(s, files_dir)
        try:
            _log_in(app, s)
            api = TestApp(app.app)  # no cookie: the API's own login
            token = api.post_json("/api/v1/session", {
                "account": s.account, "login": "13800000000",
                "password": PASSWORD}).json["token"]
            headers = {"Authorization": f"Bearer {token}"}

            def page() -> None:
                app.get(f"/o/deal/r/{record_id}", status=200)

            def read() -> None:
                api.get(f"/api/v1/objects/deal/records/{record_id}",
                        headers=headers, status=200)

            page(), read()  # warm caches
            ours, base = [], []
            for _ in range(5):
                ours += timed(page, 10)
                base += timed(read, 10)
        finally:
            app.app.registry.database.dispose()
    return (f"P7 detail page GET /o/deal/r/{{id}}, {rows:,} rows (vs the API's read)",
            p50(ours) * 1000, p50(base) * 1000, "ms (p50)")
