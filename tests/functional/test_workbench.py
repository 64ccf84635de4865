"""The workbench and the site shell's navigation."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from tests.common.accounts import browser, web_login
from tests.common.api import Tenant, login_admin


def test_workbench_lists_readable_objects_by_section(app: TestApp,
                                                     enterprise: Callable[..., Tenant]):
    tenant = enterprise()
    api = login_admin(app, tenant)
    for name, section in (("site", "crm"), ("memo", None)):
        doc = {"kind": "object", "api_name": name,
               "label": {"zh": f"对象{name}", "en": f"Object {name}"},
               "fields": [{"api_name": "name", "type": "text"}]}
        if section:
            doc["app"] = section
        api.define(name, doc)
    client = browser(app)
    assert client.get("/app", status=303).location.endswith("/login?next=%2Fapp")
    web_login(client, tenant)
    crm = client.get("/app/crm", status=200)
    assert "对象site" in crm.text and "对象memo" not in crm.text
    assert 'href="/o/site"' in crm.text
    assert 'aria-current="page">CRM' in crm.text
    apps = client.get("/app/apps", status=200)
    assert "对象memo" in apps.text and "对象site" not in apps.text
    everything = client.get("/app", status=200)
    assert "对象memo" in everything.text and "对象site" in everything.text
    # the organisation's objects are the admin console's, not the workbench's
    assert 'href="/o/user"' not in everything.text
    assert client.get("/app/nonsense", status=200).text.count('href="/o/') == 2
    client.set_cookie("propolis_lang", "en")
    assert "Object memo" in client.get("/app/apps").text
