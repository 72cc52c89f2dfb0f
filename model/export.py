"""ONNX export of the forest and its check against scikit-learn, through the serving code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier

from model.artifacts import OnnxCheck
from model.predictor import Predictor

# The contract: served probabilities equal predict_proba within this.
TOLERANCE = 1e-5
# The API accepts feature values in (0, MAX_FEATURE_CM].
MAX_FEATURE_CM = 100.0


class ExportMismatch(Exception):
    """The ONNX model does not answer like the scikit-learn model."""


@dataclass(frozen=True)
class CheckRows:
    """Inputs the export is checked on, by origin."""

    dataset: np.ndarray
    random: np.ndarray
    thresholds: np.ndarray

    @property
    def all(self) -> np.ndarray:
        """Every row, float64 as the API receives them from JSON."""
        return np.vstack([self.dataset, self.random, self.thresholds])


def export_onnx(model: RandomForestClassifier, n_features: int) -> bytes:
    """Convert the forest to ONNX (float32 input `X`, outputs `label` and `probabilities`)."""
    sample = np.zeros((1, n_features), dtype=np.float32)
    onnx_model = to_onnx(model, sample, options={id(model): {"zipmap": False}})
    serialized: bytes = onnx_model.SerializeToString()  # skl2onnx and protobuf ship no types
    return serialized


def check_rows(model: RandomForestClassifier, X: np.ndarray, n_random: int, seed: int) -> CheckRows:
    """The data set, random rows across the accepted input range, and rows on every split.

    Rows at a split threshold (and one float32 step either side) are where a float32/float64
    slip would show, so every threshold of every tree gets three rows.
    """
    rng = np.random.default_rng(seed)
    n_features = X.shape[1]
    half = n_random // 2
    low = np.maximum(X.min(axis=0) - 1.0, 0.01)
    high = X.max(axis=0) + 1.0
    near_data = rng.uniform(low, high, size=(half, n_features))
    # Log-uniform over the whole accepted range (0, 100] cm.
    anywhere = np.exp(rng.uniform(np.log(1e-3), np.log(MAX_FEATURE_CM), (n_random - half, n_features)))
    at_thresholds = []
    for tree in model.estimators_:
        nodes = tree.tree_
        for feature, threshold in zip(nodes.feature, nodes.threshold, strict=True):
            if feature < 0:  # a leaf
                continue
            base = X[rng.integers(len(X))].copy()
            t32 = np.float32(threshold)
            for value in (np.nextafter(t32, np.float32(-np.inf)), t32, np.nextafter(t32, np.float32(np.inf))):
                row = base.copy()
                row[feature] = float(value)
                at_thresholds.append(row)
    thresholds = np.array(at_thresholds, dtype=np.float64).reshape(-1, n_features)
    return CheckRows(dataset=X, random=np.vstack([near_data, anywhere]), thresholds=thresholds)


def verify_export(model: RandomForestClassifier, predictor: Predictor, rows: np.ndarray) -> OnnxCheck:
    """Compare what the API would serve with predict_proba/predict; raise ExportMismatch on any slip."""
    expected_proba = model.predict_proba(rows)
    expected_label = model.predict(rows)
    served = predictor.predict_many(rows.tolist())
    served_label = np.array([index for index, _ in served])
    served_proba = np.array([probabilities for _, probabilities in served])
    diff = np.abs(served_proba - expected_proba)
    max_diff = float(diff.max())
    bad_proba = np.flatnonzero(diff.max(axis=1) > TOLERANCE)
    bad_label = np.flatnonzero(served_label != expected_label)
    if len(bad_proba) or len(bad_label):
        first = int(bad_label[0] if len(bad_label) else bad_proba[0])
        raise ExportMismatch(
            f"ONNX disagrees with scikit-learn on {len(set(bad_proba) | set(bad_label))} of "
            f"{len(rows)} rows ({len(bad_label)} labels, {len(bad_proba)} probability vectors "
            f"off by more than {TOLERANCE:g}; max |diff| {max_diff:.3g}). First: row "
            f"{rows[first].tolist()} -> scikit-learn {expected_label[first]} "
            f"{np.round(expected_proba[first], 6).tolist()}, ONNX {served_label[first]} "
            f"{served_proba[first].tolist()}"
        )
    return OnnxCheck(
        rows_checked=len(rows),
        max_abs_diff=max_diff,
        tolerance=TOLERANCE,
    )
