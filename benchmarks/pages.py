"""P7: server time of the generated pages, through the WSGI application with a
logged-in session cookie, on the deal table the other runs filled."""

from __future__ import annotations

import tempfile
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from benchmarks.api import propolis_app
from benchmarks.common import Setup, p50, timed
from benchmarks.runs import Row, effective

ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "bench-password-1"


def logged_in(app: TestApp, s: Setup) -> tuple[TestApp, TestApp]:
    """A browser logged in with the session cookie (the pages), and an API
    client with the bearer header of the same admin."""
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action == "/login")
    form["account"] = s.account
    form["login"] = ADMIN_PHONE
    form["password"] = ADMIN_PASSWORD
    form.submit(status=303)
    # the API from a client without the cookie (a cookie would make it ask for
    # the CSRF token, as it does of browsers)
    api = TestApp(app.app)
    token = api.post_json("/api/v1/session", {
        "account": s.account, "login": ADMIN_PHONE, "password": ADMIN_PASSWORD},
        status=200).json["token"]
    api.extra_environ = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return app, api


def p7_list(s: Setup, rows: int) -> list[tuple[str, float, float, str]]:
    """``GET /o/deal`` (the first page of the default view: 50 rows rendered,
    the filter panel, the view switcher) against the JSON API's first query page
    of the same view (``POST /api/v1/objects/deal/query``, same sort, 50 rows):
    what rendering the page costs over the data it shows."""
    with tempfile.TemporaryDirectory(prefix="propolis-bench-files-") as files:
        app, api_client = logged_in(propolis_app(s, files), s)
        sort = ["-updated_at"]

        def page() -> None:
            response = app.get("/o/deal", status=200)
            assert response.text.count('class="title"') == 50

        body: dict[str, Any] = {"sort": sort, "limit": 50}

        def api() -> None:
            found = api_client.post_json("/api/v1/objects/deal/query", body,
                                         status=200).json
            assert len(found["records"]) == 50

        page(), api()  # warm caches
        ours, base = [], []
        for _ in range(5):
            ours += timed(page, 10)
            base += timed(api, 10)
        app.app.registry.database.dispose()
    return [(f"P7 list page `GET /o/deal` vs the API's first query page, "
             f"{rows:,} rows", p50(ours) * 1000, p50(base) * 1000, "ms (p50)")]


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
    with tempfile.TemporaryDirectory(prefix="propolis-bench-files-") as files:
        app, api_client = logged_in(propolis_app(s, files), s)

        def page() -> None:
            app.get(f"/o/deal/r/{record_id}", status=200)

        def read() -> None:
            api_client.get(f"/api/v1/objects/deal/records/{record_id}", status=200)

        page(), read()  # warm caches
        ours, base = [], []
        for _ in range(5):
            ours += timed(page, 10)
            base += timed(read, 10)
        app.app.registry.database.dispose()
    return (f"P7 detail page GET /o/deal/r/{{id}}, {rows:,} rows (vs the API's read)",
            p50(ours) * 1000, p50(base) * 1000, "ms (p50)")
