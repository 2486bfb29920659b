"""Start bqemulator with one fix, so its Storage Write API serves tables with RECORD columns.

``python localdev/bqemulator_launcher.py start --rest-port ... --grpc-port ...`` runs bqemulator's
own command line (``bqemulator.cli.main``), arguments unchanged, after one replacement:

bqemulator 1.4.0's ``bqemulator.grpc_api.write_servicer._table_arrow_schema`` builds the Arrow
schema an AppendRows request is converted to from the table's top-level fields only (name, type,
mode), without the sub-fields of a RECORD column. Every append to a table with a RECORD column
(``orders.items``, ``orders.shipping_address``, ``user_activity.metadata``) then fails with
DuckDB's "Attempted to convert a STRUCT with no fields". The replacement builds the schema with
the emulator's own recursive helper, the one its REST ``tabledata.insertAll`` uses
(``bqemulator.api.routes.tabledata._fields_raw_from_schema`` then ``_build_arrow_schema``).

If a bqemulator without that function (or those helpers) is installed, the launcher stops with a
message saying so rather than start an emulator that cannot take nested rows. Run as a file, not
as a module, so it needs nothing of this project on the path; ``localdev.stack`` starts it so.

A second fix, :func:`apply_thread_fix`, for a race the first one exposes: bqemulator 1.4.0 runs
its REST API on the asyncio loop's thread and its gRPC handlers (Storage Write and Read) on a
thread pool, all on ONE DuckDB connection (``bqemulator.storage.engine.DuckDBEngine.connection``),
which DuckDB does not allow to be used from two threads at once. An append while a REST query is
being fetched made that query fail ("Attempting to execute an unsuccessful or closed pending query
result") or answer another statement's rows. The fix gives every other thread its own cursor of
the same database (DuckDB's way of sharing a database across threads), with the engine's session
setting (``TimeZone = 'UTC'``); the thread that opened the connection keeps using it as before.
"""

from __future__ import annotations

import sys

FIXED_VERSION = "1.4.0"


def apply_fix() -> None:
    """Replace ``write_servicer._table_arrow_schema`` (see the module's docstring)."""
    try:
        import bqemulator.grpc_api.write_servicer as write_servicer
        from bqemulator.api.routes.tabledata import _build_arrow_schema, _fields_raw_from_schema
    except ImportError as exc:
        raise SystemExit(
            f"localdev/bqemulator_launcher.py fixes bqemulator {FIXED_VERSION}, but cannot import what "
            f"it fixes or uses ({exc}); install bqemulator=={FIXED_VERSION} (make install)"
        ) from None
    if not callable(getattr(write_servicer, "_table_arrow_schema", None)):
        raise SystemExit(
            "localdev/bqemulator_launcher.py: bqemulator.grpc_api.write_servicer._table_arrow_schema is "
            f"gone (the fix is for bqemulator {FIXED_VERSION}); check whether this bqemulator still drops "
            "RECORD sub-fields in the Storage Write API and drop or update the launcher"
        )

    def _table_arrow_schema(table_meta):
        return _build_arrow_schema(_fields_raw_from_schema(table_meta.schema_.fields))

    write_servicer._table_arrow_schema = _table_arrow_schema


def apply_thread_fix() -> None:
    """Per-thread DuckDB cursors for threads other than the engine's own (see the docstring)."""
    import threading

    try:
        from bqemulator.storage.engine import DuckDBEngine
    except ImportError as exc:
        raise SystemExit(f"localdev/bqemulator_launcher.py: cannot import DuckDBEngine ({exc})") from None
    shared = DuckDBEngine.__dict__.get("connection")
    if not isinstance(shared, property) or "start" not in DuckDBEngine.__dict__:
        raise SystemExit(
            "localdev/bqemulator_launcher.py: bqemulator.storage.engine.DuckDBEngine.connection is no longer "
            f"a property (the fix is for bqemulator {FIXED_VERSION}); review the launcher"
        )
    start = DuckDBEngine.start

    async def start_and_note_owner(self):
        self._eventharbor_owner = threading.get_ident()
        self._eventharbor_cursors = threading.local()
        await start(self)

    def connection(self):
        main = shared.fget(self)
        if threading.get_ident() == getattr(self, "_eventharbor_owner", None):
            return main
        local = self._eventharbor_cursors
        cursor = getattr(local, "cursor", None)
        if cursor is None or getattr(local, "main", None) is not main:
            cursor = main.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            local.cursor, local.main = cursor, main
        return cursor

    DuckDBEngine.start = start_and_note_owner
    DuckDBEngine.connection = property(connection)


def main() -> int:
    apply_fix()
    apply_thread_fix()
    from bqemulator.cli import main as bqemulator_main

    sys.argv[0] = "bqemulator"
    return bqemulator_main()


if __name__ == "__main__":
    sys.exit(main())
