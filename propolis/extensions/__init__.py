"""The built-in extensions: one directory each, holding ``extension.yaml`` and the
metadata it names, and, when the extension has code, a Pyramid include named in
the ini's ``propolis.extensions``. The catalogue that reads them is
``propolis.metadata.extensions``."""
