"""`python -m loadtest compare`: base and head on the same machine, interleaved, judged by statistics.

`session.run_comparison` prepares both sides (`sides`), runs their trials alternately in randomised
blocks (`trials`), judges the per-block changes (`statistics`) and writes comparison.json, .md and
.png (`comparison_summary`). Reference: docs/compare.md.

Nothing is imported here: `plan` reads `compare_options` without the sides, trials and charts.
"""
