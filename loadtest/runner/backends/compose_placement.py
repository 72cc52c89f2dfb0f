"""The compose backend's placement: a cell's containers pinned to CPUs, and the CPUs Docker can pin them to.

A comparison's duet runs both sides' stacks at once, their replicas on one set of CPUs and their
Locusts on another (`loadtest.runner.placement`). Compose's `cpuset` (Docker's `--cpuset-cpus`) pins
a service's containers, and both Compose v2 and v1 (with or without `--compatibility`) apply it from a
Compose Specification file; so, as for the scenario's mounts (`compose_scenario`), a compose file
layered over the cell's sets `cpuset` on `api`, `locust-master` and `locust-worker`, and nothing else:
the replicas' CPU quota and memory limit stay the compose file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadtest.runner.backends.compose_scenario import LOCUST_SERVICES
from loadtest.runner.linux.cgroup_stats import format_cpu_list
from loadtest.runner.placement import Placement

PLACEMENT_OVERRIDE_FILE = "compose.placement.yaml"
API_SERVICE = "api"


def placement_override(placement: Placement) -> dict[str, Any]:
    """The compose file layered over the cell's: the replicas' containers on `placement.replicas`, Locust's
    master and workers on `placement.locust`."""
    locust = format_cpu_list(placement.locust)
    return {
        "services": {
            API_SERVICE: {"cpuset": format_cpu_list(placement.replicas)},
            **{service: {"cpuset": locust} for service in LOCUST_SERVICES},
        }
    }


def cpuset_mismatch(wanted: frozenset[int], document: Mapping[str, Any]) -> str | None:
    """Why a container (its `docker inspect` document) is not pinned to `wanted` (None: it is)."""
    reported = str((document.get("HostConfig") or {}).get("CpusetCpus") or "")
    if reported == format_cpu_list(wanted):
        return None
    return f"Docker reports cpuset {reported or 'none'} instead of {format_cpu_list(wanted)}"


@dataclass(frozen=True)
class DockerCpus:
    """The CPUs Docker's containers may be pinned to, and why they cannot be."""

    cores: frozenset[int]
    unavailable: str | None = None
    """Why a container cannot be pinned (None: it can)."""


def docker_cpus(info: Mapping[str, Any], allowed: frozenset[int] | None) -> DockerCpus:
    """From `docker info` (its JSON) and the CPUs a container of the daemon's may run on (`allowed`, read
    inside one: the daemon's cpuset; None: not read, then CPUs 0 to NCPU-1)."""
    count = info.get("NCPU")
    cores = allowed if allowed is not None else frozenset(range(count)) if isinstance(count, int) else frozenset()
    if info.get("CPUSet") is not True:
        # Docker sets it from its cgroups: false where the cpuset controller is missing or not delegated to it
        # (a rootless daemon on cgroup v2 without cpuset); `--cpuset-cpus` is then refused.
        return DockerCpus(
            cores,
            f"the Docker daemon cannot pin containers to CPUs (docker info: CPUSet {info.get('CPUSet')!r}; "
            f"cgroup v{info.get('CgroupVersion') or '?'} without the cpuset controller)",
        )
    return DockerCpus(cores)
