"""Storage: every table declaration (the system database's, the platform's own
tables in each enterprise, the generated object tables), the column types, the
closure tables of trees, and the planner that turns a metadata change into DDL."""
