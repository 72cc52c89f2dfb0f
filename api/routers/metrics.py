"""GET /metrics: Prometheus exposition."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.metrics import EXPOSITION_CONTENT_TYPE, Metrics

router = APIRouter(tags=["service"])


class ExpositionResponse(Response):
    """The Prometheus text format; as the route's response_class it puts the content type in the schema."""

    media_type = EXPOSITION_CONTENT_TYPE


@router.get("/metrics", response_class=ExpositionResponse, response_description="Prometheus text format")
async def read_metrics(request: Request) -> ExpositionResponse:
    """Request counts, latency histograms, in-flight requests, model info and quality."""
    metrics: Metrics = request.app.state.metrics
    return ExpositionResponse(metrics.exposition())
