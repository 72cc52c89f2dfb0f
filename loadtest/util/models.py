"""The base of every model read from a file people write (thresholds.yaml, the scenario)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys, strings for numbers, floats for counts, NaN and infinity are all errors."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
