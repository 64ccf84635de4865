"""The object manager (issue 4, item 5) through its pages: objects and fields made,
changed, archived and restored with a preview of the storage plan, layouts, list
views, select dependencies, versions with rollback, and backfill progress."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from webtest import TestApp, TestResponse

from propolis.platform.meta.effective import effective_cache
from propolis.platform.storage.platform_tables import jobs
from tests.common.accounts import browser, form_of, web_login, web_step_up
from tests.common.api import ApiClient, Tenant, login_admin
from tests.common.org import add_user

ROOT = "/admin/objects"


def admin_page(app: TestApp, tenant: Tenant) -> TestApp:
    """A browser logged in as the tenant's admin, past the console's step-up."""
    client = browser(app)
    web_login(client, tenant)
    web_step_up(client, tenant.password)
    return client


def apply(preview: TestResponse, status: int = 303) -> TestResponse:
    """Presses "apply" on a preview page."""
    assert preview.status_int == 200, preview.text
    form = next(f for f in preview.forms.values() if f.action.endswith("/apply"))
    return form.submit(status=status)


def new_object(client: TestApp, name: str, zh: str, en: str = "") -> TestResponse:
    page = client.get(ROOT)
    form = form_of(page, ROOT)
    form["api_name"] = name
    form["label_zh"] = zh
    form["label_en"] = en
    form["app"] = "work"
    return form.submit(status="*")


def field_form(client: TestApp, obj: str, ftype: str, **values: Any) -> TestResponse:
    """Fills the add-field page of ``ftype``; ``options``/``columns`` are rows."""
    action = f"{ROOT}/{obj}/fields/_new?type={ftype}"
    page = client.get(action)
    form = form_of(page, action)
    for i, row in enumerate(values.pop("options", [])):
        for key, value in zip(("value", "zh", "en", "parent"), row, strict=False):
            form.set(f"option_{key}", value, index=i)
    for key, value in values.items():
        form[key] = value
    return form.submit(status="*")


def add_field(client: TestApp, obj: str, ftype: str, **values: Any) -> TestResponse:
    preview = field_form(client, obj, ftype, **values)
    return apply(preview).follow()


def test_pages_need_the_step_up_and_are_for_admins(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = browser(app)
    assert "/login?next=" in client.get(ROOT, status=303).location
    web_login(client, tenant)
    assert "/admin/verify?next=" in client.get(ROOT, status=303).location
    client.post(f"{ROOT}/site/apply", {"csrf_token": "x"}, status=400)
    web_step_up(client, tenant.password)
    assert "对象管理" in client.get(ROOT, status=200).text
    # the console's navigation leads here
    assert f'href="{ROOT}"' in client.get("/admin").text

    admin = login_admin(app, tenant)
    add_user(admin, "小王", "13900000001", password="worker-pass-1")
    worker = browser(app, ip="203.0.113.8")
    web_login(worker, Tenant(tenant.account, tenant.enterprise_id, "", "",
                             "13900000001", "worker-pass-1"))
    refused = worker.get(ROOT, status=403)
    assert "管理员" in refused.text
    worker.get(f"{ROOT}/user/versions", status=403)


def make_site(client: TestApp, api: ApiClient) -> None:
    """装修工地 with six fields of different types, all made through the pages."""
    preview = new_object(client, "site", "装修工地", "Site")
    assert "为对象 site 新建数据表 o_site" in preview.text
    page = apply(preview).follow()
    assert "装修工地" in page.text and "已应用" in page.text
    add_field(client, "site", "number", api_name="area", label_zh="面积",
              label_en="Area", precision="1", min="0")
    add_field(client, "site", "date", api_name="start_date", label_zh="开工日期")
    add_field(client, "site", "select", api_name="stage", label_zh="阶段",
              options=[("design", "设计", "Design"), ("build", "施工", "Build")])
    add_field(client, "site", "lookup", api_name="manager", label_zh="项目经理",
              to="user")
    preview = field_form(client, "site", "formula", api_name="double_area",
                         label_zh="双倍面积", returns="number",
                         expression="area * 2")
    assert "在 o_site 中新增列 double_area" in preview.text
    apply(preview)


def test_an_object_with_six_fields_made_in_the_pages(
        app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    make_site(client, api)
    fields = api.get("/objects/site").json["fields"]
    assert [(f["api_name"], f["type"]) for f in fields] == [
        ("name", "text"), ("area", "number"), ("start_date", "date"),
        ("stage", "select"), ("manager", "lookup"), ("double_area", "formula")]
    record = api.create("site", {"name": "阳光小区 3-201", "area": 88.5,
                                 "start_date": "2026-12-01", "stage": "build",
                                 "manager": tenant.admin_id})
    assert record["double_area"] == 177
    page = client.get(f"{ROOT}/site")
    for text in ("面积", "开工日期", "阶段", "项目经理", "双倍面积", "formula"):
        assert text in page.text
    listed = client.get(ROOT)
    assert "装修工地" in listed.text and "/o/site" in listed.text


def test_bad_input_is_shown_on_its_input(app: TestApp,
                                         enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    bad = new_object(client, "Site!", "工地")
    assert bad.status_int == 400
    assert "api_name 须以小写字母开头" in bad.html.select_one(
        ".field.invalid #api_name-error").text
    apply(new_object(client, "site", "工地"))

    missing = field_form(client, "site", "formula", api_name="cost",
                         label_zh="造价", returns="number", expression="area * 2")
    assert missing.status_int == 400
    message = missing.html.select_one("#expression-error").text
    assert "area" in message
    duplicate = field_form(client, "site", "text", api_name="name", label_zh="又一个")
    assert duplicate.status_int == 400
    assert "name" in duplicate.html.select_one("#api_name-error").text
    wrong_number = field_form(client, "site", "text", api_name="code",
                              max_length="many")
    assert wrong_number.html.select_one("#max_length-error").text == "请输入整数"
    empty_options = field_form(client, "site", "select", api_name="stage")
    assert empty_options.status_int == 400
    assert empty_options.html.select_one("#options-error") is not None
    # nothing of those was applied
    api = login_admin(app, tenant)
    assert [f["api_name"] for f in api.get("/objects/site").json["fields"]] == ["name"]


def test_edit_archive_restore_and_reorder(app: TestApp,
                                          enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    apply(new_object(client, "site", "工地"))
    add_field(client, "site", "number", api_name="area", label_zh="面积")
    add_field(client, "site", "text", api_name="note", label_zh="备注")
    record = api.create("site", {"name": "一号", "area": 10, "note": "留着"})

    # a label and a flag changed
    action = f"{ROOT}/site/fields/note"
    form = form_of(client.get(action), action)
    assert form["label_zh"].value == "备注"
    form["label_zh"] = "说明"
    form["required"] = True
    preview = form.submit(status=200)
    assert "字段 说明 / 备注（note）的 label：备注 → 说明 / 备注" in preview.text
    assert "无需改动已存的数据" in preview.text
    apply(preview)
    note = api.get("/objects/site").json["fields"][2]
    assert note["label"]["zh"] == "说明" and note["required"] is True

    # a type change storage refuses: its message on the type input
    form = form_of(client.get(action), action)
    form["type"] = "number"
    refused = form.submit(status=400)
    assert "可能丢失数据" in refused.html.select_one("#type-error").text

    # removed: archived with its values, then restored
    page = client.get(f"{ROOT}/site")
    token = page.forms["archive-form"]["csrf_token"].value
    preview = client.post(f"{ROOT}/site/archive", {"csrf_token": token,
                                                   "field": "note"})
    assert "归档字段 site.note" in preview.text
    page = apply(preview).follow()
    assert "归档的字段" in page.text
    assert "note" not in api.read("site", record["id"])
    restore = next(f for f in page.forms.values() if f.action.endswith("/restore"))
    preview = restore.submit()
    assert "从归档中恢复字段 site.note" in preview.text
    apply(preview)
    assert api.read("site", record["id"])["note"] == "留着"

    # reordered by the order the page posts (drag and drop), then by a button
    page = client.get(f"{ROOT}/site")
    form = page.forms["reorder-form"]
    preview = client.post(form.action, [("csrf_token", token), ("order", "note"),
                                        ("order", "name"), ("order", "area")])
    assert "字段顺序已调整" in preview.text
    apply(preview)
    names = [f["api_name"] for f in api.get("/objects/site").json["fields"]]
    assert names == ["note", "name", "area"]
    preview = client.post(form.action, {"csrf_token": token, "move": "up:area"})
    apply(preview)
    names = [f["api_name"] for f in api.get("/objects/site").json["fields"]]
    assert names == ["note", "area", "name"]


def test_layout_list_view_and_dependencies(app: TestApp,
                                           enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    apply(new_object(client, "site", "工地"))
    add_field(client, "site", "number", api_name="area", label_zh="面积")
    add_field(client, "site", "select", api_name="city", label_zh="城市",
              options=[("bj", "北京"), ("sh", "上海")])
    add_field(client, "site", "select", api_name="district", label_zh="区",
              depends_on="city", options=[("cy", "朝阳", "", "bj"),
                                          ("pd", "浦东", "", "sh")])

    layouts = f"{ROOT}/site/layouts"
    form = form_of(client.get(layouts), layouts)
    form.set("section_zh", "基本", index=0)
    form.set("section_zh", "位置", index=1)
    form.set("section_columns", "1", index=1)
    form["sec__city"], form["pos__city"] = "2", "2"
    form["sec__district"], form["pos__district"] = "2", "1"
    form["sec__area"] = "0"
    apply(form.submit(status=200))
    layout = api.get("/objects/site").json["layouts"][0]
    assert [(s["label"]["zh"], s["columns"], s["fields"])
            for s in layout["sections"]] == [
        ("基本", 2, ["name"]), ("位置", 1, ["district", "city"])]

    views = f"{ROOT}/site/list-views"
    form = form_of(client.get(views), views)
    for checkbox in form.fields["col"]:
        checkbox.checked = checkbox._value in ("name", "area", "updated_at")
    form["pos__area"] = "0"
    form["sort_field"], form["sort_dir"] = "area", "desc"
    apply(form.submit(status=200))
    view = api.get("/objects/site").json["list_views"][0]
    assert view["columns"] == ["area", "name", "updated_at"]
    assert view["sort"] == ["-area"]

    deps = f"{ROOT}/site/dependencies"
    form = form_of(client.get(deps), deps)
    assert form["parent__cy"].value == "bj"
    form["parent__pd"] = "bj"
    apply(form.submit(status=200))
    options = api.get("/objects/site").json["fields"][3]["options"]
    assert [(o["value"], o["parent"]) for o in options] == [("cy", "bj"), ("pd", "bj")]


def test_versions_diff_and_rollback(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    apply(new_object(client, "site", "工地"))
    before = api.get("/metadata/versions").json["current"]
    add_field(client, "site", "number", api_name="area", label_zh="面积")
    record = api.create("site", {"name": "一号", "area": 12})

    page = client.get(f"{ROOT}/site/versions")
    assert f"{ROOT}/site/versions/{before}" in page.text
    diff = client.get(f"{ROOT}/site/versions/{before}")
    assert "新增字段 面积（area，number）" in diff.text
    client.get(f"{ROOT}/site/versions/999", status=404)
    client.get(f"{ROOT}/site/versions/x", status=404)

    rollback = form_of(diff, f"{ROOT}/site/rollback")
    preview = rollback.submit(status=200)
    assert "归档字段 site.area" in preview.text
    assert "回滚" in preview.text
    apply(preview)
    assert [f["api_name"] for f in api.get("/objects/site").json["fields"]] == ["name"]
    # and forward again: the archived values come back
    newest = api.get("/metadata/versions").json["current"]
    token = client.get(f"{ROOT}/site").forms["reorder-form"]["csrf_token"].value
    preview = client.post(f"{ROOT}/site/rollback",
                          {"csrf_token": token, "version": str(newest - 1)})
    apply(preview)
    assert api.read("site", record["id"])["area"] == 12


def test_a_stale_preview_is_not_applied(app: TestApp,
                                        enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    apply(new_object(client, "site", "工地"))
    first = field_form(client, "site", "number", api_name="area")
    apply(field_form(client, "site", "text", api_name="note"))
    refused = apply(first, status=409)
    assert "其他修改" in refused.text
    api = login_admin(app, tenant)
    assert [f["api_name"] for f in api.get("/objects/site").json["fields"]] == [
        "name", "note"]


def test_backfill_progress(app: TestApp, enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    apply(new_object(client, "site", "工地"))
    add_field(client, "site", "number", api_name="area")
    for i in range(3):
        api.create("site", {"name": f"{i} 号", "area": i})
    preview = field_form(client, "site", "formula", api_name="double_area",
                         returns="number", expression="area * 2")
    assert "为已有记录计算 site.double_area" in preview.text
    done = apply(preview)
    assert "/admin/objects/site/jobs/" in done.location
    page = done.follow()
    assert page.html.select_one("progress")["value"] == "3"
    assert "返回对象" in page.text and "hx-trigger" not in page.text
    assert [r["double_area"] for r in api.query("site", sort=["area"])["records"]] == [
        0, 2, 4]

    # a job still running: the part htmx polls, until done
    job_id = "01JOBRUNNING00000000000000"
    now = dt.datetime.now(dt.UTC)
    database = app.app.registry.database
    with database.tenant_engine(tenant.account).begin() as conn:
        conn.execute(insert(jobs).values(
            id=job_id, kind="backfill", status="running", total=10, done=4,
            payload={"object": "site", "fields": ["double_area"]},
            created_by=tenant.admin_id, created_at=now, updated_at=now))
    running = client.get(f"{ROOT}/site/jobs/{job_id}")
    assert 'hx-trigger="every 1s"' in running.text
    part = client.get(f"{ROOT}/site/jobs/{job_id}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="job"')
    assert part.html.select_one("progress")["value"] == "4"
    client.get(f"{ROOT}/site/jobs/01NOSUCHJOB000000000000000", status=404)


def test_another_enterprises_objects_and_jobs_are_not_found(
        app: TestApp, enterprise: Callable[..., Tenant]):
    mine, theirs = enterprise("甲公司"), enterprise("乙公司")
    their_api = login_admin(app, theirs)
    their_api.define("secret_plan", {"label": "乙的机密", "fields": [
        {"api_name": "name", "type": "text"}]})
    their_api.create("secret_plan", {"name": "x"})
    job = their_api.define("secret_plan", {"label": "乙的机密", "fields": [
        {"api_name": "name", "type": "text"},
        {"api_name": "size", "type": "formula", "returns": "number",
         "expression": "size(name)"}]})["jobs"][0]
    client = admin_page(app, mine)
    apply(new_object(client, "secret_plan", "甲的计划"))
    for path in (f"{ROOT}/other_plan", f"{ROOT}/other_plan/layouts",
                 f"{ROOT}/other_plan/fields/name",
                 f"{ROOT}/secret_plan/jobs/{job}"):
        response = client.get(path, status=404)
        assert "乙" not in response.text
    assert "乙的机密" not in client.get(ROOT).text
    assert "乙的机密" not in client.get(f"{ROOT}/secret_plan").text


def test_an_uncached_version_is_read_without_a_second_writer(
        app: TestApp, enterprise: Callable[..., Tenant]):
    """Issue 10.8: on SQLite the version page opened a second connection with
    BEGIN IMMEDIATE while the request held the write lock: a 30 s hang, a 500."""
    tenant = enterprise()
    client = admin_page(app, tenant)
    api = login_admin(app, tenant)
    apply(new_object(client, "site", "工地"))
    before = api.get("/metadata/versions").json["current"]
    add_field(client, "site", "number", api_name="area", label_zh="面积")
    effective_cache.clear()
    started = time.monotonic()
    diff = client.get(f"{ROOT}/site/versions/{before}", status=200)
    assert time.monotonic() - started < 10
    assert "新增字段 面积（area，number）" in diff.text
