"""The ``duplicates:`` and ``timeline:`` of an object: the schema, the static
checks (fields that exist, of the kinds they need), normalization and layering."""

from __future__ import annotations

import pytest

from propolis.metadata import MetadataError, Problem, load_text, validate_documents
from propolis.metadata.layering import merge_layers

DOCS = """\
kind: object
api_name: account
fields:
  - {api_name: name, type: text}
  - {api_name: short_name, type: text}
  - {api_name: mobile, type: phone}
  - {api_name: amount, type: number}
duplicates:
  - {fields: [name, short_name]}
  - {fields: [mobile]}
---
kind: object
api_name: note
fields:
  - {api_name: body, type: textarea}
  - {api_name: account, type: lookup, to: account}
  - {api_name: author, type: user}
timeline: [account]
"""


def problems_of(text: str) -> list[tuple[str, str]]:
    with pytest.raises(MetadataError) as info:
        validate_documents(load_text(text, "docs.yaml"))
    problems: list[Problem] = info.value.problems
    return [(p.code, p.path) for p in problems]


def test_duplicates_and_timeline_validate_and_stay_as_written() -> None:
    account, note = validate_documents(load_text(DOCS, "docs.yaml"))
    assert account["duplicates"] == [{"fields": ["name", "short_name"]},
                                     {"fields": ["mobile"]}]
    assert note["timeline"] == ["account"]
    assert "duplicates" not in note and "timeline" not in account


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("{fields: [mobile]}", "{fields: [mobil]}",
     ("unknown_field", "duplicates[1].fields[0]")),
    ("{fields: [mobile]}", "{fields: [amount]}",
     ("wrong_field_type", "duplicates[1].fields[0]")),
    ("{fields: [mobile]}", "{fields: []}", ("min_items", "duplicates[1].fields")),
    ("{fields: [mobile]}", "{fields: [mobile], on: create}",
     ("unknown_key", "duplicates[1].on")),
    ("timeline: [account]", "timeline: [body]", ("wrong_field_type", "timeline[0]")),
    ("timeline: [account]", "timeline: [acount]", ("unknown_field", "timeline[0]")),
])
def test_mistakes_are_named_at_their_path(old: str, new: str,
                                          expected: tuple[str, str]) -> None:
    assert expected in problems_of(DOCS.replace(old, new))


def test_a_later_layer_replaces_them() -> None:
    account, _ = validate_documents(load_text(DOCS, "docs.yaml"))
    merged = merge_layers([], [account], [{"kind": "object", "api_name": "account",
                                          "duplicates": [{"fields": ["name"]}]}])
    assert merged["account"]["duplicates"] == [{"fields": ["name"]}]
