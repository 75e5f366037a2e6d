"""Use cases: one module per area, one transaction per use case."""
