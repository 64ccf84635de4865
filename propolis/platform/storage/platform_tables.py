"""The platform's own tables inside every enterprise's storage (declared without a
schema; bound to the tenant's schema like the generated tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column, Connection, Index, Integer, MetaData, String, Table, Text, event, text,
)

from propolis.platform.db import new_metadata
from propolis.platform.storage.types import UTCDateTime, json_type

platform_metadata: MetaData = new_metadata()

# Every metadata change of the enterprise: the enterprise's own layer of documents
# as submitted, the effective metadata it produced, and the storage plan applied.
meta_versions = Table(
    "meta_versions",
    platform_metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(32)),
    Column("comment", Text),
    Column("documents", json_type(), nullable=False),
    Column("effective", json_type(), nullable=False),
    Column("plan", json_type(), nullable=False),
)

# Field-level history: one row per save, ``changes`` = {field: [old, new]}.
record_history = Table(
    "record_history",
    platform_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("object", String(63), nullable=False),
    Column("record_id", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("changed_by", String(32)),
    Column("changes", json_type(), nullable=False),
    Index("ix_record_history_object_record_id", "object", "record_id"),
)

# Autonumber counters; a row per (object, field, period) is locked by the UPDATE that
# takes the next value, so concurrent inserts in several processes never collide.
autonumber_counters = Table(
    "autonumber_counters",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("field", String(63), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("value", Integer, nullable=False),
)

files = Table(
    "files",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("content_type", String(127), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Long-running work (backfills after a metadata change) with progress for the API.
jobs = Table(
    "jobs",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("payload", json_type(), nullable=False),
    Column("error", Text),
    Column("created_by", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The admin audit log: every configuration change (metadata, roles, organisation).
# Append-only: no route changes it, and the database refuses UPDATE and DELETE
# (triggers created with the table, below).
audit_log = Table(
    "audit_log",
    platform_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("actor_id", String(32)),
    Column("action", String(64), nullable=False),
    Column("target", String(200)),
    Column("details", json_type(), nullable=False),
    Column("ip", String(64)),
)

_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log cannot be changed'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log cannot be changed'); END",
)
_POSTGRES = (
    "CREATE OR REPLACE FUNCTION {schema}.audit_log_refuse() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log cannot be changed'; "
    "END $$",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON {schema}.audit_log",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON "
    "{schema}.audit_log FOR EACH ROW EXECUTE FUNCTION {schema}.audit_log_refuse()",
)


@event.listens_for(audit_log, "after_create")
def protect(target: Any, conn: Connection, **kw: Any) -> None:
    """Installs the triggers that make the table append-only."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE:
            conn.execute(text(statement))
        return
    schema_map = conn.get_execution_options().get("schema_translate_map") or {}
    schema = conn.dialect.identifier_preparer.quote(schema_map.get(None) or "public")
    for statement in _POSTGRES:
        conn.execute(text(statement.format(schema=schema)))
