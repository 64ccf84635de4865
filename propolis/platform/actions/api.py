"""The actions of a record in the JSON API (CONTRACT §6)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.platform.actions.interfaces import IActionService
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.web.api import json_object, object_name


@view_config(route_name="api.record.actions", request_method="GET",
             renderer="json", permission=AUTHENTICATED)
def list_actions(request: Request) -> dict[str, Any]:
    """The actions the user may run on the record now."""
    service = request.find_service(IActionService)
    return {"actions": service.available(object_name(request),
                                         request.matchdict["id"])}


@view_config(route_name="api.record.action", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def run_action(request: Request) -> Any:
    """Runs one action with the body's parameters; the record after it."""
    params = json_object(request) if request.body else {}
    service = request.find_service(IActionService)
    return service.run(object_name(request), request.matchdict["id"],
                       request.matchdict["name"], params)
