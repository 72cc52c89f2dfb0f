"""The gate's verdict for people: a Markdown summary (job summaries, PR comments) and a terminal view.

Pure functions: they build text from a run's statistics and its verdict, and write nothing.
"""

from __future__ import annotations

from loadtest.gate.buckets import bucket_bounds, reportable_above, reportable_at_most
from loadtest.gate.confidence import share_text
from loadtest.gate.reading import AGGREGATED, LocustStats
from loadtest.records import OUTCOME_WORDS, Check, Figures, LatencyPercentiles, Verdict
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
    """One row per check: what was measured, the rule it had to meet, pass, breach or too close to call.

    A check judged from the histograms states its share over the limit and that share's interval:
    `1,012 ms; 5.3% over 1,000 ms [4.1%, 6.6%]`."""
    rows = []
    for check in verdict.checks:
        if check.estimate is not None:
            value, rule = _bounded_value(check, verdict), _bounded_rule(check)
        elif check.name == "max_error_rate" and verdict.source == "histograms":
            value, rule = f"{check.value:.2%} of intended", f"< {check.limit * 100:g}%"
        elif check.name == "max_error_rate":
            figures = run.aggregated if check.scope == AGGREGATED else run.endpoints[check.scope]
            value = f"{format_rate(figures.failures, figures.requests)} ({figures.failures:,}/{figures.requests:,})"
            rule = f"< {check.limit * 100:g}%"
        elif check.name == "max_p95_ms":
            value, rule = f"{check.value:,.0f} ms", f"≤ {check.limit:,g} ms"
        else:
            value, rule = f"{check.value:,.1f} req/s", f"≥ {check.limit:,g} req/s"
        rows.append([_CHECK_TITLES.get(check.name, check.name), check.scope, value, rule, _result(check)])
    return rows


def _bounded_value(check: Check, verdict: Verdict) -> str:
    """The figure with its share over the limit and the share's interval."""
    if check.name == "max_p95_ms":
        scope = next((s for s in verdict.latency if s.scope == check.scope), None)
        at_least = "≥ " if scope is not None and "p95_ms" in scope.corrected.at_least else ""
        return f"{at_least}{check.value:,.0f} ms; {share_over_text(check)}"
    return f"{share_text(check.estimate or 0.0)} {_bounds(check)}"


def _bounds(check: Check) -> str:
    return f"[{share_text(check.lower or 0.0)}, {share_text(check.upper or 0.0)}]"


def share_over_text(check: Check) -> str:
    """A latency check's share over its limit and the share's interval: `5.3% over 1,000 ms [4.1%, 6.6%]`."""
    return f"{share_text(check.estimate or 0.0)} over {check.limit:,g} ms {_bounds(check)}"


def _bounded_rule(check: Check) -> str:
    if check.name == "max_p95_ms":
        return f"≤ {check.limit:,g} ms (≤ {share_text(check.allowed or 0.0)} over)"
    return f"≤ {share_text(check.limit)} of intended"


def _result(check: Check) -> str:
    if check.state == "too close to call":
        return "too close to call"
    if check.state == "held back":
        return "BREACHED (held back)"
    return "pass" if check.passed else "BREACHED"


def failure_rows(run: LocustStats) -> list[list[str]]:
    """Failure types from locust_failures.csv, most frequent first, with their share."""
    failures = sorted(run.failures, key=lambda row: row.occurrences, reverse=True)
    total = sum(row.occurrences for row in failures)
    return [[row.error, row.endpoint, f"{row.occurrences:,}", format_share(row.occurrences, total)] for row in failures]


ICONS = {"pass": "✅", "breach": "❌", "inconclusive": "⚠️"}


def headline(verdict: Verdict) -> str:
    """PASSED, FAILED or INCONCLUSIVE, with the count of checks."""
    if verdict.outcome == "inconclusive":
        first = verdict.reasons[0] if verdict.reasons else ""
        for undecided in ("too close to call", "not steady"):
            if first.startswith(undecided):
                return f"INCONCLUSIVE: {undecided}"
        return "INCONCLUSIVE: this run did not measure the service"
    if verdict.passed:
        return f"PASSED: all {len(verdict.checks)} checks hold"
    if not verdict.breached:
        return f"FAILED: the service was starved ({len(verdict.checks)} checks hold, but too few requests were served)"
    return f"FAILED: {len(verdict.breached)} of {len(verdict.checks)} checks breached"


def _p95_words(verdict: Verdict) -> str:
    """`P95 1,012 ms (corrected)`: which P95 the headline figures give."""
    corrected = " (corrected)" if verdict.source == "histograms" else ""
    return f"P95 {verdict.p95_ms:,.0f} ms{corrected}"


def verdict_line(verdict: Verdict) -> str:
    """The outcome with the run's headline figures on one line, and why, one reason a line below it."""
    return (
        f"{OUTCOME_WORDS[verdict.outcome]} — {verdict.requests:,} requests, {verdict.rps:,.1f} req/s, "
        f"error rate {format_rate(verdict.figures.failures, verdict.requests)}, {_p95_words(verdict)}"
        + "".join(f"\n    {reason}" for reason in verdict.reasons)
    )


LATENCY_HEADERS = ["Scope", "Timed from", "P50 (ms)", "P95 (ms)", "P99 (ms)", "P99.9 (ms)", "Max (ms)"]
LATENCY_ALIGN = "llrrrrr"
REQUEST_HEADERS = ["Scope", "Intended", "Sent", "Completed", "Failed", "Unfinished"]
REQUEST_ALIGN = "lrrrrr"
_PERCENTILE_KEYS = ("p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")


def latency_rows(verdict: Verdict) -> list[list[str]]:
    """Per scope, the percentiles from the intended send (what the gate judges) above those from the actual
    send (what Locust reports). `≥` marks a percentile among requests never answered: how long they had
    waited when the books closed."""
    rows = []
    for scope in verdict.latency:
        for label, figures in (("intended send", scope.corrected), ("actual send", scope.uncorrected)):
            rows.append([scope.scope, label, *_percentile_cells(figures)])
    return rows


def _percentile_cells(figures: LatencyPercentiles) -> list[str]:
    cells = []
    for key in _PERCENTILE_KEYS:
        value = getattr(figures, key)
        cells.append(("≥ " if key in figures.at_least else "") + format_ms(value))
    return cells


def request_rows(verdict: Verdict) -> list[list[str]]:
    """Per scope, what became of the intended requests of the judged window."""
    return [
        [
            scope.scope,
            *(
                f"{value:,}"
                for value in (
                    scope.counts.intended,
                    scope.counts.sent,
                    scope.counts.completed,
                    scope.counts.failed,
                    scope.counts.unfinished,
                )
            ),
        ]
        for scope in verdict.latency
    ]


_LOOPS = {
    "open": "open: every request on its user's schedule, timed from its intended send",
    "closed": "closed: each user waited for its reply before the next request, timed from the actual send",
    "mixed": "mixed: some users waited for each reply (closed loop), the rest kept a schedule",
}


MEASUREMENT_HEADERS = ["Measurement", "Value"]
MEASUREMENT_ALIGN = "ll"


def measurement_rows(verdict: Verdict) -> list[list[str]]:
    """How valid the measurement was: the judged window, served against expected, who used the CPU."""
    window = verdict.window
    rows = [["judged window", f"{window.seconds:,.0f} s, {window.kind}"]]
    if verdict.loop is not None:
        rows.append(["loop", _LOOPS[verdict.loop]])
    looks = verdict.sequential
    if looks is not None:
        how = "stopped early" if looks.stopped_early else "extended past run_time" if looks.extended else ""
        rows.append(
            [
                "looks",
                f"{looks.blocks} blocks of {looks.block_seconds:g} s (run_time {looks.run_blocks}, at most "
                f"{looks.max_blocks}), confidence {looks.confidence:.0%}" + (f", {how}" if how else ""),
            ]
        )
    lag = verdict.generator_lag
    if lag is not None:
        rows.append(
            [
                "Locust sent late",
                f"{lag.late:,} of {lag.sent:,} ({share_text(lag.share)}) over {lag.threshold_ms:,g} ms after "
                f"their intended time; allowed {share_text(lag.allowed_share)}",
            ]
        )
    delivered = verdict.delivery
    if delivered is not None:
        rows.append(["users (mean over the window)", f"{delivered.users:,.0f}"])
        # An open loop's shortfall is in its counts (unanswered requests are over every limit): its ratio
        # is a figure, not a rule.
        limit = "a figure" if verdict.loop == "open" else f"limit {verdict.slo.min_delivered_ratio:.0%}"
        rows.append(
            [
                "served / expected",
                f"{delivered.served_rps:,.1f} / {delivered.expected_rps:,.1f} req/s ({delivered.ratio:.0%}; "
                f"{limit}, {delivered.basis})",
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


HISTOGRAM_NOTE = (
    "Percentiles from the cell's HdrHistograms (3 significant digits), timed from each request's intended "
    "send time; requests never answered count over every latency limit, and a percentile among them (≥) is "
    "how long they had waited when the run ended. Each limit is judged as the share of intended requests "
    "over it with its confidence bound over time blocks: pass when the upper bound is within the allowed "
    "share, breach when the lower bound is beyond it (docs/measurement.md)."
)


def _note(verdict: Verdict) -> str:
    if verdict.source == "histograms":
        return HISTOGRAM_NOTE
    return bucketing_note(verdict.p95_ms, verdict.slo.max_p95_ms)


def _headline_figures(run: LocustStats, verdict: Verdict) -> str:
    """The judged figures in bold: the histograms' (intended requests, corrected P95), else Locust's row."""
    total: Figures = verdict.figures if verdict.source == "histograms" else run.aggregated
    requests = "intended requests" if verdict.source == "histograms" else "requests"
    corrected = " (corrected)" if verdict.source == "histograms" else ""
    return (
        f"**{total.requests:,} {requests}**, **{format_rate(total.failures, total.requests)} errors**, "
        f"**{total.rps:,.1f} req/s**, **P95 {format_ms(total.p95_ms)} ms{corrected}**"
    )


def _latency_parts(verdict: Verdict) -> list[str]:
    if not verdict.latency:
        return []
    return [
        "### Latency",
        "",
        markdown_table(LATENCY_HEADERS, latency_rows(verdict), LATENCY_ALIGN),
        "",
        markdown_table(REQUEST_HEADERS, request_rows(verdict), REQUEST_ALIGN),
        "",
    ]


def render_summary(run: LocustStats, verdict: Verdict, timeline: str | None = None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY and PR comments: the verdict first, then the tables."""
    icon = ICONS[verdict.outcome]
    load = []
    if run.peak_users is not None:
        load.append(f"{run.peak_users:,} users at peak")
    if run.duration_s is not None:
        load.append(f"{run.duration_s:,} s of history")
    parts = [
        f"## {icon} Performance gate {headline(verdict)}",
        "",
        _headline_figures(run, verdict) + (f" ({', '.join(load)})" if load else "") + f". Run: `{run.run_dir}`",
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
        *_latency_parts(verdict),
        "### Measurement",
        "",
        markdown_table(MEASUREMENT_HEADERS, measurement_rows(verdict), MEASUREMENT_ALIGN),
        "",
        "### Requests by endpoint" + (" (Locust's own figures, from the actual send)" if verdict.latency else ""),
        "",
        markdown_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN, bold_last=True),
        "",
        "### Failures",
        "",
        markdown_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN) if run.failures else "No failures.",
        "",
        f"<sub>{_note(verdict)}</sub>",
        "",
    ]
    return "\n".join(parts)


def _result_mark(result: str) -> str:
    if result == "too close to call":
        return "⚠️ too close to call"
    if result == "BREACHED (held back)":
        return "❌ **breached** (held back)"
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
    ]
    if verdict.latency:
        parts += [
            text_table(LATENCY_HEADERS, latency_rows(verdict), LATENCY_ALIGN),
            "",
            text_table(REQUEST_HEADERS, request_rows(verdict), REQUEST_ALIGN),
            "",
        ]
    parts += [text_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN)]
    if run.failures:
        parts += ["", text_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN)]
    return "\n".join(parts) + "\n"


def render_cannot_judge(reason: str) -> str:
    """The Markdown summary of a run that could not be judged: it fails the build all the same."""
    return f"## ⚠️ Performance gate CANNOT JUDGE: the build fails\n\n{reason}\n"
