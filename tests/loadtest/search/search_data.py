"""search.json records built for tests: a search that found its winner, one where nothing holds, one cut short."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loadtest.records import Figures, ProbeOutcome
from loadtest.runner.matrix import Cell
from loadtest.scenario import Pace, workshop_scenario
from loadtest.search.records import (
    BudgetRecord,
    CapacityPoint,
    CapacityRecord,
    Choice,
    ConfigurationRecord,
    ConfirmationRecord,
    GridRecord,
    MemoryRecord,
    ProbeKind,
    ProbeRecord,
    SearchRecord,
    SkippedRecord,
)
from loadtest.search.walk import State
from loadtest.thresholds import CostWeights, Slo

MIB = 1024**2
SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
STARTED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCENARIO = workshop_scenario().with_paces({"ordinary": Pace(rate=0.2), "heavy": Pace(rate=1.0)})


def probe(
    index: int,
    kind: ProbeKind,
    cell: Cell,
    outcome: ProbeOutcome,
    p95: float,
    rps: float,
    users: int = 1000,
    **fields: Any,
) -> ProbeRecord:
    return ProbeRecord(
        index=index,
        kind=kind,
        cell=cell.name,
        replicas=cell.replicas,
        cpus=cell.cpus,
        memory=cell.memory,
        cost=round(cell.replicas * cell.cpus, 9),
        users=users,
        spawn_rate=users / 10,
        run_time_seconds=20,
        outcome=outcome,
        figures=Figures(
            name="Aggregated",
            requests=int(rps * 10),
            failures=0,
            error_rate=0.0,
            rps=rps,
            p50_ms=p95 / 4,
            p95_ms=p95,
            p99_ms=p95 * 2,
        ),
        memory_peak_bytes=[70 * MIB] * cell.replicas,
        ready_seconds=4.0,
        started_at=STARTED,
        duration_seconds=32.0,
        folder=f"probes/{index:02d}-{kind}-{cell.name}",
        **fields,
    )


def configuration(
    cell: Cell, state: State, by: str | None = None, probes: list[int] | None = None
) -> ConfigurationRecord:
    return ConfigurationRecord(
        cell=cell.name,
        replicas=cell.replicas,
        cpus=cell.cpus,
        memory=cell.memory,
        cost=round(cell.replicas * cell.cpus, 9),
        state=state,
        by=by,
        probes=probes or [],
    )


def choice(cell: Cell) -> Choice:
    return Choice(
        cell=cell.name, replicas=cell.replicas, cpus=cell.cpus, memory=cell.memory, cost=cell.replicas * cell.cpus
    )


R2_01, R1_01, R2_025, R1_025 = Cell(2, 0.1, "512m"), Cell(1, 0.1, "512m"), Cell(2, 0.25, "512m"), Cell(1, 0.25, "512m")
R1_05, R2_05 = Cell(1, 0.5, "512m"), Cell(2, 0.5, "512m")
WINNER = Cell(1, 0.5, "256m")


def base(**fields: Any) -> SearchRecord:
    values: dict[str, Any] = {
        "generated_at": STARTED,
        "complete": True,
        "exit_code": 0,
        "result": "holds",
        "answer": f"the cheapest configuration that holds is {WINNER.name} (0.5 CPU)",
        "profile": "local",
        "backend": "process",
        "api_command": None,
        "slo": SLO,
        "users": 1000,
        "spawn_rate": 100,
        "run_time_seconds": 30,
        "probe_seconds": 10,
        "scenario": SCENARIO,
        "grid": GridRecord(replicas=[1, 2], cpus=[0.1, 0.25, 0.5], memory=["256m", "512m"], cost=CostWeights()),
        "configurations": [],
        "probes": [],
        "skipped": [],
        "winner": None,
        "budget": BudgetRecord(
            seconds=600,
            used_seconds=412,
            probe_seconds_estimate=31,
            reserve_seconds=135,
            probes_allowed=14,
            walk_at_most=4,
        ),
    }
    values.update(fields)
    return SearchRecord(**values)


def holds() -> SearchRecord:
    """2 x 0.1 fails (ruling out 1 x 0.1), 2 x 0.25 holds, 1 x 0.25 fails, 1 x 0.5 holds; memory 256m holds too."""
    probes = [
        probe(
            1,
            "cpu",
            R2_01,
            "breach",
            4200,
            410,
            stopped_early="P95 4,200 ms over the last 10 s",
            reason="stopped early: P95 4,200 ms over the last 10 s",
        ),
        probe(2, "cpu", R2_025, "pass", 380, 598),
        probe(3, "cpu", R1_025, "breach", 2900, 512, reason="P95 2,900 ms, limit 1,000 ms"),
        probe(4, "cpu", R1_05, "pass", 120, 601),
        probe(5, "memory", WINNER, "pass", 130, 600),
        probe(6, "confirm", WINNER, "pass", 140, 599),
        probe(7, "confirm", WINNER, "pass", 150, 600),
        probe(8, "runner-up", Cell(1, 0.25, "256m"), "breach", 3100, 505, reason="P95 3,100 ms, limit 1,000 ms"),
        probe(9, "capacity", WINNER, "pass", 400, 1190, users=2000),
        probe(10, "capacity", WINNER, "breach", 5200, 1320, users=4000, reason="P95 5,200 ms, limit 1,000 ms"),
        probe(11, "capacity", WINNER, "pass", 700, 1490, users=3000),
    ]
    return base(
        exit_code=0,
        configurations=[
            configuration(R1_01, "ruled out", R2_01.name),
            configuration(R2_01, "breach", probes=[1]),
            configuration(R1_025, "breach", probes=[3]),
            configuration(R1_05, "pass", probes=[4]),
            configuration(R2_025, "pass", probes=[2]),
            configuration(R2_05, "not needed", R1_05.name),
        ],
        probes=probes,
        skipped=[SkippedRecord(cell=R1_01.name, replicas=1, cpus=0.1, memory="512m", ruled_out_by=R2_01.name, probe=1)],
        winner=choice(WINNER),
        confirmation=ConfirmationRecord(
            cell=WINNER.name,
            margin_p95_ms=900,
            runs=[6, 7],
            held=True,
            runner_up="r1-cpu0.25-mem256m",
            runner_up_runs=[8],
            runner_up_failed=True,
            confirmed=True,
        ),
        capacities=[
            CapacityRecord(
                cell=WINNER.name,
                replicas=1,
                cpus=0.5,
                memory="256m",
                users=3000,
                rps=1490,
                p95_ms=700,
                failed_at=4000,
                limited_by="slo",
                points=[
                    CapacityPoint(users=1000, outcome="pass", rps=600, p95_ms=150, probe=7),
                    CapacityPoint(users=2000, outcome="pass", rps=1190, p95_ms=400, probe=9),
                    CapacityPoint(users=4000, outcome="breach", rps=1320, p95_ms=5200, probe=10),
                    CapacityPoint(users=3000, outcome="pass", rps=1490, p95_ms=700, probe=11),
                ],
            )
        ],
        memory=MemoryRecord(
            cell=WINNER.name,
            peaks_bytes=[70 * MIB],
            peak_bytes=70 * MIB,
            factor=1.25,
            recommended="96m",
            recommended_bytes=96 * MIB,
            smallest_holding="256m",
        ),
    )


def none_holds() -> SearchRecord:
    """Every configuration of the top row fails; the one below is ruled out by them."""
    cells = [Cell(2, 0.1, "512m"), Cell(2, 0.25, "512m"), Cell(2, 0.5, "512m")]
    probes = [
        probe(index, "cpu", cell, "breach", 9000, 90, reason="P95 9,000 ms, limit 1,000 ms")
        for index, cell in enumerate(cells, start=1)
    ]
    below = [Cell(1, 0.1, "512m"), Cell(1, 0.25, "512m"), Cell(1, 0.5, "512m")]
    return base(
        exit_code=1,
        result="none holds",
        answer="no configuration of the grid holds the SLO",
        api_command="python scripts/baseline_server.py --port {port}",
        configurations=[configuration(cell, "breach", probes=[index]) for index, cell in enumerate(cells, start=1)]
        + [configuration(cell, "ruled out", top.name) for cell, top in zip(below, cells, strict=True)],
        probes=probes,
        skipped=[
            SkippedRecord(cell=cell.name, replicas=1, cpus=cell.cpus, memory="512m", ruled_out_by=top.name, probe=index)
            for index, (cell, top) in enumerate(zip(below, cells, strict=True), start=1)
        ],
    )


def cut_short() -> SearchRecord:
    """The budget ran out after one probe that held; nothing is confirmed."""
    return base(
        complete=False,
        cut_short="the budget ran out: 0:40 left, not enough for r1-cpu0.1-mem512m (~45 s) and 120 s to confirm",
        exit_code=3,
        result="inconclusive",
        answer="the best so far, r2-cpu0.1-mem512m, held its probes but is not confirmed",
        configurations=[
            configuration(R1_01, "not tried"),
            configuration(R2_01, "pass", probes=[1]),
            configuration(R1_025, "not needed", R2_01.name),
        ],
        probes=[probe(1, "cpu", R2_01, "pass", 300, 600)],
        candidate=choice(R2_01),
        budget=BudgetRecord(
            seconds=90,
            used_seconds=52,
            probe_seconds_estimate=45,
            reserve_seconds=120,
            probes_allowed=0,
            walk_at_most=4,
            could_not_reach=["r2-cpu0.1-mem512m", "r1-cpu0.1-mem512m"],
            exhausted=True,
            not_tried=["r1-cpu0.1-mem512m"],
        ),
    )
