"""Error answers: 422 bodies that stay valid JSON whatever the client sent."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def json_safe(value: Any) -> Any:
    """Replace NaN and +/-Infinity (which JSON cannot carry) by their names, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a Content-Type header announces JSON (application/json or application/*+json)."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def content_type_error(content_type: str | None) -> dict[str, Any]:
    """A 422 error entry that names the Content-Type header as the problem."""
    return {
        "type": "content_type",
        "loc": ["header", "content-type"],
        "msg": f"Content-Type must be application/json, got {content_type!r}"
        if content_type
        else "Content-Type must be application/json, got no Content-Type header",
        "input": content_type,
    }


async def request_validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 `{"detail": [...]}`, naming a non-JSON Content-Type as the problem, and
    echoing NaN/Infinity inputs as strings (JSON cannot carry them) instead of failing with 500."""
    errors = exc.errors()
    content_type = request.headers.get("content-type")
    body_unparsed = any(tuple(error.get("loc", ())) == ("body",) for error in errors)
    if body_unparsed and exc.body and not is_json_media_type(content_type):
        return JSONResponse({"detail": [content_type_error(content_type)]}, status_code=422)
    return JSONResponse({"detail": json_safe(jsonable_encoder(errors))}, status_code=422)
