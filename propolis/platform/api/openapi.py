"""``GET /api/v1/openapi.json``: an OpenAPI 3.1 document of the caller's enterprise,
generated from its effective metadata.

Every object gets the record routes of CONTRACT §4 as literal paths
(``/objects/customer/records`` …) and three schemas: ``<api_name>`` (a record as
the API returns it), ``<api_name>Input`` (a new record) and ``<api_name>Patch`` (a
change). Component names use the api_name unchanged: api_names are lower case, so
they can never collide with the fixed, capitalised schemas (``Error``, ``Job`` …)
nor, once suffixed, with each other.

What a client may write is not described a second time here: the input schemas are
the record service's own JSON Schemas (``propolis.platform.records.schema``; JSON
Schema 2020-12 is OpenAPI 3.1's dialect), with the field labels added as titles.

The document shows what the caller may use (CONTRACT §5): only the objects they may
read, only the fields they may see, the ones they may not change marked
``readOnly``. It depends only on the metadata version, the language and that view
(the same for everyone holding the same roles), and a metadata version never
changes, so each is built once and kept with the ``Effective`` it was built from:
it leaves memory when that version leaves the effective-metadata cache.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from propolis.platform.api import openapi_social as social
from propolis.platform.auth import AUTHENTICATED
from propolis.platform.errors import Message, _, _c, translate
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.schema import record_schema, writable
from propolis.platform.fields.values import SYSTEM_FIELDS
from propolis.platform.meta.effective import Effective, ObjectMeta
from propolis.platform.permissions.policy import AccessPolicy
from propolis.platform.query.filters import filter_ops
from propolis.platform.query.services import DEFAULT_LIMIT, MAX_LIMIT
from propolis.platform.web.api import HTTP_MESSAGES

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
HISTORY_ACTIONS = ["create", "update", "delete", "restore", "transfer"]
# The record routes' error answers, by status (the schema is always Error).
ERROR_RESPONSES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
                   404: "NotFound", 409: "Conflict", 413: "TooLarge"}
CONFLICT = _("Version conflict: the record was changed")

# the objects a user may read, each with the fields hidden from them and the ones
# they may only read; None for the enterprise admin, who sees everything
View = tuple[tuple[str, frozenset[str], frozenset[str]], ...] | None
_documents: weakref.WeakKeyDictionary[
    Effective, dict[tuple[Any, ...], Schema]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


class _Builder:
    """One OpenAPI document for one metadata version in one language."""

    def __init__(self, effective: Effective, lang: str, view: View = None) -> None:
        self.effective = effective
        self.lang = lang
        self.schemas: dict[str, Schema] = {}
        self.paths: dict[str, Any] = {}
        everything: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self.objects = ({n: everything for n in effective.objects} if view is None
                        else {n: (hidden, readonly) for n, hidden, readonly in view})

    def hidden(self, obj: ObjectMeta) -> frozenset[str]:
        return self.objects[obj.api_name][0]

    def readonly(self, obj: ObjectMeta) -> frozenset[str]:
        return self.objects[obj.api_name][1]

    def text(self, value: Message | None) -> str:
        return translate(value, self.lang)

    # -- schemas ---------------------------------------------------------------

    def titled(self, properties: Schema, fields: Iterable[Mapping[str, Any]]) -> None:
        """Field labels (and help) as titles of the properties that describe them;
        table columns too."""
        for field in fields:
            prop = properties.get(field["api_name"])
            if prop is None:
                continue
            prop["title"] = self.text(field.get("label")) or field["api_name"]
            if field.get("help"):
                prop["description"] = self.text(field["help"])
            if field_type(field).has_rows:
                self.titled(prop["items"]["properties"], field["fields"])

    def input_schema(self, obj: ObjectMeta, *, create: bool) -> Schema:
        schema = copy.deepcopy(record_schema(obj.doc, create=create))
        schema.pop("$schema", None)
        action = _("New ") if create else _("Change of ")
        schema["title"] = self.text(action) + self.text(obj.label)
        self.titled(schema["properties"], obj.fields.values())
        for name, field in obj.fields.items():
            if field.get("hidden") and name in schema["properties"]:
                schema["properties"][name]["writeOnly"] = True
        # fields hidden from the caller are unknown to them, read-only ones refused
        hidden, readonly = self.hidden(obj), self.readonly(obj)
        for name in hidden | readonly:
            if name in schema["properties"]:
                if name in hidden:
                    del schema["properties"][name]
                else:
                    schema["properties"][name]["readOnly"] = True
        if "required" in schema:
            schema["required"] = [n for n in schema["required"]
                                  if n not in hidden | readonly]
        if not create:
            schema["properties"]["version"] = {
                "type": "integer", "minimum": 1,
                "title": self.text(_("Version")),
                "description": self.text(_("the record's current version; 409 when "
                                           "it is stale")),
            }
        return schema

    def value_schema(self, field: Mapping[str, Any],
                     siblings: Mapping[str, Mapping[str, Any]], depth: int = 0
                     ) -> Schema:
        """A field's value as the API returns it (every field may be empty; its
        type says: ``FieldType.api_schema``). ``siblings``: the fields beside it
        (a quote reads through one of them)."""
        schema = field_type(field).api_schema(field, siblings, self, depth)
        if not writable(field):
            schema["readOnly"] = True
        return schema

    def quoted(self, field: Mapping[str, Any],
               siblings: Mapping[str, Mapping[str, Any]]
               ) -> tuple[Mapping[str, Any], Mapping[str, Mapping[str, Any]]] | None:
        """The field a quote shows and the fields beside that one (None: gone)."""
        via = siblings.get(field["via"]) or {}
        target = self.effective.object(str(via.get("to")))
        quoted = target.fields.get(field["field"]) if target else None
        if target is None or quoted is None:
            return None
        return quoted, target.fields

    def output_schema(self, obj: ObjectMeta) -> Schema:
        properties: dict[str, Schema] = {"id": {"type": "string", "readOnly": True}}
        hidden, readonly = self.hidden(obj), self.readonly(obj)
        visible = [f for f in obj.fields.values()
                   if not f.get("hidden") and f["api_name"] not in hidden]
        for field in visible:
            properties[field["api_name"]] = self.value_schema(field, obj.fields)
            if field["api_name"] in readonly:
                properties[field["api_name"]]["readOnly"] = True
        self.titled(properties, visible)
        required = list(properties)
        system: dict[str, Schema] = {
            "owner": {"type": ["string", "null"]},
            "owner_department": {"type": ["string", "null"]},
            "created_by": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_by": {"type": ["string", "null"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "life_status": {"enum": ["normal", "in_review", "invalid"]},
            "version": {"type": "integer", "minimum": 1},
        }
        for name, schema in system.items():
            properties[name] = {**schema, "readOnly": True}
            required.append(name)
        # only records in the recycle bin carry these two
        properties["deleted_at"] = {"type": "string", "format": "date-time",
                                    "readOnly": True}
        properties["deleted_by"] = {"type": ["string", "null"], "readOnly": True}
        return {"type": "object", "title": self.text(obj.label),
                "properties": properties, "required": required}

    def query_schema(self, obj: ObjectMeta) -> Schema:
        fields = {**SYSTEM_FIELDS, **obj.fields}
        hidden = self.hidden(obj)
        filterable = sorted(n for n, f in fields.items()
                            if field_type(f).stored(f)
                            and not f.get("hidden") and n not in hidden)
        sortable = sorted(n for n in filterable
                          if field_type(fields[n]).orders(fields[n]))
        return {
            "type": "object", "additionalProperties": False,
            "title": self.text(_("Query of ")) + self.text(obj.label),
            "properties": {
                "filters": {"type": "array", "items": {
                    "allOf": [ref("Filter")],
                    "properties": {"field": {"enum": filterable}}}},
                "sort": {"type": "array", "maxItems": 5, "items": {
                    "enum": [*sortable, *(f"-{n}" for n in sortable)]}},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                          "default": DEFAULT_LIMIT},
                "cursor": {"type": ["string", "null"]},
                "q": {"type": ["string", "null"], "maxLength": 200},
            },
        }

    def fixed_schemas(self) -> None:
        self.schemas.update({
            "Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {
                    "type": "object", "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {
                            "type": "array", "items": {"type": "string"}}},
                    }}},
            },
            "Login": {
                "type": "object", "required": ["account", "login", "password"],
                "additionalProperties": False,
                "properties": {"account": {"type": "string"},
                               "login": {"type": "string"},
                               "password": {"type": "string", "writeOnly": True}},
            },
            "Session": {
                "type": "object", "required": ["token", "user_id", "account"],
                "properties": {"token": {"type": "string"},
                               "user_id": {"type": "string"},
                               "account": {"type": "string"}},
            },
            "Filter": {
                "type": "object", "required": ["field", "op"],
                "additionalProperties": False,
                "properties": {
                    "field": {"type": "string"},
                    "op": {"enum": filter_ops()},
                    "value": {"description": self.text(_("a list for in and "
                                                         "between, true/false for "
                                                         "isnull"))},
                },
            },
            "History": {
                "type": "object", "required": ["history"],
                "properties": {"history": {"type": "array", "items": {
                    "type": "object",
                    "required": ["version", "action", "changed_at", "changed_by",
                                 "changes"],
                    "properties": {
                        "version": {"type": "integer"},
                        "action": {"enum": HISTORY_ACTIONS},
                        "changed_at": {"type": "string", "format": "date-time"},
                        "changed_by": {"type": ["string", "null"]},
                        "changes": {"type": "object", "additionalProperties": {
                            "type": "array", "minItems": 2, "maxItems": 2}},
                    }}}},
            },
            "Actions": {
                "type": "object", "required": ["actions"],
                "properties": {"actions": {"type": "array", "items": {
                    "type": "object", "required": ["api_name", "label"],
                    "properties": {
                        "api_name": {"type": "string"},
                        "label": {"type": "object", "properties": {
                            "zh": {"type": "string"}, "en": {"type": "string"}}},
                        "confirm": {"type": ["object", "null"]},
                        "params": {"type": "array", "items": {
                            "type": "object",
                            "required": ["name", "label", "kind", "required"]}},
                    }}}},
            },
            "Timeline": {
                "type": "object", "required": ["items", "next_cursor"],
                "properties": {
                    "items": {"type": "array", "items": {
                        "type": "object",
                        "required": ["object", "id", "name", "created_at",
                                     "created_by", "record"],
                        "properties": {
                            "object": {"type": "string"}, "id": {"type": "string"},
                            "name": {}, "created_at": {"type": "string",
                                                       "format": "date-time"},
                            "created_by": {"type": ["string", "null"]},
                            "record": {"type": "object"}}}},
                    "next_cursor": {"type": ["string", "null"]}},
            },
            "Duplicates": {
                "type": "object", "required": ["duplicates"],
                "properties": {"duplicates": {"type": "array", "items": {
                    "type": "object", "required": ["name", "owner_name", "field"],
                    "properties": {
                        "name": {"type": "string"},
                        "owner_name": {"type": ["string", "null"]},
                        "field": {"type": "string"}, "id": {"type": "string"}}}}},
            },
            "File": {
                "type": "object", "required": ["id", "name", "size", "content_type"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                               "size": {"type": "integer"},
                               "content_type": {"type": "string"}},
            },
            "Job": {
                "type": "object",
                "required": ["id", "kind", "status", "total", "done", "progress"],
                "properties": {
                    "id": {"type": "string"}, "kind": {"type": "string"},
                    "status": {"enum": ["pending", "running", "done", "failed"]},
                    "total": {"type": "integer"}, "done": {"type": "integer"},
                    "progress": {"type": "number", "minimum": 0, "maximum": 1},
                    "error": {"type": ["string", "null"]},
                    "payload": {"type": ["object", "null"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                },
            },
            "MetadataChange": {
                "type": "object",
                "required": ["version", "dry_run", "plan", "steps", "jobs"],
                "properties": {
                    "version": {"type": "integer"}, "dry_run": {"type": "boolean"},
                    "plan": {"type": "object"},
                    "steps": {"type": "array", "items": {"type": "string"}},
                    "jobs": {"type": "array", "items": {"type": "string"}},
                },
            },
        })

    # -- paths -----------------------------------------------------------------

    def responses(self, ok: int, schema: Schema | None, *errors: int,
                  description: str = "OK") -> dict[str, Any]:
        answer: dict[str, Any] = {"description": description}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        out: dict[str, Any] = {str(ok): answer}
        for status in sorted({401, *errors}):
            out[str(status)] = {"$ref": f"#/components/responses/"
                                        f"{ERROR_RESPONSES[status]}"}
        return out

    @staticmethod
    def body(schema: Schema) -> dict[str, Any]:
        return {"required": True,
                "content": {"application/json": {"schema": schema}}}

    def object_paths(self, name: str, obj: ObjectMeta) -> None:
        label = self.text(obj.label)
        tag = [name]
        one = {"name": "id", "in": "path", "required": True,
               "schema": {"type": "string"}}
        page = {"type": "object", "required": ["records", "next_cursor"],
                "properties": {"records": {"type": "array", "items": ref(name)},
                               "next_cursor": {"type": ["string", "null"]}}}
        self.schemas[f"{name}Page"] = page
        base = f"/objects/{name}"

        def op(action: str, summary: Mapping[str, str], **rest: Any) -> Schema:
            return {"operationId": f"{name}.{action}", "tags": tag,
                    "summary": f"{self.text(summary)}{label}", **rest}

        self.paths[base] = {"get": op(
            "describe", _("Metadata: "),
            responses=self.responses(200, {"type": "object"}, 404))}
        self.paths[f"{base}/records"] = {"post": op(
            "create", _("Create "),
            requestBody=self.body(ref(f"{name}Input")),
            responses=self.responses(201, ref(name), 400, 403, 413,
                                     description="Created"))}
        self.paths[f"{base}/records/{{id}}"] = {
            "parameters": [one],
            "get": op("read", _("Read "),
                      responses=self.responses(200, ref(name), 404)),
            "patch": op("update", _("Update "),
                        requestBody=self.body(ref(f"{name}Patch")),
                        responses=self.responses(200, ref(name), 400, 403, 404, 409,
                                                 413)),
            "delete": op("delete",
                         _("Delete (to the recycle bin) "),
                         responses=self.responses(204, None, 403, 404,
                                                  description="Deleted")),
        }
        self.paths[f"{base}/records/{{id}}/history"] = {"parameters": [one], "get": op(
            "history", _("History: "),
            responses=self.responses(200, ref("History"), 404))}
        self.paths[f"{base}/records/{{id}}/restore"] = {"parameters": [one], "post": op(
            "restore", _("Restore from the recycle bin: "),
            responses=self.responses(200, ref(name), 404))}
        declared = [a["api_name"] for a in obj.doc.get("actions", ())]
        action = {"name": "name", "in": "path", "required": True,
                  "schema": {"type": "string"}, "description": self.text(_(
                      "the action: one the metadata declares${declared} or an "
                      "extension registers", mapping={"declared": {
                          "zh": f"（{'、'.join(declared)}）",
                          "en": f" ({', '.join(declared)})"} if declared else ""}))}
        self.paths[f"{base}/records/{{id}}/actions"] = {"parameters": [one], "get": op(
            "actions", _("Actions the user may run now: "),
            responses=self.responses(200, ref("Actions"), 404))}
        self.paths[f"{base}/records/{{id}}/actions/{{name}}"] = {
            "parameters": [one, action], "post": op(
                "action", _("Run an action: "),
                requestBody={"required": False, "content": {"application/json": {
                    "schema": {"type": "object", "description": self.text(_(
                            "the action's parameters (declared actions take "
                            "none)"))}}}},
                responses=self.responses(200, ref(name), 400, 403, 404, 409, 413))}
        self.paths[f"{base}/records/{{id}}/timeline"] = {"parameters": [one], "get": op(
            "timeline", _("Timeline: "),
            parameters=[
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            responses=self.responses(200, ref("Timeline"), 400, 404))}
        if obj.doc.get("duplicates"):
            self.paths[f"{base}/duplicates"] = {"post": op(
                "duplicates", _("Duplicate check: "),
                requestBody=self.body({"type": "object"}),
                responses=self.responses(200, ref("Duplicates"), 400, 403))}
        self.paths[f"{base}/query"] = {"post": op(
            "query", _("Query "), requestBody=self.body(ref(f"{name}Query")),
            responses=self.responses(200, ref(f"{name}Page"), 400, 413))}
        self.paths[f"{base}/deleted"] = {"get": op(
            "deleted", _("Recycle bin: "),
            parameters=[
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            responses=self.responses(200, ref(f"{name}Page"), 400))}
        social.record_paths(self.paths, base, obj, op, one, self.responses,
                            self.body, ref)

    def platform_paths(self) -> None:
        tag = ["platform"]
        self.schemas.update(social.social_schemas())
        social.platform_paths(self.paths, self.text, self.responses, ref, [
            n for n in self.objects
            if (self.effective.objects[n].doc.get("social") or {}).get("feed")])
        self.paths["/session"] = {
            "post": {"operationId": "session.login", "tags": tag, "security": [],
                     "summary": self.text(_("Log in")),
                     "requestBody": self.body(ref("Login")),
                     "responses": self.responses(200, ref("Session"), 400)},
            "delete": {"operationId": "session.logout", "tags": tag,
                       "summary": self.text(_c("platform.api.openapi", "Log out")),
                       "responses": self.responses(204, None,
                                                   description="Logged out")},
        }
        self.paths["/objects"] = {"get": {
            "operationId": "objects.list", "tags": tag,
            "summary": self.text(_("The objects")),
            "responses": self.responses(200, {
                "type": "object", "required": ["objects"],
                "properties": {"objects": {"type": "array", "items": {
                    "type": "object", "required": ["api_name", "label"],
                    "properties": {"api_name": {"enum": sorted(self.objects)},
                        "label": {"type": "object"}}}}}})}}
        self.paths["/files"] = {"post": {
            "operationId": "files.upload", "tags": tag,
            "summary": self.text(_("Upload a file")),
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string",
                             "contentMediaType": "application/octet-stream"}}}}}},
            "responses": self.responses(201, ref("File"), 400, 413,
                                        description="Created")}}
        self.paths["/files/{id}"] = {"get": {
            "operationId": "files.download", "tags": tag,
            "summary": self.text(_("Download a file")),
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "OK",
                        "content": {"application/octet-stream": {"schema": {}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}}}}
        self.paths["/jobs/{id}"] = {"get": {
            "operationId": "jobs.read", "tags": tag,
            "summary": self.text(_("Progress of a background job")),
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": self.responses(200, ref("Job"), 404)}}
        admin = ["metadata"]
        obj_param = {"name": "object", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,62}$"}}
        dry_run = {"name": "dry_run", "in": "query",
                   "schema": {"type": "boolean", "default": False}}
        self.paths["/metadata/objects/{object}"] = {"put": {
            "operationId": "metadata.put_object", "tags": admin,
            "summary": self.text(_("Create or change an object (admins)")),
            "description": self.text(_("The body is a metadata document of kind "
                                       "object (as JSON); its JSON Schema is "
                                       "printed by `propolis metadata schema "
                                       "object`")),
            "parameters": [obj_param, dry_run],
            "requestBody": self.body({"type": "object"}),
            "responses": self.responses(200, ref("MetadataChange"), 400, 403, 409,
                                        413)}}
        self.paths["/metadata/objects/{object}/rollback"] = {"post": {
            "operationId": "metadata.rollback", "tags": admin,
            "summary": self.text(_("Roll an object back to a metadata version "
                                   "(admins)")),
            "parameters": [obj_param, dry_run],
            "requestBody": self.body({
                "type": "object", "required": ["version"],
                "properties": {"version": {"type": "integer", "minimum": 1}}}),
            "responses": self.responses(200, ref("MetadataChange"), 400, 403, 404,
                                        409)}}
        self.paths["/metadata/versions"] = {"get": {
            "operationId": "metadata.versions", "tags": admin,
            "summary": self.text(_("Metadata versions (admins)")),
            "responses": self.responses(200, {
                "type": "object", "required": ["current", "versions"],
                "properties": {"current": {"type": "integer"},
                               "versions": {"type": "array",
                                            "items": {"type": "object"}}}}, 403)}}
        self.paths["/openapi.json"] = {"get": {
            "operationId": "openapi", "tags": tag,
            "summary": self.text(_("This document")),
            "responses": self.responses(200, {"type": "object"})}}

    def build(self) -> Schema:
        self.fixed_schemas()
        self.platform_paths()
        tags = [{"name": "platform"}, {"name": "metadata"}]
        for name in sorted(self.objects):
            obj = self.effective.objects[name]
            self.schemas[name] = self.output_schema(obj)
            self.schemas[f"{name}Input"] = self.input_schema(obj, create=True)
            self.schemas[f"{name}Patch"] = self.input_schema(obj, create=False)
            self.schemas[f"{name}Query"] = self.query_schema(obj)
            self.object_paths(name, obj)
            tags.append({"name": name, "description": self.text(obj.label)})
        responses = {
            ERROR_RESPONSES[status]: {
                "description": self.text(
                    CONFLICT if status == 409 else HTTP_MESSAGES[status]),
                "content": {"application/json": {"schema": ref("Error")}}}
            for status in ERROR_RESPONSES}
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": self.text(_("Propolis API")),
                "version": f"1.0+metadata.{self.effective.version}",
                "description": self.text(_("Generated from this enterprise's "
                                           "current metadata; call it with the "
                                           "Bearer token from logging in.")),
            },
            "servers": [{"url": "/api/v1"}],
            "security": [{"bearer": []}],
            "tags": tags,
            "paths": self.paths,
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": self.schemas,
                "responses": responses,
            },
        }


def view_of(access: AccessPolicy) -> View:
    """What of the metadata ``access``'s user sees (see ``View``)."""
    if access.unrestricted:
        return None
    return tuple((name, access.hidden(name), access.readonly(name))
                 for name in access.readable_objects())


def openapi_document(effective: Effective, account: str, lang: str,
                     view: View = None) -> Schema:
    """The document for one enterprise's metadata version in one language, as seen
    through ``view`` (None: everything), built on first use and then served from
    the per-version cache."""
    # the admin's document under (account, lang), every other view's next to it
    key: tuple[Any, ...] = (account, lang) if view is None else (account, lang, view)
    with _lock:
        documents = _documents.setdefault(effective, {})
        found = documents.get(key)
    if found is not None:
        return found
    built = _Builder(effective, lang, view).build()
    with _lock:
        return documents.setdefault(key, built)


@view_config(route_name="api.openapi", request_method="GET", renderer="json",
             permission=AUTHENTICATED)
def openapi(request: Request) -> Schema:
    return openapi_document(request.effective, request.identity.account, request.lang,
                            view_of(request.access))
