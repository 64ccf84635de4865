"""The approvals' JSON API (CONTRACT §4). Thin: ``ApprovalService`` does the work."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import _
from propolis.platform.web.api import json_object
from propolis.platform.workflow import stats
from propolis.platform.workflow.engine import MAX_PAGE, invalid
from propolis.platform.workflow.interfaces import IApprovalService
from propolis.platform.workflow.services import ApprovalService
from propolis.settings import as_bool


def page_size(request: Request, default: int = 20) -> int:
    raw = request.params.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid("limit", _("must be a whole number from 1 to ${max_page}",
                                 mapping={"max_page": MAX_PAGE}))
    return int(raw)


@view_defaults(renderer="json", permission=AUTHENTICATED)
class ApprovalViews:
    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def service(self) -> ApprovalService:
        service: ApprovalService = self.request.find_service(IApprovalService)
        return service

    @view_config(route_name="api.approvals.definitions", request_method="GET")
    def definitions(self) -> dict[str, Any]:
        return {"definitions": self.service.definitions()}

    @view_config(route_name="api.approvals", request_method="POST")
    def start(self) -> dict[str, Any]:
        instance = self.service.start(json_object(self.request))
        self.request.response.status_int = 201
        return instance

    @view_config(route_name="api.approvals", request_method="GET")
    def box(self) -> dict[str, Any]:
        params = self.request.params
        return self.service.box(params.get("box", "todo"),
                                limit=page_size(self.request),
                                cursor=params.get("cursor") or None,
                                status=params.get("status") or None)

    @view_config(route_name="api.approval", request_method="GET")
    def get(self) -> dict[str, Any]:
        return self.service.get(self.request.matchdict["id"])

    @view_config(route_name="api.approval.actions", request_method="POST")
    def act(self) -> dict[str, Any]:
        return self.service.act(self.request.matchdict["id"],
                                json_object(self.request))

    # delegation (代批)

    @view_config(route_name="api.approvals.delegation", request_method="GET")
    def delegation(self) -> dict[str, Any]:
        return {"delegation": self.service.delegation()}

    @view_config(route_name="api.approvals.delegation", request_method="PUT")
    def set_delegation(self) -> dict[str, Any]:
        return {"delegation": self.service.set_delegation(json_object(self.request))}

    @view_config(route_name="api.approvals.delegation", request_method="DELETE")
    def clear_delegation(self) -> Response:
        self.service.clear_delegation()
        return Response(status=204)

    # the inbox

    @view_config(route_name="api.notifications", request_method="GET")
    def notifications(self) -> dict[str, Any]:
        params = self.request.params
        return self.service.notifications(
            unread=as_bool(params.get("unread", "false")),
            limit=page_size(self.request), cursor=params.get("cursor") or None,
            lang=self.request.lang)

    @view_config(route_name="api.notifications.read", request_method="POST")
    def mark_read(self) -> dict[str, Any]:
        """``{"ids": [...]}`` marks those read; ``{}`` marks every one."""
        body = json_object(self.request)
        ids = body.get("ids")
        if set(body) - {"ids"} or (ids is not None and not (
                isinstance(ids, list) and all(isinstance(i, str) for i in ids))):
            raise invalid("ids", _("must be a list of notification ids"))
        return {"marked": self.service.mark_read(ids)}

    # statistics

    @view_config(route_name="api.approvals.stats", request_method="GET")
    def stats(self) -> Any:
        params = self.request.params
        query, table = self.service.statistics(
            params.get("by", "type"), params.get("from"), params.get("to"))
        if params.get("format") == "xlsx":
            body = stats.workbook(table, query, self.request.lang)
            response = Response(body=body, content_type=stats.XLSX)
            name = f"approval-stats-{query.by}.xlsx"
            response.content_disposition = f"attachment; filename*=UTF-8''{quote(name)}"
            return response
        return {"by": query.by, "from": query.start, "to": query.end, "rows": table}
