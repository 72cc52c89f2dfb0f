"""loadtest/packaged.py: the files the installed command needs are in the package, and nothing in
`loadtest/` finds a file by climbing out of the package to a checkout's root."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from loadtest import packaged

PACKAGE = Path(__file__).resolve().parents[2] / "loadtest"


def test_the_locustfile_and_the_compose_file_are_in_the_package() -> None:
    assert packaged.PACKAGE_DIR == PACKAGE
    assert packaged.LOCUSTFILE.is_relative_to(PACKAGE)
    assert "class " in packaged.LOCUSTFILE.read_text(encoding="utf-8")
    assert packaged.COMPOSE_FILE.is_relative_to(PACKAGE)
    assert set(yaml.safe_load(packaged.COMPOSE_FILE.read_text(encoding="utf-8"))["services"]) >= {
        "api",
        "locust-master",
    }


def test_no_module_climbs_out_of_the_package() -> None:
    # `parents[2]`, `.parent.parent`: how a module used to reach the checkout's root (REPO_ROOT,
    # the locustfile's sys.path insert). Installed, that is site-packages' parent.
    climbing = re.compile(r"__file__\)?(\.resolve\(\))?\.(parents\[[1-9]\]|parent\.parent)")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if climbing.search(line) or "sys.path.insert" in line
    ]
    assert found == []
