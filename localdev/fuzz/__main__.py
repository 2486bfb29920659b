"""``python -m localdev.fuzz`` (``make fuzz``): see :mod:`localdev.fuzz.cli`."""

import sys

from localdev.fuzz.cli import main
from pipeline.commands import run_command

sys.exit(run_command(main, "python -m localdev.fuzz"))
