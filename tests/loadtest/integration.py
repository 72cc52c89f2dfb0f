"""What the integration tests of the commands share: the servers they load, their thresholds.yaml,
and starting `python -m loadtest <command>` as a user would.

The servers are `--api-command` templates. Whatever a test needs to be slow, starved or costly is
the reference service (scripts/reference_service.py) with a CPU cost per request: its capacity is
its CPU limit divided by that cost on any host, so a test that says "2 x 0.05 CPU cannot serve 200
req/s" holds on a fast runner and on a busy laptop alike (docs/testing.md).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from loadtest.runner.linux.cgroups import PARENT_ENV

REPO = Path(__file__).resolve().parents[2]
PYTHON = shlex.quote(sys.executable)
REFERENCE_SCRIPT = REPO / "scripts" / "reference_service.py"
NULL_TARGET = f"{PYTHON} -m loadtest.runner.null_target --port {{port}} --reuse-port"
"""A server that costs (almost) nothing: whatever is slow is Locust."""


def reference(**flags: float) -> str:
    """The reference service's `--api-command` with these flags (`cpu_ms=1.5` is `--cpu-ms 1.5`)."""
    words = [PYTHON, shlex.quote(str(REFERENCE_SCRIPT)), "--port", "{port}", "--reuse-port"]
    for name, value in flags.items():
        words += [f"--{name.replace('_', '-')}", f"{value:g}"]
    return " ".join(words)


def capacity_rps(cpus: float, cpu_ms: float, replicas: int = 1) -> float:
    """What `replicas` replicas of the reference service at `cpu_ms` serve at most under `cpus` each."""
    return replicas * cpus / (cpu_ms / 1000)


def thresholds_file(folder: Path, profile: dict[str, Any], **slo: float) -> Path:
    """The repository's thresholds.yaml with only the profile `case` and the SLO's keys changed by `slo`."""
    document = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    document["slo"].update(slo)
    document["profiles"] = {"case": profile}
    path = folder / "thresholds.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without the caller's LOADTEST_* options (only the arguments decide the command),
    but with the delegated cgroup a machine may need (LOADTEST_CGROUP_PARENT), and `extra`."""
    inherited = {
        key: value for key, value in os.environ.items() if key == PARENT_ENV or not key.startswith("LOADTEST_")
    }
    return {**inherited, "PYTHONPATH": str(REPO), **(extra or {})}


def start(
    command: str, *argv: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`python -m loadtest COMMAND ARGV` from `cwd`, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "loadtest", command, *map(str, argv)],
        cwd=cwd,
        env=command_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
