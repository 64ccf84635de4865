"""The built-in field types, one module each (registered, in the order of the
metadata language's type list, by ``propolis.platform.fields``)."""
