"""POST /predict and POST /predict/batch: answers, equivalence with scikit-learn, bad input."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.ensemble import RandomForestClassifier

from model.artifacts import JOBLIB_FILE, read_metadata
from model.data import load_dataset

CLASSES = ["setosa", "versicolor", "virginica"]
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def forest(trained_model_dir: Path) -> RandomForestClassifier:
    return joblib.load(trained_model_dir / JOBLIB_FILE)


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ([5.1, 3.5, 1.4, 0.2], "setosa"),
        ([6.4, 3.2, 4.5, 1.5], "versicolor"),
        ([6.7, 3.0, 5.2, 2.3], "virginica"),
        ([100, 100, 100, 100], None),  # the edges of the accepted range still answer
        ([0.001, 0.001, 0.001, 0.001], None),
        ([5, 3, 1, 0.5], None),  # JSON integers are numbers too
    ],
)
def test_predict_answers_like_scikit_learn(
    client: TestClient, forest: RandomForestClassifier, features: list[float], expected: str | None
) -> None:
    response = client.post("/predict", json={"features": features})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"prediction", "class_id", "probabilities", "model_version"}
    proba = forest.predict_proba(np.array([features], dtype=np.float64))[0]
    class_id = int(forest.predict(np.array([features]))[0])
    assert body["class_id"] == class_id
    assert body["prediction"] == CLASSES[class_id]
    if expected is not None:
        assert body["prediction"] == expected
    assert list(body["probabilities"]) == CLASSES
    assert np.abs(np.array(list(body["probabilities"].values())) - proba).max() <= 1e-5


def test_predict_reports_the_loaded_model_version(client: TestClient, api_env: Path) -> None:
    body = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]}).json()
    assert body["model_version"] == read_metadata(api_env).version


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(load_dataset(42, 0.2).X, id="all-150-iris-rows"),
        pytest.param(np.random.default_rng(5).uniform(0.05, 12, size=(1000, 4)).round(3), id="1000-random-rows"),
    ],
)
def test_batch_equals_scikit_learn(
    client: TestClient, forest: RandomForestClassifier, rows: np.ndarray
) -> None:
    response = client.post("/predict/batch", json={"instances": rows.tolist()})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == len(rows)
    served = np.array([list(p["probabilities"].values()) for p in predictions])
    assert np.abs(served - forest.predict_proba(rows)).max() <= 1e-5
    assert [p["class_id"] for p in predictions] == forest.predict(rows).tolist()
    assert [p["prediction"] for p in predictions] == [CLASSES[i] for i in forest.predict(rows)]


def test_batch_of_one_equals_single_predict(client: TestClient) -> None:
    features = [6.1, 2.8, 4.7, 1.2]
    single = client.post("/predict", json={"features": features}).json()
    batch = client.post("/predict/batch", json={"instances": [features]}).json()
    assert batch == {"predictions": [single]}


# ---------------------------------------------------------------- bad input
OVER_1MB = b'{"features": [1, 2, 3, 4], "padding": "' + b"x" * 1_100_000 + b'"}'

# (body bytes, content type, expected status, expected loc of the first error or None)
BAD_SINGLE = [
    pytest.param(b'{"features": [5.1, 3.5, 1.4]}', JSON, 422, ["body", "features"], id="too-short"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 0.2, 1]}', JSON, 422, ["body", "features"], id="too-long"),
    pytest.param(b'{"features": []}', JSON, 422, ["body", "features"], id="empty-list"),
    pytest.param(b'{"features": [5.1, "abc", 1.4, 0.2]}', JSON, 422, ["body", "features", 1], id="string"),
    pytest.param(b'{"features": [5.1, "3.5", 1.4, 0.2]}', JSON, 422, ["body", "features", 1], id="numeric-string"),
    pytest.param(b'{"features": [true, 3.5, 1.4, 0.2]}', JSON, 422, ["body", "features", 0], id="boolean"),
    pytest.param(b'{"features": [5.1, 3.5, [1.4], 0.2]}', JSON, 422, ["body", "features", 2], id="nested-list"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, {}]}', JSON, 422, ["body", "features", 3], id="object"),
    pytest.param(b'{"features": [5.1, null, 1.4, 0.2]}', JSON, 422, ["body", "features", 1], id="null-value"),
    pytest.param(b'{"features": null}', JSON, 422, ["body", "features"], id="null-features"),
    pytest.param(b'{"features": "5.1,3.5,1.4,0.2"}', JSON, 422, ["body", "features"], id="features-string"),
    pytest.param(b'{"features": [NaN, 3.5, 1.4, 0.2]}', JSON, 422, ["body", "features", 0], id="nan"),
    pytest.param(b'{"features": [5.1, Infinity, 1.4, 0.2]}', JSON, 422, ["body", "features", 1], id="infinity"),
    pytest.param(b'{"features": [5.1, 3.5, -Infinity, 0.2]}', JSON, 422, ["body", "features", 2], id="minus-infinity"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 1e400]}', JSON, 422, ["body", "features", 3], id="overflow"),
    pytest.param(b'{"features": [0, 3.5, 1.4, 0.2]}', JSON, 422, ["body", "features", 0], id="zero"),
    pytest.param(b'{"features": [5.1, -3.5, 1.4, 0.2]}', JSON, 422, ["body", "features", 1], id="negative"),
    pytest.param(b'{"features": [5.1, 3.5, 100.001, 0.2]}', JSON, 422, ["body", "features", 2], id="over-100"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 1e9]}', JSON, 422, ["body", "features", 3], id="huge"),
    pytest.param(b'{"feature": [5.1, 3.5, 1.4, 0.2]}', JSON, 422, ["body", "features"], id="missing-field"),
    pytest.param(b"{}", JSON, 422, ["body", "features"], id="empty-object"),
    pytest.param(b"[5.1, 3.5, 1.4, 0.2]", JSON, 422, ["body"], id="bare-list"),
    pytest.param(b'{"features": [5.1, 3.5,', JSON, 422, ["body", 23], id="malformed-json"),
    pytest.param(b"features=1,2,3,4", JSON, 422, ["body", 0], id="not-json"),
    pytest.param(b"", JSON, 422, ["body"], id="empty-body"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 0.2]}', {"content-type": "text/plain"}, 422,
                 ["header", "content-type"], id="text-plain"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 0.2]}', {"content-type": "application/x-www-form-urlencoded"},
                 422, ["header", "content-type"], id="form-content-type"),
    pytest.param(b'{"features": [5.1, 3.5, 1.4, 0.2]}', {}, 422, ["header", "content-type"], id="no-content-type"),
    pytest.param(OVER_1MB, JSON, 413, None, id="over-1MB"),
]


@pytest.mark.parametrize(("body", "headers", "status", "loc"), BAD_SINGLE)
def test_predict_rejects_bad_input(
    client: TestClient, body: bytes, headers: dict[str, str], status: int, loc: list | None
) -> None:
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == status, response.text
    if loc is None:
        assert "Content Too Large" in response.text
        return
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert detail[0]["msg"]


BAD_BATCH = [
    pytest.param({"instances": []}, ["body", "instances"], "at least 1 item", id="empty-batch"),
    pytest.param({"instances": [[5.1, 3.5, 1.4, 0.2]] * 1001}, ["body", "instances"], "at most 1000 items",
                 id="over-1000-rows"),
    pytest.param({"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4]]}, ["body", "instances", 1],
                 "at least 4 items", id="short-row"),
    pytest.param({"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, -1]]}, ["body", "instances", 1, 3],
                 "greater than 0", id="negative-value"),
    pytest.param({"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, None, 1.4, 2]]}, ["body", "instances", 1, 1],
                 "valid number", id="null-value"),
    pytest.param({"instances": [5.1, 3.5, 1.4, 0.2]}, ["body", "instances", 0], "valid list", id="flat-list"),
    pytest.param({"instances": None}, ["body", "instances"], "valid list", id="null-instances"),
    pytest.param({"features": [5.1, 3.5, 1.4, 0.2]}, ["body", "instances"], "Field required", id="single-body"),
]


@pytest.mark.parametrize(("payload", "loc", "message"), BAD_BATCH)
def test_batch_rejects_bad_input(client: TestClient, payload: dict, loc: list, message: str) -> None:
    response = client.post("/predict/batch", json=payload)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert message in detail[0]["msg"]


def test_batch_of_exactly_1000_rows_is_accepted(client: TestClient) -> None:
    response = client.post("/predict/batch", json={"instances": [[6.0, 2.9, 4.5, 1.5]] * 1000})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1000


def test_batch_over_1MB_is_refused_with_413(client: TestClient) -> None:
    rows = ",".join(["[5.123456789, 3.123456789, 1.123456789, 0.123456789]"] * 20_000)
    response = client.post("/predict/batch", content=f'{{"instances": [{rows}]}}', headers=JSON)
    assert response.status_code == 413


def test_non_finite_input_is_echoed_as_a_name(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"features": [NaN, 1, 1, 1e400]}', headers=JSON)
    detail = response.json()["detail"]
    assert [(d["input"], d["msg"]) for d in detail] == [
        ("NaN", "Input should be a finite number"),
        ("Infinity", "Input should be a finite number"),
    ]


def test_wrong_content_type_names_the_header(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"features": [1, 2, 3, 4]}', headers={"content-type": "text/csv"})
    assert response.json()["detail"][0]["msg"] == "Content-Type must be application/json, got 'text/csv'"


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/predict",
        content=b'{"features": [5.1, 3.5, 1.4, 0.2]}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_still_answers_correctly_after_any_amount_of_bad_input(client: TestClient) -> None:
    good = client.post("/predict", json={"features": [6.7, 3.0, 5.2, 2.3]}).json()
    for _ in range(3):
        for case in BAD_SINGLE:
            body, headers, status, _ = case.values
            assert client.post("/predict", content=body, headers=headers).status_code == status
        for case in BAD_BATCH:
            assert client.post("/predict/batch", json=case.values[0]).status_code == 422
    assert client.post("/predict", json={"features": [6.7, 3.0, 5.2, 2.3]}).json() == good
    assert client.get("/health").status_code == 200


def test_predict_without_a_loaded_model_is_503(api_env: Path) -> None:
    from api.app import create_app

    bare = TestClient(create_app())  # no `with`: the lifespan (model loading) never runs
    response = bare.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
    assert response.status_code == 503
    assert response.json() == {"detail": "model not loaded"}
    assert bare.post("/predict/batch", json={"instances": [[5.1, 3.5, 1.4, 0.2]]}).status_code == 503
