"""Issue 20's Done-when cases on this machine: what the open loop and the histograms make of each service.

    /work/bin/load .venv/bin/python -m scripts.openloop_bench [--only CASE ...] [--out results/openloop-bench]

Each case is one `python -m loadtest run` on the process backend under cgroup limits, one cell, no
calibration (scripts.starved_bench's runner), against the reference service (scripts/reference_service.py)
or our API:

  n-in-100       reference service, exactly 10 of every 100 replies at 1,234 ms, the rest at 5 ms, 500 users
                 asking 0.4 req/s each (a 2.5 s period, longer than any reply): the verdict's P95 and P50
                 beside Locust's 95% column;
  stall-open     reference service holding every request for 8 s from 20 s after its first, 90 s of 300 users
                 of the `local` profile's scenario (constant_throughput: the open loop);
  stall-closed   the same stalled service, the same users with `between` waits of the same mean (a closed loop);
  flood          a flood one Locust process cannot send (4,000 users asking 2 req/s each of a reference
                 service that answers at once);
  workshop       the workshop's design (scikit-learn per request, scripts/baseline_server.py), 1 x 0.5 CPU,
                 a light load (100 users asking 0.5 req/s);
  starved        our API, 1 x 0.1 CPU, the `local` profile's 1,000 users;
  light          our API, 1 x 0.5 CPU, 100 users of the `local` profile's scenario.

It reports; it does not assert. Prints one table and each case's reasons, and leaves every run under --out.
docs/measurements/2026-12-05-open-loop.md keeps a dated run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from loadtest.records import VERDICT_FILE, RecordError, Verdict, read_record
from loadtest.util.tables import text_table
from scripts.starved_bench import BASELINE, PYTHON, REPO, Case, cell_folder, constant, run_case


def reference(*flags: str) -> str:
    """The reference service with these flags, as an `--api-command`."""
    script = shlex.quote(str(REPO / "scripts" / "reference_service.py"))
    return f"{PYTHON} {script} --port {{port}} --reuse-port {' '.join(flags)}"


def closed(pace: dict[str, Any]) -> dict[str, Any]:
    """The same users with `between` waits of the same mean gap (a closed loop): 1 / rate, +-50%."""
    waits = {}
    for kind, spec in pace.items():
        gap = 1.0 / float(spec["rate"])
        waits[kind] = {"between": [gap / 2, gap * 3 / 2]}
    return waits


def cases(local: dict[str, Any]) -> list[Case]:
    """Every case; `local` is thresholds.yaml's `local` profile (its paces and its 1,000 users); each runs the
    workshop's scenario file (the default) at its own paces."""
    one = {"replicas": [1], "warmup": "spawn", "memory": "512m"}
    scenario = local["pace"]
    stall = reference("--fast-ms", "5", "--stall-at", "20", "--stall-for", "8")
    stalled = {**one, "cpus": 1.0, "users": 300, "spawn_rate": 100, "run_time": "90s"}
    return [
        Case(
            "n-in-100",
            "10 of every 100 at 1,234 ms, else 5 ms; 500 users x 0.4 req/s",
            "run",
            {**one, "cpus": 1.0, "users": 500, "spawn_rate": 250, "run_time": "40s", "pace": constant(500, 0.4)},
            ["--api-command", reference("--fast-ms", "5", "--slow-every", "10", "--slow-ms", "1234")],
        ),
        Case(
            "stall-open",
            "8 s stall from 20 s, 90 s, 300 users of `local` (open loop)",
            "run",
            {**stalled, "pace": scenario},
            ["--api-command", stall],
        ),
        Case(
            "stall-closed",
            "the same stall, the same users with `between` waits (closed loop)",
            "run",
            {**stalled, "pace": closed(scenario)},
            ["--api-command", stall],
        ),
        Case(
            "flood",
            "a flood: 4,000 users x 2 req/s of an instant reference service",
            "run",
            {**one, "cpus": 1.0, "users": 4000, "spawn_rate": 1000, "run_time": "20s", "pace": constant(4000, 2.0)},
            ["--api-command", reference("--fast-ms", "0"), "--locust-workers", "1"],
        ),
        Case(
            "workshop",
            "the workshop's design, 1 x 0.5 CPU, 100 users x 0.5 req/s",
            "run",
            {**one, "cpus": 0.5, "users": 100, "spawn_rate": 100, "run_time": "30s", "pace": constant(100, 0.5)},
            ["--api-command", BASELINE, "--ready-timeout", "120"],
        ),
        Case(
            "starved",
            "our API, 1 x 0.1 CPU, `local`'s 1,000 users",
            "run",
            {
                **one,
                "cpus": 0.1,
                "users": local["users"],
                "spawn_rate": local["spawn_rate"],
                "run_time": "30s",
                "pace": scenario,
            },
        ),
        Case(
            "light",
            "our API, 1 x 0.5 CPU, 100 users of `local`",
            "run",
            {**one, "cpus": 0.5, "users": 100, "spawn_rate": 100, "run_time": "30s", "pace": scenario},
        ),
    ]


def _ms(value: float | None, at_least: bool = False) -> str:
    return "–" if value is None else f"{'≥' if at_least else ''}{value:,.0f}"


def row(case: Case, folder: Path | None) -> tuple[list[str], list[str]]:
    """One line of the table, and every reason, from the cell's verdict.json."""
    if folder is None:
        return [case.name, case.what, "no cell folder", *[""] * 8], []
    try:
        verdict = read_record(folder / VERDICT_FILE, Verdict)
    except RecordError as error:
        return [case.name, case.what, f"unreadable: {error}", *[""] * 8], []
    scope = verdict.latency[0] if verdict.latency else None
    counts = scope.counts if scope is not None else None
    corrected = scope.corrected if scope is not None else None
    uncorrected = scope.uncorrected if scope is not None else None
    locust = verdict.locust_figures.p95_ms if verdict.locust_figures is not None else verdict.p95_ms
    lag = verdict.generator_lag
    return [
        case.name,
        case.what,
        verdict.outcome,
        verdict.loop or "–",
        f"{counts.intended:,}/{counts.completed:,}/{counts.unfinished:,}" if counts else f"{verdict.requests:,}",
        _ms(corrected.p50_ms if corrected else None, corrected is not None and "p50_ms" in corrected.at_least),
        _ms(corrected.p95_ms if corrected else None, corrected is not None and "p95_ms" in corrected.at_least),
        _ms(uncorrected.p95_ms if uncorrected else None),
        _ms(locust),
        f"{lag.share:.2%}" if lag is not None else "–",
        f"{verdict.window.seconds:g}",
    ], verdict.reasons


HEADERS = [
    "case",
    "what",
    "outcome",
    "loop",
    "intended/answered/unfinished",
    "P50 corr. ms",
    "P95 corr. ms",
    "P95 uncorr. ms",
    "Locust 95% ms",
    "Locust late",
    "judged s",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print the table, then each case's reasons."""
    local = yaml.safe_load((REPO / "thresholds.yaml").read_text())["profiles"]["local"]
    every = cases(local)
    parser = argparse.ArgumentParser(prog="python -m scripts.openloop_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=[case.name for case in every], help="run only these")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "openloop-bench")
    args = parser.parse_args(argv)
    rows, reasons = [], []
    for case in every:
        if args.only and case.name not in args.only:
            continue
        line, why = row(case, cell_folder(run_case(case, args.out)))
        rows.append(line)
        reasons.append((case.name, why))
    print(text_table(HEADERS, rows, "lllllrrrrrr"))
    for name, why in reasons:
        print(f"\n{name}:" + "".join(f"\n  - {reason}" for reason in why or ["(pass: no reason)"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
