"""Start-up and shut-down: verify and load the model, publish it to the metrics."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI

from api.inference import ServedModel
from api.metrics import Metrics, mark_worker_dead
from api.settings import get_settings

logger = logging.getLogger("api")


class State(TypedDict):
    """Lifespan state, copied into every request's `request.state`."""

    model: ServedModel


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    """Load the model before the first request (raises ArtifactError on a bad artifact)."""
    settings = get_settings()
    model = ServedModel.load(settings.model_dir)
    if not model.probe():
        raise RuntimeError(f"{settings.model_dir}: the model loaded but answers a known row wrongly")
    metrics: Metrics = app.state.metrics
    metrics.set_model(model.metadata)
    logger.info("model %s %s loaded from %s", model.metadata.name, model.version, settings.model_dir)
    try:
        yield {"model": model}
    finally:
        mark_worker_dead(os.getpid())
