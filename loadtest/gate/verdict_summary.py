"""The gate's verdict for people: a Markdown summary (job summaries, PR comments) and a terminal view.

Pure functions: they build text from a run's statistics and its verdict, and write nothing.
"""

from __future__ import annotations

from loadtest.gate.buckets import bucket_bounds, reportable_above, reportable_at_most
from loadtest.gate.reading import AGGREGATED, LocustStats
from loadtest.records import OUTCOME_WORDS, Verdict
from loadtest.util.tables import markdown_table, text_table
from loadtest.util.units import format_ms, format_rate, format_share


def endpoint_rows(run: LocustStats) -> list[list[str]]:
    """The workshop's table: endpoint, requests, failures, failure %, req/s, P50, P95, P99."""
    return [
        [
            figures.name,
            f"{figures.requests:,}",
            f"{figures.failures:,}",
            format_rate(figures.failures, figures.requests),
            f"{figures.rps:,.1f}",
            format_ms(figures.p50_ms),
            format_ms(figures.p95_ms),
            format_ms(figures.p99_ms),
        ]
        for figures in [*run.endpoints.values(), run.aggregated]
    ]


ENDPOINT_HEADERS = ["Endpoint", "Requests", "Failures", "Failure %", "req/s", "P50 (ms)", "P95 (ms)", "P99 (ms)"]
ENDPOINT_ALIGN = "lrrrrrrr"
CHECK_HEADERS = ["Check", "Scope", "Value", "Limit", "Result"]
CHECK_ALIGN = "llrrl"
FAILURE_HEADERS = ["Error", "Endpoint", "Occurrences", "% of failures"]
FAILURE_ALIGN = "llrr"

_CHECK_TITLES = {"max_error_rate": "Error rate", "max_p95_ms": "P95", "min_rps": "Throughput"}


def check_rows(run: LocustStats, verdict: Verdict) -> list[list[str]]:
    """One row per check: what was measured, the rule it had to meet, pass or breach."""
    rows = []
    for check in verdict.checks:
        figures = run.aggregated if check.scope == AGGREGATED else run.endpoints[check.scope]
        if check.name == "max_error_rate":
            value = f"{format_rate(figures.failures, figures.requests)} ({figures.failures:,}/{figures.requests:,})"
            rule = f"< {check.limit * 100:g}%"
        elif check.name == "max_p95_ms":
            value, rule = f"{check.value:,.0f} ms", f"≤ {check.limit:,g} ms"
        else:
            value, rule = f"{check.value:,.1f} req/s", f"≥ {check.limit:,g} req/s"
        result = "pass" if check.passed else "BREACHED"
        rows.append([_CHECK_TITLES.get(check.name, check.name), check.scope, value, rule, result])
    return rows


def failure_rows(run: LocustStats) -> list[list[str]]:
    """Failure types from locust_failures.csv, most frequent first, with their share."""
    failures = sorted(run.failures, key=lambda row: row.occurrences, reverse=True)
    total = sum(row.occurrences for row in failures)
    return [[row.error, row.endpoint, f"{row.occurrences:,}", format_share(row.occurrences, total)] for row in failures]


ICONS = {"pass": "✅", "breach": "❌", "inconclusive": "⚠️"}


def headline(verdict: Verdict) -> str:
    """PASSED, FAILED or INCONCLUSIVE, with the count of checks."""
    if verdict.outcome == "inconclusive":
        return "INCONCLUSIVE: this run did not measure the service"
    if verdict.passed:
        return f"PASSED: all {len(verdict.checks)} checks hold"
    if not verdict.breached:
        return f"FAILED: the service was starved ({len(verdict.checks)} checks hold, but too few requests were served)"
    return f"FAILED: {len(verdict.breached)} of {len(verdict.checks)} checks breached"


def verdict_line(verdict: Verdict) -> str:
    """The outcome with the run's headline figures on one line, and why, one reason a line below it."""
    return (
        f"{OUTCOME_WORDS[verdict.outcome]} — {verdict.requests:,} requests, {verdict.rps:,.1f} req/s, "
        f"error rate {format_rate(verdict.figures.failures, verdict.requests)}, P95 {verdict.p95_ms:,.0f} ms"
        + "".join(f"\n    {reason}" for reason in verdict.reasons)
    )


MEASUREMENT_HEADERS = ["Measurement", "Value"]
MEASUREMENT_ALIGN = "ll"


def measurement_rows(verdict: Verdict) -> list[list[str]]:
    """How valid the measurement was: the judged window, served against expected, who used the CPU."""
    window = verdict.window
    rows = [["judged window", f"{window.seconds:,.0f} s, {window.kind}"]]
    delivered = verdict.delivery
    if delivered is not None:
        rows.append(["users (mean over the window)", f"{delivered.users:,.0f}"])
        rows.append(
            [
                "served / expected",
                f"{delivered.served_rps:,.1f} / {delivered.expected_rps:,.1f} req/s ({delivered.ratio:.0%}; "
                f"limit {verdict.slo.min_delivered_ratio:.0%}, {delivered.basis})",
            ]
        )
    measured = verdict.resources
    if measured is not None:
        if measured.api_cpu_share is not None:
            rows.append(["API CPU", f"{measured.api_cpu_share:.0%} of its limit"])
        if measured.api_throttled_share is not None:
            rows.append(["API throttled", f"{measured.api_throttled_share:.0%} of CFS periods"])
        if measured.locust_peak_cpu is not None:
            busy = measured.locust_busy_seconds or 0
            rows.append(["Locust CPU", f"peak {measured.locust_peak_cpu:.0%}, at 90% or more for {busy:.0f} s"])
    if verdict.generator_capacity_rps is not None:
        rows.append(["Locust can deliver", f"~{verdict.generator_capacity_rps:,.0f} req/s of this scenario here"])
    return rows


def bucketing_note(p95_ms: float, limit_ms: float) -> str:
    """Why a reported P95 is a range, for the reported value and for the limit."""
    low, high = bucket_bounds(p95_ms)
    allowed = reportable_at_most(limit_ms)
    _, allowed_high = bucket_bounds(allowed)
    return (
        "Locust rounds every response time before it counts it (to 1 ms below 100 ms, 10 ms below "
        "1 s, 100 ms below 10 s, 1 s above) and reads percentiles from the rounded values. "
        f"So the reported P95 of {p95_ms:,.0f} ms stands for a true P95 between about "
        f"{low:,g} and {high:,g} ms, and the limit of {limit_ms:,g} ms lets through reported values "
        f"up to {allowed:,} ms, that is true times up to about {allowed_high:,g} ms; the next value "
        f"Locust can report is {reportable_above(limit_ms):,} ms."
    )


def render_summary(run: LocustStats, verdict: Verdict, timeline: str | None = None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY and PR comments: the verdict first, then the tables."""
    icon = ICONS[verdict.outcome]
    total = run.aggregated
    load = []
    if run.peak_users is not None:
        load.append(f"{run.peak_users:,} users at peak")
    if run.duration_s is not None:
        load.append(f"{run.duration_s:,} s of history")
    parts = [
        f"## {icon} Performance gate {headline(verdict)}",
        "",
        f"**{total.requests:,} requests**, **{format_rate(total.failures, total.requests)} errors**, "
        f"**{total.rps:,.1f} req/s**, **P95 {format_ms(total.p95_ms)} ms**"
        + (f" ({', '.join(load)})" if load else "")
        + f". Run: `{run.run_dir}`",
        "",
        *[f"- {reason}" for reason in verdict.reasons],
        *([""] if verdict.reasons else []),
        markdown_table(
            CHECK_HEADERS, [[*row[:4], _result_mark(row[4])] for row in check_rows(run, verdict)], CHECK_ALIGN
        ),
        "",
        *(
            [f"![users, req/s, P95, failures and CPU over time; the judged window shaded]({timeline})", ""]
            if timeline
            else []
        ),
        "### Measurement",
        "",
        markdown_table(MEASUREMENT_HEADERS, measurement_rows(verdict), MEASUREMENT_ALIGN),
        "",
        "### Requests by endpoint",
        "",
        markdown_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN, bold_last=True),
        "",
        "### Failures",
        "",
        markdown_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN) if run.failures else "No failures.",
        "",
        f"<sub>{bucketing_note(verdict.p95_ms, verdict.slo.max_p95_ms)}</sub>",
        "",
    ]
    return "\n".join(parts)


def _result_mark(result: str) -> str:
    return "✅ pass" if result == "pass" else "❌ **breached**"


def render_console(run: LocustStats, verdict: Verdict) -> str:
    """The terminal view: the verdict, the checks, the endpoints, the failure types."""
    parts = [
        f"Performance gate {headline(verdict)}  ({run.run_dir})",
        *[f"  - {reason}" for reason in verdict.reasons],
        "",
        text_table(CHECK_HEADERS, check_rows(run, verdict), CHECK_ALIGN),
        "",
        text_table(MEASUREMENT_HEADERS, measurement_rows(verdict), MEASUREMENT_ALIGN),
        "",
        text_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN),
    ]
    if run.failures:
        parts += ["", text_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN)]
    return "\n".join(parts) + "\n"


def render_cannot_judge(reason: str) -> str:
    """The Markdown summary of a run that could not be judged: it fails the build all the same."""
    return f"## ⚠️ Performance gate CANNOT JUDGE: the build fails\n\n{reason}\n"
