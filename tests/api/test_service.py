"""GET /, GET /health, /docs and /openapi.json."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api import SERVICE_NAME, __version__
from api.app import create_app
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


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/", "/health", "/predict", "/predict/batch", "/metrics"} <= set(schema["paths"])
    predict = schema["paths"]["/predict"]["post"]
    assert predict["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PredictRequest")
    ok = predict["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/Prediction")
    assert {"422", "503"} <= set(predict["responses"])
    features = schema["components"]["schemas"]["PredictRequest"]["properties"]["features"]
    assert (features["minItems"], features["maxItems"]) == (4, 4)
    assert features["items"]["exclusiveMinimum"] == 0 and features["items"]["maximum"] == 100
    batch = schema["components"]["schemas"]["BatchRequest"]["properties"]["instances"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)
    assert "503" in schema["paths"]["/health"]["get"]["responses"]


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text


def test_unknown_path_is_404(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
