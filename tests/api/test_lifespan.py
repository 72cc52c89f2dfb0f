"""Start-up through the lifespan: a damaged artifact stops it with a message naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from model.artifacts import ArtifactError
from tests.model.test_artifacts import DAMAGES


@pytest.mark.parametrize(("damage", "named", "says"), DAMAGES)
def test_startup_fails_on_a_damaged_artifact(
    api_env: Path, damage: Callable[[Path], None], named: str, says: str
) -> None:
    damage(api_env)
    with pytest.raises(ArtifactError) as error, TestClient(create_app()):
        pass
    assert str(api_env / named) in str(error.value)
    assert says in str(error.value)


def test_startup_loads_the_model_from_MODEL_DIR(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_startup_fails_when_MODEL_DIR_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from api.settings import get_settings

    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "absent"))
    get_settings.cache_clear()
    try:
        with pytest.raises(ArtifactError, match="absent/metadata.json: model metadata not found"):
            with TestClient(create_app()):
                pass
    finally:
        get_settings.cache_clear()
