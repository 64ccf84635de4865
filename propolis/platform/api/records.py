"""JSON API views. Thin: they parse the request and call the services; they never
build SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.permissions.grants import VERBS
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.records.services import RecordService
from propolis.platform.web.api import json_object, object_name


def described(doc: Mapping[str, Any], access: AccessPolicy) -> dict[str, Any]:
    """An object's effective metadata with the user's permissions applied: hidden
    fields left out (of list views and layouts too), each field's ``access``
    (``read`` ones ``readonly``), the verbs the user has as ``access``. Only the
    enterprise admin sees every role's ``permissions``."""
    name = doc["api_name"]
    field_access = access.field_access(name)
    hidden = access.hidden(name)
    out = {k: v for k, v in doc.items()
           if k not in ("archived_fields", "fields", "list_views", "layouts")}
    if not access.unrestricted:
        out.pop("permissions", None)
    out["access"] = {"verbs": [v for v in VERBS if access.allows(name, v)]}
    # without a verb that writes, every field the user sees is read-only to them
    writes = access.allows(name, "create") or access.allows(name, "edit")
    out["fields"] = []
    for f in doc["fields"]:
        if f["api_name"] in hidden:
            continue
        level = field_access.get(f["api_name"], "edit") if writes else "read"
        out["fields"].append({**f, "access": level,
                              "readonly": bool(f.get("readonly")) or level == "read"})
    out["list_views"] = [
        {**view, "columns": [c for c in view["columns"] if c not in hidden]}
        for view in doc.get("list_views", ())]
    out["layouts"] = [
        {**layout, "sections": [
            {**section, "fields": [f for f in section["fields"] if f not in hidden]}
            for section in layout["sections"]]}
        for layout in doc.get("layouts", ())]
    return out


@view_defaults(renderer="json", permission=AUTHENTICATED)
class ObjectViews:
    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def records(self) -> RecordService:
        service: RecordService = self.request.find_service(IRecordService)
        return service

    @view_config(route_name="api.objects", request_method="GET")
    def list_objects(self) -> dict[str, Any]:
        """The objects the user may read."""
        effective = self.request.effective
        return {"objects": [
            {"api_name": name, "label": effective.objects[name].label}
            for name in self.request.access.readable_objects()
        ]}

    @view_config(route_name="api.object", request_method="GET")
    def describe(self) -> dict[str, Any]:
        """The object as the user may see it (403 without the read verb)."""
        name = object_name(self.request)
        access = self.request.access
        access.require(name, "read")
        return described(self.request.effective.objects[name].doc, access)

    @view_config(route_name="api.records", request_method="POST")
    def create(self) -> Any:
        record = self.records.create(object_name(self.request),
                                     json_object(self.request))
        self.request.response.status = 201
        return record

    @view_config(route_name="api.record", request_method="GET")
    def read(self) -> Any:
        return self.records.get(object_name(self.request), self.request.matchdict["id"])

    @view_config(route_name="api.record", request_method="PATCH")
    def update(self) -> Any:
        body = json_object(self.request)
        version = body.pop("version", None)
        if version is not None and (isinstance(version, bool)
                                    or not isinstance(version, int)):
            raise AppError("invalid",
                           _("version must be an integer"),
                           {"version": [_("must be an integer")]})
        return self.records.update(object_name(self.request),
                                   self.request.matchdict["id"], body, version=version)

    @view_config(route_name="api.record", request_method="DELETE")
    def delete(self) -> Response:
        self.records.delete(object_name(self.request), self.request.matchdict["id"])
        return Response(status=204)

    @view_config(route_name="api.record.restore", request_method="POST")
    def restore(self) -> Any:
        return self.records.restore(object_name(self.request),
                                    self.request.matchdict["id"])

    @view_config(route_name="api.record.history", request_method="GET")
    def history(self) -> Any:
        return {"history": self.records.history(object_name(self.request),
                                                self.request.matchdict["id"])}

    @view_config(route_name="api.record.timeline", request_method="GET")
    def timeline(self) -> Any:
        params = self.request.params
        return self.records.timeline(
            object_name(self.request), self.request.matchdict["id"],
            limit=_int_param(params.get("limit"), "limit", 20),
            cursor=params.get("cursor"))

    @view_config(route_name="api.duplicates", request_method="POST")
    def duplicates(self) -> Any:
        return {"duplicates": self.records.duplicates(object_name(self.request),
                                                      json_object(self.request))}

    @view_config(route_name="api.deleted", request_method="GET")
    def deleted(self) -> Any:
        params = self.request.params
        return self.records.list_deleted(
            object_name(self.request),
            limit=_int_param(params.get("limit"), "limit", 50),
            cursor=params.get("cursor"),
        )

    @view_config(route_name="api.query", request_method="POST")
    def query(self) -> Any:
        body = json_object(self.request)
        unknown = set(body) - {"filters", "sort", "limit", "cursor", "q"}
        if unknown:
            raise AppError("invalid", _("Unknown query keys"),
                           {k: [_("unknown key")]
                            for k in sorted(unknown)})
        return self.records.query(
            object_name(self.request),
            filters=body.get("filters") or [],
            sort=body.get("sort") or [],
            limit=body.get("limit", 50),
            cursor=body.get("cursor"),
            q=body.get("q"),
        )


def _int_param(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise AppError("invalid", _("${name} must be an integer",
                                    mapping={"name": name}),
                       {name: [_("must be an integer")]}) from None
