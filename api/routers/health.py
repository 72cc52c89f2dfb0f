"""GET /health: readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from api.deps import current_model
from api.schemas import Health, Unavailable

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=Health,
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Unavailable, "description": "Model not loaded or not answering"}
    },
)
async def read_health(request: Request) -> Health | JSONResponse:
    """200 with the model's metadata when it is loaded and answers a probe; 503 otherwise."""
    model = current_model(request)
    if model is None:
        detail = "model not loaded"
    elif not model.probe():
        detail = "model loaded but not answering correctly"
    else:
        return Health(status="ok", model=model.metadata)
    return JSONResponse(
        Unavailable(status="unavailable", detail=detail).model_dump(),
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )
