"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.inference import ServedModel


def current_model(request: Request) -> ServedModel | None:
    """The model the lifespan loaded, or None when the app runs without its lifespan."""
    return request.scope.get("state", {}).get("model")


async def require_model(request: Request) -> ServedModel:
    """The loaded model; 503 when there is none (async: no thread-pool hop)."""
    model = current_model(request)
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="model not loaded")
    return model


ModelDep = Annotated[ServedModel, Depends(require_model)]
