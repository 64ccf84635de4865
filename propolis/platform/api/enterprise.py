"""``GET``/``PUT /api/v1/enterprise/settings``: the caller's enterprise's own
settings (its time zone), for its admins."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.platform.auth import AUTHENTICATED
from propolis.platform.tenancy.interfaces import ITenancyService
from propolis.platform.web.api import json_object, require_admin


@view_config(route_name="api.enterprise.settings", request_method="GET",
             renderer="json", permission=AUTHENTICATED)
def get_settings(request: Request) -> dict[str, Any]:
    require_admin(request)
    settings: dict[str, Any] = request.find_service(ITenancyService).settings()
    return settings


@view_config(route_name="api.enterprise.settings", request_method="PUT",
             renderer="json", permission=AUTHENTICATED)
def put_settings(request: Request) -> dict[str, Any]:
    require_admin(request)
    body = json_object(request)
    settings: dict[str, Any] = request.find_service(ITenancyService).put_settings(body)
    return settings
