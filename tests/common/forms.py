"""Forms tests' helpers: what a browser would submit for a record's form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webob.multidict import MultiDict

from propolis.forms.fields import SpecField
from propolis.forms.generate import VERSION, RecordForm


def record_to_formdata(record: Mapping[str, Any],
                       form_cls: type[RecordForm]) -> MultiDict:
    """What a browser submits for the form of ``record`` when nothing is changed:
    the editable fields' inputs and the version. ``form_to_json`` of it gives the
    record's own values back."""
    form = form_cls(data=record)
    out = MultiDict()
    if record.get(VERSION) is not None:
        out.add(VERSION, str(record[VERSION]))
    for field in form:
        if isinstance(field, SpecField) and field.editable:
            for name, value in field.formdata_items():
                out.add(name, value)
    return out
