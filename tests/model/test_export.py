"""The ONNX export and its check against scikit-learn, through the serving rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from model.data import load_dataset
from model.export import TOLERANCE, ExportMismatch, check_rows, export_onnx, verify_export
from model.predictor import Predictor, class_index, load_predictor, served_probabilities


@pytest.fixture(scope="module")
def served(trained_model_dir: Path) -> Predictor:
    return load_predictor(trained_model_dir)[1]


def test_served_probabilities_equal_predict_proba_on_iris_and_random_rows(
    forest: RandomForestClassifier, served: Predictor
) -> None:
    rng = np.random.default_rng(123)
    rows = np.vstack([load_dataset(42, 0.2).X, rng.uniform(0.01, 100, (3000, 4)), rng.uniform(0.1, 8, (3000, 4))])
    answers = served.predict_many(rows.tolist())
    probabilities = np.array([p for _, p in answers])
    labels = np.array([c for c, _ in answers])
    assert np.abs(probabilities - forest.predict_proba(rows)).max() <= TOLERANCE
    np.testing.assert_array_equal(labels, forest.predict(rows))


def test_single_row_path_equals_batch_path(served: Predictor) -> None:
    rows = load_dataset(42, 0.2).X.tolist()
    assert [served.predict_one(row) for row in rows] == served.predict_many(rows)


def test_check_rows_cover_data_random_and_every_split(forest: RandomForestClassifier) -> None:
    X = load_dataset(42, 0.2).X
    rows = check_rows(forest, X, 1000, seed=1)
    splits = sum(int((tree.tree_.feature >= 0).sum()) for tree in forest.estimators_)
    assert rows.dataset.shape == (150, 4)
    assert rows.random.shape == (1000, 4)
    assert rows.thresholds.shape == (3 * splits, 4)
    assert rows.all.shape == (150 + 1000 + 3 * splits, 4)
    assert (rows.random > 0).all()
    assert (rows.random <= 100).all()


def test_verify_export_accepts_the_real_export(forest: RandomForestClassifier) -> None:
    X = load_dataset(42, 0.2).X
    predictor = Predictor(export_onnx(forest, 4))
    check = verify_export(forest, predictor, check_rows(forest, X, 500, seed=3).all)
    assert check.max_abs_diff <= TOLERANCE
    assert check.rows_checked > 650


def test_verify_export_fails_on_a_model_that_disagrees(forest: RandomForestClassifier) -> None:
    data = load_dataset(42, 0.2)
    other = RandomForestClassifier(n_estimators=3, random_state=0).fit(data.X_train, data.y_train)
    predictor = Predictor(export_onnx(other, 4))
    with pytest.raises(ExportMismatch, match=r"ONNX disagrees with scikit-learn on \d+ of 150 rows"):
        verify_export(forest, predictor, data.X)


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ([1.0, 0.0, 0.0], 0),
        ([0.2, 0.3, 0.5], 2),
        ([0.0, 0.99999934, 0.0], 1),
        ([0.5, 0.5, 0.0], 0),  # exact tie: the first class, like numpy/scikit-learn argmax
        ([0.49999997, 0.50000003, 0.0], 0),  # a float32 slip of a tie is still a tie
        ([0.0, 0.49999997, 0.50000003], 1),
        ([0.3, 0.35, 0.35], 1),
        ([0.33, 0.33, 0.34], 2),  # a real difference (1/100 of the trees) is never a tie
    ],
)
def test_class_index_takes_the_first_of_tied_maxima(probabilities: list[float], expected: int) -> None:
    assert class_index(probabilities) == expected


def test_class_index_rejects_an_empty_vector() -> None:
    with pytest.raises(ValueError, match="empty"):
        class_index([])


@pytest.mark.parametrize(
    ("raw", "served"),
    [
        ([0.99999934, 0.0, 0.0], [1.0, 0.0, 0.0]),
        ([0.0, 0.69999963, 0.29999983], [0.0, 0.7, 0.3]),
        ([0.49999997, 0.49999997, 0.0], [0.5, 0.5, 0.0]),
        ([0.33333334, 0.33333334, 0.33333334], [0.333333, 0.333333, 0.333333]),
    ],
)
def test_served_probabilities_are_renormalized_and_rounded(raw: list[float], served: list[float]) -> None:
    assert served_probabilities(raw) == served
