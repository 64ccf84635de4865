"""The organisation's JSON API (/api/v1/org/…). Admin only, except reading the
department tree (any employee) and the two join routes (anyone holding an
invitation's token). Thin: the services do the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.accounts.services import limit_rate
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, _
from propolis.platform.exchange import xlsx
from propolis.platform.org.base import check_keys
from propolis.platform.org.imports import template_bytes
from propolis.platform.org.interfaces import (
    IInvitationService,
    IJoinService,
    IOrgService,
)
from propolis.platform.org.invitations import Invitations
from propolis.platform.org.services import OrgService
from propolis.platform.web.api import json_object, refuse_unstorable, require_admin
from propolis.settings import as_bool


def _workbook(body: bytes, name: str) -> Response:
    response = Response(body=body, content_type=xlsx.CONTENT_TYPE)
    response.content_disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@view_defaults(renderer="json", permission=AUTHENTICATED)
class OrgViews:
    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def id(self) -> str:
        return str(self.request.matchdict["id"])

    @property
    def org(self) -> OrgService:
        service: OrgService = self.request.find_service(IOrgService)
        return service

    @property
    def invitations(self) -> Invitations:
        service: Invitations = self.request.find_service(IInvitationService)
        return service

    def admin(self) -> OrgService:
        require_admin(self.request)
        return self.org

    def body(self) -> dict[str, Any]:
        return json_object(self.request)

    # departments

    @view_config(route_name="api.org.departments.tree", request_method="GET")
    def tree(self) -> dict[str, Any]:
        """Any employee may read the organisation chart."""
        include = as_bool(self.request.params.get("include_disabled", "true"))
        return {"departments": self.org.department_tree(include_disabled=include)}

    @view_config(route_name="api.org.departments", request_method="POST")
    def create_department(self) -> Any:
        org = self.admin()
        created = org.create_department(self.body())
        self.request.response.status = 201
        return created

    @view_config(route_name="api.org.department", request_method="PATCH")
    def update_department(self) -> Any:
        org = self.admin()
        return org.update_department(self.id, self.body())

    @view_config(route_name="api.org.department.move", request_method="POST")
    def move_department(self) -> Any:
        org = self.admin()
        body = check_keys(self.body(), ("parent",))
        if "parent" not in body:
            raise AppError("invalid", _("Give the new parent"),
                           {"parent": [_("required (null for the top level)")]})
        return org.move_department(self.id, body["parent"])

    @view_config(route_name="api.org.department.disable", request_method="POST")
    def disable_department(self) -> Any:
        return self.admin().disable_department(self.id)

    @view_config(route_name="api.org.department.enable", request_method="POST")
    def enable_department(self) -> Any:
        return self.admin().enable_department(self.id)

    # employees

    @view_config(route_name="api.org.users", request_method="POST")
    def create_user(self) -> Any:
        org = self.admin()
        created = org.create_user(self.body())
        self.request.response.status = 201
        return created

    @view_config(route_name="api.org.user", request_method="PATCH")
    def update_user(self) -> Any:
        org = self.admin()
        return org.update_user(self.id, self.body())

    @view_config(route_name="api.org.user.owned", request_method="GET")
    def owned(self) -> Any:
        org = self.admin()
        org.records.get("user", self.id)
        return {"owned": org.owned_counts(self.id)}

    @view_config(route_name="api.org.user.disable", request_method="POST")
    def disable_user(self) -> Any:
        org = self.admin()
        body = check_keys(self.body(), ("handover_to",))
        return org.disable_user(self.id, body.get("handover_to"))

    @view_config(route_name="api.org.user.enable", request_method="POST")
    def enable_user(self) -> Any:
        return self.admin().enable_user(self.id)

    # settings

    @view_config(route_name="api.org.settings", request_method="GET")
    def get_settings(self) -> Any:
        return self.admin().settings()

    @view_config(route_name="api.org.settings", request_method="PUT")
    def put_settings(self) -> Any:
        org = self.admin()
        return org.put_settings(self.body())

    # invitations and join requests

    @view_config(route_name="api.org.invitations", request_method="POST")
    def invite(self) -> Any:
        require_admin(self.request)
        created = self.invitations.create(self.body())
        self.request.response.status = 201
        return created

    @view_config(route_name="api.org.invitations", request_method="GET")
    def list_invitations(self) -> Any:
        require_admin(self.request)
        every = as_bool(self.request.params.get("all", "false"))
        found = self.invitations.listing(usable_only=not every)
        return {"invitations": found}

    @view_config(route_name="api.org.invitation", request_method="DELETE")
    def revoke_invitation(self) -> Any:
        require_admin(self.request)
        return self.invitations.revoke(self.id)

    @view_config(route_name="api.org.join_requests", request_method="GET")
    def join_requests(self) -> Any:
        require_admin(self.request)
        status = self.request.params.get("status") or None
        return {"requests": self.invitations.requests(status)}

    @view_config(route_name="api.org.join_request.approve", request_method="POST")
    def approve(self) -> Any:
        require_admin(self.request)
        return self.invitations.approve(self.id, self.body())

    @view_config(route_name="api.org.join_request.reject", request_method="POST")
    def reject(self) -> Any:
        require_admin(self.request)
        return self.invitations.reject(self.id, self.body())

    # import

    @view_config(route_name="api.org.import.template", request_method="GET")
    def template(self) -> Response:
        require_admin(self.request)
        return _workbook(template_bytes(), "员工导入模板.xlsx")

    @view_config(route_name="api.org.import", request_method="POST")
    def import_users(self) -> Any:
        org = self.admin()
        field = self.request.POST.get("file")
        if field is None or not hasattr(field, "file"):
            raise AppError("invalid", _("Upload the XLSX file as the multipart "
                                        "field 'file'"),
                           {"file": [_("required")]})
        refuse_unstorable({"file": [field.filename or ""]})
        result = org.import_users(field.file.read(), field.filename)
        if result["status"] == "rejected":
            result["report_url"] = self.request.route_path(
                "api.org.import.report", id=result["id"])
        return result

    @view_config(route_name="api.org.import.report", request_method="GET")
    def import_report(self) -> Response:
        org = self.admin()
        return _workbook(org.import_report(self.id), "员工导入错误报告.xlsx")

    # the admin console

    @view_config(route_name="api.org.summary", request_method="GET")
    def summary(self) -> Any:
        return self.admin().summary(self.request.now)


# -- joining: no login, the invitation's token says which enterprise ----------------


@view_config(route_name="api.org.join.info", request_method="GET", renderer="json")
def join_info(request: Request) -> Any:
    return request.find_service(IJoinService).info(request.matchdict["token"])


@view_config(route_name="api.org.join", request_method="POST", renderer="json")
def join(request: Request) -> Any:
    limit_rate(request, "join")
    body = json_object(request)
    filed = request.find_service(IJoinService).file(body, request.client_ip)
    request.response.status = 201
    return filed
