"""`python -m loadtest compare`: base and head on the same machine, interleaved, judged by statistics.

`session.run_comparison` prepares both sides (`sides`), runs their trials alternately in randomised
blocks (`trials`), judges the per-block changes (`statistics`) and writes comparison.json, .md and
.png (`comparison_summary`). Reference: docs/compare.md.
"""

from loadtest.compare.compare_options import CompareConfig
from loadtest.compare.session import run_comparison

__all__ = ["CompareConfig", "run_comparison"]
