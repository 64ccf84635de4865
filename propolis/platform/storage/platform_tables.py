"""The platform's own tables inside every enterprise's storage (declared without a
schema; bound to the tenant's schema like the generated tables)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

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
