"""Batch import of employees from the XLSX template.

All or nothing: every row is checked (the organisation's rules here, then the
record service's own validation by really creating the users inside a SAVEPOINT)
and when any row is bad the SAVEPOINT is rolled back and the answer is a report of
every problem — row, column, message in zh and en — also downloadable as a
workbook. Departments are named by their path (``总部/销售部``); a superior by
phone, which may be another row of the same file in any order: users are created
first and superiors set in a second pass, through the record service, so the
superior chain it maintains sees every change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from propolis.platform.accounts.services import PASSWORD_MIN, password_problems
from propolis.platform.errors import (
    COMMA,
    AppError,
    Message,
    NotFound,
    _,
    _c,
    both,
    joined,
)
from propolis.platform.exchange import xlsx
from propolis.platform.exchange.xlsx import Column
from propolis.platform.ids import new_id
from propolis.platform.storage.platform_tables import org_imports

if TYPE_CHECKING:
    from propolis.platform.org.services import OrgService

MAX_ROWS = 2000
STATUS_CHOICES = (("在职", "active"), ("待激活", "pending"), ("已停用", "disabled"))

COLUMNS: tuple[Column, ...] = (
    Column("name", _c("platform.org.imports", "Name"), required=True),
    Column("phone", _("Mobile phone"), required=True,
           help=_("The login; unique among employees and within the file")),
    Column("email", _("Email"), width=24),
    Column("departments", _("Departments"), width=24,
           help=_("Department path such as 总部/销售部; several separated by ';', the "
                  "first is the main one; empty: the default department")),
    Column("position", _c("platform.org.imports", "Position")),
    Column("superior", _("Superior's phone"),
           help=_("The superior's phone: an employee, or another row of this file "
                  "(in any order)")),
    Column("roles", _("Roles"),
           help=_("Several separated by commas; empty: the default roles")),
    Column("status", _("Status"), choices=tuple(zh for zh, _en in STATUS_CHOICES),
           help=_("active / pending / disabled (in zh or en); empty: active")),
    Column("login_name", _("Login name"),
           help=_("Optional second login")),
    Column("password", _("Initial password"),
           help=_("At least ${password_min} characters; empty: the user logs in once "
                  "an admin sets a password",
                  mapping={"password_min": PASSWORD_MIN})),
)
BY_KEY = {c.key: c for c in COLUMNS}
EXAMPLE = ("张三", "13900000000", "zhangsan@example.com", "总部/销售部", "销售经理",
           "", "员工", "在职", "", "")
INSTRUCTIONS = (
    _("How to import employees"),
    _("Row 1 holds the headers in Chinese, row 2 in English; fill in from row 3. "
      "Columns marked * are required."),
    _("Row 3 is an example: left as it is, the import skips it; overwrite it freely."),
    _("Departments are paths (总部/销售部); several are separated by ';', the first is "
      "the main one."),
    _("The superior is given by phone: an existing employee or any row of this file."),
    _("If any row is wrong nothing is imported, and a per-row error report comes "
      "back."),
)
# Where the record service's field errors belong in the sheet.
FIELD_COLUMNS = {"main_department": "departments", **{c.key: c.key for c in COLUMNS}}
SPLIT_DEPARTMENTS = re.compile(r"[;；\n]+")
SPLIT_ROLES = re.compile(r"[,，、;；\n]+")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip("*＊").strip()).lower()


HEADERS = {_norm(name): c.key for c in COLUMNS for name in (c.zh, c.en, c.key)}


def template_bytes() -> bytes:
    return xlsx.template(COLUMNS, EXAMPLE, INSTRUCTIONS, max_rows=MAX_ROWS)


class Problems:
    """Errors by row: ``{"row", "column", "message": {"zh", "en"}}``."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.rows: set[int] = set()

    def add(self, row: int, column: str | None, message: Message) -> None:
        self.items.append({"row": row, "column": column, "message": both(message)})
        self.rows.add(row)

    def from_error(self, row: int, error: AppError) -> None:
        if not error.fields:
            self.add(row, None, error.message)
        for field, messages in error.fields.items():
            for message in messages:
                self.add(row, FIELD_COLUMNS.get(field), message)


class Importer:
    """Imports employees into one enterprise on behalf of an admin."""

    def __init__(self, org: OrgService) -> None:
        self.org = org
        self.conn = org.conn

    def run(self, data: bytes, file_name: str | None) -> dict[str, Any]:
        rows = self._rows(data)
        problems = Problems()
        parsed = [self._parse(number, values, problems) for number, values in rows]
        self._check_duplicates(parsed, problems)
        superiors = self._superiors(parsed, problems)
        created: dict[int, str] = {}
        session = self.org.records.session
        savepoint = session.begin_nested()
        try:
            for row in parsed:
                if row["number"] in problems.rows:
                    continue
                try:
                    created[row["number"]] = self.org.create_user(
                        row["user"], action=None)["id"]
                except AppError as error:
                    problems.from_error(row["number"], error)
            if not problems.rows:
                for number, superior in superiors.items():
                    target = created[superior[1]] if superior[0] == "row" \
                        else superior[1]
                    try:
                        self.org.records.update("user", created[number],
                                                {"superior": target})
                    except AppError as error:
                        problems.from_error(number, error)
            if not problems.rows:
                for row in parsed:
                    if row["disable"]:
                        self.org.records.update("user", created[row["number"]],
                                                {"status": "disabled"})
            if problems.rows:
                savepoint.rollback()
            else:
                savepoint.commit()
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        return self._store(file_name, rows, parsed, problems, created)

    # -- reading -----------------------------------------------------------------

    def _rows(self, data: bytes) -> list[tuple[int, dict[str, str]]]:
        """The data rows as ``{column key: text}`` after the header row (and the
        English header row and the untouched example row, when present)."""
        rows = xlsx.read_rows(data, max_cols=len(COLUMNS) + 20, max_rows=MAX_ROWS + 3)
        if not rows:
            raise _bad_file(_("The workbook is empty"))
        header = rows[0][1]
        keys = {i: HEADERS[_norm(text)] for i, text in enumerate(header)
                if text and _norm(text) in HEADERS}
        missing = [c for c in COLUMNS if c.required and c.key not in keys.values()]
        if missing:
            raise _bad_file(_(
                    "Missing required columns: ${c} (use the import template)",
                    mapping={"c": joined([c.label for c in missing], COMMA)}))
        out = []
        for position, (number, values) in enumerate(rows[1:]):
            record = {key: values[i] for i, key in keys.items()}
            if position == 0 and sum(
                    _norm(record[k]) == _norm(BY_KEY[k].en) for k in keys.values()
            ) * 2 >= len(keys):
                continue  # the English header row
            if all(record.get(c.key, "") == ex for c, ex in zip(COLUMNS, EXAMPLE,
                                                                strict=True)):
                continue  # the template's example, left as it was
            if any(record.values()):
                out.append((number, record))
        if not out:
            raise _bad_file(_("There are no rows to import"))
        if len(out) > MAX_ROWS:
            raise _bad_file(_("More than ${max_rows} rows: import in batches",
                              mapping={"max_rows": MAX_ROWS}))
        return out

    # -- checking ----------------------------------------------------------------

    def _parse(self, number: int, values: Mapping[str, str],
               problems: Problems) -> dict[str, Any]:
        """One row as the user to create, its problems noted."""
        user: dict[str, Any] = {}
        for key in ("name", "phone"):
            if not values.get(key):
                problems.add(number, key, _("required"))
        for key in ("name", "phone", "email", "login_name", "position", "password"):
            if values.get(key):
                user[key] = values[key]
        password = values.get("password", "")
        if password:
            for message in password_problems(password).get("password", ()):
                problems.add(number, "password", message)
        departments = []
        for path in SPLIT_DEPARTMENTS.split(values.get("departments", "")):
            if path.strip():
                found = self._department(path, number, problems)
                if found is not None and found not in departments:
                    departments.append(found)
        if departments:
            user["departments"] = departments
        status = values.get("status", "")
        if status:
            value = self._statuses.get(_norm(status))
            if value is None:
                problems.add(number, "status", _("'${status}' is not a status: use "
                                                 "active, pending or disabled",
                                                 mapping={"status": status}))
            user["status"] = value
        else:
            user["status"] = "active"
        # a new user cannot start disabled: created active, disabled afterwards
        disable = user["status"] == "disabled"
        if disable:
            user["status"] = "active"
        roles = [r.strip() for r in SPLIT_ROLES.split(values.get("roles", ""))
                 if r.strip()]
        if roles:
            chosen = []
            for role in roles:
                value = self._roles.get(_norm(role))
                if value is None:
                    problems.add(number, "roles", _("there is no role '${role}'",
                                                    mapping={"role": role}))
                elif value not in chosen:
                    chosen.append(value)
            user["roles"] = chosen
        return {"number": number, "values": values, "user": user,
                "superior": values.get("superior", ""), "disable": disable}

    @property
    def _statuses(self) -> dict[str, str]:
        options = self.org.effective.objects["user"].fields["status"]["options"]
        found = {_norm(zh): value for zh, value in STATUS_CHOICES}
        for option in options:
            found[_norm(option["value"])] = option["value"]
            for label in option["label"].values():
                found.setdefault(_norm(label), option["value"])
        return found

    @property
    def _roles(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for option in self.org.effective.objects["user"].fields["roles"]["options"]:
            found[_norm(option["value"])] = option["value"]
            for label in option["label"].values():
                found.setdefault(_norm(label), option["value"])
        return found

    _paths: dict[str, list[tuple[str, bool]]] | None = None

    def _department(self, path: str, number: int, problems: Problems) -> str | None:
        """A department by its path from the top (``总部/销售部``), or by the end of
        its path when that is unambiguous (``销售部``)."""
        if self._paths is None:
            self._paths = self._department_paths()
        wanted = "/".join(p.strip() for p in path.split("/") if p.strip())
        exact = self._paths.get(wanted, [])
        matches = exact or [m for full, found in self._paths.items()
                            if full.endswith("/" + wanted) for m in found]
        if not matches:
            problems.add(number, "departments", _("no department '${wanted}'",
                                                  mapping={"wanted": wanted}))
            return None
        if len(matches) > 1:
            problems.add(number, "departments", _("several departments match "
                                                  "'${wanted}': give the full path",
                                                  mapping={"wanted": wanted}))
            return None
        dept_id, disabled = matches[0]
        if disabled:
            problems.add(number, "departments", _("the department '${wanted}' is "
                                                  "disabled",
                                                  mapping={"wanted": wanted}))
            return None
        return dept_id

    def _department_paths(self) -> dict[str, list[tuple[str, bool]]]:
        d = self.org.departments
        rows = {r.id: r for r in self.conn.execute(
            select(d.c.id, d.c.name, d.c.parent, d.c.disabled)
            .where(d.c.deleted_at.is_(None)))}
        paths: dict[str, list[tuple[str, bool]]] = {}
        for row in rows.values():
            names: list[str] = []
            seen: set[str] = set()
            current: Any = row
            while current is not None and current.id not in seen:
                seen.add(current.id)
                names.append(current.name.strip())
                current = rows.get(current.parent) if current.parent else None
            paths.setdefault("/".join(reversed(names)), []).append(
                (row.id, bool(row.disabled)))
        return paths

    def _check_duplicates(self, parsed: list[dict[str, Any]],
                          problems: Problems) -> None:
        """Phones and login names: unique within the file and against every
        existing user (disabled ones included)."""
        users = self.org.users
        existing = {
            key: set(self.conn.execute(select(users.c[key]).where(
                users.c[key].in_(sorted({r["values"][key] for r in parsed
                                         if r["values"].get(key)})))).scalars())
            for key in ("phone", "login_name")}
        for key in ("phone", "login_name"):
            first: dict[str, int] = {}
            for row in parsed:
                value = row["values"].get(key)
                if not value:
                    continue
                if value in first:
                    problems.add(row["number"], key, _("repeats row ${first}",
                                                       mapping={"first": first[value]}))
                else:
                    first[value] = row["number"]
                if value in existing[key]:
                    problems.add(row["number"], key, _("already used by an employee"))

    def _superiors(self, parsed: list[dict[str, Any]], problems: Problems
                   ) -> dict[int, tuple[str, Any]]:
        """Each row's superior: ``("row", number)`` for a row of the file,
        ``("user", id)`` for an existing user. Cycles within the file are
        refused on every row of the cycle."""
        in_file: dict[str, int] = {}
        for row in parsed:
            in_file.setdefault(row["values"].get("phone", ""), row["number"])
        wanted = {r["superior"] for r in parsed if r["superior"]} - in_file.keys()
        users = self.org.users
        existing = {r.phone: r for r in self.conn.execute(
            select(users.c.id, users.c.phone, users.c.status)
            .where(users.c.phone.in_(sorted(wanted)),
                   users.c.deleted_at.is_(None)))} if wanted else {}
        found: dict[int, tuple[str, Any]] = {}
        for row in parsed:
            phone, number = row["superior"], row["number"]
            if not phone:
                continue
            if phone == row["values"].get("phone"):
                problems.add(number, "superior", _("cannot be the user themselves"))
            elif phone in in_file:
                found[number] = ("row", in_file[phone])
            elif phone in existing:
                if existing[phone].status == "disabled":
                    problems.add(number, "superior", _("the user with phone ${phone} "
                                                       "is disabled",
                                                       mapping={"phone": phone}))
                else:
                    found[number] = ("user", existing[phone].id)
            else:
                problems.add(number, "superior", _("no user with phone ${phone} "
                                                   "(among employees or in this file)",
                                                   mapping={"phone": phone}))
        for number, first in found.items():
            seen: set[int] = set()
            step: tuple[str, Any] | None = first
            while step is not None and step[0] == "row" and step[1] not in seen:
                if step[1] == number:
                    problems.add(number, "superior", _("the superiors form a cycle"))
                    break
                seen.add(step[1])
                step = found.get(step[1])
        return found

    # -- the outcome -------------------------------------------------------------

    def _store(self, file_name: str | None, rows: list[tuple[int, dict[str, str]]],
               parsed: list[dict[str, Any]], problems: Problems,
               created: dict[int, str]) -> dict[str, Any]:
        ok = not problems.rows
        run_id = new_id()
        keys = [c.key for c in COLUMNS]
        problems.items.sort(key=lambda p: (p["row"], keys.index(p["column"])
                                           if p["column"] in keys else len(keys)))
        self.conn.execute(insert(org_imports).values(
            id=run_id, status="imported" if ok else "rejected",
            file_name=(file_name or "")[:255] or None, total=len(rows),
            imported=len(created) if ok else 0, columns=keys,
            rows=[{"row": n, "values": [v.get(k, "") if k != "password"
                                        else ("******" if v.get(k) else "")
                                        for k in keys]} for n, v in rows],
            errors=problems.items, created_by=self.org.actor_id,
            created_at=dt.datetime.now(dt.UTC)))
        result: dict[str, Any] = {
            "id": run_id, "status": "imported" if ok else "rejected",
            "total": len(rows), "imported": len(created) if ok else 0,
            "errors": [{**p, "label": _label(p["column"])} for p in problems.items]}
        if ok:
            result["users"] = [created[r["number"]] for r in parsed]
            self.org.audit("user.import", run_id, {"file": file_name,
                                                   "count": len(created)})
        return result

    def report(self, run_id: str) -> bytes:
        """The error report of an import as a workbook."""
        run = self.conn.execute(select(org_imports).where(
            org_imports.c.id == run_id)).first()
        if run is None:
            raise NotFound("not_found", _("No such import"))
        columns = [BY_KEY.get(k) or Column(k, k, k) for k in run.columns]
        by_row: dict[int, list[tuple[str | None, str]]] = {}
        for p in run.errors:
            label = BY_KEY.get(p["column"]) if p["column"] else None
            prefix_zh = f"{label.zh}：" if label else ""
            prefix_en = f"{label.en}: " if label else ""
            by_row.setdefault(p["row"], []).append((p["column"], (
                f"{prefix_zh}{p['message']['zh']} / {prefix_en}{p['message']['en']}")))
        rows = [(r["row"], r["values"]) for r in run.rows]
        return xlsx.report(columns, rows, by_row)


def _label(column: str | None) -> dict[str, str] | None:
    found = BY_KEY.get(column) if column else None
    return both(found.label) if found else None


def _bad_file(message: Message) -> AppError:
    return AppError("invalid_file", message, {"file": [message]})
