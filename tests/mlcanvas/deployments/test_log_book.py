"""The deployment_logs table: order, limit, trimming to the newest entries, JSON details."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from mlcanvas.deployments.log_book import DeploymentLogBook, LogEntry
from mlcanvas.jobs.event_log import EventLog

A = "a" * 32
B = "b" * 32


def entry(deployment_id: str, n: int, details: dict | None = None) -> LogEntry:
    return LogEntry(
        deployment_id, f"2026-01-01T00:00:{n:02d}+00:00", "info", f"e{n}", f"m{n}", details
    )


def test_read_gives_the_last_entries_oldest_first(tmp_path: Path) -> None:
    book = DeploymentLogBook.for_url(f"sqlite:///{tmp_path / 'events.db'}")
    book.append_many([entry(A, n, {"n": n, "shape": [1, 2]}) for n in range(5)] + [entry(B, 9)])
    assert [e.event for e in book.read(A, 3)] == ["e2", "e3", "e4"]
    assert book.read(A, 10)[0].to_wire() == {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "level": "info",
        "event": "e0",
        "message": "m0",
        "details": {"n": 0, "shape": [1, 2]},
    }
    assert [e.details for e in book.read(B, 10)] == [None]
    assert book.read("c" * 32, 10) == []


def test_only_the_newest_entries_are_kept_per_deployment(tmp_path: Path) -> None:
    book = DeploymentLogBook(EventLog(f"sqlite:///{tmp_path / 'events.db'}").engine, keep=4)
    book.append_many([entry(A, n) for n in range(3)])
    book.append_many([entry(A, n) for n in range(3, 7)] + [entry(B, n) for n in range(2)])
    assert [e.event for e in book.read(A, 100)] == ["e3", "e4", "e5", "e6"]
    assert [e.event for e in book.read(B, 100)] == ["e0", "e1"]
    with book.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM deployment_logs")).scalar()
    assert count == 6


def test_the_job_event_tables_are_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    events = EventLog(url)
    DeploymentLogBook(events.engine)
    events.append("c" * 32, "epoch_update", {"epoch": 1})
    assert [e.type for e in events.read("c" * 32)] == ["epoch_update"]
    names = set(sa.inspect(events.engine).get_table_names())
    assert {"job_events", "stop_requests", "deployment_logs"} <= names
