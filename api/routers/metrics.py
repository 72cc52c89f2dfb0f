"""GET /metrics: Prometheus exposition."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.metrics import EXPOSITION_CONTENT_TYPE, Metrics

router = APIRouter(tags=["service"])


@router.get("/metrics", response_class=Response)
async def read_metrics(request: Request) -> Response:
    """Request counts, latency histograms, in-flight requests, model info and quality."""
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=EXPOSITION_CONTENT_TYPE)
