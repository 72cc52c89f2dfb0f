"""What `python -m loadtest compare` finds on this machine: the A/A false-alarm rate and known regressions.

    flock /tmp/inference-gate-load.lock .venv/bin/python -m scripts.compare_bench [--aa-runs 5]

Scenarios, each one `python -m loadtest compare` with the `compare` profile (or --trials/--run-time):

  aa         base = head = HEAD, --aa-runs times: how often identical code is called regressed or
             improved (it must never be) and how wide the intervals are;
  cost       head = HEAD + a fixed CPU cost per POST /predict (a busy loop on the thread's CPU clock,
             --cost-us), sized to cut throughput by about 25%: must be regressed;
  half-cost  the same with half the cost: the smaller change, and whether it crossed delta;
  workshop   head = the workshop's design (scikit-learn per request, scripts/baseline_server.py as
             the head's server): regressed by a wide factor.

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

from common.argtypes import integer, number
from loadtest.records import COMPARISON_FILE, Comparison, read_record
from loadtest.util.git import add_worktree, remove_worktree, resolve_commit
from loadtest.util.tables import text_table

REPO = Path(__file__).resolve().parent.parent
PREDICT_HANDLER = "api/routers/predict.py"
_HANDLER_BODY = "    model = require_model(request)\n    return Response(model.predict_json(body.features)"
SCENARIOS = ("aa", "cost", "half-cost", "workshop")
DEFAULT_COST_US = 82.5
"""Per POST /predict: about a quarter of what one request of the compare profile's mix costs our API
on a quiet 2-core VM (~0.29 ms of CPU at ~1,700 req/s in half a CPU, 88% of them /predict), so
throughput falls by about 25% (measured: 20-23% per block on a steady host; 10-15% over whole runs
while the host's speed shifted, when it showed as 0-4% in the slow blocks: docs/compare.md)."""
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


def broken_commit(repo: Path) -> str:
    """HEAD with an API that cannot start (its app module raises on import)."""

    def edit(text: str) -> str:
        return text.replace(
            "from __future__ import annotations\n",
            'from __future__ import annotations\n\nraise ImportError("this head is broken on purpose")\n',
            1,
        )

    return scratch_commit(repo, {"api/app.py": edit}, "an API that cannot start")


def compare(out: Path, base: str, head: str, extra: Sequence[str]) -> Comparison | None:
    """One `python -m loadtest compare` into `out`; its comparison.json (None if it left none)."""
    argv = [sys.executable, "-m", "loadtest", "compare", "--base", base, "--head", head, "--out", str(out), *extra]
    print(f"$ {shlex.join(argv[1:])}", file=sys.stderr, flush=True)
    subprocess.run(argv, cwd=REPO, check=False)
    path = out / COMPARISON_FILE
    return read_record(path, Comparison) if path.is_file() else None


def row(name: str, comparison: Comparison | None) -> list[str]:
    """One line of the table: the verdict and the judged metrics' changes."""
    if comparison is None:
        return [name, "no comparison.json", "", "", ""]
    metrics = {metric.metric: metric for metric in comparison.metrics}
    cells = []
    for key in ("throughput", "p95"):
        metric = metrics[key]
        if metric.change is None or metric.interval is None:
            cells.append("–")
        else:
            cells.append(
                f"{metric.change:+.1%} [{metric.interval.low:+.1%}, {metric.interval.high:+.1%}] {metric.verdict}"
            )
    invalid = sum(trial.status != "valid" for trial in comparison.trials)
    return [name, comparison.verdict, *cells, f"{invalid}/{len(comparison.trials)}"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(prog="python -m scripts.compare_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--aa-runs", type=integer(minimum=0, maximum=100), default=5, help="A/A comparisons")
    parser.add_argument("--cost-us", type=number(above=0.0), default=DEFAULT_COST_US, help="the cost scenario's")
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
    for name, cost in (("cost", args.cost_us), ("half-cost", args.cost_us / 2)):
        if name in chosen:
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


HEADERS = ["scenario", "verdict", "throughput change [interval] verdict", "P95 change [interval] verdict", "invalid"]


if __name__ == "__main__":
    sys.exit(main())
