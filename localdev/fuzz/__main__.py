"""``python -m localdev.fuzz`` (``make fuzz``): see :mod:`localdev.fuzz.cli`."""

import sys

from localdev.fuzz.cli import main

sys.exit(main())
