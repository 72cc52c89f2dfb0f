"""wrk benchmark of the inference service, on one core, in one run (`make bench`).

Three targets, each a server pinned to one CPU (--server-cpu) with wrk pinned to another
(--wrk-cpu), 1 wrk thread, --connections keep-alive connections:

  floor     GET / on the production service (`python -m api`): an async handler returning a
            small pydantic model, through the same uvicorn + uvloop + httptools, the same
            middleware (metrics, body limit, errors) and FastAPI routing as /predict.
            No model work: the stack's HTTP floor.
  predict   POST /predict on the same service: body validation + ONNX Runtime + JSON answer.
  baseline  POST /predict on scripts/baseline_server.py: plain FastAPI calling scikit-learn's
            predict_proba per request (the workshop's design), same uvicorn stack.
  validate  (diagnostic, not a target) POST /diagnostic/validate-only on
            scripts/diagnostic_server.py: the production app plus one route that reads and
            validates the same body and answers a constant. It splits the floor-to-predict
            gap into "JSON body in FastAPI" and "inference".

Throughput between consecutive runs drifts, so the targets are interleaved over --rounds
rounds (order rotated each round) and the table reports medians. Targets of the issue:
predict >= 0.8x floor, predict >= 15x baseline. The script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from loadtest.runner.linux.sockets import free_port
from loadtest.util.argtypes import integer, number
from loadtest.util.files import write_json_atomic
from loadtest.util.http import wait_until_ok

REPO = Path(__file__).resolve().parent.parent

PREDICT_BODY = '{"features": [5.1, 3.5, 1.4, 0.2]}'
FLOOR_TARGET = 0.8
BASELINE_TARGET = 15.0
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """One thing wrk hammers."""

    key: str
    label: str
    server: str  # "service", "baseline" or "diagnostic"
    method: str
    path: str


TARGETS = (
    Target("floor", "GET / (service, HTTP floor)", "service", "GET", "/"),
    Target("predict", "POST /predict (service, ONNX Runtime)", "service", "POST", "/predict"),
    Target("baseline", "POST /predict (baseline, scikit-learn)", "baseline", "POST", "/predict"),
    Target("validate", "POST, validation only (diagnostic)", "diagnostic", "POST", "/diagnostic/validate-only"),
)


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


class BenchError(Exception):
    """The benchmark cannot run or a run was invalid; the message says why."""


# ---------------------------------------------------------------- command line


def cpu_index(text: str) -> int:
    """argparse type: a CPU this process may run on."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a CPU number") from None
    allowed = sorted(os.sched_getaffinity(0))
    if value not in allowed:
        raise argparse.ArgumentTypeError(f"CPU {value} is not available (available: {allowed})")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option also reads an env var."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench",
        description="wrk benchmark: the service's POST /predict against its own HTTP floor "
        "(GET /) and against a plain scikit-learn FastAPI server, one core each.",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--duration",
        type=number(above=0),
        default=env("BENCH_DURATION", "3"),
        help="seconds per wrk run (env BENCH_DURATION, default: 3)",
    )
    load.add_argument(
        "--rounds",
        type=integer(minimum=1),
        default=env("BENCH_ROUNDS", "5"),
        help="interleaved rounds over the three targets; medians are reported (env BENCH_ROUNDS, default: 5)",
    )
    load.add_argument(
        "--connections",
        type=integer(minimum=1),
        default=env("BENCH_CONNECTIONS", "50"),
        help="wrk keep-alive connections (env BENCH_CONNECTIONS, default: 50)",
    )
    placement = parser.add_argument_group("placement")
    placement.add_argument(
        "--server-cpu",
        type=cpu_index,
        default=env("BENCH_SERVER_CPU", "1"),
        help="the one CPU every server is pinned to (env BENCH_SERVER_CPU, default: 1)",
    )
    placement.add_argument(
        "--wrk-cpu",
        type=cpu_index,
        default=env("BENCH_WRK_CPU", "0"),
        help="the CPU wrk is pinned to (env BENCH_WRK_CPU, default: 0)",
    )
    io_group = parser.add_argument_group("input and output")
    io_group.add_argument(
        "--model-dir",
        type=Path,
        default=Path(env("MODEL_DIR", "model")),
        help="artifacts both servers load (env MODEL_DIR, default: model)",
    )
    io_group.add_argument(
        "--json",
        type=Path,
        default=Path(env("BENCH_JSON", "results/bench/bench.json")),
        help="where to write every run and the summary as JSON (env BENCH_JSON, default: results/bench/bench.json)",
    )
    return parser


# ---------------------------------------------------------------- wrk


def parse_duration_ms(text: str) -> float:
    """wrk's '812.00us', '4.21ms', '1.02s', '1.50m' in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise BenchError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read requests/s, the 50th and 99th latency percentiles and errors from `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and total and p50 and p99):
        raise BenchError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=parse_duration_ms(p50.group(1)),
        p99_ms=parse_duration_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sock.groups()) if sock else 0,
    )


def wrk_script(folder: Path) -> Path:
    """A Lua script that only sets method, body and header, so wrk stays on its static path."""
    path = folder / "post_predict.lua"
    path.write_text(
        f'wrk.method = "POST"\nwrk.body = \'{PREDICT_BODY}\'\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    return path


def pin_to(cpu: int) -> Callable[[], None]:
    """preexec_fn that pins the child to one CPU."""
    return lambda: os.sched_setaffinity(0, {cpu})


def run_wrk(url: str, args: argparse.Namespace, script: Path | None, seconds: float) -> WrkResult:
    """One wrk run against `url`; raises BenchError on errors or non-2xx answers."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds:g}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    completed = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        preexec_fn=pin_to(args.wrk_cpu),
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    result = parse_wrk(completed.stdout)
    if result.non_2xx or result.socket_errors:
        raise BenchError(
            f"{url}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket errors "
            f"in {result.requests} requests; figures would be meaningless"
        )
    return result


# ---------------------------------------------------------------- servers


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the server on `port` answers /health with 200; BenchError if it dies or times out."""

    def gone() -> str | None:
        return None if process.poll() is None else f"exited with {process.returncode}"

    answer = wait_until_ok("127.0.0.1", port, "/health", timeout, gone, interval=0.2)
    if answer != 200:
        raise BenchError(f"server on port {port} was not ready within {timeout:.0f} s: {answer}")


def start_server(kind: str, port: int, args: argparse.Namespace, log: Path) -> subprocess.Popen[bytes]:
    """Start the service (`python -m api`), the baseline or the diagnostic server on `port`,
    pinned to --server-cpu."""
    if kind == "service":
        command = [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    else:
        command = [sys.executable, str(REPO / "scripts" / f"{kind}_server.py"), "--port", str(port)]
    env = {**os.environ, "MODEL_DIR": str(args.model_dir.resolve()), "API_WORKERS": "1"}
    with log.open("wb") as handle:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=pin_to(args.server_cpu),  # noqa: PLW1509 - no thread runs yet: the bench starts servers first
        )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- tables


def summarize(runs: dict[str, list[WrkResult]]) -> dict[str, dict[str, float]]:
    """Per target: median, min and max req/s and median p50/p99 latency."""
    summary = {}
    for key, results in runs.items():
        rps = [result.requests_per_s for result in results]
        summary[key] = {
            "rps_median": statistics.median(rps),
            "rps_min": min(rps),
            "rps_max": max(rps),
            "p50_ms": statistics.median(result.p50_ms for result in results),
            "p99_ms": statistics.median(result.p99_ms for result in results),
            "runs": len(results),
        }
    return summary


def ratios(summary: dict[str, dict[str, float]]) -> dict[str, float]:
    """predict/floor and predict/baseline (the targets) and validate/floor, from the medians."""
    predict = summary["predict"]["rps_median"]
    return {
        "predict_vs_floor": predict / summary["floor"]["rps_median"],
        "predict_vs_baseline": predict / summary["baseline"]["rps_median"],
        "validate_vs_floor": summary["validate"]["rps_median"] / summary["floor"]["rps_median"],
    }


def cost_split_us(summary: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per-request CPU time (1 core: 1e6 / req/s) of the floor and of each step past it."""
    per_request = {key: 1e6 / row["rps_median"] for key, row in summary.items()}
    return {
        "floor": per_request["floor"],
        "json_body": per_request["validate"] - per_request["floor"],
        "inference": per_request["predict"] - per_request["validate"],
        "predict": per_request["predict"],
    }


def format_table(summary: dict[str, dict[str, float]], found: dict[str, float]) -> str:
    """The human table: one row per target, then the two ratios against their targets."""
    lines = [
        f"{'target':42} {'req/s (median)':>14} {'min..max':>15} {'p50 ms':>8} {'p99 ms':>8}",
        "-" * 91,
    ]
    for target in TARGETS:
        row = summary[target.key]
        spread = f"{row['rps_min']:,.0f}..{row['rps_max']:,.0f}"
        lines.append(
            f"{target.label:42} {row['rps_median']:>14,.0f} {spread:>15} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        )
    floor, baseline = found["predict_vs_floor"], found["predict_vs_baseline"]
    split = cost_split_us(summary)
    lines += [
        "",
        f"per request on 1 core: floor {split['floor']:.0f} us, + JSON body in FastAPI "
        f"{split['json_body']:.0f} us, + inference {split['inference']:.0f} us "
        f"= POST /predict {split['predict']:.0f} us",
        f"validation-only POST vs HTTP floor:     {found['validate_vs_floor']:5.2f}x   (diagnostic)",
        f"POST /predict vs HTTP floor (GET /):     {floor:5.2f}x   "
        f"(target >= {FLOOR_TARGET}x: {'met' if floor >= FLOOR_TARGET else 'NOT met'})",
        f"POST /predict vs scikit-learn baseline: {baseline:5.1f}x   "
        f"(target >= {BASELINE_TARGET:g}x: {'met' if baseline >= BASELINE_TARGET else 'NOT met'})",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def rotated(items: Sequence[T], by: int) -> list[T]:
    """`items` rotated left by `by` (so no target always runs first)."""
    by %= len(items)
    return [*items[by:], *items[:by]]


def run(args: argparse.Namespace) -> int:
    """Start both servers, run every round, print the table, write the JSON."""
    if shutil.which("wrk") is None:
        raise BenchError("wrk not found on PATH (Debian/Ubuntu: apt-get install wrk)")
    if args.server_cpu == args.wrk_cpu:
        raise BenchError(f"--server-cpu and --wrk-cpu are both {args.server_cpu}; they must differ")
    if not (args.model_dir / "metadata.json").is_file():
        raise BenchError(f"{args.model_dir}/metadata.json not found; run `make model` first")
    ports = {"service": free_port(), "baseline": free_port(), "diagnostic": free_port()}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        script = wrk_script(scratch)
        servers = {}
        try:
            for kind, port in ports.items():
                servers[kind] = start_server(kind, port, args, scratch / f"{kind}.log")
            for kind, port in ports.items():
                try:
                    wait_ready(port, servers[kind])
                except BenchError as exc:
                    log = (scratch / f"{kind}.log").read_text(errors="replace")[-2000:]
                    raise BenchError(f"{exc}\n--- {kind} log ---\n{log}") from None
            print(
                f"servers on CPU {args.server_cpu}, wrk on CPU {args.wrk_cpu}: "
                f"{args.rounds} rounds x {len(TARGETS)} targets x {args.duration:g} s, "
                f"{args.connections} connections",
                flush=True,
            )
            runs: dict[str, list[WrkResult]] = {target.key: [] for target in TARGETS}

            def url_of(target: Target) -> str:
                return f"http://127.0.0.1:{ports[target.server]}{target.path}"

            def script_of(target: Target) -> Path | None:
                return script if target.method == "POST" else None

            for target in TARGETS:  # warm-up: imports, first allocations, caches
                run_wrk(url_of(target), args, script_of(target), 1.0)
            for round_index in range(args.rounds):
                for target in rotated(TARGETS, round_index):
                    result = run_wrk(url_of(target), args, script_of(target), args.duration)
                    runs[target.key].append(result)
                    print(
                        f"[round {round_index + 1}/{args.rounds}] {target.label:42} "
                        f"{result.requests_per_s:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                        f"p99 {result.p99_ms:7.2f} ms",
                        flush=True,
                    )
        finally:
            for process in servers.values():
                stop_server(process)
    summary = summarize(runs)
    found = ratios(summary)
    print()
    print(format_table(summary, found))
    write_json_atomic(
        args.json,
        {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python", "-m", "scripts.bench", *sys.argv[1:]]),
            "settings": {
                "duration_s": args.duration,
                "rounds": args.rounds,
                "connections": args.connections,
                "server_cpu": args.server_cpu,
                "wrk_cpu": args.wrk_cpu,
            },
            "targets": {target.key: target.label for target in TARGETS},
            "runs": {key: [asdict(result) for result in results] for key, results in runs.items()},
            "summary": summary,
            "ratios": found,
            "per_request_us": cost_split_us(summary),
        },
    )
    print(f"\nwrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; BenchError becomes one line on stderr and exit code 1."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
