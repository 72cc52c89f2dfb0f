"""Plan the perf workflow's matrix: one job per API replica count.

    python -m scripts.ci_plan [--replicas 1,2] [--profile ci] [--thresholds thresholds.yaml]

Prints `replicas=<JSON list>`, the line `.github/workflows/perf.yml` appends to $GITHUB_OUTPUT
for `strategy.matrix`. The list is the dispatch input when one was given, else the profile's
`replicas` from thresholds.yaml (read with the gate's own validated loader). Exit 2, with a
message that names the problem, on a malformed input or file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtest import exitcodes
from loadtest.commands.run import comma_list, positive_int
from loadtest.thresholds import load_thresholds


def parse_replica_list(text: str) -> list[int]:
    """`"1, 2,4"` -> `[1, 2, 4]`, by the rules of `python -m loadtest run --replicas`, no repeats.

    Raises ValueError naming the input and the problem.
    """
    try:
        counts: list[int] = comma_list(positive_int)(text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"replicas {text!r}: {exc}") from None
    repeated = [count for position, count in enumerate(counts) if count in counts[:position]]
    if repeated:
        raise ValueError(f"replicas {text!r}: {repeated[0]} is listed twice")
    return counts


def plan_replicas(replicas: str, profile: str, thresholds: Path) -> list[int]:
    """The explicit list if `replicas` is not blank, else the profile's (raise ValueError)."""
    if replicas.strip():
        return parse_replica_list(replicas)
    profiles = load_thresholds(thresholds).profiles
    if profile not in profiles:
        raise ValueError(f"{thresholds}: no profile {profile!r} (have: {', '.join(sorted(profiles))})")
    return list(profiles[profile].replicas)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option also reads an env var, as the workflow passes inputs."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m scripts.ci_plan",
        description="Plan the perf workflow's matrix: one job per API replica count.",
    )
    matrix = parser.add_argument_group("matrix")
    matrix.add_argument(
        "--replicas",
        default=env("INPUT_REPLICAS", ""),
        help="comma-separated replica counts; blank: the profile's (env INPUT_REPLICAS)",
    )
    matrix.add_argument(
        "--profile",
        default=env("PERF_PROFILE", "ci"),
        help="profile whose replicas are used when --replicas is blank (env PERF_PROFILE, default: ci)",
    )
    matrix.add_argument(
        "--thresholds",
        type=Path,
        default=Path(env("THRESHOLDS", "thresholds.yaml")),
        help="thresholds file (env THRESHOLDS, default: thresholds.yaml)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print the matrix line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        replicas = plan_replicas(args.replicas, args.profile, args.thresholds)
    except ValueError as exc:  # ThresholdsError is one too
        print(f"error: {exc}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    print(f"replicas={json.dumps(replicas)}")
    return exitcodes.PASSED


if __name__ == "__main__":
    sys.exit(main())
