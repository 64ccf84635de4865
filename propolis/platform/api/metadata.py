"""Admin routes that change an enterprise's metadata, and the jobs they start."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.metadata import Document
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import AppError, NotFound, _
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.web.api import json_object, object_name, require_admin
from propolis.settings import as_bool


def _put_document(request: Request, kind: str, name: str, action: str
                  ) -> dict[str, Any]:
    """Applies the request's JSON document of ``kind`` named ``name`` (admin);
    ``?dry_run=1`` only plans."""
    require_admin(request)
    body = json_object(request)
    body.setdefault("kind", kind)
    if body.get("api_name", name) != name or body["kind"] != kind:
        raise AppError("invalid", _("The document differs from the URL"),
                       {"api_name": [_("must be '${name}' (kind: ${kind})",
                                       mapping={"name": name, "kind": kind})]})
    body["api_name"] = name
    dry_run = as_bool(request.params.get("dry_run", "false"))
    service = request.find_service(IMetadataService)
    documents = [Document(body, f"{name}.json")]
    applied = (service.plan(documents) if dry_run
               else service.apply(documents, action=action, target=name))
    answer: dict[str, Any] = service.answer(applied, dry_run=dry_run)
    return answer


@view_config(route_name="api.metadata.object", request_method="PUT", renderer="json",
             permission=AUTHENTICATED)
def put_object(request: Request) -> dict[str, Any]:
    """Creates or changes one object from a JSON document; ``?dry_run=1`` only plans."""
    return _put_document(request, "object", request.matchdict["object"],
                         "metadata.apply")


@view_config(route_name="api.metadata.approval", request_method="PUT",
             renderer="json", permission=AUTHENTICATED)
def put_approval(request: Request) -> dict[str, Any]:
    """Creates or replaces one approval definition (its route is the workflow's)."""
    return _put_document(request, "approval", request.matchdict["name"],
                         "metadata.approval")


@view_config(route_name="api.metadata.chart", request_method="PUT",
             renderer="json", permission=AUTHENTICATED)
@view_config(route_name="api.metadata.dashboard", request_method="PUT",
             renderer="json", permission=AUTHENTICATED)
@view_config(route_name="api.metadata.report", request_method="PUT",
             renderer="json", permission=AUTHENTICATED)
def put_document(request: Request) -> dict[str, Any]:
    """Creates or replaces one chart, dashboard or report (报数) definition."""
    kind = request.matched_route.name.rsplit(".", 1)[1]
    return _put_document(request, kind, request.matchdict["name"], f"metadata.{kind}")


@view_config(route_name="api.metadata.rollback", request_method="POST",
             renderer="json", permission=AUTHENTICATED)
def rollback(request: Request) -> dict[str, Any]:
    require_admin(request)
    body = json_object(request)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise AppError("invalid",
                       _("Give the version to roll back to"),
                       {"version": [_("must be a positive integer")]})
    name = object_name(request)
    dry_run = as_bool(request.params.get("dry_run", "false"))
    service = request.find_service(IMetadataService)
    applied = service.rollback(name, version, dry_run=dry_run)
    answer: dict[str, Any] = service.answer(applied, dry_run=dry_run)
    return answer


@view_config(route_name="api.metadata.versions", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def list_versions(request: Request) -> dict[str, Any]:
    require_admin(request)
    return {"current": request.tenant.metadata_version, "versions": [
        {"version": v.version, "created_at": v.created_at, "created_by": v.created_by,
         "comment": v.comment, "summary": v.summary}
        for v in request.find_service(IMetadataService).versions()
    ]}


@view_config(route_name="api.job", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def get_job(request: Request) -> dict[str, Any]:
    job: dict[str, Any] | None = request.find_service(IMetadataService).job(
        request.matchdict["id"])
    if job is None:
        raise NotFound("not_found", _("No such job"))
    return job
