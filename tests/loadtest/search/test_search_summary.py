"""search.md and the terminal's answer: the four questions answered with the figures, from search.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.search.chart import render_chart
from loadtest.search.records import SEARCH_CHART, SEARCH_SUMMARY, AgainstRecord, Choice
from loadtest.search.search_summary import against_sentence, answers, render_console, render_markdown, write_outputs
from tests.loadtest.search import search_data

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_winner_answers_all_four_questions_with_figures() -> None:
    record = search_data.holds()
    text = dict(answers(record))
    minimum = text["What are the minimum resources?"]
    assert minimum.startswith("**1 replica x 0.5 CPU, 256m each** (0.5 CPU in all) is the cheapest configuration")
    assert "for 1,000 users (asking ~600 req/s)" in minimum
    assert "It held 2 times at full length (30 s) with P95 under the 900 ms margin: P95 140 ms" in minimum
    assert (
        "The configuration just cheaper, r1-cpu0.25-mem256m (0.25 CPU), failed again at full length: P95 3,100 ms"
        in minimum
    )
    assert "peaked at 70 MiB, so a limit of **96m** (the peak x 1.25" in minimum
    several = text["Can several replicas reduce them?"]
    assert several.startswith("No: more replicas did not cost less than 1 replica.")
    assert "With 1 replica: fails up to 0.25 CPU each; holds at 0.5 CPU each (0.5 CPU in all: P95 120 ms" in several
    assert "With 2 replicas: fails up to 0.1 CPU each; holds at 0.25 CPU each (0.5 CPU in all" in several
    assert text["What is the largest load supported?"] == (
        "r1-cpu0.5-mem256m holds 3,000 users (~1,490 req/s, P95 700 ms); 4,000 do not (P95 5,200 ms)."
    )
    differs = text["What differs between one instance and several?"]
    assert (
        "one replica, r1-cpu0.5-mem512m (0.5 CPU): P95 120 ms, 601.0 req/s, errors 0.00%, 70 MiB of memory in all"
        in differs
    )
    assert (
        "2 replicas, r2-cpu0.25-mem512m (0.5 CPU): P95 380 ms, 598.0 req/s, errors 0.00%, 140 MiB of memory" in differs
    )
    assert "One replica answers at least as fast at the tail: P95 120 ms against 380 ms; each replica" in differs


def test_the_markdown_has_the_headline_the_answers_the_picture_and_the_tables() -> None:
    markdown = render_markdown(search_data.holds(), SEARCH_CHART)
    assert markdown.startswith(
        "## ✅ Search: a configuration holds the SLO\n\n**The cheapest configuration that holds is"
    )
    for heading in ("### What are the minimum resources?", "### Probes", "### The grid"):
        assert heading in markdown
    assert "![the grid and the capacity curves](search.png)" in markdown
    assert (
        "| 1 | cpu | r2-cpu0.1-mem512m | 0.2 | 1,000 | FAIL | 4,200 | 410.0 | 0.00% | 32 s | stopped early: P95 4,200"
        in markdown
    )
    assert "| r1-cpu0.1-mem512m | 0.1 | ruled out | r2-cpu0.1-mem512m |  |" in markdown
    assert "Budget: 6:52 used of 10:00; 11 probe(s) for 6 CPU configurations (1 ruled out without a probe)." in markdown


def test_a_winner_that_lost_its_confirmation_is_named() -> None:
    record = search_data.holds().model_copy(
        update={"demoted": {"r1-cpu0.25-mem512m": "held its probe, not its confirmation: P95 1,300 ms, limit 1,000 ms"}}
    )
    minimum = dict(answers(record))["What are the minimum resources?"]
    assert (
        "r1-cpu0.25-mem512m was cheaper and held its probe, not its confirmation: P95 1,300 ms, limit 1,000 ms, "
        "so it counts as failed."
    ) in minimum


def test_a_winner_whose_runner_up_held_too_is_not_settled() -> None:
    holds = search_data.holds()
    assert holds.confirmation is not None
    record = holds.model_copy(
        update={
            "winner": None,
            "candidate": holds.winner,
            "result": "inconclusive",
            "exit_code": 3,
            "confirmation": holds.confirmation.model_copy(update={"runner_up_failed": False, "confirmed": False}),
        }
    )
    minimum = dict(answers(record))["What are the minimum resources?"]
    assert minimum.startswith("Not settled. **1 replica x 0.5 CPU, 256m each** (0.5 CPU in all) holds the SLO")
    assert "but it may not be the cheapest. It held 2 times at full length" in minimum
    assert "The configuration just cheaper, r1-cpu0.25-mem256m (0.25 CPU), held too at full length" in minimum


@pytest.mark.parametrize(("points", "steps"), [(2, "1 step"), (3, "2 steps")])
def test_a_capacity_the_steps_ran_out_on_counts_them(points: int, steps: str) -> None:
    holds = search_data.holds()
    capacity = holds.capacities[0]
    held = [point.model_copy(update={"outcome": "pass"}) for point in capacity.points[:points]]
    record = holds.model_copy(
        update={"capacities": [capacity.model_copy(update={"limited_by": "steps", "failed_at": None, "points": held})]}
    )
    load = dict(answers(record))["What is the largest load supported?"]
    assert load.endswith(f"; no probe failed within {steps}, so it holds at least that.")


def test_none_holds_names_the_dearest_failure_and_what_it_ruled_out() -> None:
    record = search_data.none_holds()
    minimum = dict(answers(record))["What are the minimum resources?"]
    assert minimum.startswith("None of the grid's 6 CPU configurations holds the SLO for 1,000 users")
    assert "The dearest probed, r2-cpu0.5-mem512m (1 CPU), failed: P95 9,000 ms, 90.0 req/s" in minimum
    assert "3 more were ruled out by the failures of configurations with more of every resource" in minimum
    assert dict(answers(record))["Can several replicas reduce them?"].startswith("No replica count holds in this grid.")
    assert "Service: `python scripts/baseline_server.py --port {port}`" in render_markdown(record)


def test_a_search_cut_short_says_so_and_what_was_not_tried() -> None:
    record = search_data.cut_short()
    markdown = render_markdown(record)
    assert "> [!CAUTION]\n> The search stopped early: the budget ran out: 0:40 left" in markdown
    minimum = dict(answers(record))["What are the minimum resources?"]
    assert minimum.startswith("Not settled. 2 replicas x 0.1 CPU, 512m each (0.2 CPU) held its probe")
    assert "Not tried: r1-cpu0.1-mem512m." in minimum
    assert "At the start it could not reach: r2-cpu0.1-mem512m, r1-cpu0.1-mem512m. It ran out; not tried:" in markdown
    console = render_console(record)
    assert console.startswith("⚠️ Search: inconclusive\n\nThe best so far, r2-cpu0.1-mem512m, held its probes")
    assert "**" not in console


def test_against_another_search() -> None:
    mine = search_data.none_holds().model_copy(
        update={
            "against": AgainstRecord(
                folder="results/search-ours",
                winner=Choice(cell="r1-cpu0.1-mem512m", replicas=1, cpus=0.1, memory="512m", cost=0.1),
                rps=601.5,
                cost_ratio=None,
            )
        }
    )
    markdown = render_markdown(mine)
    assert "### Against the other search" in markdown
    assert (
        "The service of `results/search-ours` holds at r1-cpu0.1-mem512m (0.1 CPU, serving ~602 req/s); this one holds "
        "in no configuration of the grid: at its dearest probed, r2-cpu0.5-mem512m (1 CPU, 10 times that), P95 9,000 "
        "ms, 90.0 req/s, errors 0.00%."
    ) in markdown


@pytest.mark.parametrize(
    ("cost", "ratio", "expected"),
    [
        (0.25, 2.0, "; this one needs r1-cpu0.5-mem256m (0.5 CPU): 2 times the cost."),
        (0.25, None, "; this one needs r1-cpu0.5-mem256m (0.5 CPU): 2 times the cost."),  # from the costs
        (0.0, None, "; this one needs r1-cpu0.5-mem256m (0.5 CPU)."),  # no ratio to give: none printed
    ],
)
def test_against_another_search_that_holds_too(cost: float, ratio: float | None, expected: str) -> None:
    other = Choice(cell="r1-cpu0.25-mem512m", replicas=1, cpus=0.25, memory="512m", cost=cost)
    mine = search_data.holds().model_copy(
        update={"against": AgainstRecord(folder="results/other", winner=other, rps=None, cost_ratio=ratio)}
    )
    sentence = against_sentence(mine)
    assert sentence.startswith(f"The service of `results/other` holds at r1-cpu0.25-mem512m ({cost:g} CPU)")
    assert sentence.endswith(expected)
    assert "0 times" not in render_console(mine)


def test_write_outputs_writes_the_markdown_and_the_picture(tmp_path: Path) -> None:
    console = write_outputs(search_data.holds(), tmp_path)
    assert (tmp_path / SEARCH_SUMMARY).read_text().startswith("## ✅")
    assert (tmp_path / SEARCH_CHART).read_bytes().startswith(PNG)
    assert "1. What are the minimum resources?" in console


def test_the_picture_draws_every_kind_of_search() -> None:
    for record in (search_data.holds(), search_data.none_holds(), search_data.cut_short()):
        picture = render_chart(record)
        assert picture.startswith(PNG)
        assert len(picture) > 20_000
