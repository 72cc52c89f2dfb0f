"""A reference service whose behaviour does not depend on the host's speed, behind `--api-command`.

It answers the workshop scenario's paths (`POST /predict` with a prediction, `GET /`, `GET /health`)
and does, per request, exactly what its flags say:

- a fixed CPU cost (`--cpu-ms`), spent by spinning until this thread's CPU clock has advanced by it,
  so that one replica's capacity is its CPU limit divided by the cost on any host: 0.5 CPU at 2 ms
  serves 250 req/s here, on a laptop and on a GitHub runner alike. The cost is kept as a ledger
  against the thread's CPU clock, so the server's own work per request (parsing, replying, far
  under 0.1 ms) is inside the cost, not added to it, whenever it is smaller;
- fixed latencies: every reply after `--fast-ms`, except exactly `--slow-every` of every 100 (spread
  evenly: any 100 consecutive requests hold exactly that many) after `--slow-ms`;
- a stall: from `--stall-at` s after the first request to `--stall-for` s later, every request that
  arrives is held until the stall ends;
- a leak: every reply `--leak-ms-per-s` ms slower per second since the first request;
- a fixed resident memory (`--memory-mb`, allocated and touched at start), so a memory limit under
  it is an OOM kill on every host.

The CPU cost comes first, then the wait: a replica serves one request's CPU at a time (one event
loop, as the API's one worker) and sleeps through as many waits as it is given. The health path
(`--health-path`, default /health) answers at once, costs nothing and does not count: readiness
probes before the load neither start the clock nor move the 1-in-100 pattern. Every other request
counts, whatever its path. Standard library only (uvloop when installed), so any interpreter of
the project runs it:

    python scripts/reference_service.py --port {port} --reuse-port --cpu-ms 2
    python scripts/reference_service.py --port {port} --slow-every 10 --slow-ms 1234 --fast-ms 5

Reference: docs/testing.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024
PAGE_BYTES = 4096
PREDICTION = {
    "prediction": "setosa",
    "class_id": 0,
    "probabilities": {"setosa": 1.0, "versicolor": 0.0, "virginica": 0.0},
    "model_version": "reference",
}
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required"}


@dataclass(frozen=True)
class Behaviour:
    """What every counted request costs and how long its reply takes (the command's flags)."""

    cpu_ms: float = 0.0
    fast_ms: float = 0.0
    slow_every: int = 0
    """How many of every 100 requests are slow (0-100)."""
    slow_ms: float = 0.0
    stall_at: float = 0.0
    """Seconds after the first request."""
    stall_for: float = 0.0
    """Seconds; 0: no stall."""
    leak_ms_per_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("cpu_ms", "fast_ms", "slow_ms", "stall_at", "stall_for", "leak_ms_per_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} is {value!r}: it must be a finite number, 0 or more")
        if not 0 <= self.slow_every <= 100:
            raise ValueError(f"slow_every is {self.slow_every!r}: it must be between 0 and 100 (of every 100)")

    def is_slow(self, index: int) -> bool:
        """Whether the `index`-th counted request (0-based) is one of the slow ones.

        Evenly spread (as a line is drawn on a grid): request i is slow when floor((i+1)*N/100)
        passes a whole number, so any 100 consecutive requests hold exactly N slow ones.
        """
        return (index + 1) * self.slow_every // 100 > index * self.slow_every // 100

    def delay_s(self, index: int, since_first_s: float) -> float:
        """How long the `index`-th counted request waits (after its CPU), arriving `since_first_s`
        seconds after the first."""
        delay = (self.slow_ms if self.is_slow(index) else self.fast_ms) / 1000
        delay += self.leak_ms_per_s * since_first_s / 1000
        stall_end = self.stall_at + self.stall_for
        if self.stall_for > 0 and self.stall_at <= since_first_s < stall_end:
            delay += stall_end - since_first_s
        return delay


class CpuLedger:
    """Spends exactly `cost_s` of a thread's CPU clock per charge, the thread's other work included.

    Each charge moves a target on the clock by the cost and spins until the clock reaches it; what
    the thread spent between two charges (the server's parsing, a health check) is inside the next
    cost. Only when that overhead is larger than the cost does the target start again from now, so
    the thread never owes work it could not have done (an idle replica does not bank CPU).
    """

    def __init__(self, cost_s: float, clock: Callable[[], float] = time.thread_time) -> None:
        self.cost_s, self.clock = cost_s, clock
        self.target: float | None = None

    def charge(self) -> float:
        """Spin until this charge's cost is spent; the thread's CPU clock at the end."""
        now = self.clock()
        if self.cost_s <= 0:
            return now
        self.target = now + self.cost_s if self.target is None else max(self.target + self.cost_s, now)
        while now < self.target:
            now = self.clock()
        return now


class Service:
    """One replica's state: how many requests it counted and when the first came."""

    def __init__(
        self,
        behaviour: Behaviour,
        health_path: str = "/health",
        clock: Callable[[], float] = time.monotonic,
        ledger: CpuLedger | None = None,
    ) -> None:
        self.behaviour, self.health_path, self.clock = behaviour, health_path, clock
        self.ledger = ledger or CpuLedger(behaviour.cpu_ms / 1000)
        self.counted = 0
        self.first_at: float | None = None

    def admit(self) -> float:
        """Count one request, spend its CPU, and say how long it then waits (seconds)."""
        now = self.clock()
        if self.first_at is None:
            self.first_at = now
        index, self.counted = self.counted, self.counted + 1
        self.ledger.charge()
        return self.behaviour.delay_s(index, now - self.first_at)

    async def reply(self, method: str, path: str) -> tuple[int, dict[str, object]]:
        """The status and JSON body for one request (after its CPU and its wait)."""
        if path == self.health_path:
            return (200, {"status": "ok", "model_loaded": True}) if method == "GET" else (405, {"detail": method})
        delay = self.admit()
        if delay > 0:
            await asyncio.sleep(delay)
        if path == "/predict":
            return (200, PREDICTION) if method == "POST" else (405, {"detail": f"{method} /predict"})
        if path == "/":
            if method != "GET":
                return 405, {"detail": f"{method} /"}
            return 200, {"service": "reference", "behaviour": asdict(self.behaviour)}
        return 404, {"detail": "Not Found"}


def response(status: int, body: dict[str, object], keep_alive: bool) -> bytes:
    """One HTTP/1.1 response."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\nconnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str]

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked."""
        connection = self.headers.get("connection", "").lower()
        return connection != "close" if self.version == "HTTP/1.1" else connection == "keep-alive"


def parse_head(head: bytes) -> Request:
    """The request line and headers; ValueError when they are not HTTP/1.x."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not HTTP/1.x: {request_line!r}")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return Request(method, target.split("?", 1)[0], version, headers)


async def serve_connection(service: Service, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Requests one after another on one keep-alive connection, until the client closes it."""
    try:
        while True:
            try:
                head = await reader.readuntil(HEAD_END)
                request = parse_head(head[: -len(HEAD_END)])
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            except (asyncio.LimitOverrunError, ValueError):
                writer.write(response(400, {"detail": "malformed request"}, keep_alive=False))
                return
            if "chunked" in request.headers.get("transfer-encoding", "").lower():
                writer.write(response(411, {"detail": "send a content-length"}, keep_alive=False))
                return
            try:
                length = int(request.headers.get("content-length", "0"))
                await reader.readexactly(length)
            except (ValueError, asyncio.IncompleteReadError, ConnectionError):
                return
            status, body = await service.reply(request.method, request.path)
            writer.write(response(status, body, request.keep_alive))
            await writer.drain()
            if not request.keep_alive:
                return
    except ConnectionError:
        return
    finally:
        writer.close()


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound, listening TCP socket (SO_REUSEPORT on request, so replicas can share the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(16384)
    return sock


async def serve(service: Service, sock: socket.socket) -> None:
    """Serve on `sock` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_connection(service, reader, writer)
        except asyncio.CancelledError:
            # Only the shutdown cancels a connection (asyncio.run ends the tasks left); left
            # unanswered, asyncio would log each as an error on the way out.
            return

    server = await asyncio.start_server(connected, sock=sock, limit=MAX_HEAD_BYTES)
    async with server:
        await stop.wait()


def ballast(megabytes: int) -> bytearray:
    """`megabytes` MiB of memory, every page written, so it is resident (a zeroed allocation is not)."""
    memory = bytearray(megabytes * 2**20)
    memory[::PAGE_BYTES] = b"\x01" * len(range(0, len(memory), PAGE_BYTES))
    return memory


def non_negative(text: str) -> float:
    """argparse type: a finite number, 0 or more, named in the error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number, 0 or more")
    return value


def whole(text: str, most: int | None = None) -> int:
    """argparse type: a whole number, 0 or more (and at most `most`), named in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or (most is not None and value > most):
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and {most}" if most else f"{text!r} is below 0")
    return value


def percent(text: str) -> int:
    """argparse type: a whole number from 0 to 100."""
    return whole(text, 100)


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(
        prog="python scripts/reference_service.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    arguments.add_argument("--port", type=int, required=True, help="port to bind")
    arguments.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    arguments.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (replicas share the port)")
    arguments.add_argument(
        "--health-path", default="/health", help="answered at once and not counted (default /health)"
    )
    arguments.add_argument(
        "--cpu-ms", type=non_negative, default=0.0, help="thread CPU time per request, ms (default 0)"
    )
    arguments.add_argument(
        "--fast-ms", type=non_negative, default=0.0, help="wait of an ordinary reply, ms (default 0)"
    )
    arguments.add_argument("--slow-every", type=percent, default=0, help="slow replies in every 100 (default 0)")
    arguments.add_argument("--slow-ms", type=non_negative, default=0.0, help="wait of a slow reply, ms (default 0)")
    arguments.add_argument("--stall-at", type=non_negative, default=0.0, help="stall start, s after the first request")
    arguments.add_argument("--stall-for", type=non_negative, default=0.0, help="stall length, s (default 0: none)")
    arguments.add_argument(
        "--leak-ms-per-s", type=non_negative, default=0.0, help="added wait per second since the first request, ms"
    )
    arguments.add_argument(
        "--memory-mb", type=whole, default=0, help="resident memory held from the start, MiB (default 0)"
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Hold the ballast, bind, then serve until stopped."""
    args = parser().parse_args(argv)
    behaviour = Behaviour(
        cpu_ms=args.cpu_ms,
        fast_ms=args.fast_ms,
        slow_every=args.slow_every,
        slow_ms=args.slow_ms,
        stall_at=args.stall_at,
        stall_for=args.stall_for,
        leak_ms_per_s=args.leak_ms_per_s,
    )
    held = ballast(args.memory_mb)
    try:
        sock = listening_socket(args.host, args.port, args.reuse_port)
    except OSError as error:
        print(f"reference service: cannot bind {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    service = Service(behaviour, args.health_path)
    settings = ", ".join(f"{key} {value:g}" for key, value in asdict(behaviour).items() if value)
    held_mib = len(held) // 2**20
    said = f"reference service on {args.host}:{args.port} ({settings or 'no cost, no wait'}; {held_mib} MiB held)"
    print(said, file=sys.stderr, flush=True)
    try:
        import uvloop  # noqa: PLC0415 - optional: the plain asyncio loop serves too, with more overhead per request
    except ImportError:
        asyncio.run(serve(service, sock))
    else:
        uvloop.run(serve(service, sock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
