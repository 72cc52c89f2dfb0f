"""The compose backend's web UI session: a compose file layered over docker-compose.ci.yaml.

The override replaces only the master's command (Locust's web UI flags instead of its headless
load) and publishes its UI on this machine; the API, the workers and the limits stay as the
compose file has them. The runner writes it into the cell folder, from `locust_web_args()`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from loadtest.locust_contract import LOCUSTFILE, WEB_CONTAINER_PORT, WebSettings, locust_web_args

CONTAINER_API_URL = "http://api:8000"
"""The API as Locust's containers reach it (the compose file's service name and port)."""
CONTAINER_RESULTS = PurePosixPath("/results")
"""The cell folder as the master sees it (the compose file's volume)."""
WEB_OVERRIDE_FILE = "compose.ui.yaml"


def web_override(settings: WebSettings, locustfile: str = LOCUSTFILE) -> dict[str, Any]:
    """The override: the master serves its web UI on `settings.host:settings.port` of this machine
    (`locustfile`: the path the containers run, the image's unless one of your own is mounted)."""
    flags = locust_web_args(settings, CONTAINER_API_URL, CONTAINER_RESULTS, bind=("0.0.0.0", WEB_CONTAINER_PORT))
    return {
        "services": {
            "locust-master": {
                "command": [f"--locustfile={locustfile}", "--master", *flags],
                "ports": [f"{settings.host}:{settings.port}:{WEB_CONTAINER_PORT}"],
            }
        }
    }
