"""Which test Locust is in (loadtest/ui/detection.py), from its web API's answers, and how tests are numbered."""

from __future__ import annotations

from pathlib import Path

from loadtest.runner.web_api import WebStatus
from loadtest.ui.detection import SessionTests, next_test_number


def test_tests_are_numbered_after_those_already_in_the_cell_folder(tmp_path: Path) -> None:
    assert next_test_number(tmp_path) == 1
    for name in ("test-1", "test-3", "test-x", "other"):
        (tmp_path / name).mkdir()
    (tmp_path / "test-9").write_text("a file, not a test folder, still taken")
    assert next_test_number(tmp_path) == 10


def answer(state: str, users: int = 0, requests: int = 0, failures: int = 0) -> WebStatus:
    return WebStatus(state, users=users, rps=0.0, requests=requests, failures=failures, workers=None)


def test_a_test_starts_when_locust_runs_and_stops_when_it_stops() -> None:
    tests = SessionTests(next_number=3)
    assert tests.observe(answer("ready"), now=0.0) == (None, None)
    started, stopped = tests.observe(answer("spawning", users=5, requests=2), now=1.0)
    assert started is not None
    assert stopped is None
    assert (started.number, started.started, started.peak_users) == (3, 1.0, 5)
    assert tests.observe(answer("running", users=20, requests=90), now=2.0) == (None, None)
    assert tests.observe(answer("running", users=10, requests=150), now=3.0) == (None, None)
    again, stopped = tests.observe(answer("stopped", requests=160), now=4.0)
    assert again is None
    assert stopped is started
    assert stopped.peak_users == 20
    assert tests.test is None
    assert tests.next_number == 4


def test_a_test_between_two_answers_is_found_from_the_figures_it_leaves() -> None:
    tests = SessionTests()
    tests.observe(answer("ready"), now=0.0)
    started, stopped = tests.observe(answer("stopped", requests=12, failures=1), now=1.0)
    assert started is not None
    assert stopped is started
    # While it is being judged, and once it is, the same figures are not another test.
    assert tests.observe(answer("stopped", requests=12, failures=1), now=2.0) == (None, None)
    tests.settled((12, 1))
    assert tests.observe(answer("stopped", requests=12, failures=1), now=3.0) == (None, None)
    # Reset stats while nothing runs: no figures, no test.
    assert tests.observe(answer("stopped"), now=4.0) == (None, None)


def test_an_old_answer_after_a_stop_is_not_a_new_test() -> None:
    tests = SessionTests()
    tests.observe(answer("running", users=10, requests=50), now=0.0)
    tests.observe(answer("stopped", requests=60), now=1.0)
    assert tests.observe(answer("stopped", requests=58), now=2.0) == (None, None)  # cached, from before the end
    tests.settled((60, 0))
    assert tests.observe(answer("stopped", requests=60), now=3.0) == (None, None)
    started, _ = tests.observe(answer("running", users=4, requests=1), now=4.0)
    assert started is not None
    assert started.number == 2


def test_a_test_given_up_without_its_figures_adopts_what_locust_shows_next() -> None:
    tests = SessionTests()
    tests.observe(answer("running", users=3, requests=5), now=0.0)
    tests.observe(answer("stopped", requests=7), now=1.0)
    tests.settled(None)
    assert tests.observe(answer("stopped", requests=7), now=2.0) == (None, None)
    started, stopped = tests.observe(answer("stopped", requests=30), now=3.0)
    assert started is not None
    assert stopped is started
