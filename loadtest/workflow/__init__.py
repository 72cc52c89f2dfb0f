"""The perf workflow's side of the tool: its artifacts, read back, and the required check they decide.

`artifacts` finds each cell's and the comparison's newest attempt among the artifacts the gate job
downloads; `check` turns them, with the jobs' results, into the one pass or fail of the `perf gate`
check (`python -m loadtest verdict`).
"""
