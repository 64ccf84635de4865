"""Finding records: filters checked per field type, multi-column sort, keyset pages
and keyword search over ``search_text``."""
