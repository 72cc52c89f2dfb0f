"""POST /predict and POST /predict/batch: answers, equivalence with scikit-learn, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.ensemble import RandomForestClassifier

from api.app import create_app
from model.artifacts import read_metadata
from model.data import load_dataset

CLASSES = ["setosa", "versicolor", "virginica"]
JSON = {"content-type": "application/json"}
ROUTES = ["/predict", "/predict/batch"]
MAX_BODY_BYTES = 1_048_576  # API_MAX_BODY_BYTES' default


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
def test_batch_equals_scikit_learn(client: TestClient, forest: RandomForestClassifier, rows: np.ndarray) -> None:
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


def test_batch_of_exactly_1000_rows_is_accepted(client: TestClient) -> None:
    response = client.post("/predict/batch", json={"instances": [[6.0, 2.9, 4.5, 1.5]] * 1000})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1000


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/predict",
        content=b'{"features": [5.1, 3.5, 1.4, 0.2]}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


# ---------------------------------------------------------------- bad input
# What the first error says, and the rows that earn it: their JSON text and the index of the
# value the error names (None: the row itself).
BAD_ROWS: dict[str, list[tuple[str, int | None]]] = {
    "List should have at least 4 items after validation, not 3": [("[5.1, 3.5, 1.4]", None)],
    "List should have at most 4 items after validation, not 5": [("[5.1, 3.5, 1.4, 0.2, 1]", None)],
    "List should have at least 4 items after validation, not 0": [("[]", None)],
    "Input should be a valid number": [
        ('[5.1, "abc", 1.4, 0.2]', 1),
        ('[5.1, "3.5", 1.4, 0.2]', 1),
        ("[true, 3.5, 1.4, 0.2]", 0),
        ("[5.1, 3.5, [1.4], 0.2]", 2),
        ("[5.1, 3.5, 1.4, {}]", 3),
        ("[5.1, null, 1.4, 0.2]", 1),
    ],
    "Input should be a valid list": [("null", None), ('"5.1,3.5,1.4,0.2"', None)],
    "Input should be a finite number": [
        ("[NaN, 3.5, 1.4, 0.2]", 0),
        ("[5.1, Infinity, 1.4, 0.2]", 1),
        ("[5.1, 3.5, -Infinity, 0.2]", 2),
        ("[5.1, 3.5, 1.4, 1e400]", 3),  # overflows to infinity
    ],
    "Input should be greater than 0": [("[0, 3.5, 1.4, 0.2]", 0), ("[5.1, -3.5, 1.4, 0.2]", 1)],
    "Input should be less than or equal to 100": [("[5.1, 3.5, 100.001, 0.2]", 2), ("[5.1, 3.5, 1.4, 1e9]", 3)],
}
# How each route carries a row (the batch's bad row comes second), and where its errors point.
ROW_IN: dict[str, tuple[str, list[str | int]]] = {
    "/predict": ('{{"features": {row}}}', ["body", "features"]),
    "/predict/batch": ('{{"instances": [[6.1, 2.8, 4.7, 1.2], {row}]}}', ["body", "instances", 1]),
}


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("row", "index", "says"),
    [pytest.param(row, index, says, id=row) for says, rows in BAD_ROWS.items() for row, index in rows],
)
def test_a_bad_row_is_422_naming_the_value(
    client: TestClient, path: str, row: str, index: int | None, says: str
) -> None:
    template, loc = ROW_IN[path]
    response = client.post(path, content=template.format(row=row), headers=JSON)
    assert response.status_code == 422, response.text
    first = response.json()["detail"][0]
    assert first["loc"] == (loc if index is None else [*loc, index])
    assert first["msg"] == says


# A body wrong as a whole, answered alike by both routes: headers, loc and type of the first error.
ROW = b'{"features": [5.1, 3.5, 1.4, 0.2]}'
CONTENT_TYPE = ["header", "content-type"]
BAD_BODIES = [
    pytest.param(b'{"features": [5.1, 3.5,', JSON, ["body", 23], "json_invalid", id="malformed-json"),
    pytest.param(b"features=1,2,3,4", JSON, ["body", 0], "json_invalid", id="not-json"),
    pytest.param(b"\x12c\x17\x1f\xff", JSON, ["body", 4], "json_invalid", id="not-utf-8"),
    pytest.param(ROW[:-1] + b', "note": "caf\xe9"}', JSON, ["body", 47], "json_invalid", id="latin-1-json"),
    pytest.param(b'{"features": ' + b"[" * 100_000, JSON, ["body"], "json_invalid", id="nested-too-deep"),
    pytest.param(b'{"features": [' + b"1" * 5000 + b"]}", JSON, ["body"], "json_invalid", id="5000-digit-number"),
    pytest.param(b"", JSON, ["body"], "missing", id="empty-body"),
    pytest.param(b"[5.1, 3.5, 1.4, 0.2]", JSON, ["body"], "model_attributes_type", id="bare-list"),
    pytest.param(ROW, {"content-type": "text/plain"}, CONTENT_TYPE, "content_type", id="text-plain"),
    pytest.param(ROW, {"content-type": "application/x-www-form-urlencoded"}, CONTENT_TYPE, "content_type", id="form"),
    pytest.param(ROW, {}, CONTENT_TYPE, "content_type", id="no-content-type"),
]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(("body", "headers", "loc", "kind"), BAD_BODIES)
def test_a_bad_body_is_422(
    client: TestClient, path: str, body: bytes, headers: dict[str, str], loc: list[str | int], kind: str
) -> None:
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    first = response.json()["detail"][0]
    assert (first["loc"], first["type"]) == (loc, kind)
    assert first["msg"]


def test_an_undecodable_body_says_why(client: TestClient) -> None:
    response = client.post("/predict", content=b"\x12c\x17\x1f\xff", headers=JSON)
    assert response.json()["detail"][0]["ctx"] == {
        "error": "'utf-8' codec can't decode byte 0xff in position 4: invalid start byte"
    }


# A body the route's own fields refuse: route, payload, loc and what the first error says.
BAD_FIELDS = [
    pytest.param("/predict", {"feature": [5.1, 3.5, 1.4, 0.2]}, [], "Field required", id="misspelt-field"),
    pytest.param("/predict", {}, [], "Field required", id="empty-object"),
    pytest.param("/predict/batch", {"instances": []}, [], "at least 1 item", id="empty-batch"),
    pytest.param("/predict/batch", {"instances": [[5.1, 3.5, 1.4, 0.2]] * 1001}, [], "at most 1000", id="1001-rows"),
    pytest.param("/predict/batch", {"instances": [5.1, 3.5, 1.4, 0.2]}, [0], "valid list", id="flat-list"),
    pytest.param("/predict/batch", {"instances": None}, [], "valid list", id="null-instances"),
    pytest.param("/predict/batch", {"features": [5.1, 3.5, 1.4, 0.2]}, [], "Field required", id="single-body"),
]
# The field each route's errors name.
FIELD = {"/predict": ["body", "features"], "/predict/batch": ["body", "instances"]}


@pytest.mark.parametrize(("path", "payload", "within", "says"), BAD_FIELDS)
def test_a_missing_or_bad_field_is_422(
    client: TestClient, path: str, payload: object, within: list[int], says: str
) -> None:
    response = client.post(path, json=payload)
    assert response.status_code == 422
    first = response.json()["detail"][0]
    assert first["loc"] == [*FIELD[path], *within]
    assert says in first["msg"]


def test_non_finite_input_is_echoed_as_a_name(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"features": [NaN, 1, 1, 1e400]}', headers=JSON)
    detail = response.json()["detail"]
    assert [(d["input"], d["msg"]) for d in detail] == [
        ("NaN", "Input should be a finite number"),
        ("Infinity", "Input should be a finite number"),
    ]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"content-type": "text/csv"}, "Content-Type must be application/json, got 'text/csv'"),
        ({}, "Content-Type must be application/json, got no Content-Type header"),
    ],
    ids=["wrong", "missing"],
)
def test_wrong_content_type_names_the_header(client: TestClient, headers: dict[str, str], message: str) -> None:
    response = client.post("/predict", content=b'{"features": [1, 2, 3, 4]}', headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message


def over_the_limit() -> Iterator[bytes]:
    """A JSON body of 1.1 MB in two chunks: sent without Content-Length (chunked)."""
    yield b'{"features": [1, 2, 3, 4], "padding": "' + b"x" * 600_000
    yield b"x" * 500_000 + b'"}'


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_json(client: TestClient, path: str, chunked: bool) -> None:
    whole = b"".join(over_the_limit())
    response = client.post(path, content=over_the_limit() if chunked else whole, headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    size = "" if chunked else f" of {len(whole)} bytes"
    assert response.json() == {"detail": f"request body{size} is over the limit of {MAX_BODY_BYTES} bytes"}


def test_still_answers_correctly_after_any_amount_of_bad_input(client: TestClient) -> None:
    good = client.post("/predict", json={"features": [6.7, 3.0, 5.2, 2.3]}).json()
    for _ in range(3):
        for path in ROUTES:
            for case in BAD_BODIES:
                body, headers, *_ = case.values
                assert client.post(path, content=body, headers=headers).status_code == 422
            assert client.post(path, content=b"".join(over_the_limit()), headers=JSON).status_code == 413
        for case in BAD_FIELDS:
            route, payload, *_ = case.values
            assert isinstance(route, str)  # a param's values are objects to mypy
            assert client.post(route, json=payload).status_code == 422
    assert client.post("/predict", json={"features": [6.7, 3.0, 5.2, 2.3]}).json() == good
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("path", "payload"),
    [("/predict", {"features": [5.1, 3.5, 1.4, 0.2]}), ("/predict/batch", {"instances": [[5.1, 3.5, 1.4, 0.2]]})],
)
def test_predict_without_a_loaded_model_is_503(api_env: Path, path: str, payload: object) -> None:
    bare = TestClient(create_app())  # no `with`: the lifespan (model loading) never runs
    response = bare.post(path, json=payload)
    assert response.status_code == 503
    assert response.json() == {"detail": "model not loaded"}
