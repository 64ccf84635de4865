from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # the workbench: the objects of one navigation section (工作 / CRM / 应用)
    config.add_route("ui.home", "/app")
    config.add_route("ui.section", "/app/{section}")
    # record lists (propolis.forms.pages.lists): the page, its rows (htmx: filter,
    # sort, "load more"), saved views, bulk owner transfer, the summary chart
    config.add_route("records.list", "/o/{object}")
    config.add_route("records.rows", "/o/{object}/rows")
    config.add_route("records.views", "/o/{object}/views")
    config.add_route("records.view", "/o/{object}/views/{view}")
    config.add_route("records.bulk_transfer", "/o/{object}/transfer")
    config.add_route("records.summary", "/o/{object}/summary")
    config.add_route("records.export", "/o/{object}/export")
    # importing a file (propolis.forms.pages.imports): the page, a large file's job
    config.add_route("records.import", "/o/{object}/import")
    config.add_route("records.import_job", "/o/{object}/import/jobs/{job}")
    # one record (propolis.forms.pages.records): new, detail, edit, history, team,
    # recycle bin, and the helpers its form calls (lookup search, dependent options)
    config.add_route("records.new", "/o/{object}/new")
    config.add_route("records.deleted", "/o/{object}/deleted")
    config.add_route("records.lookup", "/o/{object}/lookup")
    config.add_route("records.options", "/o/{object}/options/{field}")
    config.add_route("records.detail", "/o/{object}/r/{id}")
    config.add_route("records.edit", "/o/{object}/r/{id}/edit")
    config.add_route("records.history", "/o/{object}/r/{id}/history")
    config.add_route("records.team", "/o/{object}/r/{id}/team")
    config.add_route("records.run_action", "/o/{object}/r/{id}/actions/{name}")
    config.add_route("records.advance", "/o/{object}/r/{id}/advance/{field}")
    config.add_route("records.action", "/o/{object}/r/{id}/{action}")
    # the object manager (propolis.forms.pages.manager), in the admin console
    config.add_route("manager.objects", "/admin/objects")
    config.add_route("manager.object", "/admin/objects/{object}")
    config.add_route("manager.action", "/admin/objects/{object}/{action}")
    # a field's editor (``_new``: add one), a version compared with now, a backfill
    config.add_route("manager.field", "/admin/objects/{object}/fields/{field}")
    config.add_route("manager.version", "/admin/objects/{object}/versions/{version}")
    config.add_route("manager.job", "/admin/objects/{object}/jobs/{job}")
    # dashboards and 报数 (propolis.forms.pages.reports): the list of dashboards,
    # one for a period; the reports I fill today, an entry's form, the summary
    config.add_route("reports.dashboards", "/dashboards")
    config.add_route("reports.dashboard", "/dashboards/{name}")
    config.add_route("reports.todo", "/reports")
    config.add_route("reports.summary", "/reports/{name}/summary")
    config.add_route("reports.entry", "/reports/{name}/{period}")
    # the approval pages (propolis.forms.pages.approvals): the boxes, starting one,
    # one approval and its actions, the inbox; fixed paths before /approvals/{id}
    config.add_route("approvals.home", "/approvals")
    config.add_route("approvals.start_list", "/approvals/start")
    config.add_route("approvals.start", "/approvals/start/{definition}")
    config.add_route("approvals.notifications", "/approvals/notifications")
    config.add_route("approvals.read", "/approvals/notifications/read")
    config.add_route("approvals.detail", "/approvals/{id}")
    config.add_route("approvals.act", "/approvals/{id}/act")
