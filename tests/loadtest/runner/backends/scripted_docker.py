"""A scripted `docker` first on PATH: the Docker CLI is the compose backend's seam, so its unit tests open a
real `ComposeBackend` against answers they choose, without a daemon."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from loadtest import packaged
from loadtest.runner.backends.compose import ComposeBackend

INFO: dict[str, Any] = {"ServerVersion": "20.10.24", "NCPU": 4, "CPUSet": True, "CgroupVersion": "1"}
"""`docker info`'s JSON, the keys the backend reads."""
PROBE = "1048576\n0-1\n"
"""What a container of the daemon's says: its hard open-files limit, then the CPUs it may run on."""


def scripted_docker(
    folder: Path, monkeypatch: pytest.MonkeyPatch, info: dict[str, Any] | str = INFO, probe: str = PROBE
) -> Path:
    """A `docker` first on PATH: Compose v2's `version`, `info` printing `info` (JSON unless a string), `run`
    printing `probe`, and every other command's argv logged to the returned file, one JSON list a line."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "argv.jsonl"
    printed = info if isinstance(info, str) else json.dumps(info)
    script = folder / "docker"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        "  'compose version') echo 'Docker Compose version v2.40.3' ;;\n"
        f"  info*) printf '%s' {shlex.quote(printed)} ;;\n"
        f"  run*) printf '%s' {shlex.quote(probe)} ;;\n"
        f"  *) python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\" >> {shlex.quote(str(log))} ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


def open_compose(cwd: Path) -> ComposeBackend:
    """The compose backend (Compose v2, the packaged compose file) as the scripted `docker` answers it."""
    return ComposeBackend(packaged.COMPOSE_FILE, "me/api:1", "me/lt:1", 60, None, cwd, compose="v2")
