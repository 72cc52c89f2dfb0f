"""The compose backend's scenario: its files mounted into Locust's containers, by a layered compose file.

The runner hands Locust the scenario it resolved, whose bodies files are paths on this machine;
inside a container they are not there. So each bodies file (and a locustfile of your own) is
bind-mounted read-only into both Locust services under /scenario, the scenario handed over names
them there, and `LOCUST_LOCUSTFILE` tells the compose file which locustfile to run. The override
adds volumes only: the compose file's own services, limits and results folder stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from loadtest.locust_contract import LOCUSTFILE
from loadtest.scenario import Scenario

CONTAINER_SCENARIO_DIR = PurePosixPath("/scenario")
"""Where the scenario's files appear inside Locust's containers."""
SCENARIO_OVERRIDE_FILE = "compose.scenario.yaml"
LOCUST_SERVICES = ("locust-master", "locust-worker")


@dataclass(frozen=True)
class ScenarioMounts:
    """The scenario as Locust's containers see it, and what to mount for that."""

    scenario: Scenario
    """Its bodies files named by their paths in the containers."""
    locustfile: str
    """The locustfile the containers run: the image's, or yours mounted."""
    volumes: list[str]
    """Compose's short syntax, `HOST:CONTAINER:ro`."""


def scenario_mounts(scenario: Scenario, locustfile: Path | None = None) -> ScenarioMounts:
    """Where each of the scenario's files goes in the containers (a locustfile of your own included)."""
    volumes: list[str] = []
    requests = []
    for index, request in enumerate(scenario.requests):
        if request.bodies is None:
            requests.append(request)
            continue
        source = Path(request.bodies)
        # The index keeps two files of one name (from two folders) apart.
        target = CONTAINER_SCENARIO_DIR / f"bodies-{index}-{source.name}"
        volumes.append(f"{source.resolve()}:{target}:ro")
        requests.append(request.model_copy(update={"bodies": str(target)}))
    run = LOCUSTFILE
    if locustfile is not None:
        target = CONTAINER_SCENARIO_DIR / Path(locustfile).name
        volumes.append(f"{Path(locustfile).resolve()}:{target}:ro")
        run = str(target)
    return ScenarioMounts(scenario.model_copy(update={"requests": requests}), run, volumes)


def scenario_override(mounts: ScenarioMounts) -> dict[str, Any]:
    """The compose file layered over the cell's: the mounts, in both Locust services."""
    return {"services": {service: {"volumes": list(mounts.volumes)} for service in LOCUST_SERVICES}}
