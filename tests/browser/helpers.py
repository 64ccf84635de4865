"""Steps several browser tests share."""

from __future__ import annotations

from tests.common.api import Tenant


def log_in(page, tenant: Tenant, login: str | None = None,  # noqa: ANN001
           password: str | None = None) -> None:
    """Logs in through the login page, by the labels a user reads (zh)."""
    page.goto("/login")
    page.get_by_label("企业账号").fill(tenant.account)
    page.get_by_label("手机号或登录名").fill(login or tenant.phone)
    page.get_by_label("密码").fill(password or tenant.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


# -- the object manager (admin console) -------------------------------------------

def step_up(page, tenant: Tenant, target: str = "/admin/objects") -> None:  # noqa: ANN001
    """Opens an admin console page, confirming the password when it asks."""
    page.goto(target)
    if "/admin/verify" in page.url:
        page.get_by_label("密码").fill(tenant.password)
        page.get_by_role("button", name="继续").click()
        page.wait_for_url(lambda url: "/admin/verify" not in url)


def apply_change(page) -> None:  # noqa: ANN001
    """Presses "应用" on a change's preview (after checking it is one)."""
    page.get_by_role("heading", name="存储计划").wait_for()
    page.get_by_role("button", name="应用", exact=True).click()
    page.wait_for_load_state()


def create_object(page, api_name: str, label_zh: str, label_en: str = "",  # noqa: ANN001
                  section: str = "work") -> None:
    """The object manager's "新建对象" form, then apply."""
    page.goto("/admin/objects")
    page.get_by_label("API 名称", exact=True).fill(api_name)
    page.get_by_label("名称（中文）").fill(label_zh)
    page.get_by_label("名称（英文）").fill(label_en)
    page.get_by_label("导航分区").select_option(section)
    page.get_by_role("button", name="预览修改").click()
    apply_change(page)


def add_field(page, obj: str, ftype: str, api_name: str, label_zh: str,  # noqa: ANN001
              options: list[tuple[str, str]] = (), **inputs: str) -> None:
    """Adds a field through the type chooser and the field form; ``inputs`` maps
    the form's labels to values (selects by value); ``options`` are (value, 中文)."""
    page.goto(f"/admin/objects/{obj}")
    page.get_by_role("link", name="新增字段").click()
    page.get_by_label(f"{ftype} ", exact=False).first.check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("API 名称", exact=True).fill(api_name)
    page.get_by_label("标签（中文）", exact=True).fill(label_zh)
    for i, (value, text) in enumerate(options, start=1):
        if i > 2:
            page.get_by_role("button", name="添加选项").click()
        page.get_by_label(f"选项 {i} 值", exact=True).fill(value)
        page.get_by_label(f"选项 {i} 标签（中文）", exact=True).fill(text)
    for label, value in inputs.items():
        target = page.get_by_label(label, exact=True)
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    page.get_by_role("button", name="预览修改").click()
    apply_change(page)


def drag_row(page, source, target) -> None:  # noqa: ANN001
    """Drags a row by its handle onto another row, in small mouse steps (SortableJS
    runs in its fallback mode, which follows the mouse)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 2, steps=12)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 4,
                    steps=6)
    page.mouse.up()


def create_site_object(page, tenant: Tenant, shot=None) -> None:  # noqa: ANN001
    """A new admin makes the object 装修工地 (``site``) with 6 fields of different
    types — 工地名称 (text), 面积 (number, ≥ 0), 开工日期 (date), 阶段 (select),
    项目经理 (lookup to user), 预算 (formula) — then drags 阶段 to just after the
    name. ``shot(page, name)`` takes screenshots when given."""
    def snap(name: str) -> None:
        if shot is not None:
            shot(page, name)

    step_up(page, tenant)
    create_object(page, "site", "装修工地", "Renovation site")
    snap("site object created")
    add_field(page, "site", "number", "area", "面积", **{"最小值": "0"})
    add_field(page, "site", "date", "start_date", "开工日期")
    add_field(page, "site", "select", "stage", "阶段",
              options=[("design", "设计"), ("build", "施工"), ("done", "完工")])
    add_field(page, "site", "lookup", "manager", "项目经理", **{"关联的对象": "user"})
    add_field(page, "site", "formula", "budget", "预算",
              **{"结果类型": "currency", "表达式（CEL）": "area * 1200"})
    page.goto("/admin/objects/site")
    snap("six fields")
    rows = page.locator("tr.item")
    drag_row(page, rows.nth(3).locator(".handle"), rows.nth(1))
    page.get_by_role("button", name="保存顺序").click()
    page.get_by_text("字段顺序已调整").wait_for()
    snap("reorder preview")
    apply_change(page)
