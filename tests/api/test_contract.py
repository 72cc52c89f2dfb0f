"""The service's contract: schemathesis checks every answer against the OpenAPI schema.

One test per operation, through schemathesis' pytest integration: every built-in check (the
Python form of `st run --checks all`), the examples, coverage and fuzzing phases, a fixed
seed and a bounded number of examples, so a run is deterministic and takes seconds. The
nightly `fuzz` job (.github/workflows/tests.yml) runs the same checks far longer, unseeded,
against `python -m api`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app

if TYPE_CHECKING:
    # What Case(body=...) takes (a JSON document, None for null), as schemathesis itself names it.
    from schemathesis.core.jsonschema.types import JsonValue
    from schemathesis.specs.openapi.schemas import OpenApiCase  # the Case an OpenAPI schema's parametrize gives

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 14,
        # Every built-in check. The four about auth and stateful resources (ignored_auth,
        # object_level_authorization, use_after_free, ensure_resource_availability) find
        # nothing to exercise in this schema and pass.
        "checks": {"enabled": True},
        "generation": {
            "max-examples": 40,
            # No example database: a run never replays what earlier runs on this machine found.
            "database": "none",
        },
    }
)
# Collection needs the operations before any fixture runs, so the document comes from an app
# that is never served (it loads no model); each test serves a fresh app that does. (The lazy
# schemathesis.pytest.from_fixture would defer this, but 4.32.5 reads pytest 9.2's removed Node._nodeid.)
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)


@pytest.fixture
def served_app(api_env: Path) -> FastAPI:
    """A fresh app whose lifespan (run by schemathesis' ASGI transport) loads the trained model."""
    return create_app()


@schema.parametrize()
# One app per operation, shared by all its examples on purpose: suppress Hypothesis' warning.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_answer_is_one_the_schema_documents(case: OpenApiCase, served_app: FastAPI) -> None:
    case.call_and_validate(app=served_app)


# Answers the fuzzer cannot provoke (its app always has the model, its bodies stay far under
# 1 MiB), checked by the same checks; not_a_server_error would only restate that 503 is 5xx.
ROW = [5.1, 3.5, 1.4, 0.2]
WITHOUT_MODEL = [
    pytest.param("GET", "/health", None, id="health"),
    pytest.param("POST", "/predict", {"features": ROW}, id="predict"),
    pytest.param("POST", "/predict/batch", {"instances": [ROW]}, id="batch"),
]


@pytest.mark.parametrize(("method", "path", "body"), WITHOUT_MODEL)
def test_the_503_without_a_model_is_documented(api_env: Path, method: str, path: str, body: JsonValue) -> None:
    bare = TestClient(create_app())  # no `with`: the lifespan (model loading) never runs
    response = bare.request(method, path, json=body)
    assert response.status_code == 503
    operation = schema[path][method]
    case = operation.Case() if body is None else operation.Case(body=body)
    case.validate_response(response, excluded_checks=[not_a_server_error])


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_the_413_for_a_body_over_the_limit_is_documented(client: TestClient, path: str) -> None:
    response = client.post(path, content=b" " * 1_048_577, headers={"content-type": "application/json"})
    assert response.status_code == 413
    schema[path]["POST"].Case().validate_response(response)
