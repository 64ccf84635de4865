"""Values derived from others: formulas, rollups and autonumbers computed on
every save, the search text, and the backfill that gives existing rows the values
of fields added after them (``propolis.platform.tenancy.jobs``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, update

from propolis.metadata.expressions import ExpressionError, evaluate_rule
from propolis.platform.errors import SEMICOLON, AppError, _, joined
from propolis.platform.fields.registry import field_type
from propolis.platform.fields.values import zone
from propolis.platform.records import history
from propolis.platform.records.compute import next_number, refresh_rollups
from propolis.platform.records.events import RecordUpdated, pairs
from propolis.platform.records.plan import ObjectPlan, add_error, invalid
from propolis.platform.records.reads import Reads
from propolis.platform.records.schema import Errors


class Derived(Reads):
    """Formulas, rollups, autonumbers, search text and backfills."""

    def backfill(
        self, object: str, fields: Iterable[str], *, after: str | None, limit: int
    ) -> tuple[str | None, int]:
        """Fills computed values of existing records after a metadata change, for
        up to ``limit`` records with ids after ``after`` (in the recycle bin too).
        ``fields`` are what the plan asked for: rollups are recomputed in SQL,
        autonumbers given to records that have none (in creation order), every
        formula recomputed, ``search_text`` rebuilt. Returns the last id done (None
        when no records were left) and how many were done. Derived values: no new
        version, no history row, no validation rule can refuse them; a
        ``RecordUpdated`` with the values that changed for each record."""
        plan = self._plan(object)
        wanted = set(fields)
        conn = self.session.connection()
        stmt = select(plan.table.c.id).order_by(plan.table.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(plan.table.c.id > after)
        ids = list(conn.execute(stmt).scalars())
        if not ids:
            return None, 0
        rollups = {f["api_name"] for f in plan.own_rollups} & wanted
        if rollups:
            for child_object in self.effective.objects.values():
                child_plan = self._plan(child_object.api_name)
                for link in child_plan.links:
                    if link.parent == plan.name and any(
                            r["api_name"] in rollups for r in link.rollups):
                        refresh_rollups(conn, link, child_plan.table, plan.table, ids)
        rows = conn.execute(select(plan.table).where(plan.table.c.id.in_(ids))
                            .order_by(plan.table.c.created_at, plan.table.c.id)).all()
        recs = [self._from_row(plan, row._mapping) for row in rows]
        children = self._load_rows(conn, plan, ids) if plan.tables else {}
        telling = self._listens(RecordUpdated)
        told: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for rec in recs:
            for f in plan.tables:
                rec[f["api_name"]] = children[f["api_name"]].get(rec["id"], [])
            if telling:
                told.append((rec, self._json(plan, rec, {})))
            before = {f["api_name"]: rec[f["api_name"]] for f in plan.stored}
            before_rows = {n: [dict(r) for r in rec[n]] for n in plan.row_formulas}
            for name, numbering in plan.autonumbers:
                if name in wanted and rec[name] is None:
                    day = rec["created_at"].astimezone(zone(self.tz)).date()
                    rec[name] = next_number(conn, plan.name, name, numbering, day)
            self._formulas(plan, rec, None)
            values = {f["api_name"]: field_type(f).to_column(f, rec[f["api_name"]])
                      for f in plan.stored
                      if rec[f["api_name"]] != before[f["api_name"]]}
            if "search_text" in wanted:
                values["search_text"] = self._search_text(plan, rec)
            if values:
                conn.execute(update(plan.table)
                             .where(plan.table.c.id == rec["id"]).values(values))
            for name, formulas in plan.row_formulas.items():
                child = plan.children[name]
                for row, old in zip(rec[name], before_rows[name], strict=True):
                    changed = {f.name: f.type.to_column(f.field, row[f.name])
                               for f in formulas if row[f.name] != old.get(f.name)}
                    if changed:
                        conn.execute(update(child).where(child.c.id == row["id"])
                                     .values(changed))
        if told:
            quoted = self._quotes(conn, plan, [rec for rec, _ in told])
            for rec, old in told:
                out = self._json(plan, rec, quoted[rec["id"]])
                changes = history.diff(old, out, plan.history_names)
                if changes:
                    self._tell(RecordUpdated, plan, out, changes=pairs(changes))
        return ids[-1], len(ids)

    def _formulas(
        self, plan: ObjectPlan, rec: dict[str, Any], errors: Errors | None
    ) -> None:
        """Every formula of a record: table row formulas first, then the record's in
        dependency order. One that cannot be computed is empty, and named in
        ``errors`` when given (a save refuses it; a backfill leaves it empty)."""
        tz = self.tz
        for name, formulas in plan.row_formulas.items():
            for row in rec[name]:
                variables = {**rec, **row}
                for formula in formulas:
                    try:
                        value = formula.compute(variables, tz)
                    except ExpressionError as exc:
                        value = None
                        if errors is not None:
                            add_error(errors, name, _("${name} cannot be computed: "
                                                      "${exc}",
                                                      mapping={"name": formula.name,
                                                               "exc": exc}))
                    row[formula.name] = variables[formula.name] = value
        for formula in plan.formulas:
            try:
                rec[formula.name] = formula.compute(rec, tz)
            except ExpressionError as exc:
                rec[formula.name] = None
                if errors is not None:
                    add_error(errors, formula.name, _("cannot be computed: ${exc}",
                                                      mapping={"exc": exc}))

    def _compute(self, plan: ObjectPlan, rec: dict[str, Any]) -> None:
        """Formulas (table row formulas first, then the record's in dependency
        order), then the validation rules over the complete record."""
        errors: Errors = {}
        tz = self.tz
        self._formulas(plan, rec, errors)
        if errors:
            raise invalid(errors)
        failed = []
        for rule, message in plan.rules:
            try:
                passed = evaluate_rule(rule, rec, tz=tz, options=plan.options)
            except ExpressionError:
                passed = False  # a rule that cannot be checked does not pass
            if not passed:
                failed.append((rule, message))
        if failed:
            for rule, message in failed:
                for ref in sorted(rule.references & plan.fields.keys()):
                    add_error(errors, ref, message)
            raise AppError("invalid", joined([m for _rule, m in failed], SEMICOLON),
                           errors)

    def _search_text(self, plan: ObjectPlan, rec: Mapping[str, Any]) -> str | None:
        if not plan.has_search:
            return None
        words = [field_type(f).search_words(f, rec[f["api_name"]])
                 for f in plan.searchable]
        for name, subs in plan.searchable_rows.items():
            for row in rec[name]:
                words.extend(field_type(s).search_words(s, row.get(s["api_name"]))
                             for s in subs)
        return " ".join(w for w in words if w).lower() or None
