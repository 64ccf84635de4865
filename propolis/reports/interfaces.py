"""What the reports layer offers the pages and the API."""

from __future__ import annotations

from zope.interface import Interface


class IChartService(Interface):
    """Charts and dashboards (``kind: chart``, ``kind: dashboard``) run for the
    request's user over the records they may read (CONTRACT §6)."""

    def run(name, body):
        """``{"columns", "rows"}`` of chart ``name``; ``body`` may hold
        ``filters`` (the query API's), ``from`` and ``to`` (days, included)."""

    def dashboard(name, period, *, user, department):
        """``{"widgets": [...]}`` of dashboard ``name`` for ``period``
        (``2026-12``, ``2026-W49``, ``2026-12-05``, ``2026-Q4``, ``2026``; None:
        all time): a chart widget's columns and rows, a kpi's or formula's value;
        narrowed to the records of ``user`` and everyone below them, or of
        ``department`` and its sub-departments, when given."""


class IReportService(Interface):
    """The data-reporting system (报数, ``kind: report``): entries, their
    summaries and who has not filled them."""

    def mine():
        """The reports the caller fills: ``api_name``, ``label``, ``period``,
        ``current`` (today's period), ``due`` and ``filled``."""

    def entry(name, period):
        """The caller's entry of ``period``, or None."""

    def submit(name, period, data):
        """The caller's entry of ``period``, created or replaced; 403 for a
        non-assignee, 409 once the period is locked."""

    def summary(name, start, end, by):
        """``{"rows": [{"key", "label", <field>…, <field>_yoy, <field>_mom}]}``
        over the entries the caller may read, by department (rolled up the
        tree), user or period."""

    def missing(name, period):
        """``{"users": [{"id", "name"}]}``: the assignees the caller may see who
        have not filled ``period``."""
