"""What `python -m loadtest compare` finds on this machine: the A/A false-alarm rate and known regressions.

    flock /tmp/inference-gate-load.lock .venv/bin/python -m scripts.compare_bench [--aa-runs 5]

Scenarios, each one `python -m loadtest compare` with the `compare` profile (or --trials/--run-time):

  aa         base = head = HEAD, --aa-runs times: how often identical code is called regressed or
             improved (it must never be) and how wide the intervals are;
  cost       head = HEAD + a fixed CPU cost per POST /predict (a busy loop on the thread's CPU clock),
             sized on this machine to cut throughput by --cut (25%), or --cost-us: must be regressed;
  half-cost  the same with half the cost: the smaller change, and whether it crossed delta;
  workshop   head = the workshop's design (scikit-learn per request, scripts/baseline_server.py as
             the head's server): regressed by a wide factor.

Sizing: what a fixed cost does to throughput depends on how fast the host runs the rest of a
request, so unless --cost-us is given the cost scenarios first run a short probe comparison (HEAD
against HEAD + --probe-us, 2 blocks of 10 s trials) and scale the cost so that the extra CPU per request,
which grows linearly with it, cuts throughput by --cut.

The heads are commits made in a throwaway worktree on top of HEAD (no branch is created or moved).
Prints one table and leaves every comparison under --out. It reports; it does not assert.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from loadtest.records import COMPARISON_FILE, Comparison, MetricResult, read_record
from loadtest.util.argtypes import integer, number
from loadtest.util.git import add_worktree, remove_worktree, resolve_commit
from loadtest.util.tables import text_table

REPO = Path(__file__).resolve().parent.parent
PREDICT_HANDLER = "api/routers/predict.py"
_HANDLER_BODY = "    model = require_model(request)\n    return Response(model.predict_json(body.features)"
SCENARIOS = ("aa", "cost", "half-cost", "workshop")
DEFAULT_COST_US = 82.5
"""Per POST /predict: the probe's cost, and the integration tests' unit. On this 2-core VM it cut the
compare profile's throughput by 33% on a fast, steady host (2,350 req/s in half a CPU) and by 10-23%
while the host ran slower (docs/compare.md)."""
DEFAULT_CUT = 0.25
PROBE_BLOCKS, PROBE_RUN_TIME = 2, "10s"
"""The sizing probe: two blocks are enough to estimate a change of tens of percent on a steady host."""
BASELINE_COMMAND = ".venv/bin/python scripts/baseline_server.py --port {port}"


def scratch_commit(repo: Path, edits: Mapping[str, Callable[[str], str]], message: str) -> str:
    """A commit on top of HEAD with `edits` (path -> new text from old) applied, made in a throwaway
    worktree that is removed again: no branch is created or moved. Its sha."""
    folder = Path(tempfile.mkdtemp(prefix="compare-scratch-"))
    tree = folder / "tree"
    add_worktree(repo, tree, resolve_commit(repo, "HEAD"))
    try:
        for path, edit in edits.items():
            target = tree / path
            target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
        identity = ["-c", "user.name=compare bench", "-c", "user.email=compare-bench@localhost"]
        subprocess.run(["git", *identity, "commit", "--quiet", "--all", "--message", message], cwd=tree, check=True)
        return resolve_commit(tree, "HEAD")
    finally:
        remove_worktree(repo, tree)
        shutil.rmtree(folder, ignore_errors=True)


def with_cpu_cost(cost_ns: int) -> Callable[[str], str]:
    """An edit of the /predict handler: spin for `cost_ns` of the thread's CPU time per request."""

    def edit(text: str) -> str:
        if _HANDLER_BODY not in text:
            raise SystemExit(f"{PREDICT_HANDLER}: the /predict handler is not where this script expects it")
        burn = (
            "    import time\n\n"
            f"    end = time.thread_time_ns() + {cost_ns}\n"
            "    while time.thread_time_ns() < end:\n"
            "        pass\n"
        )
        return text.replace(_HANDLER_BODY, burn + _HANDLER_BODY, 1)

    return edit


def cpu_cost_commit(repo: Path, cost_us: float) -> str:
    """HEAD plus a fixed CPU cost of `cost_us` microseconds per POST /predict."""
    return scratch_commit(
        repo, {PREDICT_HANDLER: with_cpu_cost(round(cost_us * 1000))}, f"{cost_us:g} us of CPU per /predict"
    )


def cost_for_cut(probe_us: float, probe_change: float, cut: float) -> float:
    """The cost per /predict, in µs, that cuts throughput by `cut`, given that `probe_us` changed it by
    `probe_change` (e.g. -0.33). In a CPU-bound cell throughput is the CPU over the CPU per request,
    and the extra CPU per request grows linearly with the cost: so scale the extra, not the change."""
    if not -1.0 < probe_change < 0.0:
        raise ValueError(f"the probe cost of {probe_us:g} us changed throughput by {probe_change:+.1%}: it must cut it")
    if not 0.0 < cut < 1.0:
        raise ValueError(f"cut must lie between 0 and 1, got {cut:g}")
    probe_extra = 1.0 / (1.0 + probe_change) - 1.0
    wanted_extra = 1.0 / (1.0 - cut) - 1.0
    return probe_us * wanted_extra / probe_extra


def sized_cost(out: Path, probe_us: float, cut: float) -> tuple[float, Comparison]:
    """The cost that cuts throughput by `cut` here and now, from a short probe comparison in `out`
    (returned too, for the table)."""
    probe_args = ["--trials", str(PROBE_BLOCKS), "--run-time", PROBE_RUN_TIME, "--load-time", PROBE_RUN_TIME]
    probe = compare(out, "HEAD", cpu_cost_commit(REPO, probe_us), probe_args)
    metric = judged(probe, "capacity") if probe is not None else None
    if probe is None or metric is None or metric.change is None:
        raise SystemExit(f"sizing: the probe comparison in {out} gave no capacity change; give --cost-us")
    try:
        cost = cost_for_cut(probe_us, metric.change, cut)
    except ValueError as error:
        raise SystemExit(f"sizing: {error}; give --cost-us") from None
    print(
        f"sizing: +{probe_us:g} us per /predict changed throughput by {metric.change:+.1%}; "
        f"+{cost:.1f} us should cut it by {cut:.0%}",
        file=sys.stderr,
        flush=True,
    )
    return round(cost, 1), probe


def compare(out: Path, base: str, head: str, extra: Sequence[str]) -> Comparison | None:
    """One `python -m loadtest compare` into `out`; its comparison.json (None if it left none)."""
    argv = [sys.executable, "-m", "loadtest", "compare", "--base", base, "--head", head, "--out", str(out), *extra]
    print(f"$ {shlex.join(argv[1:])}", file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=REPO, check=False)
    path = out / COMPARISON_FILE
    return read_record(path, Comparison) if path.is_file() else None


def judged(comparison: Comparison, key: str) -> MetricResult | None:
    """The comparison's result for one metric, if it judged it."""
    return next((metric for metric in comparison.metrics if metric.metric == key), None)


def row(name: str, comparison: Comparison | None) -> list[str]:
    """One line of the table: the verdict and the judged metrics' changes."""
    if comparison is None:
        return [name, "no comparison.json", "", "", ""]
    cells = []
    for key in ("capacity", "cpu_per_request"):
        metric = judged(comparison, key)
        if metric is None or metric.change is None or metric.interval is None:
            cells.append("–")
        else:
            cells.append(
                f"{metric.change:+.1%} [{metric.interval.low:+.1%}, {metric.interval.high:+.1%}] {metric.verdict}"
            )
    invalid = sum(not trial.valid for trial in comparison.trials)
    return [name, comparison.verdict, *cells, f"{invalid}/{len(comparison.trials)}"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(prog="python -m scripts.compare_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--aa-runs", type=integer(minimum=0, maximum=100), default=5, help="A/A comparisons")
    parser.add_argument(
        "--cost-us",
        type=number(above=0.0),
        help="the cost scenario's cost per /predict, in us (default: sized here for --cut)",
    )
    parser.add_argument(
        "--cut",
        type=number(above=0.0, below=1.0),
        default=DEFAULT_CUT,
        help=f"the share of throughput the sized cost should cut (default {DEFAULT_CUT:g})",
    )
    parser.add_argument(
        "--probe-us",
        type=number(above=0.0),
        default=DEFAULT_COST_US,
        help=f"the sizing probe's cost, in us (default {DEFAULT_COST_US:g})",
    )
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument("--trials", help="passed to compare (default: the profile's)")
    parser.add_argument("--run-time", help="passed to compare (default: the profile's)")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "compare-bench")
    args = parser.parse_args(argv)
    extra = [
        *(["--trials", args.trials] if args.trials else []),
        *(["--run-time", args.run_time] if args.run_time else []),
    ]
    chosen = args.only or list(SCENARIOS)
    rows: list[list[str]] = []
    if "aa" in chosen:
        for run in range(1, args.aa_runs + 1):
            rows.append(row(f"A/A {run}", compare(args.out / f"aa-{run}", "HEAD", "HEAD", extra)))
    costs = [name for name in ("cost", "half-cost") if name in chosen]
    if costs:
        full = args.cost_us
        if full is None:
            full, probe = sized_cost(args.out / "sizing", args.probe_us, args.cut)
            rows.append(row(f"sizing probe: +{args.probe_us:g} us, {PROBE_BLOCKS} blocks", probe))
        for name, cost in (("cost", full), ("half-cost", full / 2)):
            if name in costs:
                head = cpu_cost_commit(REPO, cost)
                rows.append(row(f"+{cost:g} us CPU per /predict", compare(args.out / name, "HEAD", head, extra)))
    if "workshop" in chosen:
        workshop = [*extra, "--head-api-command", BASELINE_COMMAND]
        rows.append(row("workshop design as head", compare(args.out / "workshop", "HEAD", "HEAD", workshop)))
    print(text_table(HEADERS, rows, "l" * len(HEADERS)))
    false_alarms = sum(cells[1] in ("regressed", "improved") for cells in rows if cells[0].startswith("A/A"))
    if args.aa_runs and "aa" in chosen:
        print(f"\nA/A false alarms (regressed or improved): {false_alarms} of {args.aa_runs}")
    return 0


HEADERS = [
    "scenario",
    "verdict",
    "capacity change [interval] verdict",
    "CPU per request change [interval] verdict",
    "invalid",
]


if __name__ == "__main__":
    sys.exit(main())
