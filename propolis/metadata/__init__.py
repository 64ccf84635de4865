"""The metadata language: documents of kind object, approval, report and extension,
their JSON Schemas, loading with line numbers, validation, normalization, layering."""

from propolis.metadata.errors import MetadataError, Problem, Text
from propolis.metadata.layering import merge_layers, merge_object
from propolis.metadata.loader import Document, load_path, load_paths, load_text
from propolis.metadata.names import KINDS, RESERVED_WORDS, SYSTEM_FIELDS, SYSTEM_OBJECTS
from propolis.metadata.normalize import normalize_document, normalize_object
from propolis.metadata.schema import kind_schema
from propolis.metadata.validation import load_system_objects, validate_documents

__all__ = [
    "KINDS",
    "RESERVED_WORDS",
    "SYSTEM_FIELDS",
    "SYSTEM_OBJECTS",
    "Document",
    "MetadataError",
    "Problem",
    "Text",
    "kind_schema",
    "load_path",
    "load_paths",
    "load_system_objects",
    "load_text",
    "merge_layers",
    "merge_object",
    "normalize_document",
    "normalize_object",
    "validate_documents",
]
