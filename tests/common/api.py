"""The JSON API as a test sees it: log in through ``POST /api/v1/session`` and call
routes with the bearer token (and, when asked, an Accept-Language)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webtest import TestApp, TestResponse

PREFIX = "/api/v1"
PASSWORD = "correct-horse-9"


@dataclass(frozen=True)
class Tenant:
    """An enterprise made for a test, with its admin's login."""

    account: str
    enterprise_id: int
    admin_id: str
    department_id: str
    phone: str = "13800000000"
    password: str = PASSWORD


def url(path: str) -> str:
    return path if path.startswith(PREFIX) else PREFIX + path


class ApiClient:
    """Calls the API as one logged-in user. ``status`` is WebTest's: the expected
    status (an int, a list, or ``"*"``); by default anything but 2xx/3xx fails."""

    def __init__(self, app: TestApp, token: str, lang: str | None = None) -> None:
        self.app = app
        self.token = token
        self.lang = lang

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.lang:
            headers["Accept-Language"] = self.lang
        headers.update(extra or {})
        return headers

    def in_language(self, lang: str) -> ApiClient:
        return ApiClient(self.app, self.token, lang)

    def get(self, path: str, status: Any = None, **kw: Any) -> TestResponse:
        return self.app.get(url(path), headers=self.headers(kw.pop("headers", None)),
                            status=status, **kw)

    def post(self, path: str, body: Any = None, status: Any = None, **kw: Any
             ) -> TestResponse:
        return self.app.post_json(url(path), body if body is not None else {},
                                  headers=self.headers(kw.pop("headers", None)),
                                  status=status, **kw)

    def put(self, path: str, body: Any, status: Any = None, **kw: Any) -> TestResponse:
        return self.app.put_json(url(path), body,
                                 headers=self.headers(kw.pop("headers", None)),
                                 status=status, **kw)

    def patch(self, path: str, body: Any, status: Any = None, **kw: Any
              ) -> TestResponse:
        return self.app.patch_json(url(path), body,
                                   headers=self.headers(kw.pop("headers", None)),
                                   status=status, **kw)

    def delete(self, path: str, status: Any = None, **kw: Any) -> TestResponse:
        return self.app.delete(url(path), headers=self.headers(kw.pop("headers", None)),
                               status=status, **kw)

    def raw(self, method: str, path: str, body: bytes, content_type: str,
            status: Any = None) -> TestResponse:
        """A request with a body sent as is (malformed JSON and the like)."""
        return self.app.request(
            url(path), method=method, body=body,
            headers={**self.headers(), "Content-Type": content_type}, status=status,
            expect_errors=True)

    def upload(self, name: str, content: bytes, content_type: str = "text/plain",
               status: Any = 201) -> dict[str, Any]:
        response = self.app.post(url("/files"), headers=self.headers(),
                                 upload_files=[("file", name, content, content_type)],
                                 status=status)
        return response.json

    # record shortcuts
    def create(self, obj: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.post(f"/objects/{obj}/records", data, status=201).json

    def read(self, obj: str, record_id: str) -> dict[str, Any]:
        return self.get(f"/objects/{obj}/records/{record_id}", status=200).json

    def query(self, obj: str, **body: Any) -> dict[str, Any]:
        return self.post(f"/objects/{obj}/query", body, status=200).json

    def define(self, obj: str, doc: dict[str, Any]) -> dict[str, Any]:
        return self.put(f"/metadata/objects/{obj}", doc, status=200).json


def login(app: TestApp, account: str, login_name: str, password: str,
          lang: str | None = None) -> ApiClient:
    response = app.post_json(url("/session"), {"account": account, "login": login_name,
                                               "password": password}, status=200)
    return ApiClient(app, response.json["token"], lang)


def login_admin(app: TestApp, tenant: Tenant, lang: str | None = None) -> ApiClient:
    return login(app, tenant.account, tenant.phone, tenant.password, lang)


def error(response: TestResponse) -> dict[str, Any]:
    """The ``error`` object of an API error answer, checked to be JSON."""
    assert response.content_type == "application/json", response
    body = response.json
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
