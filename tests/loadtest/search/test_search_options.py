"""The search's options (`loadtest.search.search_options`): the profile's search block under the environment and
the flags, and the probe's load."""

from __future__ import annotations

import argparse
from pathlib import Path

from loadtest.commands import search
from loadtest.runner.matrix import Cell
from loadtest.search.search_options import SearchConfig, search_config
from loadtest.thresholds import CostWeights, parse_thresholds

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  local:
    users: 1000
    spawn_rate: 100
    run_time: 30s
    replicas: [1, 2]
    cpus: 0.5
    memory: 512m
    search:
      replicas: [1, 2]
      cpus: [0.25, 0.1, 0.5]
      memory: [512m, 256m]
      probe_time: 12s
      budget: 8m
      cost: {cpu: 1.0, memory_gib: 0.25}
      capacity_steps: 2
  plain:
    users: 300
    spawn_rate: 100
    run_time: 20s
    cells: [{replicas: 1, cpus: 0.5, memory: 256m}, {replicas: 3, cpus: 1.0, memory: 1g}]
"""
)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    search.register(parser.add_subparsers())
    return parser.parse_args(["search", *argv])


def merged(argv: list[str], environ: dict[str, str] | None = None) -> SearchConfig:
    """What `search ARGV` walks with the variables of `environ` (only), THRESHOLDS read as the file."""
    return search_config(parse(argv), environ or {}, lambda _: THRESHOLDS)


def test_the_profiles_search_block() -> None:
    config = merged([])
    grid = config.grid
    assert (grid.replicas, grid.cpus, grid.memory) == ((1, 2), (0.1, 0.25, 0.5), ("256m", "512m"))
    assert grid.weights == CostWeights(cpu=1.0, memory_gib=0.25)
    assert (config.probe_seconds, config.budget_seconds, config.capacity_steps) == (12, 480, 2)
    assert config.run.cells == grid.configurations()
    assert {cell.memory for cell in config.run.cells} == {"512m"}
    assert config.run.out == Path("results/search")
    assert config.run.backend.enforce_limits is True


def test_a_probe_is_the_ramp_then_the_measured_window() -> None:
    config = merged([])
    assert config.ramp_seconds == 10
    probe = config.probe_load()
    assert (probe.users, probe.spawn_rate, probe.run_time_seconds, probe.warmup) == (1000, 100, 22, "spawn")
    more = config.probe_load(2500)
    assert (more.users, more.spawn_rate, more.run_time_seconds) == (2500, 250, 22)
    assert config.run.load.run_time_seconds == 30


def test_flags_override_the_block() -> None:
    grid = ["--replicas", "3", "--cpus", "1.0,2.0", "--memory", "1g"]
    search = ["--budget", "90s", "--probe-time", "5s", "--capacity-steps", "0"]
    load = ["--users", "50", "--spawn-rate", "25", "--run-time", "8s", "--out", "there"]
    config = merged([*grid, *search, *load])
    assert [cell.name for cell in config.run.cells] == ["r3-cpu1.0-mem1g", "r3-cpu2.0-mem1g"]
    assert (config.budget_seconds, config.probe_seconds, config.capacity_steps) == (90, 5, 0)
    assert (config.run.load.users, config.ramp_seconds, config.run.load.run_time_seconds) == (50, 2, 8)
    assert config.run.out == Path("there")


def test_environment_variables_are_read_like_flags() -> None:
    config = merged([], {"LOADTEST_BUDGET": "2m", "LOADTEST_CPUS": "0.5", "LOADTEST_CAPACITY_STEPS": "1"})
    assert (config.budget_seconds, config.grid.cpus, config.capacity_steps) == (120, (0.5,), 1)


def test_without_a_search_block_the_grid_is_the_profiles_cells() -> None:
    config = merged(["--profile", "plain"])
    grid = config.grid
    assert (grid.replicas, grid.cpus, grid.memory) == ((1, 3), (0.5, 1.0), ("256m", "1g"))
    assert (config.probe_seconds, config.budget_seconds, config.capacity_steps) == (15, 900, 4)
    assert config.run.cells[0] == Cell(1, 0.5, "1g")
