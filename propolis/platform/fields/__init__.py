"""Field types: what a value of each type is as JSON, as Python, in its column and
in a spreadsheet cell, how it is searched, filtered and sorted, how the planner
may change it, how OpenAPI describes it, and the facts its definition has in the
metadata language. One class per type in one module (``types/``), on the shared
behaviour of ``base`` and the family modules; one registry (``registry``), the
metadata language's, so that registering a type here makes metadata accept it.

Importing this package registers the built-in types, in the order the metadata
language lists them. An extension registers its own with the Pyramid directive
``config.add_field_type(cls)``. The registry is the process's (metadata is
validated outside requests too), so a type stays registered for every app the
process makes; tests register theirs with ``registry.registered``.

Below storage, which builds the tables from the types' columns; above ``db``.
"""

from __future__ import annotations

from pyramid.config import Configurator

from propolis.platform.fields.base import FieldType
from propolis.platform.fields.registry import register
from propolis.platform.fields.types.area import Area
from propolis.platform.fields.types.audience import Audience
from propolis.platform.fields.types.autonumber import Autonumber
from propolis.platform.fields.types.boolean import Boolean
from propolis.platform.fields.types.currency import Currency
from propolis.platform.fields.types.date import Date
from propolis.platform.fields.types.datetime import Datetime
from propolis.platform.fields.types.department import Department
from propolis.platform.fields.types.email import Email
from propolis.platform.fields.types.file import File
from propolis.platform.fields.types.formula import Formula
from propolis.platform.fields.types.image import Image
from propolis.platform.fields.types.location import Location
from propolis.platform.fields.types.lookup import Lookup
from propolis.platform.fields.types.master_detail import MasterDetail
from propolis.platform.fields.types.multiselect import Multiselect
from propolis.platform.fields.types.number import Number
from propolis.platform.fields.types.percent import Percent
from propolis.platform.fields.types.phone import Phone
from propolis.platform.fields.types.quote import Quote
from propolis.platform.fields.types.richtext import Richtext
from propolis.platform.fields.types.rollup import Rollup
from propolis.platform.fields.types.select import Select
from propolis.platform.fields.types.table import Table
from propolis.platform.fields.types.text import Text
from propolis.platform.fields.types.textarea import Textarea
from propolis.platform.fields.types.time import Time
from propolis.platform.fields.types.url import Url
from propolis.platform.fields.types.user import User
from propolis.platform.fields.types.users import Users

BUILT_IN: tuple[type[FieldType], ...] = (
    Text, Textarea, Richtext, Number, Currency, Percent, Date, Time, Datetime,
    Boolean, Select, Multiselect, Lookup, MasterDetail, Table, Autonumber, Formula,
    Rollup, Quote, Phone, Email, Url, File, Image, Location, Area, User, Department,
    Users, Audience,
)

for _cls in BUILT_IN:
    register(_cls)


def add_field_type(config: Configurator, cls: type[FieldType]) -> None:
    """``config.add_field_type(cls)``: registers an extension's field type when
    the configuration is committed (two registrations of one name conflict)."""
    config.action(("propolis.field_type", cls.name), lambda: register(cls))


def includeme(config: Configurator) -> None:
    config.add_directive("add_field_type", add_field_type)
