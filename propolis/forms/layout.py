"""A form's fields arranged for the page: the sections of the object's layout, each
cut into rows of as many cells as it has columns.

A template loops over it::

    {% for input in page.hidden %}{{ input() }}{% endfor %}
    {% for section in page.sections %}
      <section>{% if section.label %}<h2>{{ section.label }}</h2>{% endif %}
      {% for row in section.rows %}<div class="row cols-{{ section.columns }}">
        {% for cell in row %}<div class="cell{{ ' wide' if cell.wide }}">
          {{ cell.field.label() }} {{ cell.field() }} … help, errors …
        </div>{% endfor %}</div>{% endfor %}</section>
    {% endfor %}

Every field on the form appears exactly once: fields hidden from the user are not on
the form, so not here either; fields the layout does not place come last, in a
section of their own. A field must not be left out of the page: an editable input
missing from a submission would read as emptied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from propolis.forms.fields import SpecField
from propolis.forms.generate import RecordForm
from propolis.forms.texts import OTHER_SECTION
from propolis.forms.typetable import widgets_for
from propolis.forms.widgets import errors_id, help_id, label_id
from propolis.metadata.texts import pick
from propolis.platform.errors import translate

OTHER_COLUMNS = 2


@dataclass(frozen=True)
class Cell:
    """One field's place on the page."""

    field: SpecField

    @property
    def name(self) -> str:
        return str(self.field.short_name)

    @property
    def wide(self) -> bool:
        """Takes a whole row."""
        return widgets_for(self.field.spec).wide

    @property
    def readonly(self) -> bool:
        return not self.field.editable

    @property
    def label_id(self) -> str:
        return label_id(self.field)

    @property
    def help(self) -> str:
        return str(self.field.description or "")

    @property
    def help_id(self) -> str:
        """The id the help text's element must have (the control refers to it)."""
        return help_id(self.field)

    @property
    def errors_id(self) -> str:
        """The id the errors' element must have (see ``widgets.errors_html``)."""
        return errors_id(self.field)


@dataclass(frozen=True)
class Section:
    label: str | None
    columns: int
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class FormLayout:
    sections: tuple[Section, ...]
    hidden: tuple[Any, ...]  # inputs without a place: the record's version


def _rows(cells: list[Cell], columns: int) -> tuple[tuple[Cell, ...], ...]:
    rows: list[tuple[Cell, ...]] = []
    current: list[Cell] = []
    for cell in cells:
        if cell.wide or len(current) == columns:
            if current:
                rows.append(tuple(current))
            current = []
        if cell.wide:
            rows.append((cell,))
        else:
            current.append(cell)
    if current:
        rows.append(tuple(current))
    return tuple(rows)


def form_layout(form: RecordForm) -> FormLayout:
    """The sections, rows and cells of ``form`` in its layout (``form.layout``).
    A section none of whose fields is on the form is left out."""
    placed: set[str] = set()
    sections = []
    for section in form.layout["sections"]:
        cells = []
        for name in section["fields"]:
            field = form[name] if name in form else None
            if isinstance(field, SpecField) and name not in placed:
                placed.add(name)
                cells.append(Cell(field))
        if cells:
            label = pick(section["label"], form.lang) if section["label"] else None
            sections.append(Section(label, section["columns"],
                                    _rows(cells, section["columns"])))
    rest = [Cell(f) for f in form
            if isinstance(f, SpecField) and f.short_name not in placed]
    if rest:
        sections.append(Section(translate(OTHER_SECTION, form.lang), OTHER_COLUMNS,
                                _rows(rest, OTHER_COLUMNS)))
    hidden = tuple(f for f in form if not isinstance(f, SpecField))
    return FormLayout(tuple(sections), hidden)
