"""JSON API views. Thin: they parse the request and call the services; they never
build SQL."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.api.errors import json_object
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, Forbidden, NotFound, t
from propolis.platform.records.services import RecordService


def object_name(request: Request) -> str:
    name = request.matchdict["object"]
    if request.effective.object(name) is None:
        raise NotFound("no_such_object",
                       t(f"没有对象 {name}", f"There is no object {name!r}"))
    return name


def require_admin(request: Request) -> None:
    if "admin" not in request.actor.roles:
        raise Forbidden("admin_only", t("仅企业管理员可操作", "Enterprise admins only"))


@view_defaults(renderer="json", permission=AUTHENTICATED)
class ObjectViews:
    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def records(self) -> RecordService:
        return self.request.records

    @view_config(route_name="api.objects", request_method="GET")
    def list_objects(self) -> dict[str, Any]:
        return {"objects": [
            {"api_name": name, "label": obj.label}
            for name, obj in sorted(self.request.effective.objects.items())
        ]}

    @view_config(route_name="api.object", request_method="GET")
    def describe(self) -> dict[str, Any]:
        obj = self.request.effective.object(object_name(self.request))
        return {k: v for k, v in obj.doc.items() if k != "archived_fields"}

    @view_config(route_name="api.records", request_method="POST")
    def create(self) -> Any:
        record = self.records.create(object_name(self.request), json_object(self.request))
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
            raise AppError("invalid", t("version 应为整数", "version must be an integer"),
                           {"version": [t("应为整数", "must be an integer")]})
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
            raise AppError("invalid", t("查询参数有误", "Unknown query keys"),
                           {k: [t("不支持的参数", "unknown key")] for k in sorted(unknown)})
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
        raise AppError("invalid", t(f"{name} 应为整数", f"{name} must be an integer"),
                       {name: [t("应为整数", "must be an integer")]}) from None
