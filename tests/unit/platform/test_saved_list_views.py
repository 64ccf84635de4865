"""The saved list views table: new enterprises get it, and so does an enterprise
made before it existed when the system database is upgraded."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from propolis.platform.db import Database
from propolis.platform.storage.platform_tables import saved_list_views
from propolis.platform.tenancy.migrate import upgrade_tenants
from propolis.platform.tenancy.services import create_enterprise
from tests.common.api import PASSWORD
from tests.conftest import unique_account


def test_existing_enterprises_get_the_table_on_upgrade(database: Database) -> None:
    account = unique_account("slv")
    create_enterprise(database, account=account, name="视图", admin_phone="13800000000",
                      admin_password=PASSWORD)
    engine = database.tenant_engine(account)
    assert has_table(engine)
    with engine.begin() as conn:  # as an enterprise made by an older release
        saved_list_views.drop(conn)
    assert not has_table(engine)
    upgrade_tenants(database)
    assert has_table(engine)


def has_table(engine: Engine) -> bool:
    with engine.connect() as conn:
        schema = (conn.get_execution_options().get("schema_translate_map")
                  or {}).get(None)
        return inspect(conn).has_table("saved_list_views", schema=schema)
