"""``python -m localdev.generator``: see :mod:`localdev.generator.cli`."""

import sys

from localdev.generator.cli import main

sys.exit(main())
