"""The loaded model, as the routers reach it (from the lifespan state)."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from api.inference import ServedModel


def current_model(request: Request) -> ServedModel | None:
    """The model the lifespan loaded, or None when the app runs without its lifespan."""
    model = request.scope.get("state", {}).get("model")
    return model if isinstance(model, ServedModel) else None


def require_model(request: Request) -> ServedModel:
    """The loaded model; 503 when there is none.

    Called from the handlers rather than declared with Depends: on a path that costs tens of
    microseconds in total, FastAPI's dependency resolution was a measurable share of it.
    """
    model = current_model(request)
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="model not loaded")
    return model
