"""`python -m loadtest.runner.null_target --port PORT [--replies FILE]`: an HTTP server that costs (almost) nothing.

It answers every request at once over keep-alive connections. Without `--replies`, with 200 and a
fixed prediction of our API, whatever the path and body. With `--replies` (a JSON file that
`replies_for` writes from a scenario), each request of the scenario gets a reply its `expect`
accepts (its status, a JSON body holding its keys and matching its schema where one can be
built), so that a calibration measures Locust doing what the cells will make it do, successes
included; any other request gets the default reply. The runner calibrates Locust against it
(whatever Locust delivers here is Locust's own ceiling), and with `--api-command` it stands in for
a service that is never the limit. One event loop (uvloop when installed), one core; it serves
tens of thousands of small requests a second, several times what one Locust process can send.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from loadtest.scenario import Scenario
from loadtest.scenario.model import Expect
from loadtest.scenario.prepared import ReplyCheck

BODY = (
    b'{"prediction":"setosa","class_id":0,"probabilities":{"setosa":1.0,"versicolor":0.0,"virginica":0.0},'
    b'"model_version":"null","status":"ok"}'
)
_END_OF_HEAD = b"\r\n\r\n"
_LENGTH = b"content-length:"


def response(status: int, body: bytes) -> tuple[bytes, bytes]:
    """The bytes of a reply: its head (with the body's length) and its body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode(), body


DEFAULT_REPLY = response(200, BODY)
RESPONSE = b"".join(DEFAULT_REPLY)
"""The default reply, whole (what every request gets without `--replies`)."""


# --------------------------------------------------------------------------- what the scenario expects


def example_of(schema: Mapping[str, Any]) -> Any:
    """A small instance of a JSON Schema, for the common cases (const, enum, type with its bounds,
    an object's required properties, an array's minItems); None where the schema asks for more."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((name for name in kind if name != "null"), kind[0] if kind else None)
    properties = schema.get("properties", {})
    if kind == "object" or (kind is None and ("properties" in schema or "required" in schema)):
        return {name: example_of(properties.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return [example_of(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    return None


def expected_body(expect: Expect) -> bytes:
    """A body the check of `expect` accepts: our API's prediction when it does, else one built from the
    schema and the keys (when no body passes, the calibration counts the failures: Locust's cost per
    request is about the same either way)."""
    check = ReplyCheck.of(expect)
    if check.problem(expect.status, BODY) is None:
        return BODY
    document = example_of(expect.json_schema) if expect.json_schema is not None else {}
    if expect.json_keys:
        document = document if isinstance(document, dict) else {}
        document = {**dict.fromkeys(expect.json_keys), **document}
    return json.dumps(document, separators=(",", ":")).encode()


def replies_for(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """What the null target answers each request of `scenario`, by "METHOD target" (the `--replies` file)."""
    return {
        f"{request.method} {request.path}": {
            "status": request.expect.status,
            "body": expected_body(request.expect).decode(),
        }
        for request in scenario.requests
    }


def read_replies(path: Path) -> dict[bytes, tuple[bytes, bytes]]:
    """A `--replies` file as the server uses it: (method, target) bytes -> the reply's head and body."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return {key.encode(): response(int(value["status"]), value["body"].encode()) for key, value in document.items()}


# --------------------------------------------------------------------------- the server


class NullProtocol(asyncio.Protocol):
    """Reads requests (head, then as many body bytes as Content-Length says) and answers each at once."""

    def __init__(self, replies: Mapping[bytes, tuple[bytes, bytes]] | None = None) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.buffer = b""
        self.replies = replies or {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; every stream transport writes.
        self.transport = transport  # type: ignore[assignment]  # a stream protocol gets a write transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(_END_OF_HEAD)) >= 0:
            raw_head = self.buffer[:end]
            head = raw_head.lower()
            start = head.find(_LENGTH)
            length = int(head[start + len(_LENGTH) :].split(b"\r\n", 1)[0]) if start >= 0 else 0
            if len(self.buffer) < end + len(_END_OF_HEAD) + length:
                return
            self.buffer = self.buffer[end + len(_END_OF_HEAD) + length :]
            if self.transport is not None:
                self.transport.write(self.reply_to(raw_head))

    def reply_to(self, head: bytes) -> bytes:
        """The reply to the request whose head is `head` (a HEAD request gets the head alone)."""
        if not self.replies:
            return RESPONSE
        request_line = head.split(b"\r\n", 1)[0]
        method, _, rest = request_line.partition(b" ")
        target = rest.rpartition(b" ")[0]
        reply_head, body = self.replies.get(method + b" " + target, DEFAULT_REPLY)
        return reply_head if method == b"HEAD" else reply_head + body


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound, listening TCP socket (SO_REUSEPORT on request, so replicas can share the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(16384)
    return sock


async def serve(sock: socket.socket, replies: Mapping[bytes, tuple[bytes, bytes]] | None = None) -> None:
    """Serve on `sock` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(lambda: NullProtocol(replies), sock=sock)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Bind, then serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.runner.null_target", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to bind")
    parser.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (replicas share the port)")
    parser.add_argument(
        "--replies", type=Path, metavar="FILE", help="the reply to each request of a scenario (JSON; see replies_for)"
    )
    args = parser.parse_args(argv)
    try:
        replies = read_replies(args.replies) if args.replies is not None else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"null target: cannot read the replies in {args.replies}: {error}", file=sys.stderr)
        return 1
    try:
        sock = listening_socket(args.host, args.port, args.reuse_port)
    except OSError as error:
        print(f"null target: cannot bind {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        import uvloop  # noqa: PLC0415 - optional: the plain asyncio loop serves too, a little slower
    except ImportError:
        asyncio.run(serve(sock, replies))
    else:
        uvloop.run(serve(sock, replies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
