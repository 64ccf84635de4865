"""Browser tests: the real application served over HTTP on a free local port, driven
by Playwright in Debian's Chromium (``make`` installs it with apt; Playwright never
downloads a browser here). They run on SQLite only: what they check is the pages,
and the functional tests already run every route on both databases.

Each test gets a fresh browser context; ``shot`` writes numbered screenshots to
``tests/browser/artifacts/<test name>/`` (git-ignored) so a run can be looked at."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from pyramid.router import Router

from propolis import main
from propolis.platform import tasks
from propolis.platform.accounts.services import new_captcha
from propolis.platform.db import Database
from propolis.platform.tenancy.migrate import initdb
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD, Tenant
from tests.common.app import app_settings
from tests.conftest import unique_account

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
# What the machine's closed network needs (no background connections, no sync).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 375, "height": 740}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def live_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    root = tmp_path_factory.mktemp("browser")
    db = Database(f"sqlite:///{root / 'system.sqlite'}", str(root / "tenants"))
    initdb(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def live_app(live_database: Database, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Router]:
    """The WSGI application the live server serves (its registry holds the
    database, settings and clock, for steps a test takes behind the pages)."""
    settings = app_settings(live_database, str(tmp_path_factory.mktemp("files")),
                            secret="browser-tests")
    app = main({}, **settings)
    tasks.configure(app.registry.settings, app.registry)
    yield app
    app.registry.database.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Router) -> Iterator[str]:
    """The application on 127.0.0.1:<free port>; yields its base URL."""
    yield from serve(live_app)


def serve(app: Router) -> Iterator[str]:
    """Serves ``app`` on 127.0.0.1:<free port> (for a server fixture: ``yield
    from serve(app)``)."""
    server = make_server("127.0.0.1", 0, app, server_class=_Server,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def solve_captcha(page, live_app: Router) -> None:  # noqa: ANN001
    """Puts a captcha whose answer the test knows into the page's form (what a
    person reads off the picture)."""
    registry = live_app.registry
    made = new_captcha(registry.database, registry.settings["propolis.secret"],
                       registry.clock())
    page.locator("input[name=captcha_id]").evaluate(
        "(e, v) => { e.value = v; }", made.id)
    page.get_by_label("验证码").fill(made.answer)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium: run `make browser` "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:  # noqa: ANN001
    """A fresh context (no cookies), Chinese first like our users' browsers."""
    context = browser.new_context(base_url=live_server, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``shot(page, "added record")`` saves the next numbered full-page screenshot."""
    folder = ARTIFACTS / _slug(request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    count = 0

    def take(page, name: str) -> Path:  # noqa: ANN001
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


@pytest.fixture
def live_enterprise(live_database: Database) -> Callable[..., Tenant]:
    """Makes an enterprise in the live server's database."""

    def make(name: str = "测试企业", phone: str = "13800000000") -> Tenant:
        account = unique_account("b")
        created = create_enterprise(live_database, account=account, name=name,
                                    admin_phone=phone, admin_password=PASSWORD)
        return Tenant(created.account, created.enterprise_id, created.admin_id,
                      created.department_id, phone, PASSWORD)

    return make
