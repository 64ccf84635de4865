"""Routes of the permission model: roles (admin), a record's joint followers, handing
a record over, and the explain route (admin)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.records.interfaces import IRecordService
from propolis.platform.web.api import json_object, object_name, require_admin


@view_config(route_name="api.roles", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def list_roles(request: Request) -> dict[str, Any]:
    require_admin(request)
    return {"roles": request.find_service(IMetadataService).roles()}


@view_config(route_name="api.role", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def put_role(request: Request) -> dict[str, Any]:
    """Creates or changes a role: ``{"label", "grants": {object: {verbs, scope,
    fields}}}``."""
    require_admin(request)
    role: dict[str, Any] = request.find_service(IMetadataService).put_role(
        request.matchdict["role"], json_object(request))
    return role


@view_config(route_name="api.role", request_method="DELETE",
             permission=AUTHENTICATED)
def delete_role(request: Request) -> Response:
    """Removes a custom role nobody holds any more, with its grants."""
    require_admin(request)
    request.find_service(IMetadataService).delete_role(request.matchdict["role"])
    return Response(status=204)


@view_config(route_name="api.record.team", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def get_team(request: Request) -> dict[str, Any]:
    return {"team": request.find_service(IRecordService).team(
        object_name(request), request.matchdict["id"])}


@view_config(route_name="api.record.team", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def add_to_team(request: Request) -> dict[str, Any]:
    """Adds a joint follower (``{"user", "access": "read" | "edit"}``) or changes
    their access; needs the right to edit the record."""
    name, record_id = object_name(request), request.matchdict["id"]
    body = json_object(request)
    members = request.find_service(IRecordService).add_to_team(name, record_id, body)
    request.response.status = 201
    return {"team": members}


@view_config(route_name="api.record.team.member", request_method="DELETE",
             permission=AUTHENTICATED)
def remove_from_team(request: Request) -> Response:
    request.find_service(IRecordService).remove_from_team(
        object_name(request), request.matchdict["id"], request.matchdict["user_id"])
    return Response(status=204)


@view_config(route_name="api.record.transfer", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def transfer(request: Request) -> Any:
    """Hands the record to another user: ``{"owner": user id}``."""
    body = json_object(request)
    unknown = set(body) - {"owner"}
    if unknown:
        raise AppError("invalid", _("Unknown keys"),
                       {k: [_("unknown key")] for k in sorted(unknown)})
    return request.find_service(IRecordService).transfer(
        object_name(request), request.matchdict["id"], body.get("owner"))


@view_config(route_name="api.record.access", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def access(request: Request) -> dict[str, Any]:
    """Why ``?user=U`` can or cannot read, edit and delete the record (admin)."""
    require_admin(request)
    name = object_name(request)
    user = request.params.get("user")
    if not user:
        raise AppError("invalid", _("Name the user"),
                       {"user": [_("required")]})
    explained: dict[str, Any] = request.find_service(IRecordService).explain(
        name, request.matchdict["id"], user)
    return explained
