"""Exit codes shared by every `python -m loadtest` command."""

PASSED = 0
"""Every check passed."""

BREACHED = 1
"""A limit in thresholds.yaml was breached."""

CANNOT_JUDGE = 2
"""The input could not be judged, or the run could not be made; the message says why."""
