"""The job event log on a real sqlite file: order, gap-free seq under concurrency, durability."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from mlcanvas.jobs.event_log import EventLog, get_event_log

JOB = "a" * 32
OTHER = "b" * 32


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def events(url: str) -> EventLog:
    return EventLog(url)


def _append_together(log: EventLog, writer: str, count: int, together: Any) -> None:
    """One writer's appends, begun at the same moment as the other writer's (a Barrier)."""
    together.wait(timeout=60)
    for i in range(count):
        log.append(JOB, "epoch_update", {"writer": writer, "i": i})


def _assert_gap_free_and_ordered_per_writer(events: EventLog, writers: list[str], n: int) -> None:
    got = events.read(JOB)
    assert [e.seq for e in got] == list(range(1, len(writers) * n + 1))
    for writer in writers:
        assert [e.payload["i"] for e in got if e.payload["writer"] == writer] == list(range(n))


def test_append_numbers_events_from_one_per_job_and_read_returns_them_in_order(
    events: EventLog,
) -> None:
    assert events.append(JOB, "ws_connected", {"status": "queued"}) == 1
    assert events.append(OTHER, "ws_connected", {"status": "queued"}) == 1
    assert events.append(JOB, "epoch_update", {"epoch": 1, "loss": 0.5}) == 2

    got = events.read(JOB)

    assert [(e.seq, e.type, e.payload) for e in got] == [
        (1, "ws_connected", {"status": "queued"}),
        (2, "epoch_update", {"epoch": 1, "loss": 0.5}),
    ]
    assert got[1].message() == {"type": "epoch_update", "epoch": 1, "loss": 0.5}
    assert got[0].created_at <= got[1].created_at


def test_read_after_seq_returns_only_newer_events(events: EventLog) -> None:
    for epoch in range(1, 5):
        events.append(JOB, "epoch_update", {"epoch": epoch})

    assert [e.seq for e in events.read(JOB, after_seq=2)] == [3, 4]
    assert events.read(JOB, after_seq=4) == []
    assert events.read("c" * 32) == []


def test_numpy_scalars_are_stored_as_plain_floats(events: EventLog) -> None:
    import numpy as np

    events.append(JOB, "epoch_update", {"loss": np.float32(0.25)})

    assert events.read(JOB)[0].payload == {"loss": 0.25}


def test_last_of_type_finds_the_newest_matching_event(events: EventLog) -> None:
    events.append(JOB, "epoch_update", {"epoch": 1})
    events.append(JOB, "error", {"message": "first"})
    events.append(JOB, "epoch_update", {"epoch": 2})

    newest = events.last_of_type(JOB, ("training_done", "error"))
    assert newest is not None
    assert (newest.seq, newest.payload) == (2, {"message": "first"})
    last_epoch = events.last_of_type(JOB, ("epoch_update",))
    assert last_epoch is not None and last_epoch.payload == {"epoch": 2}
    assert events.last_of_type(JOB, ("training_done",)) is None
    assert events.last_of_type(OTHER, ("epoch_update",)) is None


def test_stop_requests_are_per_job_and_idempotent_and_the_first_wins(
    events: EventLog, tmp_path: Path
) -> None:
    assert not events.is_stop_requested(JOB)

    events.request_stop(JOB, "api")
    events.request_stop(JOB, "websocket")

    assert events.is_stop_requested(JOB)
    assert not events.is_stop_requested(OTHER)
    with sqlite3.connect(tmp_path / "events.db") as db:
        assert db.execute("SELECT job_id, source FROM stop_requests").fetchall() == [(JOB, "api")]


def test_events_and_stops_survive_a_new_instance(url: str) -> None:
    first = EventLog(url)
    first.append(JOB, "training_backend", {"backend": "local"})
    first.request_stop(JOB, "api")
    first.engine.dispose()

    reopened = EventLog(url)

    assert [e.message() for e in reopened.read(JOB)] == [
        {"type": "training_backend", "backend": "local"}
    ]
    assert reopened.is_stop_requested(JOB)
    assert reopened.append(JOB, "epoch_update", {"epoch": 1}) == 2


def test_concurrent_appends_from_two_threads_sharing_one_log(events: EventLog) -> None:
    n = 40
    together = threading.Barrier(2)
    threads = [
        threading.Thread(target=_append_together, args=(events, w, n, together))
        for w in ("t1", "t2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    _assert_gap_free_and_ordered_per_writer(events, ["t1", "t2"], n)


def test_concurrent_appends_from_two_threads_with_their_own_logs(
    url: str, events: EventLog
) -> None:
    """Two EventLog objects do not share a lock: the database alone keeps seq gap-free."""
    n = 40
    together = threading.Barrier(2)
    threads = [
        threading.Thread(target=_append_together, args=(EventLog(url), w, n, together))
        for w in ("t1", "t2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    _assert_gap_free_and_ordered_per_writer(events, ["t1", "t2"], n)


def test_concurrent_appends_from_two_processes(events: EventLog) -> None:
    """A forked child (as the forkserver makes) appends with the parent's log at the same time."""
    n = 40
    events.read(JOB)  # the parent has a pooled connection the child must not reuse
    context = multiprocessing.get_context("fork")
    together = context.Barrier(2)
    child = context.Process(target=_append_together, args=(events, "child", n, together))
    child.start()
    _append_together(events, "parent", n, together)
    child.join(timeout=60)

    assert child.exitcode == 0
    _assert_gap_free_and_ordered_per_writer(events, ["parent", "child"], n)


def test_logs_opened_at_once_on_a_fresh_database_all_work(tmp_path: Path) -> None:
    """The API and the executor may create the tables at the same moment."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    together = threading.Barrier(4)
    opened: list[EventLog] = []

    def open_log() -> None:
        together.wait(timeout=30)
        opened.append(EventLog(url))

    threads = [threading.Thread(target=open_log) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(opened) == 4
    assert [opened[i].append(JOB, "epoch_update", {}) for i in range(4)] == [1, 2, 3, 4]


def test_get_event_log_shares_one_instance_per_url(url: str, tmp_path: Path) -> None:
    assert get_event_log(url) is get_event_log(url)
    assert get_event_log(url) is not get_event_log(f"sqlite:///{tmp_path / 'other.db'}")
