"""Local-only tooling: the emulator stack, the demo, table export and the sample generator.

Installed for development (``pip install -e '.[dev]'``), never shipped to Dataflow workers.
"""
