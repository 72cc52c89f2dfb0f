"""`python -m loadtest ...`: see `loadtest.cli` (installed, the same is the `inference-gate` command)."""

import sys

from loadtest.cli import main

sys.exit(main(prog="python -m loadtest"))
