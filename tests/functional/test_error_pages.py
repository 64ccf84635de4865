"""What a failure answers, by path: a page in the user's language with the way
home for the pages, the JSON error of CONTRACT §4 under /api — for an unknown
address, a refusal of a service, a body over the limit and an unexpected failure
(500, shown without its traceback)."""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest
from pyramid.config import Configurator
from pyramid.request import Request
from webtest import TestApp, TestResponse

from propolis import main
from propolis.platform.db import Database
from tests.common.accounts import web_login
from tests.common.api import Tenant, error
from tests.common.app import app_settings

SECRET = "the database password is hunter2"


def _boom(request: Request) -> None:
    raise RuntimeError(SECRET)


def includeme(config: Configurator) -> None:
    """What this module adds to its own application: a page and an API route
    that fail unexpectedly."""
    config.add_route("test.boom", "/boom")
    config.add_route("api.test.boom", "/api/v1/boom")
    config.add_view(_boom, route_name="test.boom")
    config.add_view(_boom, route_name="api.test.boom", renderer="json")


@pytest.fixture(scope="module")
def failing_app(database: Database, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[TestApp]:
    settings = app_settings(database, str(tmp_path_factory.mktemp("files")))
    settings["propolis.extensions"] = __name__
    settings["propolis.max_body_bytes"] = "1024"
    router = main({}, **settings)
    yield TestApp(router)
    router.registry.database.dispose()


def page_of(response: TestResponse) -> lxml.html.HtmlElement:
    assert response.content_type == "text/html", response
    return lxml.html.fromstring(response.text)


def heading(response: TestResponse) -> str:
    return page_of(response).findtext(".//h1").strip()


def way_home(response: TestResponse) -> list[str]:
    return page_of(response).xpath("//main//a/@href")


def test_an_unknown_page_is_the_404_page(app: TestApp) -> None:
    response = app.get("/nope", status=404)
    assert heading(response) == "未找到"
    assert "没有这个页面" in response.text
    assert way_home(response) == ["/"]
    english = app.get("/nope", headers={"Accept-Language": "en"}, status=404)
    assert heading(english) == "Not found"
    assert "There is no such page." in english.text
    assert "Back to the home page" in english.text


def test_an_unknown_api_path_is_a_json_404(app: TestApp) -> None:
    assert error(app.get("/api/v1/nope", status=404)) == {
        "code": "not_found", "message": "未找到", "fields": {}}
    english = app.get("/api/v1/nope", headers={"Accept-Language": "en"}, status=404)
    assert error(english)["message"] == "Not found"
    # a known route with a method it does not take is not found either
    assert error(app.patch_json("/api/v1/objects", {}, status=404))["code"] == \
        "not_found"


def test_a_refusal_on_a_page_is_an_error_page(
        app: TestApp, enterprise: type[Tenant]) -> None:
    tenant = enterprise()
    client = TestApp(app.app)
    web_login(client, tenant)
    response = client.get("/o/no_such_object/r/x", status=404)
    assert heading(response) == "未找到"
    assert "没有这个对象" in response.text  # the service's own message
    assert way_home(response) == ["/"]
    # the header of the logged-in user is there, with the navigation
    assert page_of(response).xpath("//nav[@class='sections']//a")
    client.set_cookie("propolis_lang", "en")
    english = client.get("/o/no_such_object/r/x", status=404)
    assert heading(english) == "Not found"
    assert "There is no such object" in english.text


def test_a_page_that_needs_a_login_sends_to_the_login_page(app: TestApp) -> None:
    response = app.get("/o/anything", status=303)
    assert response.location.endswith("/login?next=%2Fo%2Fanything")


def test_an_unexpected_failure_is_a_500_without_its_traceback(
        failing_app: TestApp) -> None:
    page = failing_app.get("/boom", status=500)
    assert heading(page) == "出错了"
    for leak in (SECRET, "RuntimeError", "Traceback"):
        assert leak not in page.text
    assert way_home(page) == ["/"]
    english = failing_app.get("/boom", headers={"Accept-Language": "en"}, status=500)
    assert heading(english) == "Something went wrong"
    body = error(failing_app.get("/api/v1/boom", status=500))
    assert body["code"] == "internal_error"
    assert SECRET not in str(body)


def test_a_body_over_the_limit_is_refused_by_path(failing_app: TestApp) -> None:
    big = {"login": "x" * 2048}
    page = failing_app.post("/login", big, status=413)
    assert heading(page) == "内容过大"
    assert "请求体超过" in page.text
    body = error(failing_app.post_json("/api/v1/session", big, status=413))
    assert body["code"] == "body_too_large"
