"""Objects leaving the metadata with an uninstalled extension stay archived, and
come back with their tables when defined again (meta/services._archiving)."""

from __future__ import annotations

from propolis.platform.meta.services import _archiving

VISIT = {"api_name": "visit", "fields": [{"api_name": "title", "type": "text"}]}
SITE = {"api_name": "site", "fields": []}


def test_an_object_named_to_archive_leaves_for_the_archive() -> None:
    effective = {"objects": {"visit": VISIT, "site": SITE}}
    old, archived = _archiving(effective, {"site": SITE}, {"visit"})
    assert old == {"site": SITE}        # the planner sees no removed object
    assert archived == {"visit": VISIT}


def test_an_object_not_named_is_still_compared_so_the_planner_refuses() -> None:
    effective = {"objects": {"visit": VISIT, "site": SITE}}
    old, archived = _archiving(effective, {"site": SITE}, ())
    assert set(old) == {"visit", "site"} and archived == {}


def test_an_archived_object_defined_again_is_compared_with_its_archive() -> None:
    effective = {"objects": {"site": SITE}, "archived_objects": {"visit": VISIT}}
    new = {"site": SITE, "visit": {**VISIT, "label": "拜访"}}
    old, archived = _archiving(effective, new, ())
    assert old == {"site": SITE, "visit": VISIT} and archived == {}
    # not defined again: it stays archived
    old, archived = _archiving(effective, {"site": SITE}, ())
    assert old == {"site": SITE} and archived == {"visit": VISIT}
