"""The names the metadata language predefines or reserves: the document kinds, the
system fields every object has, the system objects, and the words no field may
take."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

KINDS = ("object", "approval", "report", "chart", "dashboard", "extension", "role")

# name → type of the fields every object has; no field may take these names.
SYSTEM_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "id": "text",
        "owner": "user",
        "owner_department": "department",
        "created_by": "user",
        "created_at": "datetime",
        "updated_by": "user",
        "updated_at": "datetime",
        "life_status": "select",
        "version": "number",
    }
)

# Field api_names become column names and CEL variables: a word that SQL (SQL:2016,
# PostgreSQL, SQLite) reserves needs quoting in every statement, one that CEL
# reserves cannot be used in an expression at all, so both are refused.
RESERVED_WORDS = frozenset(
    """
    all alter analyse analyze and any array as asc asymmetric authorization
    autoincrement between binary both by case cast check collate collation column
    commit concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable delete desc distinct do drop else end escape except exists false fetch
    for foreign freeze from full glob grant group having ilike in index initially
    inner insert intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer
    overlaps placing pragma primary references regexp returning right rollback select
    session_user set similar some symmetric system_user table tablesample then to
    trailing transaction trigger true union unique update user using vacuum values
    variadic verbose view when where window with
    break const continue function if import let loop namespace package return var
    void while
""".split()
)

SYSTEM_OBJECTS = ("user", "department")
