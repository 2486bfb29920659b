"""``python -m recovery``: see :mod:`recovery.cli`."""

import sys

from pipeline.commands import run_command
from recovery.cli import main

sys.exit(run_command(main, "python -m recovery"))
