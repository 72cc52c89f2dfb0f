"""The Makefile's workshop targets: `make help` lists them, and their variables reach the commands."""

from __future__ import annotations

import ast
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from loadtest.cli import build_parser
from loadtest.thresholds import load_thresholds
from loadtest.ui.ui_options import UiOptions

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*arguments: str) -> str:
    """What `make` prints (with -n, the commands it would run, run nothing)."""
    command = ["make", "--no-print-directory", *arguments]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def loadtest_command(printed: str) -> list[str]:
    """The `python -m loadtest …` arguments among the commands `make -n` printed (continuation lines joined)."""
    joined = printed.replace("\\\n", " ")
    (line,) = [line for line in joined.splitlines() if " -m loadtest " in line]
    words = shlex.split(line)
    return words[words.index("loadtest") + 1 :]


@pytest.mark.parametrize("target", ["build", "push", "ui", "stats", "perf", "test", "lint"])
def test_help_lists_each_target_with_one_line(target: str) -> None:
    lines = [line.split() for line in make("help").splitlines()]
    [described] = [words for words in lines if words[:2] == ["make", target]]
    assert len(described) > 3, described  # a description follows the name


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (["REPLICAS=2", "CPUS=1.0"], {"replicas": 2, "cpus": 1.0, "memory": None, "backend": "process"}),
        (["MEMORY=256m", "WEB_PORT=8090"], {"replicas": None, "memory": "256m", "web_port": 8090}),
        (["BACKEND=compose"], {"backend": "compose", "api_image": "inference-gate-api:local"}),
    ],
    ids=["replicas-cpus", "memory-port", "compose"],
)
def test_make_ui_passes_its_variables_to_the_ui_command(variables: list[str], expected: dict[str, object]) -> None:
    argv = loadtest_command(make("-n", "ui", "UI_OUT=results/x", *variables))
    args = build_parser().parse_args(argv)
    assert args.command == "ui"
    options, _, _ = UiOptions.resolve_with_profile(args, {}, lambda _: load_thresholds(ROOT / "thresholds.yaml"))
    assert options.out == Path("results/x")
    for key, value in expected.items():
        assert getattr(options, key) == value, key


def test_make_ui_on_compose_builds_the_images_first() -> None:
    printed = make("-n", "ui", "BACKEND=compose")
    assert "scripts/build_images.sh" in printed.split(" -m loadtest ")[0]


def test_make_stats_reads_the_folder_make_ui_writes() -> None:
    args = build_parser().parse_args(loadtest_command(make("-n", "stats", "UI_OUT=results/x")))
    assert args.command == "stats"
    assert args.dir == Path("results/x")


def marks_integration(path: Path) -> bool:
    """Whether the module's code names `pytest.mark.integration` or `mark.integration` (a decorator, a
    `pytestmark`, a parameter's marks)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "integration"
        and (
            (isinstance(node.value, ast.Attribute) and node.value.attr == "mark")
            or (isinstance(node.value, ast.Name) and node.value.id == "mark")
        )
        for node in ast.walk(tree)
    )


def test_the_integration_runs_collect_every_file_that_marks_integration_tests() -> None:
    # make test passes the integration run only the files its grep finds: a file the grep missed would
    # have its integration tests silently never run, so the marker is only ever written where it applies.
    modules = sorted(ROOT.joinpath("tests").rglob("*.py"))
    marking = {str(path.relative_to(ROOT)) for path in modules if marks_integration(path)}
    assert all(Path(name).name.startswith("test_") for name in marking), "only test modules may mark tests"
    assert len(marking) >= 10
    for target, selection in (("test", '-m "integration and not slow"'), ("test-slow", "-m slow")):
        (line,) = [line for line in make("-n", target).splitlines() if selection in line]
        assert marking <= set(shlex.split(line)), target
