"""Locust's side of the contract: the flags it runs with and the files it leaves in a cell folder.

Both backends start Locust with `locust_args()`; the compose file's master command spells out the
same flags for people who run it by hand (a test checks that the two agree). The gate and the
report read the files named here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal

from loadtest.scenario import Scenario, handover, workshop_scenario

LOCUSTFILE = "loadtest/locustfile.py"
"""The scenario, relative to the repository root (and to /app in the load-test image)."""
CSV_PREFIX = "locust"
"""The file part of `--csv`: `--csv DIR/locust` writes `DIR/locust_stats.csv` and its siblings."""
CSV_KINDS = ("stats", "failures", "exceptions", "stats_history")
HTML_REPORT = "locust_report.html"
LOG_FILE = "locust.log"
"""Locust's captured output, where its own CPU warnings are found afterwards."""

STOP_TIMEOUT_SECONDS = 10
"""When the run time is over, users get this long to finish the task they are in."""
FINISH_GRACE_SECONDS = 60.0
"""Past its run time Locust gets this long to stop its users and write its files."""
STOP_GRACE_SECONDS = 15.0
"""On an early stop Locust gets this long after SIGINT (stopped as Ctrl-C would) to write its CSVs and report."""
DEFAULT_WEB_HOST = "127.0.0.1"
"""Locust's web UI listens on this machine only unless asked otherwise (it has no login)."""
DEFAULT_WEB_PORT = 8089
"""Locust's own default port for its web UI."""
WEB_CONTAINER_PORT = 8089
"""Where the web UI listens inside the Locust master's container."""

_CPU_WARNING = re.compile(r"cpu (usage|threshold)", re.IGNORECASE)
# The gate judges failures; Locust's own exit code would only say "some request failed".
_EXIT_FLAGS = ("--exit-code-on-error=0",)


@dataclass(frozen=True)
class LoadSettings:
    """How hard one cell pushes, and which part of the run is judged."""

    users: int
    spawn_rate: float
    run_time_seconds: int
    scenario: Scenario = field(default_factory=workshop_scenario)
    """Handed to the locustfile in its environment (see `locust_environment`)."""
    warmup: Literal["spawn", "none"] = "none"
    """spawn: Locust resets its statistics once every user runs (its `--reset-stats`), so the ramp is not judged."""
    max_run_time_seconds: int | None = None
    """How long a cell too close to call at `run_time_seconds` may extend (None: no extension). Locust's own
    `--run-time` stays `run_time_seconds`; the runner that extends gives Locust the longer time."""


def csv_paths(folder: Path, prefix: str = CSV_PREFIX) -> dict[str, Path]:
    """The four files Locust writes for `--csv FOLDER/PREFIX --csv-full-history`, by kind."""
    return {kind: Path(folder) / f"{prefix}_{kind}.csv" for kind in CSV_KINDS}


def locust_args(settings: LoadSettings, host: str, results_dir: PurePath) -> list[str]:
    """Locust's flags for one cell's headless load, whatever starts it (not the role flags)."""
    return [
        "--headless",
        *_load_flags(host, settings.users, settings.spawn_rate),
        f"--run-time={settings.run_time_seconds}s",
        *_result_flags(results_dir),
        f"--html={results_dir / HTML_REPORT}",
        "--only-summary",
        *_EXIT_FLAGS,
    ]


@dataclass(frozen=True)
class WebSettings:
    """Locust with its web UI: where the UI listens, and what its start form is pre-filled with."""

    users: int
    spawn_rate: float
    run_time_seconds: int | None = None
    """None: a test runs until it is stopped from the UI."""
    host: str = DEFAULT_WEB_HOST
    port: int = DEFAULT_WEB_PORT
    scenario: Scenario = field(default_factory=workshop_scenario)
    warmup: Literal["spawn", "none"] = "none"
    """As for a cell of `run`: spawn resets Locust's statistics once every user of a test runs."""

    def as_load(self) -> LoadSettings:
        """The start form's load as a cell's (for what reads users, scenario and warm-up; a session's
        tests have no run time of their own, so it is the pre-filled one, else 1 s)."""
        return LoadSettings(self.users, self.spawn_rate, self.run_time_seconds or 1, self.scenario, self.warmup)


def locust_web_args(
    settings: WebSettings, host: str, results_dir: PurePath, bind: tuple[str, int] | None = None
) -> list[str]:
    """Locust's flags for a web UI session: no --headless, so -u/-r (and -t) only pre-fill the form.

    The CSVs cover the whole session (the history grows across every test started from the UI);
    `bind` overrides where the UI listens (a container listens on all its interfaces and is
    published on `settings.host:settings.port`).
    """
    web_host, web_port = bind or (settings.host, settings.port)
    run_time = [f"--run-time={settings.run_time_seconds}s"] if settings.run_time_seconds is not None else []
    return [
        *_load_flags(host, settings.users, settings.spawn_rate),
        *run_time,
        *_result_flags(results_dir),
        f"--web-host={web_host}",
        f"--web-port={web_port}",
        *_EXIT_FLAGS,
    ]


def _load_flags(host: str, users: int, spawn_rate: float) -> list[str]:
    return [f"--host={host}", f"--users={users}", f"--spawn-rate={spawn_rate:g}"]


def _result_flags(results_dir: PurePath) -> list[str]:
    return [f"--stop-timeout={STOP_TIMEOUT_SECONDS}", f"--csv={results_dir / CSV_PREFIX}", "--csv-full-history"]


def locust_environment(settings: LoadSettings | WebSettings) -> dict[str, str]:
    """The variables Locust reads besides its flags: the scenario (for the locustfile), and the
    warm-up as Locust's own `LOCUST_RESET_STATS` (an environment variable, so the compose file's
    command line stays the same for both warm-ups)."""
    return {**handover(settings.scenario), "LOCUST_RESET_STATS": str(settings.warmup == "spawn").lower()}


def extract_cpu_warnings(log_text: str) -> list[str]:
    """Locust's own warnings that its CPU was saturated (its numbers are then suspect), in order."""
    found: dict[str, None] = {}
    for line in log_text.splitlines():
        if _CPU_WARNING.search(line):
            found[line.strip()] = None
    return list(found)


def cpu_warnings_in(log_path: Path) -> list[str]:
    """Locust's CPU-saturation warnings in a captured log (none if there is no log)."""
    try:
        return extract_cpu_warnings(log_path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return []
