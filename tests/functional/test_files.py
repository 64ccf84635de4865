"""File and image fields keep their ``max_size_mb`` and ``accept`` when an uploaded
file is attached to a record (the upload itself only knows the request body
limit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webtest import TestApp

from propolis.platform.db import Database
from tests.common.api import Tenant, error, login_admin
from tests.common.approvals import make_school

CLAIM = {
    "label": {"zh": "报销", "en": "Claim"},
    "fields": [
        {"api_name": "title", "type": "text", "required": True},
        # 0.001 MB = 1,048 bytes
        {"api_name": "receipt", "type": "file", "max_size_mb": 0.001,
         "accept": [".pdf", "text/plain"]},
        {"api_name": "photos", "type": "image"},
        {"api_name": "lines", "type": "table", "fields": [
            {"api_name": "scan", "type": "image", "accept": ["image/png"]},
        ]},
    ],
}


def test_attached_files_must_fit_the_field(
    app: TestApp, enterprise: Callable[..., Tenant]
) -> None:
    api = login_admin(app, enterprise())
    api.define("claim", CLAIM)
    small_pdf = api.upload("发票.PDF", b"%PDF-1.4", "application/octet-stream")["id"]
    note = api.upload("note.txt", b"hello", "text/plain; charset=utf-8")["id"]
    big_pdf = api.upload("big.pdf", b"x" * 2000, "application/pdf")["id"]
    png = api.upload("p.png", b"\x89PNG\r\n\x1a\n", "image/png")["id"]
    jpeg = api.upload("p.jpg", b"\xff\xd8\xff", "image/jpeg")["id"]
    doc = api.upload("report.docx", b"PK", "application/vnd.openxmlformats")["id"]

    created = api.create("claim", {"title": "ok", "receipt": [small_pdf, note],
                                   "photos": [png, jpeg],
                                   "lines": [{"scan": [png]}]})
    assert created["receipt"] == [small_pdf, note]

    def refused(data: dict[str, Any], lang: str = "en") -> dict[str, list[str]]:
        response = api.in_language(lang).post("/objects/claim/records",
                                               {"title": "no", **data}, status=400)
        found = error(response)
        assert found["code"] == "invalid"
        return found["fields"]

    assert refused({"receipt": [big_pdf]}) == {
        "receipt": ["file 'big.pdf' is larger than the 0.001 MB limit"]}
    assert refused({"receipt": [big_pdf]}, "zh") == {
        "receipt": ["文件「big.pdf」超过 0.001 MB 的上限"]}
    assert refused({"receipt": [doc]}) == {
        "receipt": ["file 'report.docx' is not of an accepted type "
                    "(.pdf, text/plain)"]}
    assert refused({"photos": [small_pdf]}) == {
        "photos": ["file '发票.PDF' is not of an accepted type (image/*)"]}
    assert refused({"lines": [{"scan": [jpeg]}]}) == {
        "lines": ["file 'p.jpg' is not of an accepted type (image/png)"]}
    # only newly attached files are checked: a file attached before the limit was
    # lowered stays with the record
    fields = [{**f, "max_size_mb": 0.000001} if f["api_name"] == "receipt" else f
              for f in CLAIM["fields"]]
    api.define("claim", {**CLAIM, "fields": fields})
    api.patch(f"/objects/claim/records/{created['id']}", {"title": "still ok"},
              status=200)
    assert "0.000001 MB" in refused({"receipt": [note]})["receipt"][0]


def test_a_file_is_read_by_who_may_read_its_record_field(
        app: TestApp, database: Database) -> None:
    """Issue 10.2: ``GET /files/{id}`` used to check the enterprise only."""
    school = make_school(app, database)
    school.admin.define("claim", {
        **CLAIM, "fields": [*CLAIM["fields"], {"api_name": "audit", "type": "file"}],
        "permissions": {"employee": {"verbs": ["create", "read", "edit"],
                                     "scope": "own", "fields": {"audit": "hidden"}}}})
    school.admin.put("/metadata/approvals/claim_review", {
        "label": {"zh": "报销审核", "en": "Claim review"}, "form": "claim",
        "steps": [{"approver": {"users": [school.ids["finance"]]}}]}, status=200)
    teacher, colleague, finance, admin = (school.client(k) for k in (
        "teacher", "colleague", "finance", "admin"))

    def readers(file_id: str) -> set[str]:
        return {key for key, client in (("teacher", teacher), ("colleague", colleague),
                                        ("finance", finance), ("admin", admin))
                if client.get(f"/files/{file_id}", status=(200, 404)).status_int
                == 200}

    receipt = teacher.upload("r.pdf", b"%PDF-1.4", "application/pdf")["id"]
    scan = teacher.upload("s.png", b"\x89PNG\r\n\x1a\n", "image/png")["id"]
    assert readers(receipt) == {"teacher"}  # attached nowhere: its uploader's
    assert error(colleague.get(f"/files/{receipt}", status=404))["code"] \
        == "not_found"
    claim = teacher.create("claim", {"title": "差旅", "receipt": [receipt],
                                     "lines": [{"scan": [scan]}]})
    # the enterprise admin reads every record; a colleague reaches none of hers
    assert readers(receipt) == readers(scan) == {"teacher", "admin"}
    audit = admin.upload("a.txt", b"audit", "text/plain")["id"]
    admin.patch(f"/objects/claim/records/{claim['id']}", {"audit": [audit]},
                status=200)
    assert readers(audit) == {"admin"}  # hidden from employees
    # the approver of her claim (in another department) sees what the approval
    # shows them
    teacher.post("/approvals", {"definition": "claim_review",
                                "record": claim["id"]}, status=201)
    assert readers(receipt) == readers(scan) == {"teacher", "finance", "admin"}
    assert readers(audit) == {"admin"}


def test_a_download_never_runs_as_a_page(
        app: TestApp, enterprise: Callable[..., Tenant]) -> None:
    """Issue 10.5: downloads were served with the type the client declared."""
    api = login_admin(app, enterprise())
    for name, declared, served in (
            ("x.html", "text/html", "application/octet-stream"),
            ("x.svg", "image/svg+xml", "application/octet-stream"),
            ("x.xml", "application/xhtml+xml; charset=utf-8",
             "application/octet-stream"),
            ("x.js", "application/javascript", "application/octet-stream"),
            ("x.png", "image/png", "image/png"),
            ("x.pdf", "Application/PDF", "application/pdf"),
            ("x.txt", "text/plain; charset=utf-8", "text/plain")):
        file_id = api.upload(name, b"<script>alert(1)</script>", declared)["id"]
        response = api.get(f"/files/{file_id}", status=200)
        assert response.content_type == served, name
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
