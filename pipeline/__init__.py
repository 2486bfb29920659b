"""The EventHarbor Dataflow job: entry point, options, sources, sinks and reconciliation.

Only what Dataflow workers run lives here; local tooling is in ``localdev``, the
model runner in ``warehouse``.
"""
