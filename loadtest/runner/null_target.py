"""`python -m loadtest.runner.null_target --port PORT`: an HTTP server that costs (almost) nothing.

It answers every request, whatever its path and body, with 200 and a fixed prediction, over
keep-alive connections. The runner calibrates Locust against it (whatever Locust delivers here
is Locust's own ceiling), and with `--api-command` it stands in for a service that is never the
limit. One event loop (uvloop when installed), one core; it serves tens of thousands of small
requests a second, several times what one Locust process can send.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from collections.abc import Sequence

BODY = (
    b'{"prediction":"setosa","class_id":0,"probabilities":{"setosa":1.0,"versicolor":0.0,"virginica":0.0},'
    b'"model_version":"null","status":"ok"}'
)
RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)
_END_OF_HEAD = b"\r\n\r\n"
_LENGTH = b"content-length:"


class NullProtocol(asyncio.Protocol):
    """Reads requests (head, then as many body bytes as Content-Length says) and answers each at once."""

    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; every stream transport writes.
        self.transport = transport  # type: ignore[assignment]  # a stream protocol gets a write transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(_END_OF_HEAD)) >= 0:
            head = self.buffer[:end].lower()
            start = head.find(_LENGTH)
            length = int(head[start + len(_LENGTH) :].split(b"\r\n", 1)[0]) if start >= 0 else 0
            if len(self.buffer) < end + len(_END_OF_HEAD) + length:
                return
            self.buffer = self.buffer[end + len(_END_OF_HEAD) + length :]
            if self.transport is not None:
                self.transport.write(RESPONSE)


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound, listening TCP socket (SO_REUSEPORT on request, so replicas can share the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(16384)
    return sock


async def serve(sock: socket.socket) -> None:
    """Serve on `sock` until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(NullProtocol, sock=sock)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Bind, then serve until stopped."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.runner.null_target", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to bind")
    parser.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (replicas share the port)")
    args = parser.parse_args(argv)
    try:
        sock = listening_socket(args.host, args.port, args.reuse_port)
    except OSError as error:
        print(f"null target: cannot bind {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        import uvloop  # noqa: PLC0415 - optional: the plain asyncio loop serves too, a little slower
    except ImportError:
        asyncio.run(serve(sock))
    else:
        uvloop.run(serve(sock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
