import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from propolis.platform.audit import entries, record_event
from propolis.platform.db import Database
from propolis.platform.meta.services import create_tenant_storage
from propolis.platform.storage.platform_tables import audit_log
from tests.conftest import unique_account


def test_audit_log_is_append_only(database: Database) -> None:
    account = unique_account("a")
    create_tenant_storage(database, account)
    engine = database.tenant_engine(account)
    with engine.begin() as conn:
        record_event(conn, actor_id="u1", action="metadata.apply", target="customer",
                     details={"version": 2})
        record_event(conn, actor_id="u1", action="role.update", target="sales")
    with engine.connect() as conn:
        found = entries(conn)
    assert [e["action"] for e in found] == ["role.update", "metadata.apply"]
    assert found[1]["details"] == {"version": 2}
    for statement in (update(audit_log).values(action="x"), delete(audit_log)):
        with pytest.raises(DatabaseError, match="audit log cannot be changed"):
            with engine.begin() as conn:
                conn.execute(statement)
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)
                            ).scalars().all() == ["metadata.apply", "role.update"]
    database.drop_tenant_storage(account)
