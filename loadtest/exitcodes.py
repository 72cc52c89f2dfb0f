"""Exit codes shared by every `python -m loadtest` command."""

from __future__ import annotations

from loadtest.records import ComparisonVerdict, Outcome

PASSED = 0
"""Every check passed."""

BREACHED = 1
"""The service did not hold the SLO."""

CANNOT_JUDGE = 2
"""The input could not be judged, or the run could not be made; the message says why."""

INCONCLUSIVE = 3
"""The measurement is not valid (Locust was the limit, limits not enforced): it judges nothing about the service."""

BY_OUTCOME: dict[Outcome, int] = {"pass": PASSED, "breach": BREACHED, "inconclusive": INCONCLUSIVE}

BY_COMPARISON: dict[ComparisonVerdict, int] = {
    "no change": PASSED,
    "improved": PASSED,
    "regressed": BREACHED,
    "inconclusive": INCONCLUSIVE,
}
"""`python -m loadtest compare`: 1 when the head regressed."""
