"""`python -m api`: the production server (uvicorn + uvloop + httptools), as the container runs it.

The artifacts are verified before the port is bound, so a missing or tampered model stops
start-up with one clear line and exit code 1, never a traceback. The listening socket is
bound here (SO_REUSEPORT with --reuse-port, so several processes can share one port) and
handed to uvicorn; with --workers > 1 the workers share it and prometheus-client runs in
multiprocess mode so /metrics counts every worker's requests.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from api.inference import ServedModel
from api.metrics import MULTIPROC_ENV
from api.settings import LogLevel, Settings, get_settings
from model.argtypes import integer
from model.artifacts import ArtifactError

APP = "api.app:app"
EXIT_STARTUP_FAILURE = 1
EXIT_USAGE = 2
LOG_LEVELS: tuple[LogLevel, ...] = ("critical", "error", "warning", "info", "debug", "trace")


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """The command line; every default comes from the environment through `settings`."""
    parser = argparse.ArgumentParser(
        prog="python -m api",
        description="Serve the Iris model (ONNX Runtime) with uvicorn, uvloop and httptools. "
        "MODEL_DIR selects the artifacts (default: model).",
    )
    server = parser.add_argument_group("server")
    server.add_argument(
        "--host", default=settings.api_host, help=f"address to bind (env API_HOST, default: {settings.api_host})"
    )
    server.add_argument(
        "--port",
        type=integer(minimum=0, maximum=65535),
        default=settings.api_port,
        help=f"port to bind, 0 for any free one (env API_PORT, default: {settings.api_port})",
    )
    server.add_argument(
        "--workers",
        type=integer(minimum=1, maximum=64),
        default=settings.api_workers,
        help=f"worker processes sharing the socket (env API_WORKERS, default: {settings.api_workers})",
    )
    server.add_argument(
        "--reuse-port",
        action=argparse.BooleanOptionalAction,
        default=settings.api_reuse_port,
        help="bind with SO_REUSEPORT so several `python -m api` processes share the port "
        "(env API_REUSE_PORT, default: %(default)s)",
    )
    logging_group = parser.add_argument_group("logging")
    logging_group.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.lower,
        default=settings.api_log_level,
        help=f"uvicorn log level (env API_LOG_LEVEL, default: {settings.api_log_level})",
    )
    logging_group.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=settings.api_access_log,
        help="log every request; off by default, the metrics count them "
        "(env API_ACCESS_LOG, default: %(default)s)",
    )
    return parser


def bind_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A bound TCP socket (uvicorn listens on it), with SO_REUSEPORT if asked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace, sock: socket.socket, model: ServedModel) -> int:
    """Run uvicorn on `sock` until it is stopped; return the exit code."""
    config = uvicorn.Config(
        APP,
        loop="uvloop",
        http="httptools",
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
        server_header=False,
        lifespan="on",
    )
    host, port = sock.getsockname()[:2]
    # uvicorn does not announce sockets it is handed; say where we listen (the port may be 0).
    logging.getLogger("uvicorn.error").info(
        "Serving %s %s on http://%s:%d with %d worker(s)%s (Press CTRL+C to quit)",
        model.metadata.name,
        model.version,
        f"[{host}]" if ":" in host else host,
        port,
        args.workers,
        ", SO_REUSEPORT" if args.reuse_port else "",
    )
    if args.workers == 1:
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        return 0 if server.started else EXIT_STARTUP_FAILURE
    created = MULTIPROC_ENV not in os.environ
    metrics_dir = os.environ.setdefault(MULTIPROC_ENV, tempfile.mkdtemp(prefix="api-metrics-"))
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if created:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            del os.environ[MULTIPROC_ENV]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, verify the model, bind the socket and serve."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(error['loc'][0]).upper()}={error.get('input')!r}: {error['msg']}" for error in exc.errors()
        )
        print(f"error: invalid environment: {problems}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser(settings).parse_args(argv)
    try:
        model = ServedModel.load(settings.model_dir)
    except ArtifactError as exc:
        print(f"error: cannot start: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    try:
        sock = bind_socket(args.host, args.port, args.reuse_port)
    except OSError as exc:
        print(f"error: cannot bind {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_STARTUP_FAILURE
    with sock:
        return serve(args, sock, model)
