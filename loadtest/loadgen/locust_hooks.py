"""Recording inside Locust: the request hook, the once-a-second report, and the histogram file.

Imported by Locust only (through `locust_users`): gevent patches the process.

Every process that runs users (a lone Locust, or each worker) keeps one `Recorder`. Once a
second it counts overdue sends and reports what it counted through Locust's own message channel
(`runner.send_message`): a worker's reports go to the master over Locust's connection, so nothing
needs a shared folder (compose's workers have none). The master (or a lone Locust, its own
master) appends them to `histograms.jsonl` beside `--csv`.

The end of a test: each recording process closes its books when it stops its users (Locust's
`test_stopping`) and sends its final report. A headless master stops by quitting, and tells its
workers to quit only after `test_stop`, so on `test_stop` the master asks every worker to close
its books now and waits (at most FINALS_TIMEOUT_SECONDS) for every final report, then writes the
test's end (naming any process whose final report never came) and compacts the file.

Once every user is spawned, the process's objects are frozen out of Python's full collections
(`gc.freeze`): one such collection held a process of 1,000 users for 58-88 ms here, and every
send due meanwhile went out late.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import MasterRunner, WorkerRunner

from loadtest.latency.recording import FILE_NAME, IntervalDelta, RecordingWriter
from loadtest.loadgen.loop_time import refresh_loop_time
from loadtest.loadgen.pacing import Send
from loadtest.loadgen.recorder import Recorder, deltas_from_wire, deltas_to_wire
from loadtest.loadgen.sigint import stop_now_on_sigint

REPORT_MESSAGE = "inference_gate_counts"
CLOSE_MESSAGE = "inference_gate_close"
CONTEXT_KEY = "inference_gate_send"
"""Where a paced request's `Send` rides in Locust's request context (see PacedHttpUser.context)."""
PATH_ENV = "INFERENCE_GATE_HISTOGRAMS"
"""Where to write the file when Locust runs without --csv (internal: set by benchmarks and tests)."""
REPORT_SECONDS = 1.0
FINALS_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)

# perf_counter is the system's monotonic clock (shared by forked workers); Unix time for the seconds.
_UNIX_OFFSET = time.time() - time.perf_counter()
RECORDER = Recorder(unix_offset=_UNIX_OFFSET)
"""This process's recorder (users of `locust_users` add their schedules to it)."""


class _Process:
    """What this process does for recording, set when Locust's runner exists."""

    def __init__(self) -> None:
        self.environment: Environment | None = None
        self.source = "local"
        self.records = False
        """Whether it runs users (a lone Locust or a worker), so records."""
        self.writes = False
        """Whether it writes the file (a lone Locust or the master)."""
        self.writer: RecordingWriter | None = None
        self.reporter: gevent.Greenlet | None = None
        self.final_sent = False
        self.reporting: set[str] = set()
        """Processes that reported during the current test (a master's workers)."""
        self.finals: set[str] = set()


_process = _Process()


def _histogram_path(environment: Environment) -> Path | None:
    options = environment.parsed_options
    prefix = getattr(options, "csv_prefix", None) if options is not None else None
    if prefix:
        return Path(prefix).parent / FILE_NAME
    override = os.environ.get(PATH_ENV, "").strip()
    return Path(override) if override else None


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if runner is None:
        return
    _process.environment = environment
    stop_now_on_sigint(environment)  # our early stop (SIGINT) must not end Locust's CSV writer mid-write
    refresh_loop_time()  # Locust arms its --run-time timer next, from the loop's cached time
    _process.records = not isinstance(runner, MasterRunner)
    _process.writes = not isinstance(runner, WorkerRunner)
    if isinstance(runner, WorkerRunner):
        _process.source = runner.client_id
        runner.register_message(CLOSE_MESSAGE, _on_close_message)
    if isinstance(runner, MasterRunner):
        runner.register_message(REPORT_MESSAGE, _on_report)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if _process.writes and _process.writer is None:
        path = _histogram_path(environment)
        if path is not None:
            _process.writer = RecordingWriter(path)
    _process.reporting.clear()
    _process.finals.clear()
    if _process.records:
        RECORDER.reopen()
        _process.final_sent = False
        if _process.reporter is None or _process.reporter.dead:
            runner = environment.runner
            assert runner is not None  # test_start comes from a runner
            _process.reporter = runner.greenlet.spawn(_report_every_second)


def _on_request(
    name: str, response_time: float, exception: BaseException | None, context: dict[str, Any], **_: Any
) -> None:
    send = context.get(CONTEXT_KEY) if context else None
    paced = send if isinstance(send, Send) else None
    RECORDER.on_reply(name, paced, response_time, exception is not None, time.perf_counter())


def _on_test_stopping(**_: Any) -> None:
    if _process.records:
        _close_books()


def _on_test_stop(environment: Environment, **_: Any) -> None:
    gc.unfreeze()  # the stopped users' objects can go (Locust's web UI may start another test)
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _collect_finals(runner)
    if _process.writer is not None:
        missing = _process.reporting - _process.finals
        if missing:
            names = ", ".join(sorted(missing))
            logger.warning("histograms: no final counts from %s; their seconds are incomplete", names)
        _process.writer.end(missing)
        _process.writer.finish()


def _on_spawning_complete(**_: Any) -> None:
    # Python's full collections walk every object: with thousands of users (their sessions and
    # schedules) one took 58-88 ms on this machine, holding every user and sending them late all at
    # once. Users are made by now; frozen, they are not walked again until the test stops.
    if _process.records:
        gc.collect()
        gc.freeze()


def _collect_finals(runner: MasterRunner) -> None:
    # Workers still running their users (a headless quit tells them only after test_stop) close
    # their books on this message; the ones that already stopped have sent their final report.
    runner.send_message(CLOSE_MESSAGE, {"at": time.time()})
    deadline = time.monotonic() + FINALS_TIMEOUT_SECONDS
    while _process.reporting - _process.finals and time.monotonic() < deadline:
        if not runner.clients.all:
            break  # every worker is gone: nothing more will come
        gevent.sleep(0.1)


def _on_close_message(environment: Environment, msg: Message, **_: Any) -> None:
    del environment, msg
    _close_books()


def _close_books() -> None:
    RECORDER.close(time.perf_counter())
    if not _process.final_sent:
        _process.final_sent = True
        _send_report(final=True)


def _report_every_second() -> None:
    while True:
        gevent.sleep(REPORT_SECONDS)
        if not RECORDER.closed:
            RECORDER.count_overdue(time.perf_counter(), pause=_let_users_run)
            _send_report(final=False)


def _let_users_run() -> None:
    # The report's work (counting 10,000 schedules, encoding a second's histograms) is split by
    # these yields, so that a lone Locust's users are never held for more than a slice of it: a
    # held user sends late, and that lateness is the generator lag the gate judges.
    gevent.sleep(0)


def _send_report(final: bool) -> None:
    environment = _process.environment
    if environment is None or environment.runner is None:
        return
    deltas = RECORDER.take()
    if not deltas and not final:
        return
    if _process.writes:  # a lone Locust is its own master: no message, no wire form
        _receive(_process.source, deltas, final, RECORDER.closed_at)
        return
    data = {
        "source": _process.source,
        "deltas": deltas_to_wire(deltas),
        "final": final,
        "closed_at": RECORDER.closed_at,
    }
    try:
        environment.runner.send_message(REPORT_MESSAGE, data)
    except Exception:  # a lost connection to the master: Locust logs its own error and reconnects
        logger.exception("histograms: could not send %s counts to the master", "the final" if final else "")


def _on_report(environment: Environment, msg: Message, **_: Any) -> None:
    del environment
    data = msg.data
    closed_at = data.get("closed_at")
    deltas = deltas_from_wire(data.get("deltas", []))
    _receive(str(data.get("source", msg.node_id)), deltas, bool(data.get("final")), closed_at)


def _receive(source: str, deltas: list[IntervalDelta], final: bool, closed_at: float | None) -> None:
    _process.reporting.add(source)
    writer = _process.writer
    if writer is not None:
        writer.append(source, deltas, pause=_let_users_run)
    if final:
        _process.finals.add(source)
        if writer is not None and closed_at is not None:
            writer.close_source(source, float(closed_at))


def _listen(hook: Any, listener: Callable[..., None]) -> None:
    # Locust's EventHook.add_listener has no annotations; Any keeps strict mypy on everything else.
    hook.add_listener(listener)


# Listeners are added when the module is imported: once per process, whichever file imports it first.
_listen(events.init, _on_init)
_listen(events.test_start, _on_test_start)
_listen(events.request, _on_request)
_listen(events.test_stopping, _on_test_stopping)
_listen(events.test_stop, _on_test_stop)
_listen(events.spawning_complete, _on_spawning_complete)
