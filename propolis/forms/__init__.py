"""Pages generated from metadata: forms, lists, detail pages, the object manager."""
