"""GET /metrics: the Prometheus exposition, parsed with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from api.app import create_app
from model.artifacts import read_metadata


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], sample_name: str, **labels: str) -> float:
    matching = [s.value for s in samples if s.name == sample_name and s.labels == labels]
    assert len(matching) == 1, f"{sample_name}{labels}: {matching}"
    return matching[0]


def test_counts_and_times_requests_per_route_and_status(client: TestClient) -> None:
    for _ in range(5):
        client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
    for _ in range(3):
        client.post("/predict", json={"features": [5.1]})
    client.post("/predict/batch", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    client.get("/")
    client.get("/does-not-exist")
    families = scrape(client)

    requests = families["http_requests"]
    assert value(requests, "http_requests_total", method="POST", route="/predict", status="200") == 5
    assert value(requests, "http_requests_total", method="POST", route="/predict", status="422") == 3
    assert value(requests, "http_requests_total", method="POST", route="/predict/batch", status="200") == 1
    assert value(requests, "http_requests_total", method="GET", route="/", status="200") == 1
    assert value(requests, "http_requests_total", method="GET", route="<unmatched>", status="404") == 1

    latency = families["http_request_duration_seconds"]
    labels = {"method": "POST", "route": "/predict", "status": "200"}
    assert value(latency, "http_request_duration_seconds_count", **labels) == 5
    assert 0 < value(latency, "http_request_duration_seconds_sum", **labels) < 5
    buckets = [s for s in latency if s.name.endswith("_bucket") and {k: s.labels[k] for k in labels} == labels]
    counts = [s.value for s in sorted(buckets, key=lambda s: float(s.labels["le"]))]
    assert counts == sorted(counts)
    assert counts[-1] == 5
    assert buckets[-1].labels["le"] == "+Inf"


def test_oversized_body_is_counted_as_413(client: TestClient) -> None:
    client.post("/predict", content=b"x" * 1_100_000, headers={"content-type": "application/json"})
    requests = scrape(client)["http_requests"]
    assert value(requests, "http_requests_total", method="POST", route="/predict", status="413") == 1


def test_in_flight_gauge_counts_the_scrape_itself(client: TestClient) -> None:
    samples = scrape(client)["http_requests_in_progress"]
    assert value(samples, "http_requests_in_progress") == 1


def test_model_info_and_held_out_quality(client: TestClient, api_env: Path) -> None:
    metadata = read_metadata(api_env)
    families = scrape(client)
    assert value(families["model_info"], "model_info", name=metadata.name, version=metadata.version) == 1
    quality = families["model_heldout_quality"]
    assert value(quality, "model_heldout_quality", metric="accuracy") == pytest.approx(metadata.metrics.accuracy)
    assert value(quality, "model_heldout_quality", metric="f1_macro") == pytest.approx(metadata.metrics.f1_macro)


def test_each_app_counts_only_its_own_requests(client: TestClient, api_env: Path) -> None:
    client.get("/")
    with TestClient(create_app()) as other:
        requests = scrape(other)["http_requests"]
    assert not [s for s in requests if s.labels.get("route") == "/"]
