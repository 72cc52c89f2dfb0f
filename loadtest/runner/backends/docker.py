"""The Docker and Compose command-line clients, as the compose backend drives them.

Every command runs to its end with its output captured and a time limit; `BackendError` says what
could not run. `limits_from_inspect` reads a container's limits from `docker inspect`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.records import ReplicaLimits
from loadtest.runner.backends.base import BackendError
from loadtest.runner.linux.cgroup_stats import CPU_PERIOD_US, parse_cpu_list
from loadtest.runner.run_options import ComposeVersion
from loadtest.util.text import first_line
from loadtest.util.units import parse_stats_size

COMMAND_TIMEOUT = 180.0
"""Seconds any single docker/compose command may take (pulls excluded: images are local)."""


def run_command(
    argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a docker/compose command to its end, output captured; BackendError if it cannot run."""
    try:
        return subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise BackendError(f"{argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise BackendError(f"`{' '.join(argv)}` did not finish within {timeout:g} s") from None


COMPOSE_COMMANDS: dict[str, list[str]] = {
    "v2": ["docker", "compose"],
    # v1 applies deploy.replicas and deploy.resources.limits only with --compatibility.
    "v1": ["docker-compose", "--compatibility"],
}


def detect_compose(wanted: ComposeVersion = "auto") -> list[str]:
    """The Compose command line: `wanted` if it works, or for auto v2 when it works, else v1."""
    problems = []
    for version in ("v2", "v1") if wanted == "auto" else (wanted,):
        command = COMPOSE_COMMANDS[version]
        if shutil.which(command[0]) is None:
            problems.append(f"`{command[0]}` is not on PATH")
            continue
        result = run_command([*command, "version"], timeout=30)
        if result.returncode == 0:
            return command
        problems.append(f"`{' '.join(command)} version`: {first_line(result.stderr or result.stdout, 'failed')}")
    which = "no Compose found" if wanted == "auto" else f"Compose {wanted} cannot be used"
    raise BackendError(f"{which}: " + "; ".join(problems))


@dataclass(frozen=True)
class ContainerProbe:
    """What the Docker daemon gives a container of an image, asked once from inside one."""

    open_files: int | None
    """Its hard open-files limit (None: unlimited)."""
    cpus: frozenset[int] | None
    """The CPUs it may run on (its Cpus_allowed_list: the daemon's cpuset); None: not read."""


PROBE_SCRIPT = (
    # Shell builtins only (an image of yours may have no grep): the open-files limit, then the CPUs.
    'ulimit -Hn; while read -r key value; do case $key in Cpus_allowed_list:) echo "$value";; esac; '
    "done < /proc/self/status"
)


def probe_container(image: str) -> ContainerProbe:
    """The hard open-files limit and the CPUs a container of `image` gets from the Docker daemon."""
    result = run_command(["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", PROBE_SCRIPT])
    if result.returncode != 0:
        raise BackendError(
            f"could not ask the Docker daemon for its open-files limit (`docker run --rm --entrypoint sh {image} "
            f"-c 'ulimit -Hn'` exited {result.returncode}): {first_line(result.stderr or result.stdout, 'no output')}"
        )
    lines = result.stdout.strip().splitlines()
    text = lines[0].strip() if lines else ""
    if text != "unlimited" and not text.isdigit():
        raise BackendError(f"`ulimit -Hn` in a container of {image} printed {text!r}, not a number")
    cpus: frozenset[int] | None = None
    # A kernel that lists them otherwise leaves them unread: the caller falls back to `docker info`'s NCPU.
    with contextlib.suppress(ValueError):
        cpus = (parse_cpu_list(lines[1]) or None) if len(lines) > 1 else None
    return ContainerProbe(None if text == "unlimited" else int(text), cpus)


def inspect(ids: Sequence[str]) -> list[dict[str, Any]]:
    """`docker inspect` of containers (those already gone are left out)."""
    if not ids:
        return []
    result = run_command(["docker", "inspect", *ids])
    try:
        documents = json.loads(result.stdout or "[]")
    except ValueError:
        raise BackendError(f"docker inspect printed no JSON: {result.stderr.strip()}") from None
    return [document for document in documents if isinstance(document, dict)]


def sample_memory(container_id: str) -> int | None:
    """Current memory use of a container from `docker stats` (when its cgroup cannot be read)."""
    result = run_command(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", container_id], timeout=30)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return parse_stats_size(result.stdout.split("/")[0])


def limits_from_inspect(container: Mapping[str, Any]) -> ReplicaLimits:
    """The limits Docker applied to a container (`docker inspect` document)."""
    host = container.get("HostConfig") or {}
    nano, quota, period = host.get("NanoCpus") or 0, host.get("CpuQuota") or 0, host.get("CpuPeriod") or 0
    if nano:
        cpus: float | None = nano / 1e9
        quota, period = round(nano / 1e9 * CPU_PERIOD_US), CPU_PERIOD_US
    elif quota > 0:
        period = period or CPU_PERIOD_US
        cpus = quota / period
    else:
        cpus, quota, period = None, None, None
    memory = host.get("Memory") or None
    swap_total = host.get("MemorySwap")
    swap = swap_total - memory if memory and isinstance(swap_total, int) and swap_total > 0 else None
    return ReplicaLimits(
        source="docker inspect",
        cpuset=host.get("CpusetCpus") or None,
        cpus=cpus,
        cpu_quota_us=quota,
        cpu_period_us=period,
        memory_bytes=memory,
        swap_bytes=swap,
        paths=[str(container.get("Id", ""))[:12]],
    )


def compose_error(output: str) -> str:
    """The telling part of Compose's error output, with a hint for the errors we know."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR") or line.startswith("Error")]
    text = " ".join(dict.fromkeys(errors[-2:] or lines[-3:])) or "no output"
    if "rlimit" in text.lower():
        text += (
            " (hint: a container asked for more open files than the Docker daemon allows; the runner sets "
            "NOFILE_LIMIT to the limit it probed, so a compose file that does not use NOFILE_LIMIT is the likely cause)"
        )
    return text
