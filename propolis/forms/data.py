"""Between a submitted form and the record service.

A page handles a submission as::

    form = cls(request.POST, data=record)      # data: None for a new record
    try:
        values = form_to_json(form)
        saved = records.update(obj, id, values, version=submitted_version(form))
    except AppError as error:
        apply_errors(form, error, lang)        # then show the form again

so the form's own parse errors and the service's refusals reach the user the same
way. The form decides nothing about validity: the service's JSON Schema does.
"""

from __future__ import annotations

import re
from typing import Any

from propolis.forms.fields import (
    Errors,
    GroupField,
    RowField,
    SpecField,
    TableField,
)
from propolis.forms.generate import VERSION, RecordForm
from propolis.metadata.texts import pick
from propolis.platform.errors import AppError, _, translate
from propolis.platform.records.plan import INVALID
from propolis.platform.records.schema import where_in_table

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_STEPS = re.compile(r"(?:\[\d+\]|\.[a-z][a-z0-9_]*)*")
_STEP = re.compile(r"\[(\d+)\]|\.([a-z][a-z0-9_]*)")


def form_to_json(form: RecordForm) -> dict[str, Any]:
    """The editable fields' submitted values as the JSON values the record service
    takes: numbers as exact ``Decimal``, datetimes ISO 8601 with the enterprise's
    offset, empty inputs as null (lists: ``[]``), table rows as objects with their
    ``id`` (rows added but left empty are dropped). Read-only fields are never
    part of it. Raises ``AppError`` (400 ``invalid``) naming the inputs that could
    not be read, e.g. ``{"budget": [请输入数字 / enter a number]}``."""
    errors: Errors = {}
    values = {field.short_name: field.json_value(errors, field.short_name)
              for field in form if isinstance(field, SpecField) and field.editable}
    if errors:
        raise AppError("invalid", INVALID, errors)
    return values


def submitted_version(form: RecordForm) -> int | None:
    """The record version the form was loaded with, for ``update(version=…)``; None
    for a new record (or a value that is not a version, which then locks nothing:
    only whoever tampered with it loses the check)."""
    text = str(form[VERSION].data or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def apply_errors(form: RecordForm, error: AppError, lang: str) -> None:
    """Puts an ``AppError``'s messages, in ``lang``, where the user will see them.

    Its ``message`` goes to ``form.form_errors``, and each entry of ``fields`` to the
    field it names. The record service names top-level fields (``materials``, with
    the row and column in the message); paths into a value (``materials[1].qty``,
    ``position.lat``), as ``form_to_json`` reports them, reach the input itself.
    What no field on the form can show (a field hidden from this user, say) goes
    to the form-level errors, prefixed with the field's label. A 409 ``conflict``
    (the record was changed since the form was loaded) sets ``form.conflict``."""
    if error.status == 409 and error.code == "conflict":
        form.conflict = True
    form.form_errors.append(translate(error.message, lang))
    for key, messages in error.fields.items():
        texts = [translate(m, lang) for m in messages]
        holder, rest = _resolve(form, key)
        if holder is None:
            form.form_errors.extend(f"{_label(form, key, lang)}: {text}"
                                    for text in texts)
            continue
        if rest:
            where = where_in_table(rest)
            texts = [translate(_("${where}: ${msg}",
                                 mapping={"where": where, "msg": text}), lang)
                     for text in texts]
        holder.errors = [*holder.errors, *texts]


def _label(form: RecordForm, key: str, lang: str) -> str:
    for field in form.object_doc["fields"]:
        if field["api_name"] == key:
            return pick(field["label"], lang)
    return key


def _resolve(form: RecordForm, key: str) -> tuple[Any, list[int | str]]:
    """The deepest field on the form that ``key`` leads to, and the steps of the
    path below it that it could not follow (a table row is not a place for
    messages: what is about a whole row goes on the table)."""
    name = _NAME.match(key)
    if name is None or _spec_field(form, name.group()) is None:
        return None, []
    rest = key[name.end():]
    if not _STEPS.fullmatch(rest):
        return None, []
    steps: list[int | str] = [int(m[1]) if m[1] is not None else m[2]
                              for m in _STEP.finditer(rest)]
    holder = node = form[name.group()]
    depth = 0
    for i, step in enumerate(steps):
        node = _child(node, step)
        if node is None:
            break
        if not isinstance(node, RowField):
            holder, depth = node, i + 1
    return holder, steps[depth:]


def _child(node: Any, step: int | str) -> Any:
    if isinstance(node, TableField) and isinstance(step, int):
        return node.entries[step] if step < len(node.entries) else None
    if isinstance(node, GroupField | RowField) and isinstance(step, str):
        return _spec_field(node.form, step)
    return None


def _spec_field(form: Any, name: str) -> SpecField | None:
    """The metadata field ``name`` of a form or sub-form (hidden inputs such as the
    version or a row's id are no place for messages)."""
    field = form[name] if name in form else None
    return field if isinstance(field, SpecField) else None


