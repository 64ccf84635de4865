"""The object manager of the admin console: objects, their fields, layouts, list
views, select dependencies, metadata versions and backfill jobs, without code.

Every change is one object document applied the way ``PUT /api/v1/metadata/objects/
{o}`` applies it: the page builds the new document from the object's current
effective one plus the change, shows the storage plan of a dry run (what
``propolis metadata plan`` prints) and applies that same document when the admin
confirms. Problems of the document (validation, the planner's refusals) come back to
the input they concern. Nothing here writes DDL or metadata rows itself.
"""
