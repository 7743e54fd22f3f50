"""StopWatch turns a durable stop request (from any process) into a flag, with a reason."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlcanvas.jobs.event_log import EventLog
from mlcanvas.jobs.stop_watch import StopWatch

JOB = "a" * 32


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


def _wait_for(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_a_stop_requested_through_another_log_trips_the_flag(url: str) -> None:
    with StopWatch(EventLog(url), JOB, interval=0.01) as watch:
        assert not watch.is_set()
        EventLog(url).request_stop(JOB, "api")  # as the API process would

        assert _wait_for(watch.is_set)

    assert watch.reason == "stop_requested"


def test_a_stop_for_another_job_is_ignored(url: str) -> None:
    events = EventLog(url)
    polls: list[float] = []

    def count_polls() -> None:
        polls.append(time.monotonic())

    events.request_stop("b" * 32, "api")
    with StopWatch(events, JOB, interval=0.01, extra_check=count_polls) as watch:
        assert _wait_for(lambda: len(polls) >= 5)

    assert not watch.is_set()
    assert watch.reason is None


def test_the_extra_check_gives_its_own_reason(url: str) -> None:
    answers = iter([None, None, "prefect_cancel"])

    with StopWatch(
        EventLog(url), JOB, interval=0.01, extra_check=lambda: next(answers, None)
    ) as watch:
        assert _wait_for(watch.is_set)

    assert watch.reason == "prefect_cancel"


def test_a_failing_check_is_logged_and_polling_goes_on(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls = [0]

    def flaky() -> str | None:
        calls[0] += 1
        if calls[0] == 1:
            raise ConnectionError("Prefect blinked")
        return "prefect_cancel"

    with caplog.at_level(logging.WARNING, logger="mlcanvas.jobs.stop_watch"):
        with StopWatch(EventLog(url), JOB, interval=0.01, extra_check=flaky) as watch:
            assert _wait_for(watch.is_set)

    assert watch.reason == "prefect_cancel"
    assert f"stop check failed for job {JOB}" in caplog.text


def test_leaving_the_block_ends_the_poller(url: str) -> None:
    with StopWatch(EventLog(url), JOB, interval=0.01) as watch:
        pass

    assert not watch._thread.is_alive()
