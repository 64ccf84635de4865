"""The real WSGI application over each test database, and enterprises to call it as.

The application is made once per database (the ``database`` fixture is
parametrized over SQLite and PostgreSQL); each test makes the enterprises it needs,
with unique accounts, so tests never see each other's data."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pyramid.request import Request
from webtest import TestApp

from propolis import main
from propolis.platform import tasks
from propolis.platform.db import Database
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD, Tenant
from tests.common.app import app_settings
from tests.conftest import unique_account


@pytest.fixture(scope="session")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestApp]:
    settings = app_settings(database, str(tmp_path_factory.mktemp("files")))
    router = main({}, **settings)
    with pytest.MonkeyPatch.context() as patch:
        # pyramid_retry makes every body seekable; WebOb spools large ones to a
        # temporary file that only the garbage collector closes, which pytest
        # reports as an error. In memory, the 10 MB bodies of the tests are fine.
        patch.setattr(Request, "request_body_tempfile_limit", 64 << 20)
        yield TestApp(router)
    router.registry.database.dispose()


@pytest.fixture(autouse=True)
def _tasks_use_this_app(request: pytest.FixtureRequest) -> None:
    """Celery's configuration is per process: point it (and the eager tasks) at the
    application of this test's database, whichever was made last."""
    if "app" not in request.fixturenames:
        return
    app: TestApp = request.getfixturevalue("app")
    registry = app.app.registry
    tasks.configure(registry.settings, registry)


@pytest.fixture
def enterprise(database: Database) -> Callable[..., Tenant]:
    """Makes a fresh enterprise (its admin logs in with ``Tenant.phone`` and
    ``Tenant.password``)."""

    def make(name: str = "测试企业", phone: str = "13800000000") -> Tenant:
        account = unique_account("f")
        created = create_enterprise(database, account=account, name=name,
                                    admin_phone=phone, admin_password=PASSWORD)
        return Tenant(created.account, created.enterprise_id, created.admin_id,
                      created.department_id, phone, PASSWORD)

    return make
