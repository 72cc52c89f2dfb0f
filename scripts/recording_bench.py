"""What recording costs one Locust core, and how late an open loop's sends go out as the load grows.

    /work/bin/load .venv/bin/python -m scripts.recording_bench [--seconds 15] [--users 1000] [--repeats 3]

The null target (`loadtest.runner.null_target`, answers in microseconds) runs on core 0 and one
Locust process on core 1 (`taskset`), so Locust is the limit and nothing else shares its core.

1. **Cost of recording**: users without a wait ask as fast as Locust sends, once with Locust's
   plain FastHttpUser (nothing of ours imported) and once with PacedHttpUser recording every
   request; `--repeats` runs of each, alternated, so a drift of the machine hits both. The figure
   is the requests per second delivered after the ramp (Locust's own history).
2. **Generator lag**: open-loop users at `--rates` total requests per second (exponential gaps);
   from histograms.jsonl after the ramp: what was served, and how late the generator sent (the
   user was free, Locust was late): P50, P99, P99.9 and the share of sends late by more than 10,
   25 and 50 ms, to choose the threshold of the "Locust was late" rule.

It reports; it does not assert. docs/measurements/ keeps dated runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.gate.reading import HistoryFollower, HistoryRow
from loadtest.latency.recording import FILE_NAME, Recording, read_recording
from loadtest.runner.linux.sockets import free_port
from loadtest.util.tables import text_table

LOCUSTFILE = Path(__file__).with_name("recording_locustfile.py")
TARGET_CORE, LOCUST_CORE = 0, 1
RAMP_SECONDS = 3
"""Left out of every figure: the users start within the first second, the rest settles."""
LATE_MS = (10.0, 25.0, 50.0)


@dataclass(frozen=True)
class LagFigures:
    """An open-loop run's figures after the ramp."""

    asked_rps: float
    served_rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    late_shares: tuple[float, ...]
    """Share of paced sends the generator made later than each of LATE_MS."""


def delivered_rps(rows: Sequence[HistoryRow], ramp_seconds: int = RAMP_SECONDS) -> float:
    """Requests per second between the first Aggregated row `ramp_seconds` after the first one and the last."""
    aggregated = [row for row in rows if row.aggregated]
    if not aggregated:
        return 0.0
    start = next((row for row in aggregated if row.timestamp >= aggregated[0].timestamp + ramp_seconds), None)
    end = aggregated[-1]
    if start is None or end.timestamp <= start.timestamp:
        return 0.0
    return (end.requests - start.requests) / (end.timestamp - start.timestamp)


def lag_figures(recording: Recording, asked_rps: float, ramp_seconds: int = RAMP_SECONDS) -> LagFigures:
    """The generator's lag after the ramp, up to the last whole second before the books closed."""
    seconds = recording.seconds()
    if not seconds:
        return LagFigures(asked_rps, 0.0, *(float("nan"),) * 3, tuple(float("nan") for _ in LATE_MS))
    start = seconds[0] + ramp_seconds
    closed = recording.closed_at
    end = int(closed) - 1 if closed is not None else seconds[-1]
    total = recording.window(start, end).total()
    lags = total.lag_generator
    paced = max(lags.total, 1)
    return LagFigures(
        asked_rps=asked_rps,
        served_rps=total.completed / max(end - start, 1),
        p50_ms=lags.percentile(50) / 1000,
        p99_ms=lags.percentile(99) / 1000,
        p999_ms=lags.percentile(99.9) / 1000,
        late_shares=tuple(total.late_sends(limit) / paced for limit in LATE_MS),
    )


def locust_command(port: int, folder: Path, users: int, seconds: int) -> list[str]:
    """One Locust process on LOCUST_CORE, headless, its CSVs (and histograms) in `folder`."""
    return [
        *("taskset", "-c", str(LOCUST_CORE), sys.executable, "-m", "locust", f"--locustfile={LOCUSTFILE}"),
        *("--headless", f"--host=http://127.0.0.1:{port}", f"--users={users}", f"--spawn-rate={users}"),
        *(f"--run-time={seconds + RAMP_SECONDS}s", "--stop-timeout=2", f"--csv={folder / 'locust'}"),
        *("--csv-full-history", "--only-summary", "--exit-code-on-error=0"),
    ]


def run_locust(port: int, folder: Path, users: int, seconds: int, mode: str, rate: float = 0.0) -> None:
    """One run of the locustfile in `mode`; raises if Locust fails."""
    folder.mkdir(parents=True)
    environment = {**os.environ, "RECORDING_BENCH_MODE": mode, "RECORDING_BENCH_RATE": str(rate)}
    with (folder / "locust.log").open("w") as log:
        done = subprocess.run(
            locust_command(port, folder, users, seconds), env=environment, stdout=log, stderr=log, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"Locust ({mode}) exited {done.returncode}; see {folder / 'locust.log'}")


def start_target(port: int) -> subprocess.Popen[bytes]:
    """The null target on TARGET_CORE (ready once it accepts a connection)."""
    target = subprocess.Popen(
        ["taskset", "-c", str(TARGET_CORE), sys.executable, "-m", "loadtest.runner.null_target", "--port", str(port)]
    )
    import socket  # noqa: PLC0415 - only the readiness poll needs it

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return target
        except OSError:
            time.sleep(0.1)
    target.terminate()
    raise RuntimeError(f"the null target did not listen on port {port} within 15 s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run, after a 3-s ramp")
    parser.add_argument("--users", type=int, default=1000, help="users in the Locust process (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode for the cost (default 3)")
    parser.add_argument(
        "--rates", default="500,1000,1500,2000,2500,3000", help="total open-loop req/s for the lag sweep"
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the runs' folders here (default: a temp dir)")
    args = parser.parse_args(argv)
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        print("recording_bench needs taskset and 2 cores to pin Locust and the target apart", file=sys.stderr)
        return 2
    rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    out = args.out or Path(tempfile.mkdtemp(prefix="recording-bench-"))
    port = free_port()
    target = start_target(port)
    try:
        delivered: dict[str, list[float]] = {"plain": [], "recorded": []}
        for repeat in range(args.repeats):
            for mode in ("plain", "recorded") if repeat % 2 == 0 else ("recorded", "plain"):
                folder = out / f"cost-{mode}-{repeat + 1}"
                run_locust(port, folder, args.users, args.seconds, mode)
                rows = HistoryFollower(folder / "locust_stats_history.csv").new_rows()
                delivered[mode].append(delivered_rps(rows))
                print(f"  {mode:8s} run {repeat + 1}: {delivered[mode][-1]:,.0f} req/s", flush=True)
        lags = []
        for rate in rates:
            folder = out / f"lag-{rate:g}"
            run_locust(port, folder, args.users, args.seconds, "paced", rate / args.users)
            lags.append(lag_figures(read_recording(folder / FILE_NAME), rate))
            print(f"  open loop at {rate:,.0f} req/s: done", flush=True)
    finally:
        target.terminate()
        target.wait(timeout=10)
    plain, recorded = statistics.median(delivered["plain"]), statistics.median(delivered["recorded"])
    print(f"\nOne Locust core, {args.users:,} users without a wait, null target ({args.repeats} runs each, median):")
    print(
        text_table(
            ["locustfile", "delivered req/s", "runs"],
            [
                ["FastHttpUser, no recording", f"{plain:,.0f}", ", ".join(f"{v:,.0f}" for v in delivered["plain"])],
                ["PacedHttpUser, recording", f"{recorded:,.0f}", ", ".join(f"{v:,.0f}" for v in delivered["recorded"])],
            ],
            "lrl",
        )
    )
    print(f"recording costs {1 - recorded / plain:.1%} of what one core delivers" if plain else "no figure")
    print(f"\nOpen loop, {args.users:,} users, exponential gaps: the generator's lag (user free, Locust late):")
    print(
        text_table(
            ["asked req/s", "served req/s", "P50 ms", "P99 ms", "P99.9 ms", *(f"> {ms:g} ms" for ms in LATE_MS)],
            [
                [
                    f"{lag.asked_rps:,.0f}",
                    f"{lag.served_rps:,.0f}",
                    f"{lag.p50_ms:.1f}",
                    f"{lag.p99_ms:.1f}",
                    f"{lag.p999_ms:.1f}",
                    *(f"{share:.2%}" for share in lag.late_shares),
                ]
                for lag in lags
            ],
            "r" * (5 + len(LATE_MS)),
        )
    )
    print(f"\nruns kept in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
