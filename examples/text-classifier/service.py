"""A text classifier that is not ours: the example service of docs/own-service.md.

    python examples/text-classifier/service.py --port 8000

Its API is its own, unlike the workshop's Iris service: `POST /v1/classify` takes `{"text": "..."}`
and answers `{"label": "positive" | "negative" | "neutral", "score": 0..1}`; `GET /v1/labels` lists
the labels; readiness is `GET /v1/ready`. A body without a string `text` is refused with 422, as
a FastAPI service would. The "model" is a tiny deterministic rule (counts of a few words), so the
example needs nothing but the standard library: what the gate measures here is the HTTP service,
and the example shows how to describe one that is not ours (scenario.yaml, thresholds.yaml).

Replicas of the process backend share one port (`{port}` in --api-command): the socket is opened
with SO_REUSEPORT so that each replica can bind it.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LABELS = ("negative", "neutral", "positive")
POSITIVE = frozenset({"good", "great", "love", "excellent", "fast", "happy", "nice", "works"})
NEGATIVE = frozenset({"bad", "awful", "hate", "slow", "broken", "sad", "poor", "fails"})
MAX_BODY_BYTES = 64 * 1024


def classify(text: str) -> dict[str, Any]:
    """The label of `text` and a score: the share of its sentiment words that agree with the label."""
    words = [word.strip(".,!?;:'\"()").lower() for word in text.split()]
    positive = sum(word in POSITIVE for word in words)
    negative = sum(word in NEGATIVE for word in words)
    if positive == negative:
        return {"label": "neutral", "score": 0.5}
    label = "positive" if positive > negative else "negative"
    return {"label": label, "score": round(max(positive, negative) / (positive + negative), 3)}


def body_problem(body: bytes) -> str | None:
    """Why a classify body is refused (a 422's detail), or None when it holds a string `text`."""
    try:
        document = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(document, dict) or not isinstance(document.get("text"), str):
        return 'the body must be a JSON object with a string "text"'
    return None


class Handler(BaseHTTPRequestHandler):
    """The three paths; every other one is a 404."""

    protocol_version = "HTTP/1.1"  # keep-alive: Locust's users reuse their connections
    # A reply goes out as two writes (the headers, then the body). With Nagle's algorithm the body waits
    # for the client's ACK of the headers, which a kept-alive client delays by up to 40 ms: the run's P95
    # rose from 5 to 44 ms as connections left TCP's quick-ACK start, and the gate read it "not steady".
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        if self.path == "/v1/ready":
            self.reply(200, {"ready": True})
        elif self.path == "/v1/labels":
            self.reply(200, {"labels": list(LABELS)})
        else:
            self.reply(404, {"detail": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            self.reply(413, {"detail": f"the body is over {MAX_BODY_BYTES} bytes"})
            return
        body = self.rfile.read(length)
        if self.path != "/v1/classify":
            self.reply(404, {"detail": "not found"})
            return
        problem = body_problem(body)
        if problem is not None:
            self.reply(422, {"detail": problem})
            return
        self.reply(200, classify(json.loads(body)["text"]))

    def reply(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # the base class's parameter name
        """Quiet: a load test would print a line per request."""


class Server(ThreadingHTTPServer):
    """A threading HTTP server whose port other replicas can share."""

    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The example text classifier (docs/own-service.md).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    args = parser.parse_args(argv)
    try:
        server = Server((args.host, args.port), Handler)
    except OSError as error:
        print(f"service.py: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever to return, so it runs outside the signal handler's thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
