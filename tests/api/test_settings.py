"""Settings: defaults, environment, validation, read once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.settings import Settings, get_settings

ENV_VARS = ("MODEL_DIR", "API_HOST", "API_PORT", "API_WORKERS", "API_REUSE_PORT", "API_LOG_LEVEL",
            "API_ACCESS_LOG", "API_MAX_BODY_BYTES")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.model_dir == Path("model")
    assert (settings.api_host, settings.api_port, settings.api_workers) == ("0.0.0.0", 8000, 1)
    assert settings.api_reuse_port is False
    assert settings.api_log_level == "info"
    assert settings.api_access_log is False
    assert settings.api_max_body_bytes == 1_048_576


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
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, field: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValidationError) as error:
        Settings()
    assert [e["loc"] for e in error.value.errors()] == [(field,)]


def test_settings_are_read_once_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("API_PORT", "18001")
    first = get_settings()
    monkeypatch.setenv("API_PORT", "18002")
    assert get_settings() is first and first.api_port == 18001
    get_settings.cache_clear()
    assert get_settings().api_port == 18002
    get_settings.cache_clear()


def test_max_body_size_comes_from_settings(
    monkeypatch: pytest.MonkeyPatch, api_env: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.setenv("API_MAX_BODY_BYTES", "64")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        small = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
        large = client.post("/predict/batch", json={"instances": [[5.1, 3.5, 1.4, 0.2]] * 5})
    assert (small.status_code, large.status_code) == (200, 413)
