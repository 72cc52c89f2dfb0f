"""GET /: who we are."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api import SERVICE_NAME, __version__
from api.deps import current_model
from api.schemas import ServiceInfo

router = APIRouter(tags=["service"])


@router.get("/")
async def read_root(request: Request) -> ServiceInfo:
    """Service name, version and status (ready once the model is loaded)."""
    ready = current_model(request) is not None
    return ServiceInfo(service=SERVICE_NAME, version=__version__, status="ready" if ready else "loading")
