"""The data-reporting system: periods, aggregation, charts."""
