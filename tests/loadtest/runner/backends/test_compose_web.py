"""The compose backend's web UI override: the master's flags and its published port."""

from __future__ import annotations

from pathlib import PurePosixPath

from loadtest.locust_contract import LOCUSTFILE, WebSettings, locust_web_args
from loadtest.runner.backends.compose_web import web_override


def test_the_master_serves_the_ui_inside_and_is_published_on_this_machine() -> None:
    settings = WebSettings(users=40, spawn_rate=20, host="127.0.0.1", port=18089)
    master = web_override(settings)["services"]["locust-master"]
    flags = locust_web_args(settings, "http://api:8000", PurePosixPath("/results"), bind=("0.0.0.0", 8089))
    assert master["command"] == [f"--locustfile={LOCUSTFILE}", "--master", *flags]
    assert "--web-host=0.0.0.0" in master["command"]
    assert "--web-port=8089" in master["command"]
    assert "--headless" not in master["command"]
    assert master["ports"] == ["127.0.0.1:18089:8089"]


def test_only_the_master_is_overridden() -> None:
    assert list(web_override(WebSettings(1, 1.0))["services"]) == ["locust-master"]
