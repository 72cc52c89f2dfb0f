"""GET /, GET /health, /docs and /openapi.json."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api import SERVICE_NAME, __version__
from api.app import create_app
from api.metrics import EXPOSITION_CONTENT_TYPE
from model.artifacts import read_metadata


def test_root_names_the_service(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"service": SERVICE_NAME, "version": __version__, "status": "ready"}


def test_root_says_loading_without_a_model(api_env: Path) -> None:
    assert TestClient(create_app()).get("/").json()["status"] == "loading"


def test_health_returns_the_model_metadata(client: TestClient, api_env: Path) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"] == read_metadata(api_env).model_dump()


def test_health_is_503_when_the_model_is_not_loaded(api_env: Path) -> None:
    response = TestClient(create_app()).get("/health")  # lifespan not run
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "detail": "model not loaded"}


JSON = "application/json"
# Every answer of every operation: status -> (content type, body schema); the fuzzer
# (test_contract) checks that the service gives no other.
ANSWERS = {
    ("get", "/"): {"200": (JSON, "ServiceInfo")},
    ("get", "/health"): {"200": (JSON, "Health"), "503": (JSON, "Unavailable")},
    ("get", "/metrics"): {"200": (EXPOSITION_CONTENT_TYPE, {"type": "string"})},
    **{
        ("post", path): {
            "200": (JSON, answer),
            "413": (JSON, "ErrorMessage"),
            "422": (JSON, "HTTPValidationError"),
            "503": (JSON, "ErrorMessage"),
        }
        for path, answer in [("/predict", "Prediction"), ("/predict/batch", "BatchPrediction")]
    },
}


def test_the_schema_documents_every_answer_with_its_content_type_and_body(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    documented = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            answers = {}
            for status, response in operation["responses"].items():
                ((content_type, media),) = response["content"].items()
                body = media["schema"]
                answers[status] = (content_type, body["$ref"].rsplit("/", 1)[1] if "$ref" in body else body)
            documented[(method, path)] = answers
    assert documented == ANSWERS


def test_the_schema_carries_the_request_limits(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    features = components["PredictRequest"]["properties"]["features"]
    assert (features["minItems"], features["maxItems"]) == (4, 4)
    assert (features["items"]["exclusiveMinimum"], features["items"]["maximum"]) == (0, 100)
    instances = components["BatchRequest"]["properties"]["instances"]
    assert (instances["minItems"], instances["maxItems"]) == (1, 1000)


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text


def test_unknown_path_is_404(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
