"""The budget: estimates before and after probes, and what still fits."""

from __future__ import annotations

from datetime import UTC, datetime

from loadtest.runner.matrix import Cell
from loadtest.search.budget import OVERHEAD_SECONDS, START_CPU_SECONDS, STOP_MARGIN_SECONDS, Budget
from loadtest.search.records import ProbeRecord
from tests.clock import FakeClock


def probe(cpus: float, ready: float | None, duration: float, run_time: int, stopped: str | None = None) -> ProbeRecord:
    return ProbeRecord(
        index=1,
        kind="cpu",
        cell=f"r1-cpu{cpus}-mem512m",
        replicas=1,
        cpus=cpus,
        memory="512m",
        cost=cpus,
        users=100,
        spawn_rate=10,
        run_time_seconds=run_time,
        outcome="pass",
        stopped_early=stopped,
        ready_seconds=ready,
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        duration_seconds=duration,
        folder="probes/01",
    )


def test_estimates_before_any_probe() -> None:
    budget = Budget(600, FakeClock(1000.0))
    assert budget.startup(Cell(1, 0.5, "512m")) == START_CPU_SECONDS / 0.5
    assert budget.estimate(Cell(2, 0.1, "512m"), 20) == START_CPU_SECONDS / 0.1 + 20 + OVERHEAD_SECONDS


def test_probes_teach_startup_cpu_and_overhead() -> None:
    budget = Budget(600, FakeClock(1000.0))
    budget.observe(probe(cpus=0.25, ready=12.0, duration=40.0, run_time=20))  # 3 CPU-seconds, 8 s overhead
    budget.observe(probe(cpus=0.5, ready=2.0, duration=30.0, run_time=20, stopped="P95 ..."))  # 1 CPU-second
    assert budget.startup(Cell(1, 1.0, "1g")) == 2.0
    assert budget.estimate(Cell(1, 1.0, "1g"), 10) == 2.0 + 10 + 8.0
    budget.observe(probe(cpus=0.5, ready=None, duration=60.0, run_time=20))  # never ready: nothing learnt
    assert budget.startup(Cell(1, 1.0, "1g")) == 2.0


def test_what_fits_and_when_to_stop() -> None:
    clock = FakeClock(1000.0)
    budget = Budget(100, clock)
    assert budget.stop_at == 1000 + 100 - STOP_MARGIN_SECONDS
    clock.now += 60
    assert (budget.used, budget.remaining) == (60, 40)
    assert budget.allows(40 - STOP_MARGIN_SECONDS)
    assert not budget.allows(40 - STOP_MARGIN_SECONDS + 1)


def test_a_breach_its_looks_stopped_early_teaches_no_overhead_a_pass_they_stopped_does() -> None:
    # A pass is stopped once its window's last block was answered: its whole time is what a probe takes.
    budget = Budget(600, FakeClock(1000.0))
    breach = probe(cpus=0.5, ready=2.0, duration=12.0, run_time=20, stopped="decided after 6 s of judged load: breach")
    budget.observe(breach.model_copy(update={"outcome": "breach"}))
    assert budget.estimate(Cell(1, 1.0, "1g"), 10) == 1.0 + 10 + OVERHEAD_SECONDS
    budget.observe(probe(cpus=0.5, ready=2.0, duration=41.0, run_time=30, stopped="decided after 30 s: pass"))
    assert budget.estimate(Cell(1, 1.0, "1g"), 10) == 1.0 + 10 + 9.0
