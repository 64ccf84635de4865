from decimal import Decimal

from sqlalchemy import Column, MetaData, String, Table, insert, select

from propolis.platform.db import Database
from propolis.platform.storage.types import ExactDecimal
from tests.conftest import unique_account


def test_tenant_storage_is_separate(database: Database) -> None:
    a, b = unique_account(), unique_account()
    md = MetaData()
    things = Table("things", md, Column("id", String(10), primary_key=True),
                   Column("amount", ExactDecimal(2)))
    for account in (a, b):
        database.create_tenant_storage(account)
        with database.tenant_engine(account).begin() as conn:
            md.create_all(conn)
    with database.tenant_engine(a).begin() as conn:
        conn.execute(insert(things).values(id="x", amount=Decimal("12345678901.235")))
    with database.tenant_engine(a).connect() as conn:
        assert conn.execute(select(things.c.amount)).scalar_one() == Decimal(
            "12345678901.24")
    with database.tenant_engine(b).connect() as conn:
        assert conn.execute(select(things.c.id)).all() == []
    database.drop_tenant_storage(a)
    database.drop_tenant_storage(b)
