"""The search's answer: search.json built from the search's state, then search.md, search.png and the
terminal's text, the workshop's four questions answered from search.json.

`search_record` reads the state (`state.SearchState`) and nothing else; the rest are pure functions of
a `SearchRecord` (so the answers can be rebuilt from the file), except `write_outputs`, which writes
search.md and search.png beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from loadtest import exitcodes
from loadtest.records import OUTCOME_WORDS
from loadtest.runner.matrix import Cell
from loadtest.search.chart import render_chart
from loadtest.search.grid import cost_unit
from loadtest.search.memory import HEADROOM, largest_peaks, recommended_limit
from loadtest.search.records import (
    SEARCH_CHART,
    SEARCH_SUMMARY,
    AgainstRecord,
    CapacityRecord,
    Choice,
    ConfigurationRecord,
    ConfirmationRecord,
    GridRecord,
    MemoryRecord,
    ProbeRecord,
    Result,
    SearchRecord,
    SkippedRecord,
    cell_fields,
)
from loadtest.search.search_options import SearchConfig
from loadtest.search.state import BudgetRanOut, CutShort, ProbeBroke, SearchState
from loadtest.search.walk import Resolution
from loadtest.util.files import write_atomic
from loadtest.util.tables import markdown_table, text_table
from loadtest.util.text import sentence
from loadtest.util.units import format_clock, format_ms, format_rate

_MIB = 1024**2
_HEADLINES = {
    "holds": "✅ Search: a configuration holds the SLO",
    "none holds": "❌ Search: no configuration of the grid holds the SLO",
    "inconclusive": "⚠️ Search: inconclusive",
    "cannot judge": "⛔ Search: could not finish",
}


def search_record(
    state: SearchState,
    config: SearchConfig,
    used_seconds: float,
    generator_rps: float | None,
    compared: AgainstRecord | None,
    complete: bool,
    signal: str | None,
) -> SearchRecord:
    """search.json from what the search knows now (`signal`: the one that cut it short, if any)."""
    grid = state.grid
    resolved = state.resolved()
    by_cell: dict[str, list[int]] = {}
    for probe in state.probes:
        by_cell.setdefault(probe.cell, []).append(probe.index)
    configurations = [
        ConfigurationRecord(
            **cell_fields(cell),
            cost=grid.cost(cell),
            state=resolution.state,
            by=resolution.by.name if resolution.by is not None else None,
            probes=by_cell.get(cell.name, []),
        )
        for cell, resolution in resolved.items()
    ]
    result, code = _result(state, resolved, signal)
    not_tried = [cell.name for cell in state.cells if resolved[cell].state == "not tried"]
    budget = state.budget.model_copy(
        update={
            "used_seconds": round(used_seconds, 1),
            "not_tried": not_tried,
            "exhausted": isinstance(state.stop, BudgetRanOut),
        }
    )
    run = config.run
    return SearchRecord(
        generated_at=datetime.now(UTC),
        complete=complete,
        cut_short=state.stop.reason if state.stop is not None else None,
        exit_code=code,
        result=result,
        answer=_answer(state, result),
        profile=run.profile,
        backend=run.backend.name,
        api_command=run.backend.api_command,
        slo=run.slo,
        users=run.load.users,
        spawn_rate=run.load.spawn_rate,
        run_time_seconds=run.load.run_time_seconds,
        probe_seconds=config.probe_seconds,
        scenario=run.load.scenario,
        grid=GridRecord(
            replicas=list(grid.replicas), cpus=list(grid.cpus), memory=list(grid.memory), cost=grid.weights
        ),
        configurations=configurations,
        probes=list(state.probes),
        skipped=_skipped(state, resolved),
        winner=_choice(state, state.winner),
        candidate=_choice(state, None if state.winner else state.holding or state.candidate),
        confirmation=state.confirmations[-1].record() if state.confirmations else None,
        capacities=list(state.capacities),
        memory=_memory_advice(state),
        budget=budget,
        generator_rps=generator_rps,
        against=_against_winner(state, compared),
        demoted={cell.name: why for cell, why in state.demoted.items()},
    )


def _result(state: SearchState, resolved: dict[Cell, Resolution], signal: str | None) -> tuple[Result, int]:
    """The search's result and exit code."""
    states = {resolution.state for resolution in resolved.values()}
    if isinstance(state.stop, (ProbeBroke, CutShort)) or signal:
        return "cannot judge", exitcodes.CANNOT_JUDGE
    if state.winner is not None:
        winner = state.winner
        cheaper_unknown = any(
            state.findings.get(cell) == "inconclusive" and state.grid.cheaper(cell, winner) for cell in state.cells
        )
        if not cheaper_unknown:
            return "holds", exitcodes.PASSED
        return "inconclusive", exitcodes.INCONCLUSIVE
    if state.stop is None and state.candidate is None and states <= {"breach", "ruled out"}:
        return "none holds", exitcodes.BREACHED
    return "inconclusive", exitcodes.INCONCLUSIVE


def _answer(state: SearchState, result: Result) -> str:
    """One sentence for the terminal and search.json."""
    grid, unit = state.grid, cost_unit(state.grid.weights)
    why = f" ({state.stop.reason})" if state.stop is not None else ""
    if result == "holds" and state.winner is not None:
        return f"the cheapest configuration that holds is {state.winner.name} ({grid.cost(state.winner):g} {unit})"
    if result == "none holds":
        return "no configuration of the grid holds the SLO"
    if result == "cannot judge":
        return f"the search could not finish{why}"
    if state.winner is not None:
        return f"{state.winner.name} holds, but a cheaper configuration could not be judged"
    if state.holding is not None:
        cheaper = state.unsettled or grid.next_cheaper(state.holding)
        name = cheaper.name if cheaper is not None else "the configuration just cheaper"
        return f"{state.holding.name} holds, but whether {name}, just cheaper, holds too is not settled{why}"
    if state.candidate is not None:
        return f"the best so far, {state.candidate.name}, held its probes but is not confirmed{why}"
    return f"no configuration is known to hold{why}"


def _choice(state: SearchState, cell: Cell | None) -> Choice | None:
    """A configuration as search.json names it."""
    return Choice(**cell_fields(cell), cost=state.grid.cost(cell)) if cell is not None else None


def _skipped(state: SearchState, resolved: dict[Cell, Resolution]) -> list[SkippedRecord]:
    """Every configuration never probed because one that covers it failed, with that one and its probe."""
    failed_in: dict[str, int] = {}
    for probe in state.probes:
        if probe.outcome == "breach":
            failed_in.setdefault(probe.cell, probe.index)
    rows = []
    for cell in state.cells:
        by = resolved[cell].by
        if resolved[cell].state == "ruled out" and by is not None:
            rows.append(SkippedRecord(**cell_fields(cell), ruled_out_by=by.name, probe=failed_in.get(by.name, 0)))
    for failed, probe in state.memory_probes.items():
        if probe.outcome != "breach":
            continue
        for cell in state.grid.memory_variants(failed):
            if cell.memory_bytes < failed.memory_bytes and cell not in state.memory_probes:
                rows.append(SkippedRecord(**cell_fields(cell), ruled_out_by=failed.name, probe=probe.index))
    return rows


def _memory_advice(state: SearchState) -> MemoryRecord | None:
    """The recommended memory limit from the peaks of the winner's CPU configuration."""
    chosen = state.best_known()
    if chosen is None:
        return None
    runs = [
        probe
        for probe in state.probes
        if (probe.replicas, probe.cpus) == (chosen.replicas, chosen.cpus) and probe.outcome == "pass"
    ]
    peaks = largest_peaks(probe.memory_peak_bytes for probe in runs)
    if not peaks:
        return None
    recommended, size = recommended_limit(max(peaks))
    return MemoryRecord(
        cell=chosen.name,
        peaks_bytes=peaks,
        peak_bytes=max(peaks),
        factor=HEADROOM,
        recommended=recommended,
        recommended_bytes=size,
        smallest_holding=chosen.memory,
        failed={
            cell.memory: probe.reason or "failed"
            for cell, probe in state.memory_probes.items()
            if probe.outcome == "breach"
        },
    )


def _against_winner(state: SearchState, compared: AgainstRecord | None) -> AgainstRecord | None:
    """The comparison with this search's winner as it stands: the cost ratio once both have one."""
    if compared is None or compared.winner is None or state.winner is None or compared.winner.cost <= 0:
        return compared
    ratio = round(state.grid.cost(state.winner) / compared.winner.cost, 3)
    return compared.model_copy(update={"cost_ratio": ratio})


def write_outputs(record: SearchRecord, out: Path) -> str:
    """Write search.md and search.png into `out`; the text for the terminal."""
    picture = render_chart(record)
    write_atomic(out / SEARCH_CHART, picture)
    write_atomic(out / SEARCH_SUMMARY, render_markdown(record, SEARCH_CHART))
    return render_console(record)


def render_markdown(record: SearchRecord, chart: str | None = None) -> str:
    """search.md: the headline, the four questions answered, then what the search did, probe by probe."""
    lines = [f"## {_HEADLINES[record.result]}", "", f"**{sentence(record.answer)}** (exit code {record.exit_code})", ""]
    if record.cut_short:
        lines += [f"> [!CAUTION]\n> The search stopped early: {record.cut_short}. What it measured is below.", ""]
    lines += [_setting(record), ""]
    for question, answer in answers(record):
        lines += [f"### {question}", "", answer, ""]
    if record.against is not None:
        lines += ["### Against the other search", "", against_sentence(record), ""]
    if chart is not None:
        lines += [f"![the grid and the capacity curves]({chart})", ""]
    lines += ["### Probes", "", markdown_table(PROBE_HEADERS, probe_rows(record.probes), PROBE_ALIGN), ""]
    lines += ["### The grid", "", markdown_table(GRID_HEADERS, grid_rows(record.configurations), GRID_ALIGN), ""]
    lines += [_budget_sentence(record), ""]
    return "\n".join(lines)


def render_console(record: SearchRecord) -> str:
    """The answer for the terminal: the headline, the four answers, the probes."""
    lines = [_HEADLINES[record.result], "", sentence(record.answer), ""]
    if record.cut_short:
        lines += [f"The search stopped early: {record.cut_short}.", ""]
    for index, (question, answer) in enumerate(answers(record), start=1):
        lines += [f"{index}. {question}", f"   {_plain(answer)}", ""]
    if record.against is not None:
        lines += [f"Against {record.against.folder}: {_plain(against_sentence(record))}", ""]
    lines += [text_table(PROBE_HEADERS, probe_rows(record.probes), PROBE_ALIGN), "", _plain(_budget_sentence(record))]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the four questions


def answers(record: SearchRecord) -> list[tuple[str, str]]:
    """The workshop's four questions, each answered in sentences with the figures."""
    return [
        ("What are the minimum resources?", minimum_resources(record)),
        ("Can several replicas reduce them?", replicas_help(record)),
        ("What is the largest load supported?", largest_load(record)),
        ("What differs between one instance and several?", one_against_several(record)),
    ]


def minimum_resources(record: SearchRecord) -> str:
    """Question 1: the winner, its confirmation, the runner-up and the memory, or why there is none."""
    slo = record.slo
    load = f"{record.users:,} users ({_asked(record)})"
    confirmation = record.confirmation
    chosen = record.winner or record.candidate
    if chosen is not None and confirmation is not None and confirmation.cell == chosen.cell and confirmation.held:
        shape = f"**{_shape(chosen.replicas, chosen.cpus, chosen.memory)}** ({chosen.cost:g} {_unit(record)} in all)"
        limits = f"the SLO (P95 at most {slo.max_p95_ms:,g} ms, errors under {slo.max_error_rate:.2%}) for {load}"
        if record.winner is not None:
            text = f"{shape} is the cheapest configuration of the grid that holds {limits}."
        else:
            text = f"Not settled. {shape} holds {limits}, but it may not be the cheapest."
        return text + _confirmation_sentences(record, confirmation) + _memory_sentence(record)
    if record.result == "none holds":
        dearest = _dearest_probe(record)
        text = f"None of the grid's {len(record.configurations)} CPU configurations holds the SLO for {load}."
        if dearest is not None:
            text += (
                f" The dearest probed, {dearest.cell} ({dearest.cost:g} {_unit(record)}), failed: "
                f"{_figures(dearest)}{_because(dearest)}."
            )
        ruled = [row for row in record.configurations if row.state == "ruled out"]
        if ruled:
            text += f" {len(ruled)} more were ruled out by the failures of configurations with more of every resource."
        return text
    if record.candidate is not None:
        candidate = record.candidate
        passed = [probe for probe in record.probes if probe.cell == candidate.cell and probe.outcome == "pass"]
        shown = f": {_figures(passed[-1])}" if passed else ""
        return (
            f"Not settled. {_shape(candidate.replicas, candidate.cpus, candidate.memory)} ({candidate.cost:g} "
            f"{_unit(record)}) held its probe for {load}{shown}, but it is not confirmed"
            f"{f' ({record.cut_short})' if record.cut_short else ''}.{_untried(record)}" + _memory_sentence(record)
        )
    return f"Not settled: no configuration is known to hold for {load}.{_untried(record)}"


def _confirmation_sentences(record: SearchRecord, confirmation: ConfirmationRecord) -> str:
    """How the chosen configuration held at full length, what the one just cheaper did, what lost its place."""
    runs = [record.probe(index) for index in confirmation.runs]
    text = (
        f" It held {len(runs)} times at full length ({record.run_time_seconds} s) with P95 under the "
        f"{confirmation.margin_p95_ms:,.0f} ms margin: {' and '.join(_figures(run) for run in runs)}."
    )
    if confirmation.runner_up is not None and confirmation.runner_up_runs:
        runner_up = record.probe(confirmation.runner_up_runs[-1])
        failed = confirmation.runner_up_failed
        verb = "was inconclusive" if failed is None else "failed again" if failed else "held too"
        text += (
            f" The configuration just cheaper, {runner_up.cell} ({runner_up.cost:g} {_unit(record)}), {verb} at "
            f"full length: {_figures(runner_up)}{_because(runner_up)}."
        )
    elif confirmation.runner_up is None:
        text += " Nothing in the grid is cheaper."
    for cell, why in record.demoted.items():
        text += f" {cell} was cheaper and {_short(why)}, so it counts as failed."
    cheaper = [
        row.cell
        for row in record.configurations
        if row.state == "inconclusive" and record.winner is not None and row.cost <= record.winner.cost
    ]
    if cheaper:
        text += f" But {', '.join(cheaper)}, no dearer, could not be judged: a cheaper answer may exist."
    return text


def replicas_help(record: SearchRecord) -> str:
    """Question 2: per replica count, the least CPU that held, and whether more replicas cost less."""
    rows = [_replica_row(record, count) for count in record.grid.replicas]
    best = {count: held for count, held, _ in rows if held is not None}
    details = " ".join(text for _, _, text in rows)
    if not best:
        return f"No replica count holds in this grid. {details}"
    if len(best) == 1:
        (count,) = best
        return f"Only configurations of {_replicas(count)} held. {details}"
    cheapest = min(best.items(), key=lambda item: item[1].cost)
    one = best.get(min(best))
    if cheapest[0] == min(best) or one is None:
        verdict = f"No: more replicas did not cost less than {_replicas(min(best))}."
    else:
        saved = 1 - cheapest[1].cost / one.cost
        verdict = (
            f"Yes: {_replicas(cheapest[0])} hold at {cheapest[1].cost:g} {_unit(record)} where {_replicas(min(best))} "
            f"need {one.cost:g}, {saved:.0%} less."
        )
    return f"{verdict} {details}"


def largest_load(record: SearchRecord) -> str:
    """Question 3: the most users each configuration that held still holds, and their req/s."""
    if not record.capacities:
        if record.winner is None and record.candidate is None:
            return "Nothing held, so there is no capacity to measure."
        return "Not measured (capacity_steps is 0, or the budget ran out before it)."
    return " ".join(_capacity_sentence(record, capacity) for capacity in record.capacities)


def one_against_several(record: SearchRecord) -> str:
    """Question 4: the best configuration of one replica against the best of several, at the same load."""
    single = _best_held(record, lambda replicas: replicas == 1)
    several = _best_held(record, lambda replicas: replicas > 1)
    if single is None and several is None:
        return "Neither one replica nor several held, so there is nothing to compare."
    if single is None or several is None:
        only = single or several
        assert only is not None
        return (
            f"Only {'one replica' if single else 'several replicas'} held ({only.cell}: {_figures(only)}); "
            f"{'several' if single else 'one'} did not at any CPU limit probed, so the comparison is one-sided."
        )
    lines = [
        f"At the same {record.users:,} users: one replica, {single.cell} ({single.cost:g} {_unit(record)}): "
        f"{_figures(single)}{_memory_in_all(single)}; {several.replicas} replicas, {several.cell} "
        f"({several.cost:g} {_unit(record)}): {_figures(several)}{_memory_in_all(several)}."
    ]
    capacities = {capacity.cell: capacity for capacity in record.capacities}
    pair = [capacities.get(single.cell), capacities.get(several.cell)]
    if all(pair):
        one, many = pair
        assert one is not None
        assert many is not None
        lines.append(
            f"Capacity per CPU: {one.users / single.cost:,.0f} users with one replica against "
            f"{many.users / several.cost:,.0f} with {several.replicas}."
        )
    one_ms = single.figures.p95_ms if single.figures is not None else None
    many_ms = several.figures.p95_ms if several.figures is not None else None
    if one_ms is not None and many_ms is not None:
        tail = (
            f"{several.replicas} replicas answer faster at the tail: P95 {many_ms:,.0f} ms against {one_ms:,.0f} ms"
            if many_ms < one_ms
            else f"One replica answers at least as fast at the tail: P95 {one_ms:,.0f} ms against {many_ms:,.0f} ms"
        )
        lines.append(f"{tail}; each replica holds its own copy of the model and runtime in memory.")
    return " ".join(lines)


def against_sentence(record: SearchRecord) -> str:
    """This search's answer beside another search's (another service on the same grid and load)."""
    against = record.against
    if against is None:
        return ""
    other, mine, unit = against.winner, record.winner, _unit(record)
    where = f"`{against.folder}`"
    if other is None:
        held = f"holds at {mine.cell} ({mine.cost:g} {unit})" if mine is not None else "holds nowhere either"
        return f"The service of {where} holds in no configuration of its grid; this one {held}."
    served = f", serving ~{against.rps:,.0f} req/s" if against.rps else ""
    theirs = f"The service of {where} holds at {other.cell} ({other.cost:g} {unit}{served})"
    if mine is None:
        dearest = _dearest_probe(record)
        if dearest is None:
            return f"{theirs}; this one holds in no configuration of the grid."
        return (
            f"{theirs}; this one holds in no configuration of the grid: at its dearest probed, {dearest.cell} "
            f"({dearest.cost:g} {unit}, {dearest.cost / other.cost:g} times that), {_figures(dearest)}."
        )
    ratio = against.cost_ratio if against.cost_ratio is not None else _ratio(mine.cost, other.cost)
    times = f": {ratio:g} times the cost" if ratio is not None else ""
    return f"{theirs}; this one needs {mine.cell} ({mine.cost:g} {unit}){times}."


def _ratio(mine: float, theirs: float) -> float | None:
    """One cost over the other (None when the other costs nothing: no ratio to give)."""
    return round(mine / theirs, 3) if theirs > 0 else None


def _dearest_probe(record: SearchRecord) -> ProbeRecord | None:
    """The most expensive configuration the walk probed, with figures."""
    probed = [probe for probe in record.probes if probe.kind == "cpu" and probe.figures is not None]
    return max(probed, key=lambda probe: (probe.cost, probe.index), default=None)


# --------------------------------------------------------------------------- tables

PROBE_HEADERS = ["#", "kind", "configuration", "cost", "users", "result", "P95 ms", "req/s", "errors", "time", "why"]
PROBE_ALIGN = "rllrrlrrrrl"
GRID_HEADERS = ["configuration", "cost", "state", "because of", "probes"]
GRID_ALIGN = "lrlll"


def probe_rows(probes: Sequence[ProbeRecord]) -> list[list[str]]:
    """One row per probe."""
    rows = []
    for probe in probes:
        figures = probe.figures
        rows.append(
            [
                str(probe.index),
                probe.kind + (" (again)" if probe.attempt > 1 else ""),
                probe.cell,
                f"{probe.cost:g}",
                f"{probe.users:,}",
                OUTCOME_WORDS[probe.outcome],
                format_ms(figures.p95_ms) if figures else "–",
                f"{figures.rps:,.1f}" if figures else "–",
                format_rate(figures.failures, figures.requests) if figures else "–",
                f"{probe.duration_seconds:.0f} s",
                _short(probe.reason) if probe.outcome != "pass" and probe.reason else "",
            ]
        )
    return rows


def grid_rows(configurations: Sequence[ConfigurationRecord]) -> list[list[str]]:
    """One row per CPU configuration of the walk."""
    return [
        [row.cell, f"{row.cost:g}", row.state, row.by or "", ", ".join(str(index) for index in row.probes)]
        for row in configurations
    ]


# --------------------------------------------------------------------------- pieces


def _setting(record: SearchRecord) -> str:
    grid = record.grid
    service = f"`{record.api_command}`" if record.api_command else "this checkout's API (`python -m api`)"
    return (
        f"Service: {service}, {record.backend} backend. Load: {record.users:,} users ({_asked(record)}), "
        f"probes of {record.probe_seconds} s after the ramp, confirmation at {record.run_time_seconds} s. Grid: "
        f"replicas {', '.join(map(str, grid.replicas))} x CPU {', '.join(f'{cpus:g}' for cpus in grid.cpus)} x memory "
        f"{', '.join(grid.memory)}; cost = {grid.cost.cpu:g} x CPUs"
        + (f" + {grid.cost.memory_gib:g} x GiB" if grid.cost.memory_gib else ", memory breaking ties")
        + "."
    )


def _asked(record: SearchRecord) -> str:
    most = record.scenario.asked_rps(record.users)
    at_limit = record.scenario.asked_rps(record.users, record.slo.max_p95_ms)
    if abs(most - at_limit) < 1e-6 * max(1.0, most):
        return f"asking ~{most:,.0f} req/s"
    return f"asking up to ~{most:,.0f} req/s"


def _shape(replicas: int, cpus: float, memory: str) -> str:
    return f"{_replicas(replicas)} x {cpus:g} CPU, {memory} each"


def _replicas(count: int) -> str:
    return f"{count} replica{'s' if count != 1 else ''}"


def _unit(record: SearchRecord) -> str:
    return cost_unit(record.grid.cost)


def _figures(probe: ProbeRecord) -> str:
    figures = probe.figures
    if figures is None:
        return f"no figures ({probe.outcome})"
    errors = format_rate(figures.failures, figures.requests)
    return f"P95 {format_ms(figures.p95_ms)} ms, {figures.rps:,.1f} req/s, errors {errors}"


def _because(probe: ProbeRecord) -> str:
    return f" ({_short(probe.reason)})" if probe.reason and probe.outcome != "pass" else ""


def _short(text: str, width: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _memory_sentence(record: SearchRecord) -> str:
    memory = record.memory
    if memory is None:
        return ""
    peaks = " and ".join(f"{peak / _MIB:,.0f} MiB" for peak in memory.peaks_bytes)
    failed = "".join(f" At {size} it failed: {_short(why)}." for size, why in memory.failed.items())
    return (
        f" Memory comes from the peak, not from latency: its replicas peaked at {peaks}, so a limit of "
        f"**{memory.recommended}** (the peak x {memory.factor:g}, rounded up to a container size); the grid's "
        f"smallest limit that held is {memory.smallest_holding}.{failed}"
    )


def _replica_row(record: SearchRecord, count: int) -> tuple[int, ConfigurationRecord | None, str]:
    """One replica count: up to which CPU limit it fails, where it holds, what was left."""
    rows = [row for row in record.configurations if row.replicas == count]
    held = next((row for row in rows if row.state == "pass"), None)
    failed = [row for row in rows if row.state in ("breach", "ruled out")]
    parts = []
    if failed:
        parts.append(f"fails up to {max(row.cpus for row in failed):g} CPU each")
    if held is not None:
        probe = next((probe for probe in record.probes if probe.cell == held.cell and probe.outcome == "pass"), None)
        shown = f": {_figures(probe)}" if probe is not None else ""
        parts.append(f"holds at {held.cpus:g} CPU each ({held.cost:g} {_unit(record)} in all{shown})")
    not_needed = [row for row in rows if row.state == "not needed"]
    if held is None and not_needed:
        parts.append(
            f"was not probed from {min(row.cpus for row in not_needed):g} CPU each on (no cheaper than the answer)"
        )
    unsettled = [row.cell for row in rows if row.state in ("not tried", "inconclusive")]
    if unsettled:
        parts.append(f"{', '.join(unsettled)} not settled")
    return count, held, f"With {_replicas(count)}: {'; '.join(parts) or 'not probed'}."


def _capacity_sentence(record: SearchRecord, capacity: CapacityRecord) -> str:
    served = f" (~{capacity.rps:,.0f} req/s, P95 {capacity.p95_ms:,.0f} ms)" if capacity.rps and capacity.p95_ms else ""
    head = f"{capacity.cell} holds {capacity.users:,} users{served}"
    if capacity.limited_by == "slo" and capacity.failed_at is not None:
        failed = next((point for point in capacity.points if point.users == capacity.failed_at), None)
        shown = f" (P95 {failed.p95_ms:,.0f} ms)" if failed is not None and failed.p95_ms is not None else ""
        return f"{head}; {capacity.failed_at:,} do not{shown}."
    tails = {
        "generator": "; more would ask more than this machine's Locust can send, so that is a floor, not the capacity.",
        "steps": f"; no probe failed within {_steps(len(capacity.points) - 1)}, so it holds at least that.",
        "budget": "; the budget ran out before a load that fails, so it holds at least that.",
        "slo": ".",
    }
    return head + tails[capacity.limited_by]


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"


def _best_held(record: SearchRecord, replicas: Callable[[int], bool]) -> ProbeRecord | None:
    """The cheapest configuration with such a replica count that held at the profile's users."""
    held = [
        probe
        for probe in record.probes
        if probe.outcome == "pass" and probe.kind in ("cpu", "memory", "confirm") and replicas(probe.replicas)
    ]
    return min(held, key=lambda probe: (probe.cost, probe.index)) if held else None


def _memory_in_all(probe: ProbeRecord) -> str:
    peaks = [peak for peak in probe.memory_peak_bytes if peak is not None]
    return f", {sum(peaks) / _MIB:,.0f} MiB of memory in all" if peaks else ""


def _untried(record: SearchRecord) -> str:
    if not record.budget.not_tried:
        return ""
    return f" Not tried: {', '.join(record.budget.not_tried)}."


def _budget_sentence(record: SearchRecord) -> str:
    budget = record.budget
    text = (
        f"Budget: {format_clock(budget.used_seconds)} used of {format_clock(budget.seconds)}; "
        f"{len(record.probes)} probe(s) for {len(record.configurations)} CPU configurations"
        f" ({len(record.skipped)} ruled out without a probe)."
    )
    if budget.could_not_reach:
        text += f" At the start it could not reach: {', '.join(budget.could_not_reach)}."
    if budget.exhausted:
        text += " It ran out" + (f"; not tried: {', '.join(budget.not_tried)}." if budget.not_tried else ".")
    return text


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")
