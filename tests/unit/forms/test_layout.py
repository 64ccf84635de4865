from typing import Any

from propolis.forms.generate import form_class
from propolis.forms.layout import FormLayout, form_layout
from propolis.metadata.normalize import normalize_object
from tests.unit.forms.conftest import RECORD


def names(page: FormLayout) -> list[list[list[str]]]:
    return [[[cell.name for cell in row] for row in section.rows]
            for section in page.sections]


def test_sections_rows_and_columns(site_doc: dict[str, Any]) -> None:
    page = form_layout(form_class(site_doc, lang="zh")(data=RECORD))
    assert [(s.label, s.columns) for s in page.sections] == [
        ("基本信息", 2), ("进度与预算", 3), ("主材", 1), ("其他", 2)]
    basics, progress, materials, other = names(page)
    assert basics == [["name", "code"], ["client", "client_level"],
                      ["house_type", "fit_package"], ["owner"]]
    # a wide field (textarea, rich text, table) takes a row of its own
    assert progress == [["start_date", "inspected_at", "budget"],
                        ["material_cost"], ["notes"], ["ratio"]]
    assert materials == [["materials"]]
    # what the layout does not place comes last, in the object's order; fields
    # hidden in the metadata nowhere
    assert other == [["intro"], ["floor_area", "visit_time"], ["safety_ok", "tags"],
                     ["main_client", "manager"], ["dept", "phone"],
                     ["email", "website"], ["contract", "photos"],
                     ["position", "region"], ["visits", "checked_by"]]
    placed = [n for section in names(page) for row in section for n in row]
    assert len(placed) == len(set(placed))
    assert [f.short_name for f in page.hidden] == ["version"]


def test_cells_say_what_the_template_needs(site_doc: dict[str, Any]) -> None:
    page = form_layout(form_class(site_doc, lang="en")())
    cells = {c.name: c for s in page.sections for row in s.rows for c in row}
    name, code = cells["name"], cells["code"]
    assert (name.readonly, name.wide, name.help, name.help_id, name.errors_id,
            name.label_id) == (False, False, "As on the contract", "name-help",
                               "name-errors", "name-label")
    assert code.readonly and cells["owner"].readonly and cells["materials"].wide
    assert page.sections[-1].label == "Other"


def test_access_removes_fields_and_empty_sections(site_doc: dict[str, Any]) -> None:
    hidden = {n: "hidden" for n in ("materials", "budget", "name")}
    page = form_layout(form_class(site_doc, lang="zh", field_access={
        **hidden, "client": "read"})())
    assert [s.label for s in page.sections] == ["基本信息", "进度与预算", "其他"]
    basics = names(page)[0]
    assert basics[0] == ["code", "client"]
    cells = {c.name: c for s in page.sections for row in s.rows for c in row}
    assert cells["client"].readonly
    assert not cells.keys() & set(hidden)


def test_another_layout(site_doc: dict[str, Any]) -> None:
    page = form_layout(form_class(site_doc, lang="zh", layout="compact")())
    assert page.sections[0].label is None
    assert names(page)[0] == [["budget"], ["name"]]


def test_the_generated_layout_places_every_visible_field() -> None:
    doc = normalize_object({"kind": "object", "api_name": "note", "fields": [
        {"api_name": "title", "type": "text"}, {"api_name": "body", "type": "richtext"},
        {"api_name": "secret", "type": "text", "hidden": True},
        {"api_name": "size", "type": "number"}]})
    page = form_layout(form_class(doc, lang="en")())
    assert [(s.label, s.columns) for s in page.sections] == [("Details", 2)]
    assert names(page) == [[["title"], ["body"], ["size"]]]
