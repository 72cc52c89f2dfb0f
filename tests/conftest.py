"""Shared pytest fixtures. Each area keeps its fixtures in its own delimited block."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# ---------------------------------------------------------------- api/model (owner: api/model)
# FastAPI, scikit-learn and joblib are imported inside the fixtures, so other areas' tests
# do not pay for them.
from api.settings import get_settings
from model.artifacts import JOBLIB_FILE

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from sklearn.ensemble import RandomForestClassifier


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real artifacts, trained once per session by `python -m model.train` (in-process)."""
    from model import train  # noqa: PLC0415  # scikit-learn, only for the tests that need a model

    out = tmp_path_factory.mktemp("trained-model")
    assert train.main(["--out", str(out), "--check-rows", "2000"]) == 0
    return out


@pytest.fixture(scope="session")
def forest(trained_model_dir: Path) -> RandomForestClassifier:
    """The trained scikit-learn forest (model.joblib), to compare what is served with."""
    import joblib  # noqa: PLC0415  # only for the tests that compare with scikit-learn

    forest: RandomForestClassifier = joblib.load(trained_model_dir / JOBLIB_FILE)
    return forest


@pytest.fixture
def model_dir(trained_model_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the trained artifacts that a test may tamper with."""
    return Path(shutil.copytree(trained_model_dir, tmp_path / "model"))


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """The service's settings are read anew from the environment the test sets, and after it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def api_env(model_dir: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> Path:
    """MODEL_DIR points at `model_dir`, and the settings are read anew (fresh_settings)."""
    monkeypatch.setenv("MODEL_DIR", str(model_dir))
    return model_dir


@pytest.fixture
def client(api_env: Path) -> Iterator[TestClient]:
    """A fresh app (own metrics registry) with its lifespan run: the real model is loaded."""
    from fastapi.testclient import TestClient  # noqa: PLC0415  # FastAPI, only for the service's tests

    from api.app import create_app  # noqa: PLC0415  # (and the model runtime it loads)

    with TestClient(create_app()) as test_client:
        yield test_client


# ---------------------------------------------------------------- end api/model
