"""Work management's Python hooks, included when the ini names it
(``propolis.extensions = work``): a log's ``score`` by the author's superiors, an
instruction's ``complete`` by its assignee and ``rate`` by its issuer, and the
``deliver`` action the reminder schedules of todos, calendar events and timed
reminders run. The rest is metadata (``objects/*.yaml``) on the core's audience
sharing, replies, likes, receipts, topics and feed (``propolis.platform.social``).
"""

from __future__ import annotations

from pyramid.config import Configurator

from propolis.extensions.work import actions


def includeme(config: Configurator) -> None:
    actions.register(config)
