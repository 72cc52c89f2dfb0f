"""Request and response bodies (pydantic), with the field-level limits of the API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from model.artifacts import Metadata

MAX_BATCH_ROWS = 1000
N_FEATURES = 4

# One measurement in cm: a real JSON number (no strings, booleans or null), finite, in (0, 100].
Centimetres = Annotated[float, Field(strict=True, gt=0, le=100, allow_inf_nan=False)]
FeatureRow = Annotated[list[Centimetres], Field(min_length=N_FEATURES, max_length=N_FEATURES)]


class PredictRequest(BaseModel):
    """One flower: [sepal_length, sepal_width, petal_length, petal_width] in cm."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"features": [5.1, 3.5, 1.4, 0.2]}]},
    )

    features: FeatureRow


class BatchRequest(BaseModel):
    """1 to 1000 flowers, each [sepal_length, sepal_width, petal_length, petal_width] in cm."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}]},
    )

    instances: Annotated[list[FeatureRow], Field(min_length=1, max_length=MAX_BATCH_ROWS)]


class Prediction(BaseModel):
    """The predicted class, its index, every class's probability and the model version."""

    prediction: str
    class_id: int
    probabilities: dict[str, float]
    model_version: str


class BatchPrediction(BaseModel):
    """One prediction per input row, in order."""

    predictions: list[Prediction]


class ServiceInfo(BaseModel):
    """What GET / answers."""

    service: str
    version: str
    status: Literal["ready", "loading"]


class Health(BaseModel):
    """What GET /health answers when the model is loaded and answering."""

    status: Literal["ok"]
    model: Metadata


class Unavailable(BaseModel):
    """What GET /health answers (503) when it is not."""

    status: Literal["unavailable"]
    detail: str


class ErrorMessage(BaseModel):
    """Every error other than a validation error (413, 503): what went wrong, in one sentence."""

    detail: str
