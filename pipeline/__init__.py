"""EventHarbor pipeline: entry point, options, I/O wiring, model runner and local stack."""
