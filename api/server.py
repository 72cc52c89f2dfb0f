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
from typing import Any

import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from api.inference import ServedModel
from api.metrics import MULTIPROC_ENV
from api.settings import LogLevel, Settings, get_settings
from model.artifacts import ArtifactError
from model.plumbing import integer

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

    def add_setting(group: argparse._ArgumentGroup, field: str, text: str, **kwargs: Any) -> None:
        """--FIELD (without `api_`), defaulting to the setting and naming its variable in the help."""
        default = getattr(settings, field)
        flag = "--" + field.removeprefix("api_").replace("_", "-")
        group.add_argument(flag, default=default, help=f"{text} (env {field.upper()}, default: {default})", **kwargs)

    server = parser.add_argument_group("server")
    add_setting(server, "api_host", "address to bind")
    add_setting(server, "api_port", "port to bind, 0 for any free one", type=integer(minimum=0, maximum=65535))
    add_setting(server, "api_workers", "worker processes sharing the socket", type=integer(minimum=1, maximum=64))
    add_setting(
        server,
        "api_reuse_port",
        "bind with SO_REUSEPORT so several `python -m api` processes share the port",
        action=argparse.BooleanOptionalAction,
    )
    add_setting(
        server,
        "api_keep_alive",
        "seconds an idle keep-alive connection stays open",
        type=integer(minimum=1, maximum=3600),
    )
    logging_group = parser.add_argument_group("logging")
    add_setting(logging_group, "api_log_level", "uvicorn log level", choices=LOG_LEVELS, type=str.lower)
    add_setting(
        logging_group,
        "api_access_log",
        "log every request; off by default, the metrics count them",
        action=argparse.BooleanOptionalAction,
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
        timeout_keep_alive=args.keep_alive,
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
