"""Where the API replicas run: `process` (cgroup-limited local processes) or `compose` (Docker).

`base` holds what every backend provides; `open_backend` opens the one a run asks for.
"""

from __future__ import annotations

from pathlib import Path

from loadtest import packaged
from loadtest.runner.backends.base import (
    Backend,
    BackendError,
    Deployment,
    LoadRun,
    NotReadyError,
    ReplicaDiedError,
)
from loadtest.runner.backends.compose import ComposeBackend
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.run_options import BackendSettings

__all__ = [
    "Backend",
    "BackendError",
    "Deployment",
    "LoadRun",
    "NotReadyError",
    "ReplicaDiedError",
    "open_backend",
]

PROCESS_READY_TIMEOUT = 60.0
COMPOSE_READY_TIMEOUT = 300.0
"""Containers start slower than processes: image layers, healthcheck start period."""


OWN_SERVICE = "api/__main__.py"
"""What marks a working directory as this project's checkout, whose `python -m api` is the default service."""


def has_own_service(cwd: Path) -> bool:
    """Whether `python -m api` run from `cwd` is this project's service (its checkout)."""
    return (cwd / OWN_SERVICE).is_file()


def open_backend(settings: BackendSettings, cwd: Path) -> Backend:
    """The chosen backend, opened (cgroups created, Compose found), its replicas and Locust run from
    `cwd` (the command's working directory). BackendError if it cannot be."""
    if settings.name == "compose":
        if settings.api_command is not None:
            raise BackendError("--api-command is for the process backend; the compose backend runs an image (--image)")
        # The health path goes to the API containers' healthcheck, a locustfile of your own is mounted into
        # Locust's containers (the compose file's API_HEALTH_PATH and LOCUST_LOCUSTFILE).
        return ComposeBackend(
            compose_file=settings.compose_file or packaged.COMPOSE_FILE,
            api_image=settings.api_image,
            loadtest_image=settings.locust_image,
            ready_timeout=settings.ready_timeout or COMPOSE_READY_TIMEOUT,
            locust_workers=settings.locust_workers,
            cwd=cwd,
            compose=settings.compose,
            health_path=settings.health_path,
            locustfile=settings.locustfile,
        )
    if settings.api_command is None and not has_own_service(cwd):
        raise BackendError(
            "no service to start: give --api-command (or LOADTEST_API_COMMAND), the command that starts one "
            f"replica of your service with {{port}} where its port goes; without it the process backend starts "
            f"this project's own service (python -m api), which runs only from its checkout ({cwd} has no "
            f"{OWN_SERVICE})"
        )
    return ProcessBackend(
        cwd=cwd,
        ready_timeout=settings.ready_timeout or PROCESS_READY_TIMEOUT,
        port=settings.api_port,
        enforce_limits=settings.enforce_limits,
        locust_workers=settings.locust_workers,
        api_command=settings.api_command,
        health_path=settings.health_path,
        locustfile=settings.locustfile,
    )
