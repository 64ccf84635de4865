"""The views of the generated pages."""
