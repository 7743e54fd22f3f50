"""Following a local job through the real event log (sqlite in a temp dir), no Prefect."""

from __future__ import annotations

import threading
from pathlib import Path

from mlcanvas.client.local_run import LocalRun, follow_local_run
from mlcanvas.jobs.event_log import EventLog

JOB = "c" * 32


def _finished_thread() -> threading.Thread:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    return thread


def test_follow_reads_in_order_and_stops_at_the_terminal_message(tmp_path: Path) -> None:
    events = EventLog(f"sqlite:///{tmp_path / 'events.db'}")
    events.append(JOB, "training_backend", {"backend": "local"})
    events.append(JOB, "epoch_update", {"epoch": 1})
    events.append(JOB, "training_done", {"final_accuracy": 0.9})
    events.append(JOB, "epoch_update", {"epoch": 99})
    run = LocalRun(kind="nn", job_id=JOB, thread=_finished_thread())
    polls: list[int] = []

    messages = list(follow_local_run(run, events, on_poll=lambda: polls.append(run.last_seq)))

    assert [m["type"] for m in messages] == ["training_backend", "epoch_update", "training_done"]
    assert run.last_seq == 3
    assert polls == [0]


def test_follow_ends_with_the_flow_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    events = EventLog(f"sqlite:///{tmp_path / 'events.db'}")
    events.append(JOB, "epoch_update", {"epoch": 1})
    run = LocalRun(kind="nn", job_id=JOB, thread=_finished_thread())

    assert [m["epoch"] for m in follow_local_run(run, events)] == [1]

    events.append(JOB, "epoch_update", {"epoch": 2})
    assert [m["epoch"] for m in follow_local_run(run, events)] == [2]
