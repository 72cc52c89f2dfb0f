"""How the predict routes read their body: over the limit is 413 and a body `json.loads` cannot
decode is 422, both JSON `{"detail": ...}` like every other error, checked in the route handler
so only these routes pay (docs/service.md, "Bad input": why not FastAPI's max_body_size and 400).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def declared_length(request: Request) -> int | None:
    """The Content-Length header as a number; None when it is absent or not a number."""
    value = request.headers.get("content-length")
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def too_large(max_body_bytes: int, size: int | None) -> HTTPException:
    """413 naming the limit, and the body's size when the client declared it."""
    body = "request body" if size is None else f"request body of {size} bytes"
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, detail=f"{body} is over the limit of {max_body_bytes} bytes"
    )


def limited(receive: Receive, max_body_bytes: int) -> Receive:
    """`receive`, raising 413 as soon as the body received so far is over `max_body_bytes`."""
    received = 0

    async def receive_limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_body_bytes:
                raise too_large(max_body_bytes, None)
        return message

    return receive_limited


def undecodable(cause: BaseException) -> RequestValidationError:
    """FastAPI's 422 for malformed JSON, for a body `json.loads` refused for another reason."""
    position = cause.start if isinstance(cause, UnicodeDecodeError) else None
    error = {
        "type": "json_invalid",
        "loc": ("body",) if position is None else ("body", position),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": str(cause) or type(cause).__name__},
    }
    return RequestValidationError([error])


def guard_body(handler: Handler, max_body_bytes: int) -> Handler:
    """`handler` with the body limit in front of it and undecodable bodies answered 422."""

    async def guarded(request: Request) -> Response:
        size = declared_length(request)
        if size is None:
            # A chunked body: count it as it arrives. A declared length is where uvicorn's
            # HTTP parser ends the body, so it needs no counting.
            request = Request(request.scope, limited(request.receive, max_body_bytes))
        elif size > max_body_bytes:
            raise too_large(max_body_bytes, size)
        try:
            return await handler(request)
        except StarletteHTTPException as exc:
            # FastAPI's 400 for a body it could not parse carries json.loads' error as its cause.
            if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.__cause__ is not None:
                raise undecodable(exc.__cause__) from exc.__cause__
            raise

    return guarded


def json_body_route(max_body_bytes: int) -> type[APIRoute]:
    """An APIRoute class (a router's `route_class`) whose routes read their body through guard_body."""

    class JsonBodyRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            return guard_body(super().get_route_handler(), max_body_bytes)

    return JsonBodyRoute
