"""What a `ui` session shows on the terminal: Locust's state and each replica's resources, kept in place
under the messages, and what the session did when it ends."""

from __future__ import annotations

from pathlib import Path

from loadtest.records import ReplicaRecord
from loadtest.runner.resources import ResourceView
from loadtest.runner.web_api import WebStatus
from loadtest.util.units import format_rate


def view_lines(
    status: WebStatus | None,
    problem: str,
    test: int | None,
    url: str,
    resources: ResourceView,
    records: list[ReplicaRecord],
) -> list[str]:
    """Locust's state (`problem`: why it is not known), the running test, then the replicas' resources."""
    if status is None:
        head = f"Locust: {problem or 'starting'}"
    else:
        running = f"test {test} " if test is not None else ""
        rate = f"{status.rps:,.1f} req/s, " if status.running else ""
        head = (
            f"Locust: {running}{status.state}, {status.users:,} users, {rate}"
            f"{status.requests:,} requests, {status.failures:,} failures "
            f"({format_rate(status.failures, status.requests)})"
        )
        if status.workers is not None:
            head += f", {status.workers} worker(s)"
    return [f"{head}  — {url}", *resources.lines(records)]


def farewell_lines(cell: str, backend: str, clean: bool, judged: list[str], cell_dir: Path) -> list[str]:
    """What the session stopped, and each test's outcome."""
    gone = "took its Compose project down" if backend == "compose" else "removed their cgroups"
    return [
        f"{cell}: stopped Locust and every replica" + (f", {gone}." if clean else "."),
        *[f"  {line}" for line in judged],
        f"Results: {cell_dir}/",
    ]
