"""Issue 21's Done-when on this machine: runs that stop when they know, measured, not asserted.

    /work/bin/load .venv/bin/python -m scripts.confidence_runs [--only CASE ...] [--out results/confidence-runs]
    /work/bin/load .venv/bin/python -m scripts.confidence_runs --only healthy --healthy-runs 20

Each case is one `python -m loadtest run` on the process backend: one replica (1 CPU, 256m) of the
reference service (scripts/reference_service.py) behind `--api-command`, under 500 users each asking 0.4
requests a second (a period of 2.5 s, longer than any reply, so the share over 1,000 ms is N% with or
without the correction), a 1 s ramp that is not judged, then `run_time` 60 s and `max_run_time` 120 s:

  n2       replies 5 ms except exactly 2 of every 100 at 1,500 ms: a pass, at run_time;
  n12      12 of every 100 at 1,500 ms: a breach, the run stopped early (well before run_time);
  n5       5 of every 100 (the share sits on the limit): inconclusive "too close to call" after extending
           to max_run_time, never pass or breach;
  leak     every reply 10 ms slower per second of the run (~600 ms at 60 s): never a pass ("not steady",
           or a breach once the extension carries it over the limit);
  healthy  the n2 service in short cells (`--healthy-run-time`, default 15 s, no extension), run
           `--healthy-runs` times (default 20): how many verdicts of each kind.

It reports; it does not assert. Prints one table (and the healthy cells' tally) and leaves every run under
--out. Reference: docs/measurement.md, docs/measurements/2026-12-05-confidence.md.
"""

from __future__ import annotations

import argparse
import collections
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loadtest.records import RUN_FILE, VERDICT_FILE, RecordError, RunRecord, Verdict, read_record
from loadtest.util.tables import text_table

REPO = Path(__file__).resolve().parent.parent
PYTHON = shlex.quote(sys.executable)
USERS = 500
RATE = 0.4
"""Requests a second each user asks: 200 req/s in all."""
SLOW_MS = 1500
SCENARIO_FILE = "scenario.yaml"
SCENARIO = f"""\
requests:
  - {{method: POST, path: /predict, json: {{features: [5.1, 3.5, 1.4, 0.2]}}, expect: {{json_keys: [prediction]}}}}
users:
  client: {{share: 1, rate: {RATE}, arrivals: constant}}
"""
"""Beside each case's thresholds.yaml: POST /predict only, each user asking `RATE` a second at regular times."""
FAST_MS = 5


def reference_command(**flags: float) -> str:
    """The reference service with these flags (`slow_every=2` is `--slow-every 2`), as an `--api-command`."""
    script = shlex.quote(str(REPO / "scripts" / "reference_service.py"))
    words = [f"--{name.replace('_', '-')} {value:g}" for name, value in flags.items()]
    return f"{PYTHON} {script} --port {{port}} --reuse-port " + " ".join(words)


def profile(run_time: str, max_run_time: str | None) -> dict[str, Any]:
    """One cell under issue 21's load; the ramp (1 s at 500 users a second) is not judged."""
    found: dict[str, Any] = {
        "users": USERS,
        "spawn_rate": USERS,
        "run_time": run_time,
        "replicas": [1],
        "cpus": 1.0,
        "memory": "256m",
        "warmup": "spawn",
        # One request, one kind of user, regular arrivals, as the issue's cases assume: every intended request
        # is one the service counts (the workshop's `GET /health` is not), and with a period (2.5 s) longer
        # than any reply no send waits behind a slow one (exponential gaps put 45% of them within 1.5 s).
        "scenario_file": SCENARIO_FILE,
    }
    if max_run_time is not None:
        found["max_run_time"] = max_run_time
    return found


@dataclass(frozen=True)
class Case:
    """One measured run: its profile (thresholds.yaml's `case`), its service and what the issue expects."""

    name: str
    what: str
    expected: str
    service: str
    profile: dict[str, Any] = field(default_factory=dict)


def slow(every: int) -> str:
    return reference_command(fast_ms=FAST_MS, slow_every=every, slow_ms=SLOW_MS)


def cases(healthy_run_time: str = "15s") -> list[Case]:
    """Every case of the issue's Done-when; `healthy` is the one the tally repeats."""
    issue = profile("61s", "121s")  # 60 s and 120 s after the 1 s ramp
    return [
        Case("n2", "2 of every 100 replies at 1,500 ms", "pass at run_time", slow(2), issue),
        Case("n12", "12 of every 100 replies at 1,500 ms", "breach, stopped early", slow(12), issue),
        Case("n5", "5 of every 100 replies at 1,500 ms", "inconclusive at max_run_time", slow(5), issue),
        Case(
            "leak",
            "every reply 10 ms slower per second",
            "never pass",
            reference_command(fast_ms=FAST_MS, leak_ms_per_s=10),
            issue,
        ),
        Case(
            "healthy",
            f"2 of every 100 at 1,500 ms, {healthy_run_time} cells",
            "the same verdict every time",
            slow(2),
            profile(healthy_run_time, None),
        ),
    ]


def run_case(case: Case, out: Path) -> tuple[Path, float]:
    """Run one case into `out/` (its thresholds.yaml and results); its results folder and wall seconds."""
    out.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    document["profiles"] = {"case": case.profile}
    thresholds = out / "thresholds.yaml"
    thresholds.write_text(yaml.safe_dump(document))
    (out / SCENARIO_FILE).write_text(SCENARIO)
    results = out / "results"
    argv = [sys.executable, "-m", "loadtest", "run", "--thresholds", str(thresholds), "--profile", "case"]
    argv += ["--out", str(results), "--no-calibration", "--api-command", case.service]
    print(f"$ {shlex.join(argv[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    subprocess.run(argv, cwd=REPO, check=False)
    return results, time.monotonic() - started


def cell_folder(results: Path) -> Path | None:
    """The one cell folder a run left."""
    folders = sorted(path for path in results.iterdir() if path.is_dir()) if results.is_dir() else []
    return folders[0] if folders else None


def row(case: Case, folder: Path | None, seconds: float) -> list[str]:
    """One line of the table from the cell's verdict.json and run.json."""
    head = [case.name, case.what, case.expected]
    if folder is None:
        return [*head, "no cell folder", "", "", "", "", f"{seconds:.0f}", ""]
    try:
        verdict = read_record(folder / VERDICT_FILE, Verdict)
        run = read_record(folder / RUN_FILE, RunRecord)
    except RecordError as error:
        return [*head, f"unreadable: {error}", "", "", "", "", f"{seconds:.0f}", ""]
    looks = verdict.sequential
    p95 = next((check for check in verdict.checks if check.name == "max_p95_ms" and check.scope == "Aggregated"), None)
    share = (
        f"{p95.estimate:.1%} [{p95.lower:.1%}, {p95.upper:.1%}]"
        if p95 is not None and p95.estimate is not None and p95.lower is not None and p95.upper is not None
        else "–"
    )
    how = "–"
    blocks = "–"
    if looks is not None:
        how = "stopped early" if looks.stopped_early else "extended" if looks.extended else "at run_time"
        blocks = f"{looks.blocks} of {looks.run_blocks}-{looks.max_blocks} x {looks.block_seconds:g} s"
    judged = f"{verdict.window.seconds:.0f}" if verdict.window.seconds else "–"
    reason = verdict.reasons[0] if verdict.reasons else ""
    if run.stopped_early and not reason:
        reason = run.stopped_early
    return [*head, verdict.outcome, how, blocks, share, judged, f"{seconds:.0f}", reason]


HEADERS = ["case", "service", "expected", "verdict", "when", "blocks", "share over 1 s", "judged s", "wall s", "reason"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print the table."""
    parser = argparse.ArgumentParser(prog="python -m scripts.confidence_runs", description=__doc__.split("\n")[0])
    names = [case.name for case in cases()]
    parser.add_argument("--only", action="append", choices=names, help="run only these")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "confidence-runs")
    parser.add_argument("--healthy-runs", type=int, default=20, help="how many healthy cells (default 20)")
    parser.add_argument("--healthy-run-time", default="15s", help="each healthy cell's run time (default 15s)")
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    tally: collections.Counter[str] = collections.Counter()
    for case in cases(args.healthy_run_time):
        if args.only and case.name not in args.only:
            continue
        repeats = args.healthy_runs if case.name == "healthy" else 1
        for index in range(1, repeats + 1):
            folder = args.out / (f"{case.name}-{index:02d}" if repeats > 1 else case.name)
            results, seconds = run_case(case, folder)
            line = row(case, cell_folder(results), seconds)
            if repeats > 1:
                line[0] = f"{case.name} {index}"
                tally[line[3]] += 1
            rows.append(line)
            print(text_table(HEADERS, [line], "l" * len(HEADERS)), file=sys.stderr, flush=True)
    print(text_table(HEADERS, rows, "l" * len(HEADERS)))
    if tally:
        print("\nhealthy cells: " + ", ".join(f"{count} {outcome}" for outcome, count in tally.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
