"""The platform's own tables inside every enterprise's storage (declared without a
schema; bound to the tenant's schema like the generated tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

from propolis.platform.db import dialect_for, new_metadata
from propolis.platform.storage.hierarchy import Closure, closure_table
from propolis.platform.storage.types import UTCDateTime, json_type

platform_metadata: MetaData = new_metadata()


def _created() -> tuple[Column[Any], Column[Any]]:
    """Who made a row and when (fresh columns: a Column belongs to one table)."""
    return (
        Column("created_by", String(32)),
        Column("created_at", UTCDateTime(), nullable=False),
    )


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
    *_created(),
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
    *_created(),
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

@event.listens_for(audit_log, "after_create")
def protect(target: Any, conn: Connection, **kw: Any) -> None:
    """Installs the triggers that make the table append-only."""
    dialect_for(conn).make_append_only(conn, audit_log.name,
                                       "the audit log cannot be changed")


# -- the organisation (propolis.platform.org) ------------------------------------

# Enterprise-wide organisation settings, one JSON value per key (e.g. the defaults
# given to new users: ``new_user_defaults`` = {"roles": [...], "department": id}).
org_settings = Table(
    "org_settings",
    platform_metadata,
    Column("key", String(63), primary_key=True),
    Column("value", json_type(), nullable=False),
    Column("updated_by", String(32)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Invitations to join the enterprise: a link anyone holding it may use until it
# expires (``max_uses`` null), or one addressed to a phone or email (used once).
# The token is kept as is: it only lets someone file a join request that an admin
# still reviews, and admins need to see and resend the links they made.
org_invitations = Table(
    "org_invitations",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # link | phone | email
    Column("target", String(200)),  # the phone or email of a direct invitation
    Column("department", String(32)),
    Column("message", json_type()),  # {"zh", "en"}: what the admin forwards
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, default=0),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    *_created(),
)

# Requests to join (待审核): nobody becomes a user, and so nobody logs in, before an
# admin approves. The password is kept only as its argon2 hash.
org_join_requests = Table(
    "org_join_requests",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("invitation_id", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(64), nullable=False, index=True),
    Column("email", String(200)),
    Column("password_hash", String(200), nullable=False),
    Column("department", String(32)),
    Column("reason", Text),
    Column("user_id", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("reviewed_by", String(32)),
    Column("reviewed_at", UTCDateTime()),
)

# Employee imports from XLSX: the rows as read, each row's errors, and the outcome,
# so the error report can be downloaded as a workbook after the answer.
org_imports = Table(
    "org_imports",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # imported | rejected
    Column("file_name", String(255)),
    Column("total", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("columns", json_type(), nullable=False),
    Column("rows", json_type(), nullable=False),
    Column("errors", json_type(), nullable=False),
    *_created(),
)

# The superior chain (users by ``superior``). Visibility asks "is the owner below
# me?" with one indexed lookup instead of walking the chain. Kept in step by the
# record service, in the transaction that changes a user's ``superior``
# (``propolis.platform.storage.hierarchy``).
user_hierarchy = closure_table("user_hierarchy", platform_metadata)

# The department tree (departments by ``parent``), for the data scope "department":
# a department and everything under it.
department_tree = closure_table("department_tree", platform_metadata)

USERS = Closure("user", "superior", user_hierarchy)
DEPARTMENTS = Closure("department", "parent", department_tree)
CLOSURES = {c.object: c for c in (USERS, DEPARTMENTS)}

# Joint followers (联合跟进人): users who see a record (``access`` "read") or may also
# change it ("edit") whoever owns it. The second index serves visibility: "the
# records of this object that I follow".
record_team = Table(
    "record_team",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("access", String(8), nullable=False),
    Column("added_by", String(32)),
    Column("added_at", UTCDateTime(), nullable=False),
    Index("ix_record_team_user_id", "user_id", "object", "record_id"),
)


@event.listens_for(user_hierarchy, "after_create")
@event.listens_for(department_tree, "after_create")
def fill_closure(target: Any, conn: Connection, **kw: Any) -> None:
    """An enterprise made before these tables existed gets them filled from its
    users' superiors and departments' parents, in the upgrade's transaction."""
    next(c for c in CLOSURES.values() if c.table is target).rebuild(conn)


# -- record lists (propolis.forms.pages.lists) -------------------------------------

# A user's own saved list views: the list page's query string (filters, sort,
# columns, keyword) under a name, as [[key, value], ...] pairs. Only their owner
# sees, renames or deletes them.
saved_list_views = Table(
    "saved_list_views",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("object", String(63), nullable=False),
    Column("name", String(100), nullable=False),
    Column("params", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_saved_list_views_user_id", "user_id", "object"),
)


# -- approvals (propolis.platform.workflow) ----------------------------------------

# One approval: the definition as it was when submitted (``definition`` snapshot and
# the metadata version it came from), the record it is about, where it stands.
approval_instances = Table(
    "approval_instances",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("definition_name", String(63), nullable=False),
    Column("definition_version", Integer, nullable=False),
    Column("definition", json_type(), nullable=False),
    Column("object", String(63), nullable=False),
    Column("record_id", String(32), nullable=False),
    Column("title", String(255)),
    Column("submitter", String(32), nullable=False),
    Column("submitter_department", String(32)),
    Column("status", String(16), nullable=False),  # pending approved rejected withdrawn
    Column("current_step", Integer),  # seq of the active step while pending
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Index("ix_approval_instances_submitter", "submitter", "id"),
    Index("ix_approval_instances_object_record_id", "object", "record_id"),
    Index("ix_approval_instances_created_at", "created_at"),
)

# The steps of an instance in order (``seq`` 1, 2, …; renumbered when an approver is
# added before or after a step). ``approvers`` were resolved at submission.
approval_steps = Table(
    "approval_steps",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("instance_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("label", json_type()),
    Column("kind", String(16), nullable=False),  # defined added free
    Column("sign", String(16), nullable=False),
    Column("percentage", json_type()),
    Column("approvers", json_type(), nullable=False),
    # waiting active approved rejected skipped cancelled
    Column("status", String(16), nullable=False),
    Column("sla_hours", json_type()),
    Column("escalate_to", json_type()),
    Column("escalate_after_hours", json_type()),
    Column("started_at", UTCDateTime()),
    Column("due_at", UTCDateTime()),
    Column("reminded_at", UTCDateTime()),
    Column("escalated_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Index("ix_approval_steps_instance_id", "instance_id", "seq"),
    Index("ix_approval_steps_status_due_at", "status", "due_at"),
)

# Who must act on an active step; ``on_behalf_of`` is the approver a delegate acts
# for (代批). A task replaced by a transfer or an escalation keeps its row.
approval_tasks = Table(
    "approval_tasks",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("instance_id", String(32), nullable=False),
    Column("step_id", String(32), nullable=False),
    Column("assignee", String(32), nullable=False),
    Column("on_behalf_of", String(32)),
    # pending approved rejected returned transferred escalated cancelled
    Column("status", String(16), nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("acted_at", UTCDateTime()),
    Index("ix_approval_tasks_assignee", "assignee", "status", "id"),
    Index("ix_approval_tasks_step_id", "step_id"),
    Index("ix_approval_tasks_instance_id", "instance_id"),
)

# The timeline: every action taken on an instance, in order.
approval_actions = Table(
    "approval_actions",
    platform_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", String(32), nullable=False, index=True),
    Column("step_seq", Integer),
    Column("actor", String(32)),
    Column("on_behalf_of", String(32)),
    Column("action", String(24), nullable=False),
    Column("comment", Text),
    Column("details", json_type(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)

# Who gets a copy (抄送) of an instance.
approval_cc = Table(
    "approval_cc",
    platform_metadata,
    Column("instance_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_approval_cc_user_id", "user_id", "instance_id"),
)

# A user's delegate while away (代批): tasks assigned to them in the period go to
# the delegate, who acts on their behalf.
approval_delegations = Table(
    "approval_delegations",
    platform_metadata,
    Column("user_id", String(32), primary_key=True),
    Column("delegate", String(32), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The inbox: what happened that a user should know of (a task, an outcome, a copy,
# a reminder …), with the words in both languages.
notifications = Table(
    "notifications",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("instance_id", String(32)),
    # the record it is about, when it is about one (a mention, a comment, a score)
    Column("object", String(63)),
    Column("record_id", String(32)),
    Column("message", json_type(), nullable=False),  # {"zh", "en"}
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime()),
    Index("ix_notifications_user_id", "user_id", "id"),
)

# The runs of the objects' schedules, one row per schedule and period (``2026-12-01``
# for a daily one, ``2026-12-01T09`` hourly, ``2026-W49`` weekly, ``2026-12``
# monthly): beat runs a schedule once per period, and the primary key keeps two
# beats that race from both running it.
schedule_runs = Table(
    "schedule_runs",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("schedule", String(63), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("ran_at", UTCDateTime(), nullable=False),
    Column("changed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

# The normalised values of the fields an object's ``duplicates:`` compares (查重):
# one row per record and compared field, ``rule`` the index of the object's
# duplicate rule. A save looks its keys up here (one indexed query) rather than
# scanning the object's table; records in the recycle bin keep their rows.
record_keys = Table(
    "record_keys",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("rule", Integer, primary_key=True, autoincrement=False),
    Column("field", String(63), primary_key=True),
    Column("key", String(255), nullable=False),
    Index("ix_record_keys_key", "object", "rule", "key"),
)

# The audience of the records of objects shared by audience (``sharing: audience``):
# who a record was sent to, one row per user (``user``: named, mentioned, or named
# by a user field), department (``department``: its members and everyone in the
# departments below) or everyone (``all``, target ''). ``source`` says which save
# wrote it (``record``: the record's own fields, rewritten on every save;
# ``comment``: someone @mentioned in a reply, kept). The access policy reads it
# with one semi-join (``policy.predicate``).
record_audience = Table(
    "record_audience",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("target", String(32), primary_key=True),
    Column("source", String(16), primary_key=True),
    Index("ix_record_audience_target", "object", "kind", "target", "record_id"),
)

# #话题# found in the text of any record (rewritten on every save) and in replies.
record_topics = Table(
    "record_topics",
    platform_metadata,
    Column("topic", String(100), primary_key=True),
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_record_topics_record", "object", "record_id"),
)

# Topics with settings: pinned ones first in the lists; a company-wide topic makes
# the posts that name it readable by everyone, including people who join later.
topics = Table(
    "topics",
    platform_metadata,
    Column("name", String(100), primary_key=True),
    Column("pinned", Integer, nullable=False, default=0),
    Column("company_wide", Integer, nullable=False, default=0),
    *_created(),
)

topic_follows = Table(
    "topic_follows",
    platform_metadata,
    Column("user_id", String(32), primary_key=True),
    Column("topic", String(100), primary_key=True),
    Column("followed_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime()),
)

# Replies to a record (of an object with ``social: {comments: true}``).
record_comments = Table(
    "record_comments",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("object", String(63), nullable=False),
    Column("record_id", String(32), nullable=False),
    Column("content", Text, nullable=False),
    Column("files", json_type()),
    Column("mentions", json_type()),
    *_created(),
    Index("ix_record_comments_record", "object", "record_id", "id"),
)

record_likes = Table(
    "record_likes",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("liked_at", UTCDateTime(), nullable=False),
)

# Receipts (回执): one row per recipient of a record that asks for confirmation;
# ``confirmed_at`` null while pending.
record_receipts = Table(
    "record_receipts",
    platform_metadata,
    Column("object", String(63), primary_key=True),
    Column("record_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("confirmed_at", UTCDateTime()),
    Column("reminded_at", UTCDateTime()),
)

# Drafts (of an object with ``social: {drafts: true}``): a form's values saved by
# its author to finish later, or a post that failed to send; never a record, so
# no one else can see one.
record_drafts = Table(
    "record_drafts",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("object", String(63), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("data", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_record_drafts_user_id", "user_id", "object", "id"),
)

# The extensions installed in the enterprise (propolis/platform/tenancy/packages.py),
# one row each, in the order of ``position``: the manifest as written, ``base`` the
# package's documents at the installed version (the base of the next upgrade's
# 3-way merge) and ``layer`` the documents the enterprise's extension layer holds
# for it (the base at install, the merged documents after an upgrade).
# ``resolutions`` maps a conflict's path to ``mine`` or ``theirs`` for the next
# upgrade; ``signer`` is the fingerprint of the trusted key that signed it.
extension_installs = Table(
    "extension_installs",
    platform_metadata,
    Column("api_name", String(63), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("version", String(64), nullable=False),
    Column("manifest", json_type(), nullable=False),
    Column("base", json_type(), nullable=False),
    Column("layer", json_type(), nullable=False),
    Column("resolutions", json_type(), nullable=False),
    Column("source", Text, nullable=False),
    Column("signer", String(32)),
    Column("installed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# What uninstalling an extension kept (one row per uninstall; ``install --restore``
# takes the newest of an extension): its install row's values, the enterprise's
# own documents of its objects and approvals (``tenant_documents``) and the names
# of its objects, whose tables and records stay where they were (the effective
# metadata's ``archived_objects``).
extension_archives = Table(
    "extension_archives",
    platform_metadata,
    Column("id", String(32), primary_key=True),
    Column("api_name", String(63), nullable=False),
    Column("version", String(64), nullable=False),
    Column("manifest", json_type(), nullable=False),
    Column("base", json_type(), nullable=False),
    Column("layer", json_type(), nullable=False),
    Column("tenant_documents", json_type(), nullable=False),
    Column("objects", json_type(), nullable=False),
    Column("source", Text, nullable=False),
    Column("signer", String(32)),
    Column("archived_at", UTCDateTime(), nullable=False),
    Column("archived_by", String(32)),
    Index("ix_extension_archives_api_name", "api_name"),
)
