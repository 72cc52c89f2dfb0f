"""docs/ui.png: Locust's web UI on a 2-replica cell of `python -m loadtest ui`, its charts full of data.

Starts `python -m loadtest ui` (process backend, 2 replicas of 0.5 CPU and 256 MiB), starts a
swarm through Locust's web API, lets the charts fill for --seconds, and photographs the Charts
tab with headless Chromium (Debian's `chromium`: `apt-get install -y chromium`), in a fresh
profile with everything that reaches out to the network switched off. Then it stops the test,
waits for its verdict, and ends the session with SIGINT, as Ctrl-C would. The session's
terminal output is printed at the end. It loads the machine for about a minute: run it alone,

    flock /tmp/inference-gate-load.lock .venv/bin/python -m scripts.ui_screenshot
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from loadtest.records import STATE_FILE
from loadtest.runner.linux.sockets import free_port
from loadtest.runner.web_api import LocustWeb, WebApiError

ROOT = Path(__file__).resolve().parents[1]
CELL = ("--replicas", "2", "--cpus", "0.5", "--memory", "256m")
CELL_DIR = "r2-cpu0.5-mem256m"


def chromium_command(chromium: str, url: str, png: Path, profile: Path, size: tuple[int, int]) -> list[str]:
    """Headless Chromium taking one screenshot of `url`, in the empty profile `profile`."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        # The page draws its charts with JavaScript: give it that long (virtual time) first.
        "--virtual-time-budget=8000",
        f"--screenshot={png}",
        url,
    ]


def wait(condition: Callable[[], bool], timeout: float, what: str, alive: Callable[[], bool]) -> None:
    """Until `condition()`; SystemExit naming `what` if the session ends or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if not alive():
            raise SystemExit(f"ui_screenshot: the session ended while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"ui_screenshot: no {what} within {timeout:g} s")
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> int:
    """Take the screenshot; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m scripts.ui_screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ui.png", help="the PNG (default docs/ui.png)")
    parser.add_argument("--users", type=int, default=200, help="users of the swarm (default 200)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--seconds", type=float, default=40, help="how long the charts fill (default 40)")
    parser.add_argument("--size", default="1280,1040", help="the window, WIDTH,HEIGHT (default 1280,1040)")
    parser.add_argument("--chromium", default="chromium", help="the browser (default chromium)")
    args = parser.parse_args(argv)
    chromium = shutil.which(args.chromium)
    if chromium is None:
        print(f"ui_screenshot: {args.chromium} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    width, height = (int(part) for part in args.size.split(","))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ui-screenshot-") as scratch:
        work = Path(scratch)
        log = work / "ui.out"
        command = [sys.executable, "-m", "loadtest", "ui", "--out", str(work / "results"), "--web-port", str(port)]
        command += [*CELL, "--users", str(args.users), "--spawn-rate", f"{args.spawn_rate:g}"]
        with log.open("w") as output:
            session = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        web = LocustWeb("127.0.0.1", port)

        def alive() -> bool:
            return session.poll() is None

        try:
            cell_dir = work / "results" / CELL_DIR
            wait(lambda: web.serving() and (cell_dir / STATE_FILE).exists(), 120, "web UI", alive)
            web.swarm(args.users, args.spawn_rate)
            started = time.monotonic()
            wait(lambda: time.monotonic() - started >= args.seconds, args.seconds + 30, "charts", alive)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            profile = work / "chromium-profile"
            profile.mkdir()
            shot = chromium_command(chromium, f"{web.url}/?tab=charts", args.out.resolve(), profile, (width, height))
            subprocess.run(shot, check=True, capture_output=True, timeout=120)
            web.stop()
            wait((cell_dir / "test-1" / "verdict.json").exists, 60, "verdict", alive)
        except (WebApiError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            print(f"ui_screenshot: {error}", file=sys.stderr)
            return 2
        finally:
            if session.poll() is None:
                session.send_signal(signal.SIGINT)
                session.wait(timeout=60)
            print(log.read_text())
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
