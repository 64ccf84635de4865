"""The extension framework and the built-in extensions."""
