"""POST /predict and POST /predict/batch: inference.

The handlers are `async def` (no thread-pool hop: one prediction is tens of microseconds)
and answer with JSON bytes rendered by orjson; `response_model` keeps the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.deps import require_model
from api.request_body import json_body_route
from api.schemas import BatchPrediction, BatchRequest, ErrorMessage, Prediction, PredictRequest

# Besides 200 and FastAPI's own 422 (HTTPValidationError): every answer these routes can give.
ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_413_CONTENT_TOO_LARGE: {"model": ErrorMessage, "description": "Body over API_MAX_BODY_BYTES"},
    status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorMessage, "description": "Model not loaded"},
}


async def create_prediction(body: PredictRequest, request: Request) -> Response:
    """Classify one flower."""
    model = require_model(request)
    return Response(model.predict_json(body.features), media_type="application/json")


async def create_batch_prediction(body: BatchRequest, request: Request) -> Response:
    """Classify 1 to 1000 flowers in one model call."""
    model = require_model(request)
    return Response(model.predict_batch_json(body.instances), media_type="application/json")


def create_router(max_body_bytes: int) -> APIRouter:
    """The /predict routes, refusing bodies over `max_body_bytes` with 413 before reading them."""
    router = APIRouter(
        prefix="/predict", tags=["inference"], responses=ERRORS, route_class=json_body_route(max_body_bytes)
    )
    router.add_api_route("", create_prediction, methods=["POST"], response_model=Prediction)
    router.add_api_route("/batch", create_batch_prediction, methods=["POST"], response_model=BatchPrediction)
    return router
