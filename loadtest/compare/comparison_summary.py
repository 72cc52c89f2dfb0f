"""The comparison for people: comparison.md (a table a reviewer reads in ten seconds), the terminal view,
and comparison.png (per metric: each trial's value by block, and each block's change with the interval).

Pure functions of a `Comparison`; they write nothing.
"""

from __future__ import annotations

import math
from io import BytesIO

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from loadtest.records import Comparison, ComparisonVerdict, MetricResult, TrialRecord
from loadtest.util.charts import Margins
from loadtest.util.tables import markdown_table, text_table

CHART_FILE = "comparison.png"
MARKDOWN_FILE = "comparison.md"

HEADERS = ["metric", "base", "head", "change (interval)", "verdict"]
ALIGN = "lrrrl"
ICONS: dict[ComparisonVerdict, str] = {
    "regressed": "❌",
    "improved": "🚀",
    "no change": "✅",
    "inconclusive": "⚠️",
}
TITLES: dict[ComparisonVerdict, str] = {
    "regressed": "REGRESSED",
    "improved": "IMPROVED",
    "no change": "NO CHANGE",
    "inconclusive": "INCONCLUSIVE",
}


def format_value(metric: MetricResult, value: float | None) -> str:
    """A side's figure with its unit."""
    if value is None:
        return "–"
    if metric.metric == "error_rate":
        return f"{value:.2%}"
    if metric.metric == "cpu_per_request":
        return f"{value:.3g} {metric.unit}"  # a fraction of a millisecond: whole units would read 0
    return f"{value:,.0f} {metric.unit}"


def format_change(metric: MetricResult) -> str:
    """`-24.3% (-26.1% … -22.4%)`; the error rate in percentage points."""
    if metric.change is None:
        return "–"

    def one(value: float) -> str:
        return f"{value * 100:+.2f} pp" if not metric.relative else f"{value:+.1%}"

    if metric.interval is None:
        return one(metric.change)
    return f"{one(metric.change)} ({one(metric.interval.low)} … {one(metric.interval.high)})"


def _verdict_cell(metric: MetricResult, markdown: bool) -> str:
    word = f"{ICONS[metric.verdict]} {metric.verdict}" if markdown else metric.verdict
    return word if metric.judged else f"{word} (not gating)"


def _ordered(comparison: Comparison) -> list[MetricResult]:
    """The judged metrics first, in the order thresholds.yaml gives them, then the others."""
    judged = comparison.settings.judged
    by_key = {metric.metric: metric for metric in comparison.metrics}
    return [by_key[key] for key in judged if key in by_key] + [m for m in comparison.metrics if not m.judged]


def metric_rows(comparison: Comparison, markdown: bool) -> list[list[str]]:
    """The table's rows as text cells (judged metrics in bold in Markdown)."""
    rows = []
    for metric in _ordered(comparison):
        title = f"**{metric.title}**" if markdown and metric.judged else metric.title
        rows.append(
            [
                title,
                format_value(metric, metric.base),
                format_value(metric, metric.head),
                format_change(metric),
                _verdict_cell(metric, markdown),
            ]
        )
    return rows


def _side(comparison: Comparison, role: str) -> str:
    side = comparison.base if role == "base" else comparison.head
    own = f", `{side.api_command}`" if side.api_command else ""
    return f"{side.label}{own}"


def trial_counts(comparison: Comparison) -> str:
    """`9 blocks of at most 12 (1 dropped), 18 trials run, 2 inconclusive; stopped: decided after 8 valid blocks`."""
    done = len(comparison.trials)
    inconclusive = sum(trial.doubted for trial in comparison.trials)
    text = (
        f"{comparison.blocks_run} blocks of at most {comparison.max_blocks} ({comparison.blocks_dropped} dropped), "
        f"{done} trials run, {inconclusive} inconclusive"
    )
    return text + (f"; stopped: {comparison.stopped}" if comparison.stopped else "")


def design_words(comparison: Comparison) -> str:
    """Which design ran, as the table's settings line says it: a duet's layout, or interleaved and why."""
    if comparison.design == "duet":
        placed = next((trial for trial in comparison.trials if trial.locust_cores is not None), None)
        if placed is None:  # a comparison.json of before the shared cores
            return (
                "duet blocks: both sides' trials at the same time on the same machine, each side on its own cores, "
                "swapping cores every block, balanced"
            )
        return (
            f"duet blocks: both sides' trials at the same time on the same cores (both sides' replicas on CPU "
            f"{placed.cores}, both Locusts on CPU {placed.locust_cores}), orders balanced"
        )
    why = comparison.design_reason or ""
    reason = why.split(": ", 1)[1] if why.startswith("interleaved blocks, not a duet: ") else None
    text = "interleaved blocks of one trial of each side on the same machine, orders balanced"
    return text + (f" (not a duet: {reason})" if reason else "")


def settings_line(comparison: Comparison) -> str:
    """How the comparison was made, in one paragraph."""
    settings, cell = comparison.settings, comparison.cell
    level = f"{settings.confidence:.0%}"
    return (
        f"{_side(comparison, 'base')} · {_side(comparison, 'head')} · {design_words(comparison)} (seed "
        f"{comparison.seed}), added until the verdict was "
        f"decided or the budget of {settings.budget} spent: {trial_counts(comparison)} · "
        f"{phases_words(comparison)} · "
        f"cell {cell.replicas} x {cell.cpus:g} CPU, {cell.memory}, {cell.users:,} users · "
        f"**δ = {settings.delta:.0%}**: no change within a factor {1 + settings.delta:g}, error rate within "
        f"±{settings.error_rate_margin:.2%} · intervals: paired t on the blocks' log-ratios head/base at the "
        f"level its claim was tested at ({level} for no change, every metric; regressed or improved at that "
        "level's one-sided share over the judged metrics, spent over the looks after each block), checked by the "
        "exact Wilcoxon signed-rank test"
    )


def phases_words(comparison: Comparison) -> str:
    """The two phases of every trial, and the fixed load with where its rate came from."""
    settings = comparison.settings
    load = (
        f"{comparison.load_rps:,.0f} req/s ({comparison.load_source})"
        if comparison.load_rps is not None
        else "not set (no base capacity was measured)"
    )
    return (
        f"each side per block: {settings.run_time} of capacity under {comparison.cell.users:,} saturating users, then "
        f"{settings.load_time} at the fixed load of {load}, an open loop; ramps not judged"
    )


def headline(comparison: Comparison, icon: bool = True) -> str:
    """The first line: the verdict, and whether the comparison ran to its end (the chart's fonts have no emoji)."""
    state = "" if comparison.complete else " (incomplete)"
    mark = f"{ICONS[comparison.verdict]} " if icon else ""
    return f"{mark}Comparison {TITLES[comparison.verdict]}{state}: head vs base"


def render_markdown(comparison: Comparison, chart: str | None = CHART_FILE) -> str:
    """comparison.md: the verdict, the table, how it was made, why; the chart when there is one."""
    lines = [
        f"### {headline(comparison)}",
        "",
        markdown_table(HEADERS, metric_rows(comparison, markdown=True), ALIGN),
        "",
        settings_line(comparison),
        "",
        *(f"- {reason}" for reason in comparison.reasons),
    ]
    if others := other_reasons(comparison):
        lines += ["", "The other judged metrics:", "", *(f"- {reason}" for reason in others)]
    inconclusive = [trial for trial in comparison.trials if not trial.valid]
    if inconclusive:
        lines += ["", "Trials that gave no value:", ""]
        lines += [f"- {_trial_label(trial)}: {trial.outcome}: {'; '.join(trial.reasons)}" for trial in inconclusive]
    if chart is not None:
        lines += ["", f"![base vs head per trial, and each block's change with the interval]({chart})"]
    return "\n".join(lines) + "\n"


def other_reasons(comparison: Comparison) -> list[str]:
    """Why each judged metric that did not make the verdict stands where it does: a regressed comparison's CPU per
    request can read +8% (+5.9% … +10.2%) and still be inconclusive, and only its reason says why."""
    judged = (metric.statement for metric in comparison.metrics if metric.judged)
    return [statement for statement in judged if statement not in comparison.reasons]


def _trial_label(trial: TrialRecord) -> str:
    return f"trial {trial.index} (block {trial.block}, {trial.role}, `{trial.folder}`)"


def render_console(comparison: Comparison) -> str:
    """The terminal view: the same table, plain."""
    lines = [
        headline(comparison),
        "",
        text_table(HEADERS, metric_rows(comparison, markdown=False), ALIGN),
        "",
        f"δ {comparison.settings.delta:.0%}; {trial_counts(comparison)}; seed {comparison.seed}",
        *(f"  {reason}" for reason in comparison.reasons),
    ]
    if others := other_reasons(comparison):
        lines += ["  the other judged metrics:", *(f"    {reason}" for reason in others)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- comparison.png

_BASE, _HEAD, _BAND = "#1565c0", "#ef6c00", "#2e7d32"


# The room the texts take, in inches (fixed: a constrained layout drew the ten panels twice): the
# title and the panels' titles above, the "block" labels under each row, the bottom row's y label.
_MARGINS = Margins(left=0.75, right=0.15, top=0.6, bottom=0.5, column_gap=0.75, row_gap=0.75)


def render_chart(comparison: Comparison) -> bytes | None:
    """The PNG (None when no trial gave figures); inconclusive trials are hollow markers."""
    measured = [trial for trial in comparison.trials if trial.figures is not None]
    if not measured:
        return None
    metrics = _ordered(comparison)
    # matplotlib's object API: no pyplot, so no global figure state and no GUI backend to pick.
    figure = Figure(figsize=(3.4 * len(metrics), 6.2))
    _MARGINS.apply(figure, 2, len(metrics))
    axes = figure.subplots(2, len(metrics), squeeze=False)
    for column, metric in enumerate(metrics):
        _values_panel(axes[0][column], metric, measured)
        _change_panel(axes[1][column], metric, comparison)
    figure.suptitle(
        f"{headline(comparison, icon=False)} — top: each trial's value by block; bottom: each block's change, "
        f"the interval (shaded) and the no-change band (green)",
        fontsize=10,
    )
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _scale(metric: MetricResult) -> float:
    return 100.0 if metric.metric == "error_rate" else 1.0


def _values_panel(axis: Axes, metric: MetricResult, trials: list[TrialRecord]) -> None:
    for role, colour, marker in (("base", _BASE, "o"), ("head", _HEAD, "^")):
        for valid in (True, False):
            points = [
                (trial.block, value * _scale(metric))
                for trial in trials
                if trial.role == role and trial.valid == valid
                if (value := trial.value(metric.metric)) is not None
            ]
            if points:
                axis.plot(
                    *zip(*points, strict=True),
                    marker,
                    color=colour,
                    markerfacecolor=colour if valid else "none",
                    label=role if valid else f"{role}, inconclusive",
                    markersize=5,
                )
    unit = "%" if metric.metric == "error_rate" else metric.unit
    axis.set_title(f"{metric.title} ({unit})" + ("" if metric.judged else ", not gating"), fontsize=9)
    axis.set_xlabel("block", fontsize=8)
    axis.tick_params(labelsize=8)
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:  # a metric no trial measured (no CPU samples) has nothing to name
        axis.legend(fontsize=7)


def _change_panel(axis: Axes, metric: MetricResult, comparison: Comparison) -> None:
    delta = comparison.settings.delta
    per_block = _block_changes(metric, comparison.trials)
    scale = 100.0
    if metric.relative:
        axis.axhspan((1 / (1 + delta) - 1) * scale, delta * scale, color=_BAND, alpha=0.12)
    else:
        margin = comparison.settings.error_rate_margin * scale
        axis.axhspan(-margin, margin, color=_BAND, alpha=0.12)
    axis.axhline(0, color="black", linewidth=0.6)
    if per_block:
        axis.plot(*zip(*[(block, change * scale) for block, change in per_block], strict=True), "o", color="#424242")
    if metric.interval is not None and metric.change is not None:
        axis.axhspan(metric.interval.low * scale, metric.interval.high * scale, color=_HEAD, alpha=0.25)
        axis.axhline(metric.change * scale, color=_HEAD, linewidth=1.2)
    label = "head/base - 1 (%)" if metric.relative else "head - base (pp)"
    axis.set_title(f"{metric.verdict}", fontsize=9)
    axis.set_ylabel(label, fontsize=8)
    axis.set_xlabel("block", fontsize=8)
    axis.tick_params(labelsize=8)
    axis.grid(alpha=0.3)


def _block_changes(metric: MetricResult, trials: list[TrialRecord]) -> list[tuple[int, float]]:
    """Each block's change of `metric` (both trials valid), on the reported scale."""
    sides: dict[int, dict[str, float]] = {}
    for trial in trials:
        if not trial.valid:
            continue
        value = trial.value(metric.metric)
        if value is not None:
            sides.setdefault(trial.block, {})[trial.role] = value
    changes = []
    for block, values in sorted(sides.items()):
        if "base" not in values or "head" not in values:
            continue
        base, head = values["base"], values["head"]
        if metric.relative:
            if base > 0 and head > 0:
                changes.append((block, math.expm1(math.log(head / base))))
        else:
            changes.append((block, head - base))
    return changes
