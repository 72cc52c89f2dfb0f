"""The loaded model as the routes use it: predictions rendered straight to JSON bytes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from model.artifacts import Metadata
from model.predictor import Predictor, load_predictor

# A typical setosa: the readiness probe's input.
PROBE_ROW = (5.1, 3.5, 1.4, 0.2)


class ServedModel:
    """A verified model plus what every answer repeats (class names, version)."""

    def __init__(self, metadata: Metadata, predictor: Predictor) -> None:
        self.metadata = metadata
        self.predictor = predictor
        self.version = metadata.version
        self.class_names = tuple(metadata.class_names)

    @classmethod
    def load(cls, model_dir: Path) -> ServedModel:
        """Verify every artifact's sha256 and load the ONNX model (raises ArtifactError)."""
        metadata, predictor = load_predictor(model_dir)
        return cls(metadata, predictor)

    def _answer(self, class_id: int, probabilities: list[float]) -> dict[str, object]:
        return {
            "prediction": self.class_names[class_id],
            "class_id": class_id,
            "probabilities": dict(zip(self.class_names, probabilities, strict=True)),
            "model_version": self.version,
        }

    def predict_json(self, features: Sequence[float]) -> bytes:
        """The JSON answer to POST /predict for one row."""
        return orjson.dumps(self._answer(*self.predictor.predict_one(features)))

    def predict_batch_json(self, rows: Sequence[Sequence[float]]) -> bytes:
        """The JSON answer to POST /predict/batch: every row in one ONNX Runtime call."""
        answers = [self._answer(*result) for result in self.predictor.predict_many(rows)]
        return orjson.dumps({"predictions": answers})

    def probe(self) -> bool:
        """Whether the model answers a known row with a well-formed probability vector."""
        class_id, probabilities = self.predictor.predict_one(PROBE_ROW)
        return 0 <= class_id < len(self.class_names) and abs(sum(probabilities) - 1.0) < 1e-4
