"""Prometheus metrics (prometheus-client) and the pure-ASGI middleware that records them.

Each app gets its own registry. With several uvicorn workers, `python -m api` sets
PROMETHEUS_MULTIPROC_DIR before the workers start; every worker then writes its values to
files there and GET /metrics sums them, whichever worker answers the scrape.
"""

from __future__ import annotations

import os
from time import perf_counter

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from model.artifacts import Metadata

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Route label for requests that matched no route (404s): keeps label cardinality bounded.
UNMATCHED_ROUTE = "<unmatched>"
# From 0.25 ms (one in-process prediction) to the gate's 1 s P95 limit and beyond.
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    """The multiprocess folder if prometheus-client runs in multiprocess mode, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The service's metrics, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request reaching the app to the end of the response.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled right now.",
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "model_info",
            "The served model (value 1), labelled with its name and version.",
            ["name", "version"],
            multiprocess_mode="max",
            registry=self.registry,
        )
        self.model_quality = Gauge(
            "model_heldout_quality",
            "The served model's quality on its held-out split, by metric.",
            ["metric"],
            multiprocess_mode="max",
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and observe its latency."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def set_model(self, metadata: Metadata) -> None:
        """Publish the loaded model's identity and held-out quality."""
        self.model_info.labels(metadata.name, metadata.version).set(1)
        self.model_quality.labels("accuracy").set(metadata.metrics.accuracy)
        self.model_quality.labels("f1_macro").set(metadata.metrics.f1_macro)

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's registry, or every worker's files."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated
        return generate_latest(registry)


def mark_worker_dead(pid: int) -> None:
    """Drop a stopping worker's live gauges (in-progress) from the multiprocess files."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated


class MetricsMiddleware:
    """Pure ASGI: times every HTTP request and labels it with its route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._in_progress = metrics.in_progress

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self._in_progress.inc()
        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = perf_counter() - started
            self._in_progress.dec()
            route = scope.get("route")
            self.metrics.record(scope["method"], getattr(route, "path", UNMATCHED_ROUTE), status, elapsed)
