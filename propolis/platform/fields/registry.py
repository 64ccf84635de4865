"""The field types the platform knows, by name: one registry, the metadata
language's (``propolis.metadata.fieldtypes``), holding ``FieldType`` objects, so
that a type registered here is one that metadata accepts too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from propolis.metadata import fieldtypes
from propolis.platform.fields.base import FieldType


def register(cls: type[FieldType]) -> FieldType:
    """Registers a field type class; ValueError when another class has its name.
    Registering the same class again (an app made anew in the same process)
    changes nothing."""
    if not (isinstance(cls, type) and issubclass(cls, FieldType)):
        raise TypeError(f"{cls!r} is not a FieldType class")
    if cls.name in fieldtypes.type_names():
        existing = fieldtypes.definition(cls.name)
        if type(existing) is cls:
            return existing
    instance = cls()
    fieldtypes.register(instance)
    return instance


def unregister(name: str) -> None:
    fieldtypes.unregister(name)


@contextmanager
def registered(cls: type[FieldType]) -> Iterator[FieldType]:
    """The type is registered inside the block only (for tests); ValueError
    when its name is taken already."""
    instance = cls()
    fieldtypes.register(instance)
    try:
        yield instance
    finally:
        unregister(instance.name)


def type_named(name: str) -> FieldType:
    """The registered type ``name``; KeyError when there is none."""
    found = fieldtypes.definition(name)
    if not isinstance(found, FieldType):
        raise TypeError(f"field type {name!r} has no platform behaviour")
    return found


def field_type(field: Mapping[str, Any]) -> FieldType:
    """The type of a field definition."""
    return type_named(field["type"])


def field_types() -> list[FieldType]:
    """Every registered type, in the order of registration."""
    return [type_named(name) for name in fieldtypes.type_names()]
