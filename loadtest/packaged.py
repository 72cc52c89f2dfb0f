"""What the installed package carries for the command to run anywhere, found beside this module.

Nothing here is looked up relative to a checkout: `pip install` puts these files in the package,
and the command runs from the user's own working directory (their service, their scenario).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
"""The installed `loadtest` package (in a checkout: its `loadtest/` folder)."""
LOCUSTFILE = PACKAGE_DIR / "locustfile.py"
"""The locustfile the process backend's Locust runs (the images carry their own copy, in /app)."""
COMPOSE_FILE = PACKAGE_DIR / "container" / "docker-compose.ci.yaml"
"""The compose backend's default compose file (`--compose-file` names another)."""
STARTER_DIR = PACKAGE_DIR / "starter"
"""The commented starter files `inference-gate init` copies into a user's folder."""
STARTER_FILES = ("thresholds.yaml", "scenario.yaml")
"""What `init` writes, in this order."""
