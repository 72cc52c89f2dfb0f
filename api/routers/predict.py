"""POST /predict and POST /predict/batch: inference.

The handlers are `async def` (no thread-pool hop: one prediction is tens of microseconds)
and answer with JSON bytes rendered by orjson; `response_model` keeps the OpenAPI schema.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import require_model
from api.schemas import BatchPrediction, BatchRequest, Prediction, PredictRequest

router = APIRouter(prefix="/predict", tags=["inference"])

_UNAVAILABLE = {status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "Model not loaded"}}


@router.post("", response_model=Prediction, responses=_UNAVAILABLE)
async def create_prediction(body: PredictRequest, request: Request) -> Response:
    """Classify one flower."""
    model = require_model(request)
    return Response(model.predict_json(body.features), media_type="application/json")


@router.post("/batch", response_model=BatchPrediction, responses=_UNAVAILABLE)
async def create_batch_prediction(body: BatchRequest, request: Request) -> Response:
    """Classify 1 to 1000 flowers in one model call."""
    model = require_model(request)
    return Response(model.predict_batch_json(body.instances), media_type="application/json")
