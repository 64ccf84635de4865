"""``make bench``: the core measured against hand-written SQLAlchemy Core, side by side
in one run, on SQLite and (when reachable) PostgreSQL; figures go to BENCHMARKS.md."""
