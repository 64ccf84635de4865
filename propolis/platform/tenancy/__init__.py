"""Enterprises: creating one (its storage, system objects and first admin),
applying metadata changes and extensions to it with the backfill jobs they need,
the system database's migrations and the demo enterprise."""
