"""thresholds.yaml (loadtest/thresholds/): the committed file, the models, and every validation error's message."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError

from loadtest.commands.plan import PLAN_PROFILE
from loadtest.compare.compare_options import COMPARE_PROFILE
from loadtest.runner.run_options import RUN_PROFILE
from loadtest.scenario import chosen_scenario
from loadtest.search import search_options
from loadtest.thresholds import DEFAULT_PATH, Slo, ThresholdsError, load_thresholds
from loadtest.ui.ui_options import UI_PROFILE
from loadtest.util.units import Duration

if TYPE_CHECKING:
    from tests.conftest import WriteText

VALID_SLO = "slo: {max_error_rate: 0.01, max_p95_ms: 1000}\n"
VALID_PROFILE = "{users: 10, spawn_rate: 5, run_time: 10s, replicas: [1, 2], cpus: 0.5, memory: 512m}"
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_file_is_valid_and_has_the_commands_default_profiles() -> None:
    profiles = load_thresholds(REPO_ROOT / DEFAULT_PATH).profiles
    assert {RUN_PROFILE, search_options.SEARCH_PROFILE, UI_PROFILE, COMPARE_PROFILE, PLAN_PROFILE} <= set(profiles)


def test_a_full_file_is_read_whole(write_thresholds: WriteText) -> None:
    path = write_thresholds(
        """
        slo:
          max_error_rate: 0.05
          max_p95_ms: 250.5
          min_rps: 100
          endpoints:
            "POST /predict": {max_error_rate: 0.01, max_p95_ms: 500}
            "GET /health": {max_p95_ms: 50}
        profiles:
          tiny: {users: 1, spawn_rate: 0.5, run_time: 1h30m, replicas: [3], cpus: 2, memory: 1.5g}
        """,
    )
    thresholds = load_thresholds(path)
    assert thresholds.slo.min_rps == 100
    assert thresholds.slo.endpoints["POST /predict"].max_p95_ms == 500
    assert thresholds.slo.endpoints["GET /health"].max_error_rate is None
    tiny = thresholds.profiles["tiny"]
    assert tiny.run_time == Duration("1h30m", 5400)
    assert [(spec.replicas, spec.cpus, spec.memory) for spec in tiny.cell_specs()] == [(3, 2, "1.5g")]
    assert (tiny.warmup, tiny.scenario_file, tiny.pace) == ("none", None, {})


def test_profiles_are_optional_for_gating(write_thresholds: WriteText) -> None:
    assert load_thresholds(write_thresholds(VALID_SLO)).profiles == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: abc}",
            "Threshold 'max_p95_ms' has value 'abc': not a number (in slo)",
            id="p95-not-a-number",
        ),
        pytest.param(
            "slo: {max_error_rate: '0.01', max_p95_ms: 1000}",
            "Threshold 'max_error_rate' has value '0.01': not a number (in slo)",
            id="quoted-number",
        ),
        pytest.param(
            "slo: {max_error_rate: true, max_p95_ms: 1000}",
            "Threshold 'max_error_rate' has value true: not a number",
            id="boolean-for-number",
        ),
        pytest.param(
            "slo: {max_error_rate: .nan, max_p95_ms: 1000}",
            "Threshold 'max_error_rate' has value nan: not a finite number",
            id="nan",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01}",
            "Threshold 'max_p95_ms' is missing: it is required (in slo)",
            id="missing-limit",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: null}",
            "Threshold 'max_p95_ms' has value null: not a number",
            id="null-limit",
        ),
        pytest.param(
            "profiles: {}",
            "Threshold 'slo' is missing: it is required",
            id="missing-slo",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: 1000, max_p99_ms: 2000}",
            "Threshold 'max_p99_ms' has value 2000: unknown key; "
            "expected one of max_error_rate, max_p95_ms, min_rps, endpoints, min_delivered_ratio, on_inconclusive, "
            "confidence (in slo)",
            id="unknown-slo-key",
        ),
        pytest.param(
            VALID_SLO + "sla: {}",
            "Threshold 'sla' has value {}: unknown key; expected one of slo, profiles",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "slo: {max_error_rate: 0, max_p95_ms: 1000}",
            "Threshold 'max_error_rate' has value 0: must be greater than 0 (in slo)",
            id="error-rate-zero",
        ),
        pytest.param(
            "slo: {max_error_rate: 1.5, max_p95_ms: 1000}",
            "Threshold 'max_error_rate' has value 1.5: must be at most 1 (in slo)",
            id="error-rate-over-one",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: -5}",
            "Threshold 'max_p95_ms' has value -5: must be greater than 0",
            id="negative-p95",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: 1000, min_rps: fast}",
            "Threshold 'min_rps' has value 'fast': not a number (in slo)",
            id="min-rps-not-a-number",
        ),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: 1000, endpoints: [POST /predict]}",
            "Threshold 'endpoints' has value ['POST /predict']: not a mapping (in slo)",
            id="endpoints-not-a-mapping",
        ),
        pytest.param(
            'slo: {max_error_rate: 0.01, max_p95_ms: 1000, endpoints: {"GET /": {max_p99_ms: 5}}}',
            "Threshold 'max_p99_ms' has value 5: unknown key; expected one of max_error_rate, "
            'max_p95_ms (in slo.endpoints."GET /")',
            id="unknown-endpoint-key",
        ),
        pytest.param(
            'slo: {max_error_rate: 0.01, max_p95_ms: 1000, endpoints: {"GET /": {}}}',
            "Threshold 'GET /' has value {}: sets no limit; give max_error_rate and/or max_p95_ms",
            id="endpoint-without-limits",
        ),
        pytest.param(
            'slo: {max_error_rate: 0.01, max_p95_ms: 1000, endpoints: {"GET /": {max_p95_ms: x}}}',
            "Threshold 'max_p95_ms' has value 'x': not a number (in slo.endpoints.\"GET /\")",
            id="endpoint-limit-not-a-number",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1.5, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1g}}",
            "Threshold 'users' has value 1.5: not a whole number (in profiles.local)",
            id="users-fraction",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 0, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1g}}",
            "Threshold 'users' has value 0: must be at least 1 (in profiles.local)",
            id="users-zero",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 2x, "
            "replicas: [1], cpus: 1, memory: 1g}}",
            "Threshold 'run_time' has value '2x': not a Locust duration such as 90s, 2m or 1h30m",
            id="bad-run-time",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 90, "
            "replicas: [1], cpus: 1, memory: 1g}}",
            "Threshold 'run_time' has value 90: not a string (in profiles.local)",
            id="run-time-number",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1, two], cpus: 1, memory: 1g}}",
            "Threshold 'replicas[1]' has value 'two': not a whole number (in profiles.local)",
            id="replica-not-a-number",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [], cpus: 1, memory: 1g}}",
            "Threshold 'replicas' has value []: must not be empty (in profiles.local)",
            id="replicas-empty",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1, 1], cpus: 1, memory: 1g}}",
            "Threshold 'replicas' has value [1, 1]: lists a replica count more than once",
            id="replicas-duplicate",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 0, memory: 1g}}",
            "Threshold 'cpus' has value 0: must be greater than 0 (in profiles.local)",
            id="cpus-zero",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: lots}}",
            "Threshold 'memory' has value 'lots': not a Docker memory size such as 512m or 1g",
            id="bad-memory",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1k}}",
            "Threshold 'memory' has value '1k': below Docker's minimum memory limit of 6m",
            id="memory-too-small",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, replicas: [1]}}",
            "Threshold 'local' lacks cpus, memory (or give cells: a list of replicas, cpus and memory) (in profiles)",
            id="profile-missing-key",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1g, warmup: yes}}",
            "Threshold 'warmup' has value true: must be 'spawn' or 'none' (in profiles.local)",
            id="bad-warmup",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, max_run_time: 5s, "
            "replicas: [1], cpus: 1, memory: 1g}}",
            "max_run_time 5s is shorter than run_time 10s: a cell extends from run_time up to max_run_time",
            id="max-run-time-shorter",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1g, pace: {heavy: {between: [1, 2, 3]}}}}",
            "Threshold 'heavy' between: [1.0, 2.0, 3.0] must be two numbers of seconds, [low, high] "
            "(in profiles.local.pace)",
            id="between-of-three",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, "
            "replicas: [1], cpus: 1, memory: 1g, pace: {heavy: {rate: 1, arrivals: poisson}}}}",
            "Threshold 'arrivals' has value 'poisson': must be 'exponential' or 'constant' "
            "(in profiles.local.pace.heavy)",
            id="unknown-arrivals",
        ),
        pytest.param(
            VALID_SLO + "profiles: {local: {users: 1, spawn_rate: 1, run_time: 10s, replicas: [1], cpus: 1, "
            "memory: 1g, scenario: {ordinary: {share: 0.5, wait: {constant_throughput: 0.1}}, "
            "heavy: {share: 0.5, wait: {between: [0, 0]}}}}}",
            "Threshold 'local' `scenario:` (inline kinds of users) is replaced by `scenario_file:` (a scenario file, "
            "default the workshop's) and `pace:` (its kinds' paces): see the README's changelog, 'Renamed in wave 3'; "
            "for this profile write `pace: {ordinary: {rate: 0.1}, heavy: {between: [0, 0]}}` (in profiles)",
            id="inline-scenario-of-before-wave-3",
        ),
        pytest.param(
            VALID_SLO + f"profiles: {{local: {VALID_PROFILE}, ci: 3}}",
            "Threshold 'ci' has value 3: not a mapping (in profiles)",
            id="profile-not-a-mapping",
        ),
        pytest.param(
            "slo: {max_error_rate: 0, max_p95_ms: 0, min_rps: 0, endpoints: 0}\nextra: 1",
            "(and 2 more)",
            id="many-errors-in-one-line",
        ),
        pytest.param("", "is empty; it needs an 'slo' mapping", id="empty"),
        pytest.param("# only a comment\n", "is empty", id="only-comments"),
        pytest.param("- slo\n", "the top level must be a mapping with 'slo' and 'profiles', not a list", id="list"),
        pytest.param("just text", "not a string", id="scalar"),
        pytest.param(
            "slo: {max_error_rate: 0.01, max_p95_ms: 1000",
            "not valid YAML: ",
            id="truncated-yaml",
        ),
        pytest.param(
            "slo:\n  max_p95_ms: 1000\n  max_p95_ms: 2000\n",
            "not valid YAML: key 'max_p95_ms' appears twice in one mapping (line 3, column 3)",
            id="duplicate-key",
        ),
        pytest.param("slo: !!python/object:os.system {}", "not valid YAML", id="unsafe-tag"),
    ],
)
def test_invalid_files_name_key_and_value(write_thresholds: WriteText, text: str, message: str) -> None:
    path = write_thresholds(text)
    with pytest.raises(ThresholdsError) as raised:
        load_thresholds(path)
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"{path}: ")
    assert "\n" not in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ThresholdsError, match=r"nope\.yaml: no such file"):
        load_thresholds(tmp_path / "nope.yaml")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ThresholdsError, match="is a directory"):
        load_thresholds(tmp_path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_bytes(b"\xff\xfe\x00slo")
    with pytest.raises(ThresholdsError, match="not UTF-8 text"):
        load_thresholds(path)


# ---------------------------------------------------------------- the compare: block (python -m loadtest compare)

PROFILE_WITH = (
    "profiles: {{c: {{users: 1, spawn_rate: 1, run_time: 10s, replicas: [1], cpus: 1, memory: 1g, compare: {}}}}}"
)


def test_the_committed_compare_profile_runs_one_cell_as_fast_as_replies_come() -> None:
    profile = load_thresholds(REPO_ROOT / "thresholds.yaml").profiles["compare"]
    assert len(profile.cell_specs()) == 1
    assert profile.warmup == "spawn"
    scenario = chosen_scenario(None, profile.scenario_file, profile.pace, REPO_ROOT / "thresholds.yaml", "compare")
    assert scenario.eager_kinds() == ["ordinary", "heavy"]
    settings = profile.compare
    assert (settings.trials, settings.run_time.seconds, settings.load_time.seconds, settings.delta) == (
        12,
        15,
        15,
        0.10,
    )
    assert (settings.load_share, settings.load_rps) == (0.6, None)
    assert settings.budget.seconds == 720
    assert settings.judged == ["capacity", "cpu_per_request", "error_rate"]


def test_a_profile_without_a_compare_block_gets_its_defaults(write_thresholds: WriteText) -> None:
    thresholds = load_thresholds(write_thresholds(VALID_SLO + "profiles: {local: " + VALID_PROFILE + "}"))
    settings = thresholds.profiles["local"].compare
    assert (settings.trials, settings.run_time.text, settings.delta, settings.confidence) == (12, "15s", 0.10, 0.90)
    assert (settings.load_time.text, settings.load_share, settings.load_rps) == ("15s", 0.6, None)
    assert (settings.gate, settings.error_rate_margin, settings.max_inconclusive_share) == (
        ["capacity", "cpu_per_request"],
        0.001,
        0.25,
    )


def test_the_metrics_old_name_throughput_is_read_as_capacity(write_thresholds: WriteText) -> None:
    block = "{gate: [p95, throughput], load_time: 20s, load_rps: 900}"
    settings = load_thresholds(write_thresholds(VALID_SLO + PROFILE_WITH.format(block))).profiles["c"].compare
    assert settings.gate == ["p95", "capacity"]
    assert (settings.load_time.seconds, settings.load_rps) == (20, 900)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        pytest.param("{trials: 1}", "Threshold 'trials' has value 1: must be at least 2", id="one-trial"),
        pytest.param("{run_time: soon}", "Threshold 'run_time' has value 'soon'", id="bad-run-time"),
        pytest.param("{delta: 1.5}", "Threshold 'delta' has value 1.5: must be less than 1", id="delta-too-big"),
        pytest.param("{confidence: 1}", "Threshold 'confidence' has value 1: must be less than 1", id="certainty"),
        pytest.param("{gate: []}", "Threshold 'gate' has value []: must not be empty", id="gate-empty"),
        pytest.param("{gate: [p95, p95]}", "Threshold 'gate' has value ['p95', 'p95']: lists a metric more than once"),
        pytest.param("{gate: [latency]}", "Threshold 'gate[0]' has value 'latency'", id="unknown-metric"),
        pytest.param(
            "{gate: [capacity, throughput]}",
            "Threshold 'gate' has value ['capacity', 'throughput']: lists throughput (the old name of capacity) and "
            "capacity, the same metric",
            id="throughput-is-capacity",
        ),
        pytest.param("{load_share: 1}", "Threshold 'load_share' has value 1: must be less than 1", id="all-capacity"),
        pytest.param("{load_rps: 0}", "Threshold 'load_rps' has value 0: must be greater than 0", id="no-load"),
        pytest.param("{trails: 8}", "Threshold 'trails' has value 8: unknown key; expected one of trials,", id="typo"),
    ],
)
def test_a_bad_compare_block_is_named(write_thresholds: WriteText, block: str, message: str) -> None:
    with pytest.raises(ThresholdsError) as error:
        load_thresholds(write_thresholds(VALID_SLO + PROFILE_WITH.format(block)))
    assert message in str(error.value)
    assert "(in profiles.c.compare)" in str(error.value)


# ---------------------------------------------------------------- the search: block (python -m loadtest search)

SEARCH_PROFILE = "{users: 10, spawn_rate: 5, run_time: 10s, replicas: [1], cpus: 0.5, memory: 512m, search: %s}"


def test_a_search_block_round_trips(write_thresholds: WriteText) -> None:
    block = "{replicas: [2, 1], cpus: [0.5, 0.25], memory: [1g, 256m], probe_time: 20s, budget: 10m, capacity_steps: 0}"
    search = (
        load_thresholds(write_thresholds(VALID_SLO + "profiles: {p: " + SEARCH_PROFILE % block + "}"))
        .profiles["p"]
        .search
    )
    assert search is not None
    assert (search.replicas, search.cpus, search.memory) == ([2, 1], [0.5, 0.25], ["1g", "256m"])
    assert (search.probe_time, search.budget, search.capacity_steps) == (Duration("20s", 20), Duration("10m", 600), 0)
    assert (search.cost.cpu, search.cost.memory_gib) == (1.0, 0.0)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        pytest.param(
            "{replicas: [1], cpus: [0.5]}",
            "Threshold 'memory' is missing: it is required (in profiles.p.search)",
            id="missing",
        ),
        pytest.param(
            "{replicas: [1, 1], cpus: [0.5], memory: [1g]}",
            "Threshold 'replicas' has value [1, 1]: lists 1 more than once (in profiles.p.search)",
            id="repeated",
        ),
        pytest.param(
            "{replicas: [1], cpus: [0.5], memory: [512m, 0.5g]}",
            "Threshold 'memory' has value ['512m', '0.5g']: lists 512m and 0.5g, the same (in profiles.p.search)",
            id="same-memory",
        ),
        pytest.param(
            "{replicas: [1], cpus: [], memory: [1g]}",
            "Threshold 'cpus' has value []: must not be empty (in profiles.p.search)",
            id="empty",
        ),
        pytest.param(
            "{replicas: [1], cpus: [0.5], memory: [1g], budget: soon}",
            "Threshold 'budget' has value 'soon': not a Locust duration such as 90s, 2m or 1h30m "
            "(in profiles.p.search)",
            id="budget",
        ),
        pytest.param(
            "{replicas: [1], cpus: [0.5], memory: [1g], cost: {cpu: 0}}",
            "Threshold 'cost' weighs nothing; give cpu and/or memory_gib above 0 (in profiles.p.search)",
            id="no-weight",
        ),
        pytest.param(
            "{replicas: [1], cpus: [0.5], memory: [1g], grid: 2}",
            "Threshold 'grid' has value 2: unknown key; expected one of replicas, cpus, memory, probe_time, budget, "
            "cost, capacity_steps (in profiles.p.search)",
            id="unknown-key",
        ),
    ],
)
def test_a_bad_search_block_names_the_key(write_thresholds: WriteText, block: str, message: str) -> None:
    with pytest.raises(ThresholdsError) as raised:
        load_thresholds(write_thresholds(VALID_SLO + "profiles: {p: " + SEARCH_PROFILE % block + "}"))
    assert str(raised.value).endswith(message)


def test_the_confidence_of_the_slo_defaults_to_95_percent_and_must_be_a_level() -> None:
    assert Slo(max_error_rate=0.01, max_p95_ms=1000).confidence == 0.95
    with pytest.raises(ValidationError, match="confidence"):
        Slo(max_error_rate=0.01, max_p95_ms=1000, confidence=1.0)
