"""The ASGI application, `api.app:app`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from api import SERVICE_NAME, __version__
from api.errors import request_validation_handler
from api.lifespan import lifespan
from api.metrics import Metrics, MetricsMiddleware
from api.routers import health, metrics, predict, root
from api.settings import get_settings


def create_app() -> FastAPI:
    """Build the app: routers, metrics middleware, body limit. The model loads in the lifespan."""
    app = FastAPI(
        title=SERVICE_NAME,
        version=__version__,
        summary="Iris RandomForest classifier served with ONNX Runtime.",
        lifespan=lifespan,
        exception_handlers={RequestValidationError: request_validation_handler},
        # Metrics are ours (prometheus-client); skip the per-request OpenTelemetry checks.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(root.router)
    app.include_router(health.router)
    # The body limit (413) sits where bodies are read: an app-wide limit wraps every
    # request in three more middleware layers, GET ones included.
    app.include_router(predict.create_router(get_settings().api_max_body_bytes))
    app.include_router(metrics.router)
    return app


app = create_app()
