"""Settings: defaults, environment, validation, read once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.settings import Settings, get_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "service.md"
# The environment variable each setting reads.
ENV_VARS = {name: str(field.validation_alias or name).upper() for name, field in Settings.model_fields.items()}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS.values():
        monkeypatch.delenv(name, raising=False)


def documented_defaults() -> dict[str, str]:
    """The `env` and `default` columns of docs/service.md's settings table."""
    defaults = {}
    for line in DOCS.read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"API_[A-Z_]+|MODEL_DIR", cells[1]):
            defaults[cells[1]] = cells[2]
    return defaults


def test_every_setting_is_documented_with_its_real_default() -> None:
    actual = Settings().model_dump()
    real = {
        ENV_VARS[name]: str(value).lower() if isinstance(value, bool) else str(value) for name, value in actual.items()
    }
    assert documented_defaults() == real


@pytest.mark.parametrize(
    ("name", "raw", "field", "expected"),
    [
        ("MODEL_DIR", "/srv/model", "model_dir", Path("/srv/model")),
        ("API_HOST", "127.0.0.1", "api_host", "127.0.0.1"),
        ("API_PORT", "18000", "api_port", 18000),
        ("API_WORKERS", "4", "api_workers", 4),
        ("API_REUSE_PORT", "true", "api_reuse_port", True),
        ("API_REUSE_PORT", "1", "api_reuse_port", True),
        ("API_LOG_LEVEL", "WARNING", "api_log_level", "warning"),
        ("API_ACCESS_LOG", "yes", "api_access_log", True),
        ("API_MAX_BODY_BYTES", "2048", "api_max_body_bytes", 2048),
        ("api_port", "9000", "api_port", 9000),  # case-insensitive
    ],
)
def test_environment_overrides(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(name, raw)
    assert getattr(Settings(), field) == expected


@pytest.mark.parametrize(
    ("name", "raw", "field"),
    [
        ("API_PORT", "abc", "api_port"),
        ("API_PORT", "70000", "api_port"),
        ("API_WORKERS", "0", "api_workers"),
        ("API_REUSE_PORT", "maybe", "api_reuse_port"),
        ("API_LOG_LEVEL", "loud", "api_log_level"),
        ("API_MAX_BODY_BYTES", "0", "api_max_body_bytes"),
    ],
)
def test_invalid_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, raw: str, field: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValidationError) as error:
        Settings()
    assert [e["loc"] for e in error.value.errors()] == [(field,)]


@pytest.mark.usefixtures("fresh_settings")
def test_settings_are_read_once_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "18001")
    first = get_settings()
    monkeypatch.setenv("API_PORT", "18002")
    assert get_settings() is first
    assert first.api_port == 18001
    get_settings.cache_clear()
    assert get_settings().api_port == 18002


@pytest.mark.usefixtures("api_env")
def test_max_body_size_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_MAX_BODY_BYTES", "64")
    large = b'{"instances": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2]]}'
    with TestClient(create_app()) as client:
        small = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
        refused = client.post("/predict/batch", content=large, headers={"content-type": "application/json"})
    assert small.status_code == 200
    assert refused.status_code == 413
    assert refused.json() == {"detail": f"request body of {len(large)} bytes is over the limit of 64 bytes"}
