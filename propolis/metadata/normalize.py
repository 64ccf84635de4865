"""Fills every default of a (valid) metadata document, so that code downstream never
checks whether a key is present.

Normalizing is idempotent, and keeps keys it does not know (later stages may add
their own). Optional values that are absent become ``None``. The default list view
and layout are marked ``generated: True``: they are recomputed from the fields on
every normalization (so a field added by a later layer shows up in them) and give
way as soon as the object declares views or layouts of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from propolis.metadata.fieldtypes import FLAGS, definition_of

DEFAULT_LIST_COLUMNS = 5  # the name field and the next four
DEFAULT_SORT = ["-updated_at"]


def text(value: str | Mapping[str, str] | None, fallback: str) -> dict[str, str]:
    """A translatable text as ``{"zh", "en"}``: a plain string serves both languages,
    a missing language borrows the other one, nothing at all becomes ``fallback``."""
    if value is None:
        return {"zh": fallback, "en": fallback}
    if isinstance(value, str):
        return {"zh": value, "en": value}
    zh, en = value.get("zh"), value.get("en")
    return {"zh": zh or en or fallback, "en": en or zh or fallback}


def optional_text(value: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """Like ``text`` but absence stays ``None``."""
    return None if value is None else text(value, "")


def normalize_field(field: Mapping[str, Any]) -> dict[str, Any]:
    """One field (or table column) with its defaults; see ``normalize_object``."""
    out = copy.deepcopy(dict(field))
    definition = definition_of(out)
    out["label"] = text(out.get("label"), out["api_name"])
    out["help"] = optional_text(out.get("help"))
    for key in FLAGS:
        out.setdefault(key, False)
    out["readonly"] = definition.computed or out.get("readonly", False)
    out.setdefault("default", None)
    definition.normalize(out)
    return out


def normalize_grant(grant: Mapping[str, Any]) -> dict[str, Any]:
    """One role's grant on one object (an object's ``permissions`` entry, a role's
    ``grants`` entry): ``verbs``, ``scope`` "own", ``fields`` {}."""
    return {
        "verbs": list(grant["verbs"]),
        "scope": grant.get("scope", "own"),
        "fields": dict(grant.get("fields", {})),
    }


def normalize_object(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A new object document with every default filled.

    Object: ``label`` {zh, en} (default: api_name), ``description`` {zh, en} | None,
    ``name_field`` (default: the field ``name``, else the first field, else ``id``),
    ``app`` "apps" (the navigation section: crm, work or apps), ``deletable`` True,
    ``sharing`` "hierarchy", ``permissions`` {} (each role:
    ``verbs``, ``scope`` "own", ``fields`` {}), ``validations`` [] (each ``message``
    {zh, en}), ``list_views`` and ``layouts`` (see the module docstring),
    ``actions`` when declared (each: ``label`` {zh, en}, ``when`` None, ``set``,
    ``roles`` [], ``confirm`` {zh, en} | None) and ``schedules`` when declared
    (each: ``label`` {zh, en}, ``every``, ``at`` None, ``where``, ``set`` None or
    ``action`` None); ``duplicates`` and ``timeline`` when declared, as written.

    Field: ``label`` {zh, en} (default: api_name), ``help`` {zh, en} | None,
    ``required``/``unique``/``searchable``/``hidden`` False, ``readonly`` (always True
    for the types whose value is computed: formula, rollup, quote, autonumber),
    ``default`` None, then its type's own defaults (``FieldDefinition.normalize``):
    text ``max_length`` 255; number/currency/percent ``precision`` 2,
    ``min``/``max`` None; select and multiselect ``options`` [{value, label {zh,
    en}, parent | None, attributes {}}], ``depends_on`` None; formula ``precision``
    (2 when ``returns`` is numeric, else None); rollup ``field`` None for count;
    file/image ``max_size_mb``, ``max_count``, ``accept``; table columns normalized
    the same way.
    """
    out = copy.deepcopy(dict(doc))
    name = out["api_name"]
    fields = [normalize_field(f) for f in out.get("fields", [])]
    out.update(
        kind="object",
        label=text(out.get("label"), name),
        description=optional_text(out.get("description")),
        app=out.get("app", "apps"),
        deletable=out.get("deletable", True),
        sharing=out.get("sharing", "hierarchy"),
        fields=fields,
        permissions={
            role: normalize_grant(grant)
            for role, grant in out.get("permissions", {}).items()
        },
        validations=[
            {"rule": rule["rule"], "message": text(rule["message"], rule["rule"])}
            for rule in out.get("validations", [])
        ],
    )
    # absent stays absent: an object without them reads as before
    if "actions" in out:
        out["actions"] = [_action(a) for a in out["actions"]]
    if "schedules" in out:
        out["schedules"] = [_schedule(s) for s in out["schedules"]]
    if "duplicates" in out:
        out["duplicates"] = [{"fields": list(d["fields"])} for d in out["duplicates"]]
    out["name_field"] = out.get("name_field") or _default_name_field(fields)
    out["list_views"] = [
        _list_view(view)
        for view in out.get("list_views", [])
        if not view.get("generated")
    ] or [_default_list_view(out["name_field"], fields)]
    out["layouts"] = [
        _layout(layout)
        for layout in out.get("layouts", [])
        if not layout.get("generated")
    ] or [_default_layout(fields)]
    return out


def normalize_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Any kind of document with its defaults filled (objects: ``normalize_object``)."""
    kind = doc["kind"]
    if kind == "object":
        return normalize_object(doc)
    out = copy.deepcopy(dict(doc))
    out["label"] = text(out.get("label"), out["api_name"])
    out["description"] = optional_text(out.get("description"))
    if kind == "approval":
        out["mode"] = out.get("mode", "fixed")
        out["steps"] = [
            {
                **step,
                "when": step.get("when"),
                "sign": step.get("sign", "any"),
                "percentage": step.get("percentage"),
                "label": optional_text(step.get("label")),
                "sla_hours": step.get("sla_hours"),
                "escalate_to": step.get("escalate_to"),
                # escalation comes, by default, one more time limit after due
                "escalate_after_hours": step.get(
                    "escalate_after_hours",
                    step.get("sla_hours") if step.get("escalate_to") else None,
                ),
            }
            for step in out.get("steps", [])
        ]
        out.setdefault("cc", [])
        out.setdefault("rejected_status", "normal")
    elif kind == "report":
        out["fields"] = [normalize_field(f) for f in out["fields"]]
        out["assignees"] = {
            "departments": [],
            "users": [],
            "roles": [],
            **out.get("assignees", {}),
        }
        out.setdefault("due", None)
        out.setdefault("lock_after_days", None)
    elif kind == "chart":
        _chart(out)
    elif kind == "dashboard":
        out["widgets"] = [
            {
                **widget,
                "api_name": widget.get("api_name") or widget.get("kpi")
                or widget.get("chart"),
                "label": optional_text(widget.get("label")),
                **{k: widget.get(k) for k in ("chart", "kpi", "measure", "formula",
                                              "width")},
            }
            for widget in out["widgets"]
        ]
    elif kind == "role":
        out["grants"] = {
            obj: normalize_grant(grant) for obj, grant in out["grants"].items()
        }
    elif kind == "extension":
        out["requires"] = {
            "propolis": None,
            "extensions": {},
            **out.get("requires", {}),
        }
        out.setdefault("contents", [])
        out.setdefault("data", [])
        out.setdefault("hooks", {})
        for data_set in out["data"]:
            data_set.setdefault("mode", "seed")
            data_set.setdefault("key", None)
    return out


def _chart(out: dict[str, Any]) -> None:
    """A chart's defaults (see docs/reports.md): every measure's ``label``,
    ``function``, ``field``, ``weight``, ``formula``; every dimension's ``label``,
    ``bucket``, ``rollup``; ``filters`` [], ``compare`` [], ``top`` None or {n,
    by (the first measure), others True}, ``date_field`` (the bucketed
    dimension's field) and ``type`` (bar, or number without dimensions)."""
    out["measures"] = [
        {**m, "label": text(m.get("label"), m["api_name"]),
         **{k: m.get(k) for k in ("function", "field", "weight", "formula")}}
        for m in out["measures"]
    ]
    out["dimensions"] = [
        {**d, "label": optional_text(d.get("label")), "bucket": d.get("bucket"),
         "rollup": d.get("rollup")}
        for d in out.get("dimensions", [])
    ]
    out.setdefault("filters", [])
    out.setdefault("compare", [])
    top = out.get("top")
    out["top"] = None if top is None else {
        "n": top["n"], "by": top.get("by") or out["measures"][0]["api_name"],
        "others": top.get("others", True)}
    bucketed = [d["field"] for d in out["dimensions"] if d["bucket"]]
    out["date_field"] = out.get("date_field") or (bucketed[0] if bucketed else None)
    out.setdefault("type", "bar" if out["dimensions"] else "number")


def _action(action: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **action,
        "label": text(action.get("label"), action["api_name"]),
        "when": action.get("when"),
        "set": dict(action["set"]),
        "roles": list(action.get("roles", [])),
        "confirm": optional_text(action.get("confirm")),
    }


def _schedule(schedule: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **schedule,
        "label": text(schedule.get("label"), schedule["api_name"]),
        "at": schedule.get("at"),
        "set": schedule.get("set"),
        "action": schedule.get("action"),
    }


def _default_name_field(fields: list[dict[str, Any]]) -> str:
    names = [f["api_name"] for f in fields]
    if "name" in names:
        return "name"
    return names[0] if names else "id"


def _list_view(view: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **view,
        "label": text(view.get("label"), view["api_name"]),
        "sort": list(view.get("sort", DEFAULT_SORT)),
        "filters": list(view.get("filters", [])),
        "generated": False,
    }


def _layout(layout: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **layout,
        "label": text(layout.get("label"), layout["api_name"]),
        "sections": [
            {
                **section,
                "label": optional_text(section.get("label")),
                "columns": section.get("columns", 2),
            }
            for section in layout["sections"]
        ],
        "generated": False,
    }


def _default_list_view(name_field: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    others = [
        f["api_name"]
        for f in fields
        if f["api_name"] != name_field and not definition_of(f).has_rows
        and not f["hidden"]
    ]
    return {
        "api_name": "all",
        "label": {"zh": "全部", "en": "All"},
        "columns": [name_field, *others[: DEFAULT_LIST_COLUMNS - 1]],
        "sort": list(DEFAULT_SORT),
        "filters": [],
        "generated": True,
    }


def _default_layout(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "api_name": "default",
        "label": {"zh": "默认布局", "en": "Default"},
        "sections": [
            {
                "label": {"zh": "基本信息", "en": "Details"},
                "columns": 2,
                "fields": [f["api_name"] for f in fields if not f["hidden"]],
            }
        ],
        "generated": True,
    }
