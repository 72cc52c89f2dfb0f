"""Cell folders shared by the workflow tests (written once per session, copied per test)."""

from __future__ import annotations

import pytest

from tests.loadtest.workflow.artifacts import CellFolders


@pytest.fixture(scope="session")
def cells(tmp_path_factory: pytest.TempPathFactory) -> CellFolders:
    return CellFolders(tmp_path_factory.mktemp("cell-folders"))
