"""In-process benchmark: what each part of a request costs inside the app, without sockets.

`make bench` measures the service over HTTP with wrk; this script calls the same ASGI app
(plus the diagnostic routes of scripts/diagnostic_server.py) directly, with the lifespan run
and the lifespan state passed in every request's scope as uvicorn does, so the figures hold
only the app's own work: middleware, routing, body handling, inference, rendering.

  GET /                           the floor's app part
  POST /diagnostic/no-body        a POST on a router like /predict's that never reads its body
  POST /diagnostic/validate-only  reads and validates the /predict body, answers a constant
  POST /predict                   the real thing

The targets are interleaved over --rounds rounds of --calls calls each; the table shows the
fastest and the median round (µs per request). Then the inference step (ServedModel.predict_json:
array, ONNX Runtime, serving rule, orjson) and the ONNX Runtime call alone, timed inside
requests (a timing wrapper on the loaded model) and in a tight loop: the difference is what the
rest of the request costs them in CPU caches. The script prints figures; it asserts nothing.

    .venv/bin/python scripts/inprocess_bench.py [--rounds 15] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from api.inference import PROBE_ROW, ServedModel
from loadtest.util.argtypes import integer
from model.artifacts import ArtifactError
from model.predictor import INPUT_NAME, PROBABILITIES_OUTPUT
from scripts.bench import rotated
from scripts.diagnostic_server import create_diagnostic_app

PREDICT_BODY = b'{"features": [5.1, 3.5, 1.4, 0.2]}'
TARGETS: tuple[tuple[str, str, bytes], ...] = (
    ("GET", "/", b""),
    ("POST", "/diagnostic/no-body", PREDICT_BODY),
    ("POST", "/diagnostic/validate-only", PREDICT_BODY),
    ("POST", "/predict", PREDICT_BODY),
)
Timings = dict[str, list[int]]


class BenchError(Exception):
    """A request did not answer 200; the message says which and how."""


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option also reads an env var."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python scripts/inprocess_bench.py",
        description="Per-request cost of the app's parts, calling the ASGI app without sockets.",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--rounds",
        type=integer(minimum=1),
        default=env("INPROC_ROUNDS", "15"),
        help="interleaved rounds over the targets (env INPROC_ROUNDS, default: 15)",
    )
    load.add_argument(
        "--calls",
        type=integer(minimum=1),
        default=env("INPROC_CALLS", "2000"),
        help="requests per target per round (env INPROC_CALLS, default: 2000)",
    )
    return parser


def http_scope(method: str, path: str, body: bytes, state: dict[str, Any]) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it, with the lifespan state copied in."""
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"inprocess-bench")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),
    }


async def call(app: Any, method: str, path: str, body: bytes, state: dict[str, Any]) -> None:
    """One request through the app; BenchError unless it answers 200."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(http_scope(method, path, body, state), receive, send)
    if not messages or messages[0].get("status") != 200:
        answer = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        status = messages[0].get("status") if messages else "no answer"
        raise BenchError(f"{method} {path} answered {status}: {answer[:200]!r}")


async def per_request_us(app: Any, target: tuple[str, str, bytes], calls: int, state: dict[str, Any]) -> float:
    """Mean µs per request over `calls` requests to `target`."""
    started = time.perf_counter()
    for _ in range(calls):
        await call(app, *target, state)
    return (time.perf_counter() - started) / calls * 1e6


def timed(function: Callable[..., Any], into: list[int]) -> Callable[..., Any]:
    """`function`, appending the ns each call takes to `into`."""

    def wrapper(*args: Any) -> Any:
        started = time.perf_counter_ns()
        try:
            return function(*args)
        finally:
            into.append(time.perf_counter_ns() - started)

    return wrapper


def tight_loop_us(function: Callable[[], Any], calls: int) -> float:
    """Median µs of `function` called back to back."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


async def measure(rounds: int, calls: int) -> tuple[dict[str, list[float]], Timings, dict[str, float]]:
    """Per-target round means, inference timings inside requests, and tight-loop medians."""
    app = create_diagnostic_app()
    async with app.router.lifespan_context(app) as lifespan_state:
        state = dict(lifespan_state or {})
        warm = max(1, calls // 5)
        for target in TARGETS:
            await per_request_us(app, target, warm, state)
        rounds_us: dict[str, list[float]] = {f"{m} {p}": [] for m, p, _ in TARGETS}
        for index in range(rounds):
            for target in rotated(TARGETS, index):
                rounds_us[f"{target[0]} {target[1]}"].append(await per_request_us(app, target, calls, state))
        model: ServedModel = state["model"]
        predictor = model.predictor
        run, predict_json = predictor.run_session, model.predict_json
        inside: Timings = {"inference step": [], "ONNX Runtime call": []}
        predictor.run_session = timed(run, inside["ONNX Runtime call"])
        model.predict_json = timed(predict_json, inside["inference step"])  # type: ignore[method-assign]  # timed in place, restored below
        try:
            await per_request_us(app, TARGETS[-1], calls, state)
        finally:
            predictor.run_session = run
            model.predict_json = predict_json  # type: ignore[method-assign]  # the real method back
        array = np.array([PROBE_ROW], dtype=np.float32)
        tight = {
            "inference step": tight_loop_us(lambda: model.predict_json(PROBE_ROW), calls),
            "ONNX Runtime call": tight_loop_us(lambda: run([PROBABILITIES_OUTPUT], {INPUT_NAME: array}), calls),
        }
    return rounds_us, inside, tight


def render(rounds_us: dict[str, list[float]], inside: Timings, tight: dict[str, float]) -> str:
    """The two tables as text."""
    lines = [f"{'request':36s} {'fastest round':>14s} {'median round':>13s}   (µs per request)"]
    floor = min(next(iter(rounds_us.values())))
    for name, values in rounds_us.items():
        lines.append(
            f"{name:36s} {min(values):14.1f} {statistics.median(values):13.1f}   floor + {min(values) - floor:5.1f}"
        )
    lines += ["", f"{'inside POST /predict':36s} {'in a request':>14s} {'tight loop':>13s}   (median µs)"]
    for name, samples in inside.items():
        lines.append(f"{name:36s} {statistics.median(samples) / 1000:14.1f} {tight[name]:13.1f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; exit 1 with one line if a request fails."""
    args = build_parser().parse_args(argv)
    try:
        rounds_us, inside, tight = asyncio.run(measure(args.rounds, args.calls))
    except (BenchError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(render(rounds_us, inside, tight))
    return 0


if __name__ == "__main__":
    sys.exit(main())
