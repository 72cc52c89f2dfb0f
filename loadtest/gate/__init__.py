"""The gate: read one Locust run's CSVs, judge them against the SLO, write and explain the verdict.

`run_folder.judge_folder` is what `python -m loadtest gate` calls: it reads the CSVs (`reading`) and
the cell's run.json when there is one, evaluates (`verdict`, `measurement`), renders
(`verdict_summary`, `timeline`) and writes `verdict.json`, `timeline.png` and `summary.md`. The cell
engine (`loadtest.runner.engine`), which has the record of what ran in hand, calls the same steps itself.

Nothing is imported here: a reader of one module (the progress line reads `reading`) does not pay
for scipy (`confidence`) and matplotlib (`timeline`).
"""
