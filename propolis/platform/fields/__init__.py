"""Field types: what a value of each type is as JSON, as Python and in its column,
and the conversions between them. Below records, query and permissions, which all
read and write values."""
