"""An enterprise's effective metadata at one version, and the per-process cache of it.

Effective metadata is immutable once stored: a change makes a new version. So the
cache is keyed by (enterprise, version) and never needs invalidating; the enterprise
row's ``metadata_version`` (read with the token on every request) says which to use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from propolis.platform.storage.platform_tables import meta_versions
from propolis.platform.storage.tables import TenantTables


class ObjectMeta:
    """One normalized object document with lookups the hot paths need."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.api_name: str = doc["api_name"]
        self.fields: dict[str, dict[str, Any]] = {
            f["api_name"]: f for f in doc["fields"]
        }
        self.archived: dict[str, dict[str, Any]] = {
            f["api_name"]: f for f in doc.get("archived_fields", [])
        }

    @property
    def label(self) -> dict[str, str]:
        return self.doc["label"]

    def field(self, name: str) -> dict[str, Any] | None:
        return self.fields.get(name)

    # Per-object caches that services compute once per metadata version
    # (JSON Schema validators, compiled expressions, …).
    @cached_property
    def cache(self) -> dict[str, Any]:
        return {}


class Effective:
    """Everything an enterprise has defined, merged from all layers, at one version."""

    def __init__(self, version: int, data: Mapping[str, Any]) -> None:
        self.version = version
        self.data = data
        self.objects: dict[str, ObjectMeta] = {
            name: ObjectMeta(doc) for name, doc in data.get("objects", {}).items()
        }
        self.approvals: dict[str, Any] = dict(data.get("approvals", {}))
        self.reports: dict[str, Any] = dict(data.get("reports", {}))
        self.charts: dict[str, Any] = dict(data.get("charts", {}))
        self.dashboards: dict[str, Any] = dict(data.get("dashboards", {}))
        self._lock = threading.Lock()
        self._tables: TenantTables | None = None

    @property
    def tables(self) -> TenantTables:
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    self._tables = TenantTables(
                        {n: o.doc for n, o in self.objects.items()}
                    )
        return self._tables

    def object(self, name: str) -> ObjectMeta | None:
        return self.objects.get(name)


EMPTY = Effective(0, {"objects": {}})


class EffectiveCache:
    """LRU of Effective by (enterprise account, version), shared by a process."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], Effective] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, account: str, version: int, load: Callable[[], Effective]
    ) -> Effective:
        key = (account, version)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        loaded = load()
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def load_effective(conn: Connection, version: int) -> Effective:
    if version == 0:
        return EMPTY
    row = conn.execute(
        select(meta_versions.c.effective).where(meta_versions.c.version == version)
    ).scalar_one()
    return Effective(version, row)


effective_cache = EffectiveCache()
