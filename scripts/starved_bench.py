"""What a CPU-starved replica does on this machine: the figures the integration tests no longer assert.

    /work/bin/load .venv/bin/python -m scripts.starved_bench [--only CASE ...] [--out results/starved-bench]

The integration tests load the reference service (scripts/reference_service.py), whose capacity is its
CPU limit over its cost per request on any host, so they hold on a fast runner and a busy laptop alike.
What only our own API, or the workshop's design, starved on this host can show is measured here,
each case one `python -m loadtest run` (or `search`) on the process backend under cgroup limits:

  closed-loop  our API, 1 replica x 0.1 CPU, the workshop's 1,000 users (between waits: a closed
               loop), 20 s: the gate's delivery rule breaches it where the closed loop passed it;
  workshop     the workshop's design (scikit-learn per request, scripts/baseline_server.py), 1 x 0.5
               CPU, 300 users asking 1 req/s each, 20 s: a breach, served far under what is asked;
  early-stop   our API, 1 x 0.1 CPU under the `local` profile's load, as one search probe of 20 s:
               whether and when the probe's early stop ended it;
  reference    the reference service at 2 ms of CPU a request, 1 x 0.5 CPU and 2 x 0.1, each asked
               twice its capacity: what it served against CPU limit / cost (250 and 100 req/s).

It reports; it does not assert. Prints one table and leaves every run under --out.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loadtest.records import RUN_FILE, VERDICT_FILE, RecordError, RunRecord, Verdict, read_record
from loadtest.search.records import SEARCH_FILE, SearchRecord
from loadtest.util.tables import text_table

REPO = Path(__file__).resolve().parent.parent
PYTHON = shlex.quote(sys.executable)
BASELINE = f"{PYTHON} {shlex.quote(str(REPO / 'scripts' / 'baseline_server.py'))} --port {{port}} --reuse-port"
REFERENCE_MS = 2.0


def reference_command(cpu_ms: float) -> str:
    """The reference service at `cpu_ms` of CPU a request, as an `--api-command`."""
    script = shlex.quote(str(REPO / "scripts" / "reference_service.py"))
    return f"{PYTHON} {script} --port {{port}} --reuse-port --cpu-ms {cpu_ms:g}"


def constant(users: int, rate: float) -> dict[str, Any]:
    """A profile's `pace:` whose users (the workshop's two kinds, half of each) each ask `rate` requests a second."""
    return {"ordinary": {"rate": rate}, "heavy": {"rate": rate}}


@dataclass(frozen=True)
class Case:
    """One measured run: its profile (thresholds.yaml's `case`) and the command's extra flags."""

    name: str
    what: str
    command: str
    profile: dict[str, Any]
    flags: list[str] = field(default_factory=list)
    predicted_rps: float | None = None
    """The reference service's capacity (CPU limit / cost), for the table."""


def cases(local: dict[str, Any]) -> list[Case]:
    """Every case, `local` being thresholds.yaml's `local` profile (the early stop's load)."""
    one = {"replicas": [1], "warmup": "spawn", "memory": "512m"}
    load: dict[str, Any] = {
        key: local[key] for key in ("users", "spawn_rate", "run_time", "warmup", "pace") if key in local
    }
    found = [
        Case(
            "closed-loop",
            "our API, 1 x 0.1 CPU, the workshop's 1,000 users (closed loop)",
            "run",
            {**one, "users": 1000, "spawn_rate": 500, "run_time": "20s", "cpus": 0.1},
        ),
        Case(
            "workshop",
            "the workshop's design, 1 x 0.5 CPU, 300 users at 1 req/s",
            "run",
            {**one, "users": 300, "spawn_rate": 300, "run_time": "20s", "cpus": 0.5, "pace": constant(300, 1.0)},
            ["--api-command", BASELINE, "--ready-timeout", "120"],
        ),
        Case(
            "early-stop",
            "our API, 1 x 0.1 CPU, the local profile's load, one probe of 20 s",
            "search",
            {
                **load,
                **one,
                "cpus": 0.1,
                "search": {"replicas": [1], "cpus": [0.1], "memory": ["512m"], "probe_time": "20s", "budget": "5m"},
            },
            ["--capacity-steps", "0"],
        ),
    ]
    for replicas, cpus in ((1, 0.5), (2, 0.1)):
        capacity = replicas * cpus / (REFERENCE_MS / 1000)
        users = round(2 * capacity)
        found.append(
            Case(
                f"reference-{replicas}x{cpus:g}",
                f"reference service at {REFERENCE_MS:g} ms, {replicas} x {cpus:g} CPU, asked {users} req/s",
                "run",
                {
                    **one,
                    "replicas": [replicas],
                    "cpus": cpus,
                    "users": users,
                    "spawn_rate": users,
                    "run_time": "20s",
                    "pace": constant(users, 1.0),
                },
                ["--api-command", reference_command(REFERENCE_MS)],
                predicted_rps=capacity,
            )
        )
    return found


def run_case(case: Case, out: Path) -> Path:
    """Run one case into `out/<name>/`; the folder of its one cell (or probe)."""
    folder = out / case.name
    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    document["profiles"] = {"case": case.profile}
    thresholds = folder / "thresholds.yaml"
    thresholds.write_text(yaml.safe_dump(document))
    results = folder / "results"
    argv = [sys.executable, "-m", "loadtest", case.command, "--thresholds", str(thresholds), "--profile", "case"]
    argv += ["--out", str(results), "--no-calibration", *case.flags]
    print(f"$ {shlex.join(argv[1:])}", file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=REPO, check=False)
    if case.command == "search":
        return results / "probes"
    return results


def cell_folder(results: Path) -> Path | None:
    """The one cell (or probe) folder a case's run left."""
    folders = sorted(path for path in results.iterdir() if path.is_dir()) if results.is_dir() else []
    return folders[0] if folders else None


def row(case: Case, folder: Path | None) -> list[str]:
    """One line of the table from the cell's verdict.json and run.json."""
    if folder is None:
        return [case.name, case.what, "no cell folder", "", "", "", "", ""]
    try:
        verdict = read_record(folder / VERDICT_FILE, Verdict)
        run = read_record(folder / RUN_FILE, RunRecord)
    except RecordError as error:
        return [case.name, case.what, f"unreadable: {error}", "", "", "", "", ""]
    delivery = verdict.delivery
    served = f"{delivery.served_rps:,.0f}" if delivery else f"{verdict.figures.rps:,.0f}"
    if case.predicted_rps is not None:
        served += f" (limit/cost {case.predicted_rps:,.0f})"
    expected = f"{delivery.expected_rps:,.0f} ({delivery.basis})" if delivery else "–"
    ratio = f"{delivery.ratio:.2f}" if delivery else "–"
    p95 = f"{verdict.figures.p95_ms:,.0f}" if verdict.figures.p95_ms is not None else "–"
    reason = verdict.reasons[0] if verdict.reasons else ""
    if run.stopped_early:
        reason = f"stopped early: {run.stopped_early}"
    return [case.name, case.what, verdict.outcome, served, expected, ratio, p95, reason]


HEADERS = ["case", "what", "outcome", "served req/s", "expected req/s", "ratio", "P95 ms", "first reason"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print the table."""
    local = yaml.safe_load((REPO / "thresholds.yaml").read_text())["profiles"]["local"]
    every = cases(local)
    parser = argparse.ArgumentParser(prog="python -m scripts.starved_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=[case.name for case in every], help="run only these")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "starved-bench")
    args = parser.parse_args(argv)
    rows = [
        row(case, cell_folder(run_case(case, args.out))) for case in every if not args.only or case.name in args.only
    ]
    print(text_table(HEADERS, rows, "l" * len(HEADERS)))
    # The search's own view of the early stop: when it came, of how long a probe.
    record_path = args.out / "early-stop" / "results" / SEARCH_FILE
    if record_path.is_file():
        record = read_record(record_path, SearchRecord)
        for probe in record.probes:
            print(f"\nearly-stop probe {probe.cell}: {probe.stopped_early or 'ran its full length'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
