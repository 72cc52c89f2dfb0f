"""The serving path: ONNX Runtime inference and the rule that turns probabilities into a class.

Used by the API for every request and by training to verify the export, so what training
checks is exactly what the API serves. Imports only numpy and onnxruntime.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from model.artifacts import ONNX_FILE, ArtifactError, Metadata, read_metadata, read_verified

# Tree-ensemble probabilities are sums of k/100 in float32 (0.99999934 for 1.0), so two
# classes that tie exactly in scikit-learn can differ by ~1e-7 here. The served class is the
# lowest index within TIE_TOLERANCE of the maximum: scikit-learn's argmax takes the first
# maximum, so both agree on ties. Real differences are multiples of 1/n_estimators.
TIE_TOLERANCE = 1e-6
# Probabilities are served renormalized (the float32 sums drift by ~1e-6, all in the same
# direction) and rounded to this many decimals: 1.0, not 0.9999993443489075. Error < 2e-6.
DECIMALS = 6
INPUT_NAME = "X"
PROBABILITIES_OUTPUT = "probabilities"


def class_index(probabilities: Sequence[float]) -> int:
    """Index of the predicted class: the lowest one within TIE_TOLERANCE of the maximum."""
    floor = max(probabilities) - TIE_TOLERANCE
    for index, probability in enumerate(probabilities):
        if probability >= floor:
            return index
    raise ValueError("empty probability vector")


def served_probabilities(probabilities: list[float]) -> list[float]:
    """Probabilities as served: divided by their sum, rounded to DECIMALS."""
    total = sum(probabilities)
    return [round(value / total, DECIMALS) for value in probabilities]


def session_options() -> ort.SessionOptions:
    """One thread, no spinning: a request is one tiny call and replicas scale by process."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class Predictor:
    """An ONNX Runtime session over the exported forest, answering with the serving rules."""

    def __init__(self, onnx_bytes: bytes) -> None:
        self._session = ort.InferenceSession(
            onnx_bytes, sess_options=session_options(), providers=["CPUExecutionProvider"]
        )
        self.n_features = int(self._session.get_inputs()[0].shape[1])
        self._outputs = [PROBABILITIES_OUTPUT]
        # The bound run, looked up once; public so that scripts/inprocess_bench.py can time it in place.
        self.run_session = self._session.run

    def predict_one(self, features: Sequence[float]) -> tuple[int, list[float]]:
        """Class index and rounded probabilities for one row."""
        row = np.array((features,), dtype=np.float32)
        values = self.run_session(self._outputs, {INPUT_NAME: row})[0][0].tolist()
        return class_index(values), served_probabilities(values)

    def predict_many(self, rows: Sequence[Sequence[float]]) -> list[tuple[int, list[float]]]:
        """Class index and rounded probabilities for every row, in one ONNX Runtime call."""
        array = np.array(rows, dtype=np.float32).reshape(-1, self.n_features)
        values = self.run_session(self._outputs, {INPUT_NAME: array})[0].tolist()
        return [(class_index(row), served_probabilities(row)) for row in values]


def load_predictor(model_dir: Path) -> tuple[Metadata, Predictor]:
    """Check every artifact's sha256, then build the session from the verified ONNX bytes.

    Raises ArtifactError (naming the file) on a missing, unlisted or modified artifact.
    """
    metadata = read_metadata(model_dir)
    onnx_bytes = read_verified(model_dir, ONNX_FILE, metadata)
    for name in sorted(metadata.artifacts.keys() - {ONNX_FILE}):
        read_verified(model_dir, name, metadata)
    try:
        predictor = Predictor(onnx_bytes)
    except Exception as exc:  # ONNX Runtime raises its own (pybind) exception types
        raise ArtifactError(f"{model_dir / ONNX_FILE}: not a loadable ONNX model: {exc}") from None
    return metadata, predictor
