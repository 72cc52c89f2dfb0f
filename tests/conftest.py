"""Shared pytest fixtures. Each area keeps its fixtures in its own delimited block."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

# FastAPI, scikit-learn, joblib and pandas are imported inside the fixtures that need them
# (PLC0415 below), so each area's tests load only their own libraries.
from api.settings import get_settings
from model.artifacts import JOBLIB_FILE

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from sklearn.ensemble import RandomForestClassifier

    from loadtest.gate.reading import LocustStats
    from loadtest.records import Verdict
    from loadtest.thresholds import Slo
    from tests.loadtest.locust_csv import SyntheticRun

REPO_ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- api/model (owner: api/model)


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


# ---------------------------------------------------------------- loadtest/scripts (owner: loadtest tests)
class Cli(Protocol):
    """`cli(*argv, env={...})`: one `python -m loadtest` command in-process, shaped like a subprocess result."""

    def __call__(self, *argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]: ...


class WriteText(Protocol):
    """`write(text, name=...)`: the text as a file of that name in the test's folder; its path."""

    def __call__(self, text: str, name: str = ...) -> Path: ...


@pytest.fixture(autouse=True)
def no_signal_left_over() -> None:
    """Every test starts with no signal received: a test of Ctrl-C (`interrupts.catch_signals`) leaves its
    signal recorded, and in the same worker process a later test's cell would then refuse to start."""
    from loadtest.runner import interrupts  # noqa: PLC0415 - lazy, as above

    interrupts._state.shield_depth, interrupts._state.pending, interrupts._state.received = 0, None, None


@pytest.fixture
def loadtest_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`python -m loadtest` through `loadtest.cli.main` in this process, from the repository root.

    Every LOADTEST_* variable of the caller's environment is removed and `env` set instead, so a
    developer's shell cannot change the outcome. Many times faster than a subprocess (pandas imports).
    """
    from loadtest.cli import main  # noqa: PLC0415 - lazy: other areas' tests do not load pandas

    def run(*argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        for key in [key for key in os.environ if key.startswith("LOADTEST_")]:
            monkeypatch.delenv(key)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(REPO_ROOT)
        capsys.readouterr()
        arguments = [str(arg) for arg in argv]
        code = main(arguments)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(arguments, code, out, err)

    return run


@pytest.fixture
def write_thresholds(tmp_path: Path) -> WriteText:
    """`write_thresholds(text, name="thresholds.yaml")`: the text (dedented) as a file in tmp_path; its path."""

    def write(text: str, name: str = "thresholds.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def slo() -> Slo:
    """The mission's SLO, as thresholds.yaml writes it: under 1% errors, P95 at most 1,000 ms."""
    from loadtest.thresholds import Slo  # noqa: PLC0415 - lazy: other areas' tests do not load pydantic

    return Slo(max_error_rate=0.01, max_p95_ms=1000)


class Judge(Protocol):
    """`judged(run, against=None)`: a synthetic run written, read and judged (against the `slo` fixture by default)."""

    def __call__(self, run: SyntheticRun, against: Slo | None = None) -> tuple[LocustStats, Verdict]: ...


@pytest.fixture
def judged(tmp_path: Path, slo: Slo) -> Judge:
    """Write a synthetic Locust run into a fresh folder, read it and judge it (default: the `slo` fixture)."""
    # Lazy: the verdict imports scipy, which other areas' tests do not load.
    from loadtest.gate.reading import read_stats  # noqa: PLC0415
    from loadtest.gate.verdict import evaluate  # noqa: PLC0415

    folders = itertools.count(1)

    def judge(run: SyntheticRun, against: Slo | None = None) -> tuple[LocustStats, Verdict]:
        stats = read_stats(run.write(tmp_path / f"run-{next(folders)}"))
        return stats, evaluate(stats, against or slo)

    return judge


Serve = Callable[[ThreadingHTTPServer], ThreadingHTTPServer]
"""`serve(server)`: start serving, return the server."""


@pytest.fixture
def http_server() -> Iterator[Serve]:
    """Serve a server (bound to 127.0.0.1 by the test) from a thread; every one is shut down after the test."""
    servers: list[ThreadingHTTPServer] = []

    def serve(server: ThreadingHTTPServer) -> ThreadingHTTPServer:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- end loadtest/scripts
