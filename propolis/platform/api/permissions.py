"""Routes of the permission model: roles (admin), a record's joint followers, handing
a record over, and the explain route (admin)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.platform.audit import record_event
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, Forbidden, NotFound, t
from propolis.platform.meta.effective import Effective, load_effective
from propolis.platform.permissions import roles, team
from propolis.platform.permissions.explain import explain
from propolis.platform.permissions.grants import ADMIN
from propolis.platform.tenancy import services as tenancy
from propolis.platform.tenancy.jobs import backfill
from propolis.platform.web.api import json_object, object_name, require_admin

MISSING_USER = t("找不到所选的员工", "the chosen user does not exist")


def _apply(request: Request, documents: list[Any], comment: str) -> Effective:
    """Applies role documents in the request's transaction; the new effective
    metadata (not cached: it is not committed yet)."""
    if not documents:
        return request.effective
    applied = tenancy.apply_metadata(
        request.registry.database, request.identity.account, documents,
        session=request.db, sysdb=request.sysdb, user_id=request.actor.user_id,
        comment=comment)
    for job_id in applied.jobs:
        request.task(backfill).delay(request.identity.account, job_id)
    return load_effective(request.db.connection(), applied.version)


@view_config(route_name="api.roles", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def list_roles(request: Request) -> dict[str, Any]:
    require_admin(request)
    return {"roles": roles.list_roles(request.db.connection(), request.effective)}


@view_config(route_name="api.role", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def put_role(request: Request) -> dict[str, Any]:
    """Creates or changes a role: ``{"label", "grants": {object: {verbs, scope,
    fields}}}``."""
    require_admin(request)
    role = request.matchdict["role"]
    roles.check_role_name(role)
    if role == ADMIN:
        raise AppError("admin_role", t("企业管理员始终拥有全部权限，不能修改",
                                       "The enterprise admin always has every "
                                       "permission; it cannot be changed"))
    label, grants = roles.parse_role(request.effective, role, json_object(request))
    conn = request.db.connection()
    documents = roles.role_documents(conn, request.effective, role, label, grants)
    effective = _apply(request, documents, f"role {role}")
    record_event(conn, actor_id=request.actor.user_id, action="role.update",
                 target=role, details={"label": label, "grants": grants,
                                       "version": effective.version},
                 ip=request.client_addr)
    option = next(o for o in roles.role_options(effective) if o["value"] == role)
    return {**roles.describe_role(conn, effective, option),
            "version": effective.version}


@view_config(route_name="api.role", request_method="DELETE",
             permission=AUTHENTICATED)
def delete_role(request: Request) -> Response:
    """Removes a custom role nobody holds any more, with its grants."""
    require_admin(request)
    role = request.matchdict["role"]
    conn = request.db.connection()
    roles.check_deletable(conn, request.effective, role)
    documents = roles.role_documents(conn, request.effective, role, None, None)
    effective = _apply(request, documents, f"delete role {role}")
    record_event(conn, actor_id=request.actor.user_id, action="role.delete",
                 target=role, details={"version": effective.version},
                 ip=request.client_addr)
    return Response(status=204)


@view_config(route_name="api.record.team", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def get_team(request: Request) -> dict[str, Any]:
    name, record_id = object_name(request), request.matchdict["id"]
    request.records.check(name, record_id, "read")
    return {"team": team.members(request.db.connection(), request.effective, name,
                                 record_id)}


@view_config(route_name="api.record.team", request_method="POST", renderer="json",
             permission=AUTHENTICATED)
def add_to_team(request: Request) -> dict[str, Any]:
    """Adds a joint follower (``{"user", "access": "read" | "edit"}``) or changes
    their access; needs the right to edit the record."""
    name, record_id = object_name(request), request.matchdict["id"]
    body = json_object(request)
    request.records.check(name, record_id, "edit")
    user, access = team.parse_member(body)
    try:
        request.records.check("user", user, "read")
    except (NotFound, Forbidden):
        raise AppError("invalid", t("联合跟进人设置有误", "Invalid team member"),
                       {"user": [MISSING_USER]}) from None
    conn = request.db.connection()
    team.put_member(conn, name, record_id, user, access, request.actor.user_id)
    request.response.status = 201
    return {"team": team.members(conn, request.effective, name, record_id)}


@view_config(route_name="api.record.team.member", request_method="DELETE",
             permission=AUTHENTICATED)
def remove_from_team(request: Request) -> Response:
    name, record_id = object_name(request), request.matchdict["id"]
    request.records.check(name, record_id, "edit")
    team.remove_member(request.db.connection(), name, record_id,
                       request.matchdict["user_id"])
    return Response(status=204)


@view_config(route_name="api.record.transfer", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def transfer(request: Request) -> Any:
    """Hands the record to another user: ``{"owner": user id}``."""
    body = json_object(request)
    unknown = set(body) - {"owner"}
    if unknown:
        raise AppError("invalid", t("参数有误", "Unknown keys"),
                       {k: [t("不支持的参数", "unknown key")] for k in sorted(unknown)})
    return request.records.transfer(object_name(request), request.matchdict["id"],
                                    body.get("owner"))


@view_config(route_name="api.record.access", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def access(request: Request) -> dict[str, Any]:
    """Why ``?user=U`` can or cannot read, edit and delete the record (admin)."""
    require_admin(request)
    name = object_name(request)
    user = request.params.get("user")
    if not user:
        raise AppError("invalid", t("请指定员工", "Name the user"),
                       {"user": [t("必填", "required")]})
    return explain(request.db.connection(), request.effective, name,
                   request.matchdict["id"], user, request.lang)
