"""The `ci` profile's load at half scale on a 2-core machine: does our API hold it, and was Locust the limit?

    flock /tmp/inference-gate-load.lock .venv/bin/python -m scripts.ci_half_scale [--out DIR]

5,000 of the `ci` profile's users (half of its 10,000) ask 1,250 req/s (half of its 2,500) of one
replica of 1 CPU, with one Locust process. The replica is pinned to core 0 and Locust to core 1
(`taskset`), because unpinned the kernel may put both on one core and the cell then measures
Locust (docs/thresholds.md has both runs). Prints the verdict, what was served against what was
asked, the P95 margin and Locust's busiest second; the exit code is the runner's. It reports; it
does not assert.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtest.records import VERDICT_FILE, RecordError, Verdict, read_record
from loadtest.util.tables import text_table

REPO = Path(__file__).resolve().parent.parent
USERS, SPAWN_RATE, CELL = 5000, 250, "r1-cpu1.0-mem1g"
API_CORE, LOCUST_CORE = 0, 1


def runner_command(out: Path) -> list[str]:
    """`python -m loadtest run` for the half-scale cell, Locust on LOCUST_CORE and the API on API_CORE."""
    api = (
        f"taskset -c {API_CORE} {shlex.quote(sys.executable)} -m api --host 127.0.0.1 --port {{port}}"
        " --workers 1 --reuse-port --log-level warning"
    )
    return [
        *("taskset", "-c", str(LOCUST_CORE), sys.executable, "-m", "loadtest", "run", "--profile", "ci"),
        *("--users", str(USERS), "--spawn-rate", str(SPAWN_RATE), "--replicas", "1", "--cpus", "1.0"),
        *("--locust-workers", "1", "--api-command", api, "--out", str(out)),
    ]


def figures_rows(verdict: Verdict) -> list[list[str]]:
    """The verdict's figures as table rows: what a reader checks first."""
    delivery, resources, slo = verdict.delivery, verdict.resources, verdict.slo
    peak = resources.locust_peak_cpu if resources is not None else None
    api = resources.api_cpu_share if resources is not None else None
    served = f"{delivery.served_rps:,.1f} of {delivery.expected_rps:,.0f} req/s" if delivery is not None else "–"
    return [
        ["outcome", verdict.outcome.upper()],
        ["served / asked", served + (f" ({delivery.ratio:.0%})" if delivery is not None else "")],
        ["errors", f"{verdict.error_rate:.2%}" + (f" (limit {slo.max_error_rate:.0%})" if slo.max_error_rate else "")],
        ["P95", f"{verdict.p95_ms:,.0f} ms" + (f" (limit {slo.max_p95_ms:,.0f} ms)" if slo.max_p95_ms else "")],
        ["API CPU", f"{api:.0%} of its limit" if api is not None else "not sampled"],
        ["Locust's busiest second", f"{peak:.0%} of its core" if peak is not None else "not sampled"],
        *([["reason", reason] for reason in verdict.reasons]),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "results" / "ci-half-scale", help="results folder")
    args = parser.parse_args(argv)
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        print("ci_half_scale needs taskset (util-linux) and 2 cores to pin the API and Locust apart", file=sys.stderr)
        return 2
    code = subprocess.run(runner_command(args.out), cwd=REPO, check=False).returncode
    try:
        verdict = read_record(args.out / CELL / VERDICT_FILE, Verdict)
    except RecordError as error:
        print(f"ci_half_scale: no verdict to report ({error})", file=sys.stderr)
        return code or 2
    print(
        f"\nThe ci profile at half scale: {USERS:,} users, 1 x 1 CPU on core {API_CORE}, Locust on core {LOCUST_CORE}"
    )
    print(text_table(["", CELL], figures_rows(verdict), "ll"))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
