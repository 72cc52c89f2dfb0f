"""Start-up through the lifespan: a damaged artifact stops it with a message naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from model.artifacts import ArtifactError
from tests.model.test_artifacts import DAMAGES, edit_metadata


@pytest.mark.parametrize(("damage", "named", "says"), DAMAGES)
def test_startup_fails_on_a_damaged_artifact(
    api_env: Path, damage: Callable[[Path], None], named: str, says: str
) -> None:
    damage(api_env)
    with pytest.raises(ArtifactError) as error, TestClient(create_app()):
        pass
    assert str(api_env / named) in str(error.value)
    assert says in str(error.value)


def test_startup_loads_the_model_from_MODEL_DIR(api_env: Path) -> None:
    # The copy is told apart from the repository's own model/ (same seed, same version) by its metadata.
    edit_metadata(lambda document: document.update(version="9.9.9+copy"))(api_env)
    with TestClient(create_app()) as client:
        assert client.get("/health").json()["model"]["version"] == "9.9.9+copy"
        assert client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]}).json()["model_version"] == "9.9.9+copy"


@pytest.mark.usefixtures("fresh_settings")
def test_startup_fails_when_MODEL_DIR_does_not_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "absent"))
    app = create_app()
    with pytest.raises(ArtifactError, match=r"absent/metadata\.json: model metadata not found"), TestClient(app):
        pass
