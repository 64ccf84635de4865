"""The import page of an object's list: a CSV or XLSX file and the options of
``POST /api/v1/objects/{o}/import`` (mode, key column, duplicates), through the
same import service. A small file is imported in the request and its report
shown (every refused row, the error sheet to download); a large one becomes a
job whose page shows its progress (htmx polls it) and then its report."""

from __future__ import annotations

import os
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from propolis.forms.pages.home import login_redirect
from propolis.metadata.texts import pick
from propolis.platform.errors import AppError
from propolis.platform.exchange.imports import DUPLICATES, MODES, ImportOptions
from propolis.platform.exchange.interfaces import IImportService
from propolis.platform.exchange.jobs import SYNC_BYTES, queue_import
from propolis.platform.meta.interfaces import IMetadataService
from propolis.platform.web.pages import error_page, render_page

_ = TranslationStringFactory("propolis")
TEMPLATES = "propolis.forms:templates/lists/"


def _allowed(request: Request) -> str | Response:
    """The object in the URL when the user may import into it, else the page
    to answer with."""
    if request.page_user is None:
        return login_redirect(request)
    name = request.matchdict["object"]
    if request.effective.object(name) is None:
        return error_page(request, _("Not found"), _("There is no such page."), 404)
    if not request.access.allows(name, "import"):
        return error_page(request, _("Not allowed"),
                          _("You may not import these records."), 403)
    return str(name)


def _values(request: Request, name: str, **more: Any) -> dict[str, Any]:
    obj = request.effective.objects[name]
    return {"label": pick(obj.label, request.lang), "object": name,
            "modes": MODES, "duplicates": DUPLICATES,
            "list_url": request.route_path("records.list", object=name),
            "action": request.route_path("records.import", object=name),
            "chosen": {"mode": "upsert", "key": "id", "duplicates": "error"},
            "problem": "", "problems": {}, "report": None, **more}


@view_config(route_name="records.import", request_method="GET")
def import_page(request: Request) -> Response:
    name = _allowed(request)
    if isinstance(name, Response):
        return name
    return render_page(request, TEMPLATES + "import.html", _values(request, name))


@view_config(route_name="records.import", request_method="POST", require_csrf=True)
def import_file(request: Request) -> Response:
    name = _allowed(request)
    if isinstance(name, Response):
        return name
    chosen = {k: request.POST.get(k, "") for k in ("mode", "key", "duplicates")}
    upload = request.POST.get("file")
    try:
        options = ImportOptions.from_params(chosen)
        if upload is None or not hasattr(upload, "file"):
            raise AppError("invalid", {"zh": "请选择要导入的文件",
                                       "en": "Choose the file to import"},
                           {"file": [{"zh": "必填", "en": "required"}]})
        source = upload.file
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(0)
        service = request.find_service(IImportService)
        limit = int(request.registry.settings.get("propolis.import_sync_bytes",
                                                  SYNC_BYTES))
        if size > limit:
            service.check(name, options)
            job_id = queue_import(request, name, source, upload.filename, options)
            return HTTPSeeOther(request.route_path("records.import_job",
                                                   object=name, job=job_id))
        with request.db.begin_nested():  # a refused file writes nothing
            report = service.run(name, source, upload.filename, options)
    except AppError as error:
        return render_page(request, TEMPLATES + "import.html", _values(
            request, name, chosen=chosen, problem=request.translate(error.message),
            problems={n: [request.translate(m) for m in ms]
                      for n, ms in error.fields.items()}), error.status)
    return render_page(request, TEMPLATES + "import.html",
                       _values(request, name, chosen=chosen, report=report))


@view_config(route_name="records.import_job", request_method="GET")
def import_job(request: Request) -> Response:
    """An import job's progress (htmx polls ``_import_job.html`` every second
    until it has finished), then its report: only for the user who started it."""
    name = _allowed(request)
    if isinstance(name, Response):
        return name
    found = request.find_service(IMetadataService).job(request.matchdict["job"])
    payload = (found or {}).get("payload") or {}
    if found is None or found["kind"] != "import" or payload.get("object") != name \
            or payload.get("actor", {}).get("user_id") != request.actor.user_id:
        return error_page(request, _("Not found"), _("There is no such job."), 404)
    job = {**found, "finished": found["status"] in ("done", "failed")}
    template = "_import_job.html" if request.headers.get("HX-Request") \
        else "import_job.html"
    return render_page(request, TEMPLATES + template, _values(
        request, name, job=job, report=payload.get("report")))
