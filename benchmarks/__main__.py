"""Runs every benchmark on SQLite and PostgreSQL and writes BENCHMARKS.md.

Environment: BENCH_ROWS (default 1,000,000) rows for P2a/P2b/P4/P5, BENCH_CREATES
(default 2,000) records for P3, BENCH_REQUESTS (default 1,000) API calls for P6,
BENCH_IMPORT_ROWS (default 100,000; 1000000 for the million-row figure) rows of
the P1 import, BENCH_PEOPLE (default 10,000) employees and BENCH_POSTS (default
1,000,000) posts for P8, PROPOLIS_BENCH_DATABASE_URL for the PostgreSQL server,
BENCH_ONLY (e.g. ``p1`` or ``p2,p5``: only those measures, in the same order;
default all)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import platform
import sys
import tempfile

from benchmarks import api, approvals, feed, imports, pages, reports, runs
from benchmarks.common import postgres_url, setup

OUT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "BENCHMARKS.md")


def fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"


def main() -> int:
    rows = int(os.environ.get("BENCH_ROWS", 1_000_000))
    creates = int(os.environ.get("BENCH_CREATES", 2_000))
    requests = int(os.environ.get("BENCH_REQUESTS", 1_000))
    people = int(os.environ.get("BENCH_PEOPLE", 10_000))
    posts = int(os.environ.get("BENCH_POSTS", 1_000_000))
    import_rows = int(os.environ.get("BENCH_IMPORT_ROWS", 100_000))
    kinds = ["sqlite"] + (["postgresql"] if postgres_url() else [])
    results: dict[str, list[runs.Row]] = {}
    for kind in kinds:
        print(f"bench: {kind}", file=sys.stderr)
        found: list[runs.Row] = []
        add = functools.partial(_add, found)

        if wanted("p1"):
            with setup(kind) as s:
                add(*imports.p1_import(s, import_rows))
        with setup(kind) as s, tempfile.TemporaryDirectory() as files:
            if wanted("p3"):
                add(runs.p3_create(s, creates))
            else:
                runs.install_deal(s)
            if wanted("p6"):
                add(*api.p1_api(s, requests, files))
            if any(wanted(p) for p in ("p2", "p4", "p5", "p7")):
                org = runs.organisation(s)
                runs.bulk_load(s, rows, org.owners, org.departments)
            if wanted("p2"):
                add(runs.p2a_query(s, rows), *runs.p2b_visibility(s, org, rows))
            if wanted("p5"):
                add(reports.p5_chart(s, org, rows))
            if wanted("p7"):
                add(*pages.p7_list(s, rows))
            if wanted("p4"):
                add(runs.p4_add_field(s, rows))
            if wanted("p7"):
                add(pages.p7_detail(s, rows))
        if wanted("approvals"):
            with setup(kind, ("oa",)) as s:
                add(*approvals.runs(s))
        if wanted("p8"):
            with setup(kind, ("work",)) as s:
                add(*feed.p8_feed(s, people, posts))
        results[kind] = found
    write(results, rows, creates, requests, import_rows, people, posts)
    return 0


def _add(found: list[runs.Row], *rows: runs.Row) -> None:
    for row in rows:
        found.append(row)
        print(f"  {row}", file=sys.stderr)


def wanted(measure: str) -> bool:
    """Whether BENCH_ONLY (comma-separated: p1 p2 p3 p4 p5 p6 p7 p8 approvals) names
    ``measure``; every measure runs without it."""
    only = os.environ.get("BENCH_ONLY", "").strip()
    return not only or measure in {m.strip().lower() for m in only.split(",")}


def ratio(unit: str, ours: float, base: float) -> str:
    if math.isnan(base):
        return "—"
    # throughput: baseline / ours is the cost ratio; latency: ours / baseline
    value = base / ours if unit == "records/s" else ours / base
    return f"{value:.2f}×"


def write(results: dict[str, list[runs.Row]], rows: int, creates: int,
          requests: int, import_rows: int, people: int, posts: int) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {dt.date.today().isoformat()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}). Each figure is measured side by side with its "
        "baseline in the same run; the ratio is our cost over the baseline's "
        "(1.00× = as fast as hand-written SQLAlchemy Core).",
        "",
        f"- P1: a {import_rows:,}-row CSV imported end to end through the import "
        "service (streamed, in batches of 1,000, the record service's bulk path: "
        "validation, defaults, autonumbers, history, search text; goal ≤ 5 s), its "
        "CPU time, the same with a record-event subscriber, and its insert phase "
        "(`create_many` of the same rows) vs a hand-written Core executemany into "
        "an equivalent static table (goal ≤ 1.5×).",
        f"- P6: {requests:,} creates, then {requests:,} reads by id, one per HTTP "
        "request through the whole application (token, transaction, metadata, "
        "permissions, validation, history, JSON) vs a bare Pyramid view with "
        "hand-written SQLAlchemy Core on an equivalent static table, both called "
        "in-process through WSGI; best of three rounds. Goal ≤ 2×.",
        f"- P3: {creates:,} records created one per transaction through the record "
        "service (validation, defaults, history, search text) vs a hand-written Core "
        "INSERT of the same row into an equivalent static table. Goal ≤ 1.5×.",
        f"- P2a: first page (50) of `status = open AND amount >= 1000` sorted by "
        f"`-updated_at` on {rows:,} rows, through the query engine vs the same SQL "
        "by hand on the same table; p50 of 50 runs.",
        f"- P2b: first page (50, newest first) of the same {rows:,} rows, owned by "
        "10,002 employees in two trees of 5,001, read as the top manager of one "
        "tree (5,000 people below them: about half the rows are theirs to see) and "
        "as a sales rep at its bottom (only their own), through the record service "
        "with the visibility condition, vs the admin's unfiltered page; p50 of 50 "
        "runs. Goal ≤ 1.5×.",
        f"- P7: server time of the list page `GET /o/deal` (first page of the "
        f"default view, 50 rows, logged-in cookie, through the WSGI app) on {rows:,} "
        "rows vs the JSON API's first query page of the same view; p50 of 50 runs.",
        f"- P5: a chart of amount by status × owner department rolled up the "
        f"department tree on {rows:,} rows, as the top manager of 5,000 people, "
        "through the chart engine (one statement with the visibility condition) vs "
        "the same grouped SQL by hand; p50 of 9 runs. Goal ≤ 1.2×.",
        f"- P4: seconds to add a field to the {rows:,}-row table (plan, DDL, new "
        "metadata version).",
        f"- P7 detail: server time of a record's detail page (`GET /o/deal/r/{{id}}` "
        f"through the WSGI app with a logged-in cookie) on {rows:,} rows, vs the "
        "JSON API's read of the same record; p50 of 50 runs.",
        f"- P8: the work feed's first page ({feed.PAGE} posts, newest first) for an "
        f"employee of a {people:,}-person company (100 teams in 10 divisions) with "
        f"{posts:,} shares of mixed audiences (5% everyone, 30% a team or division, "
        "50% one to three people, 15% the author's own), through the feed service "
        "(every feed object's page with the access policy's audience condition, "
        "merged) vs the hand-written statement of the same page (the user's "
        "departments looked up once); p50 of 50 runs. Goal ≤ 1.5×.",
        "",
        "| database | measure | propolis | baseline | unit | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for kind, found in results.items():
        for name, ours, base, unit in found:
            lines.append(f"| {kind} | {name} | {fmt(ours)} | {fmt(base)} | {unit} | "
                         f"{ratio(unit, ours, base)} |")
    if "postgresql" not in results:
        lines += ["", "PostgreSQL was not reachable, so only SQLite was measured."]
    with open(OUT, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print(f"bench: wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
