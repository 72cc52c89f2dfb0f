"""The runner: every cell of a matrix up under its limits, Locust against it, the gate, the report.

`config` merges a profile with the flags, `runner` runs the cells, `backends` start the replicas
(local processes or Compose) and `linux` holds the plumbing under the process backend.
"""
