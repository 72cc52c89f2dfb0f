"""scripts/reference_service.py: its schedule, its CPU ledger on a fake clock, and the real server.

The schedule and the ledger are checked exactly (a fake CPU clock); the real server is started as
a subprocess, as `--api-command` starts it, and checked only by lower bounds (a reply waits at
least its delay, the process spends at least its CPU), which hold on a slow or busy machine too.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from loadtest.runner.linux.sockets import free_port, listening_pids
from scripts.reference_service import PAGE_BYTES, Behaviour, CpuLedger, Service, ballast, parse_head
from tests.waiting import answers_ok, wait_until

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reference_service.py"


@pytest.mark.parametrize("slow_every", [0, 1, 5, 10, 12, 33, 50, 99, 100])
def test_any_100_consecutive_requests_hold_exactly_the_slow_share(slow_every: int) -> None:
    behaviour = Behaviour(slow_every=slow_every)
    slow = [behaviour.is_slow(index) for index in range(1000)]
    assert {sum(slow[start : start + 100]) for start in range(900)} == {slow_every}


def test_the_slow_ones_are_spread_not_bunched() -> None:
    slow = [index for index in range(100) if Behaviour(slow_every=10).is_slow(index)]
    assert slow == list(range(9, 100, 10))


def test_a_delay_is_its_kind_plus_the_leak_plus_what_is_left_of_a_stall() -> None:
    behaviour = Behaviour(fast_ms=5, slow_every=50, slow_ms=1234, stall_at=20, stall_for=8, leak_ms_per_s=10)
    assert behaviour.delay_s(0, 0.0) == pytest.approx(0.005)
    assert behaviour.delay_s(1, 0.0) == pytest.approx(1.234)
    assert behaviour.delay_s(0, 10.0) == pytest.approx(0.005 + 0.1)
    assert behaviour.delay_s(0, 19.999) == pytest.approx(0.005 + 0.19999)
    assert behaviour.delay_s(0, 20.0) == pytest.approx(0.005 + 0.2 + 8)  # held until 28 s
    assert behaviour.delay_s(0, 27.0) == pytest.approx(0.005 + 0.27 + 1)
    assert behaviour.delay_s(0, 28.0) == pytest.approx(0.005 + 0.28)  # the stall is over


def test_no_stall_without_a_length() -> None:
    assert Behaviour(stall_at=0, stall_for=0).delay_s(0, 0.0) == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: Behaviour(cpu_ms=-1), "cpu_ms is -1: it must be a finite number, 0 or more", id="cpu_ms"),
        pytest.param(lambda: Behaviour(slow_ms=float("nan")), "slow_ms is nan", id="slow_ms"),
        pytest.param(
            lambda: Behaviour(slow_every=101), "slow_every is 101: it must be between 0 and 100", id="slow_every"
        ),
    ],
)
def test_a_bad_behaviour_names_the_setting_and_the_value(make: Callable[[], Behaviour], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


class FakeCpu:
    """A thread CPU clock: each read costs `tick` s (the spin's own work); `work(s)` spends more."""

    def __init__(self, tick: float = 1e-6) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    def work(self, seconds: float) -> None:
        self.now += seconds


def test_the_ledger_spends_the_cost_with_the_threads_other_work_inside_it() -> None:
    cpu = FakeCpu()
    ledger = CpuLedger(0.002, clock=cpu)
    ledger.charge()
    start = cpu.now
    for _ in range(100):
        cpu.work(0.0003)  # parsing, replying, a health check: less than the cost
        ledger.charge()
    assert cpu.now - start == pytest.approx(100 * 0.002, abs=1e-5)


def test_overhead_above_the_cost_is_not_banked_against_later_requests() -> None:
    cpu = FakeCpu()
    ledger = CpuLedger(0.002, clock=cpu)
    ledger.charge()
    cpu.work(0.050)  # a burst of other work, far over one cost
    ledger.charge()  # owes nothing more: its overhead already spent more than the cost
    after = cpu.now
    ledger.charge()
    assert cpu.now - after == pytest.approx(0.002, abs=1e-5)  # the next one spends its whole cost again


def test_no_cost_reads_the_clock_once() -> None:
    cpu = FakeCpu()
    CpuLedger(0.0, clock=cpu).charge()
    assert cpu.now == pytest.approx(1e-6)


def test_the_ledger_spends_the_threads_own_cpu_clock() -> None:
    before = time.thread_time()
    CpuLedger(0.005).charge()
    assert time.thread_time() - before >= 0.005


def test_the_service_counts_every_request_but_the_health_check_from_the_first() -> None:
    clock = iter([100.0, 100.5, 130.0])
    service = Service(
        Behaviour(fast_ms=5, stall_at=20, stall_for=8),
        clock=lambda: next(clock),
        ledger=CpuLedger(0.0),
    )
    assert service.admit() == pytest.approx(0.005)
    assert service.admit() == pytest.approx(0.005)
    assert service.admit() == pytest.approx(0.005)  # 30 s after the first: past the stall
    assert (service.counted, service.first_at) == (3, 100.0)


def test_a_request_head_is_parsed_and_keep_alive_follows_the_version() -> None:
    request = parse_head(b"POST /predict?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12")
    assert (request.method, request.path, request.headers["content-length"], request.keep_alive) == (
        "POST",
        "/predict",
        "12",
        True,
    )
    assert parse_head(b"GET / HTTP/1.1\r\nConnection: close").keep_alive is False
    assert parse_head(b"GET / HTTP/1.0").keep_alive is False
    assert parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive").keep_alive is True
    with pytest.raises(ValueError, match=r"not HTTP/1\.x"):
        parse_head(b"GET / SPDY/3")


def test_the_ballast_writes_every_page() -> None:
    # A page never written is not resident (a zeroed allocation is only reserved): every one is written.
    # Whether it is resident shows only in a process of its own: the real server's test below.
    held = ballast(4)
    assert len(held) == 4 * 2**20
    assert set(held[::PAGE_BYTES]) == {1}


def resident_bytes(pid: int) -> int:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


# --------------------------------------------------------------------------- the real server


def start(*flags: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port), "--reuse-port", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, port


@pytest.fixture
def served() -> Iterator[list[subprocess.Popen[str]]]:
    """The servers a test starts; each is stopped with SIGTERM after it and must exit 0."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, said = process.communicate(timeout=10)
        assert process.returncode == 0, said


@pytest.fixture
def served_connections() -> Iterator[list[http.client.HTTPConnection]]:
    """Connections a test opens; each is closed after it."""
    opened: list[http.client.HTTPConnection] = []
    yield opened
    for connection in opened:
        connection.close()


def connect(port: int, process: subprocess.Popen[str]) -> http.client.HTTPConnection:
    """A keep-alive connection once the server answers its health check."""

    def healthy() -> bool:
        assert process.poll() is None, process.communicate()[1]
        return answers_ok(port, timeout=5)

    wait_until(healthy, 10, "the reference service's health check")
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def ask(connection: http.client.HTTPConnection, method: str, path: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    connection.request(method, path, body=b'{"features": [5.1, 3.5, 1.4, 0.2]}' if method == "POST" else None)
    reply = connection.getresponse()
    return reply.status, reply.read(), time.monotonic() - started


def cpu_ticks(pid: int) -> int:
    """utime + stime, in clock ticks of 1/100 s: whole numbers, so that 19 ticks are never 0.18999... s
    (0.35 - 0.16 in floats, which failed the test one run in eight)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.integration
def test_the_server_answers_the_scenarios_paths_with_its_waits_and_its_cpu(
    served: list[subprocess.Popen[str]], served_connections: list[http.client.HTTPConnection]
) -> None:
    process, port = start("--slow-every", "50", "--slow-ms", "300", "--cpu-ms", "25", "--memory-mb", "24")
    served.append(process)
    connection = connect(port, process)
    served_connections.append(connection)
    assert resident_bytes(process.pid) >= 24 * 2**20  # the ballast, held from the start
    base_cpu = cpu_ticks(process.pid)
    answers = [ask(connection, "POST", "/predict") for _ in range(4)]  # on one keep-alive connection
    assert [status for status, _, _ in answers] == [200] * 4
    assert b'"probabilities"' in answers[0][1]
    assert [took >= 0.3 for _, _, took in answers][1::2] == [True, True]  # requests 1 and 3 are the slow ones
    status, body, _ = ask(connection, "GET", "/")
    assert (status, b'"slow_every":50' in body) == (200, True)
    assert ask(connection, "GET", "/nope")[0] == 404
    assert ask(connection, "GET", "/predict")[0] == 405
    ask(connection, "GET", "/")
    # 8 counted requests (the health check is not) at 25 ms of CPU each: at least 0.2 s of the
    # process's CPU, in ticks of 10 ms (one tick less: the ticks sample what ran).
    assert cpu_ticks(process.pid) - base_cpu >= 19


@pytest.mark.integration
def test_replicas_share_the_port_and_a_bad_flag_is_named(served: list[subprocess.Popen[str]]) -> None:
    first, port = start()
    served.append(first)
    connect(port, first).close()
    second = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port), "--reuse-port"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served.append(second)
    wait_until(lambda: listening_pids([second.pid], port), 10, "the second replica listening on the shared port")
    assert listening_pids([first.pid], port)
    refused = subprocess.run(
        [sys.executable, str(SCRIPT), "--port", str(port), "--slow-every", "101"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "argument --slow-every: '101' is not between 0 and 100" in refused.stderr
