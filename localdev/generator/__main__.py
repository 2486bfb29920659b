"""``python -m localdev.generator``: see :mod:`localdev.generator.cli`."""

import sys

from localdev.generator.cli import main
from pipeline.commands import run_command

sys.exit(run_command(main, "python -m localdev.generator"))
