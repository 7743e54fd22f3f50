"""Train in this process when no stack answers: the flow runs in a background thread as an
ad-hoc Prefect flow run, and its job events are read back from the event log, the same
messages a websocket watcher of the stack would get.

The flows are imported inside `start_local_run` only: they pull in Prefect, torch and MLflow
(seconds of imports), which the other CLI commands never need.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlcanvas.client.job_messages import TERMINAL_TYPES
from mlcanvas.errors import DependencyUnavailableError
from mlcanvas.jobs.event_log import EventLog
from mlcanvas.settings import Settings
from mlcanvas.stack.health import http_ok
from mlcanvas.stack.serve import prefect_home, prefect_server_spec, stack_env
from mlcanvas.stack.supervisor import Supervisor

log = logging.getLogger(__name__)


@dataclass
class LocalRun:
    """A flow running in this process; `outcome` gets `state` or `error` when it ends, and
    `last_seq` is the last event read, so a follower picks up where the previous one stopped."""

    kind: str
    job_id: str
    thread: threading.Thread
    outcome: dict[str, Any] = field(default_factory=dict)
    last_seq: int = 0

    @property
    def is_running(self) -> bool:
        return self.thread.is_alive()


def configure_local_run(settings: Settings) -> None:
    """Set this process up like a stack child; call it before Prefect and MLflow are imported
    (both read their settings at import)."""
    if "prefect" in sys.modules:
        log.warning("Prefect is already imported; its API settings stay as they are")
    os.environ.update(stack_env(settings))
    # The progress bar narrates; library chatter (MLflow's pickle advice, ...) would break it.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    prefect_home(settings).mkdir(parents=True, exist_ok=True)


@contextmanager
def prefect_server_for_local_run(settings: Settings) -> Iterator[bool]:
    """Make sure a Prefect server answers at `settings.prefect_url`; yields True when a
    temporary one had to be started (it is stopped on exit).

    The temporary server is the stack's own (same port, same SQLite database), started as a
    supervised child in its own session: Prefect's built-in ephemeral server would sit in our
    process group and die on the same Ctrl-C that should only stop the job gracefully.
    """
    if http_ok(f"{settings.prefect_url}/health", timeout=0.5):
        yield False
        return
    if settings.prefect_api_url is not None:
        raise DependencyUnavailableError(f"No Prefect server answers at {settings.prefect_url}")
    spec = prefect_server_spec(settings, ui=False)
    spec.echo_output = False
    supervisor = Supervisor()
    try:
        supervisor.start(spec)
    except (RuntimeError, TimeoutError) as exc:
        supervisor.stop_all()
        raise DependencyUnavailableError(
            f"Could not start a temporary Prefect server on port {settings.prefect_port}: {exc}"
        ) from exc
    try:
        yield True
    finally:
        supervisor.stop_all()


def start_local_run(kind: str, graph: dict[str, Any], *, start_timeout: float = 180.0) -> LocalRun:
    """Start `train_nn`/`train_rf` in a daemon thread; return once its job id is known.

    The id comes from an `on_running` hook (the flow run id, as hex), so it is the same job id
    the API would have answered. Raises DependencyUnavailableError if the run never starts.
    """
    if kind == "nn":
        from flows.train_nn import train_nn as flow
    else:
        from flows.train_rf import train_rf as flow

    ids: queue.Queue[str] = queue.Queue()

    def on_running(_flow: Any, flow_run: Any, _state: Any) -> None:
        ids.put(flow_run.id.hex)

    runnable = flow.with_options(on_running=[on_running])
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["state"] = runnable(graph=graph, return_state=True)
        except BaseException as exc:  # reported by the caller, not lost with the thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"mlcanvas-{kind}-flow", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    is_alive = True
    while is_alive and time.monotonic() < deadline:
        is_alive = thread.is_alive()  # before the get: an id put just before the end still counts
        try:
            job_id = ids.get(timeout=0.2)
        except queue.Empty:
            continue
        return LocalRun(kind=kind, job_id=job_id, thread=thread, outcome=outcome)
    error = outcome.get("error")
    reason = error or outcome.get("state") or f"no job id after {start_timeout:.0f} s"
    raise DependencyUnavailableError(f"The training flow did not start: {reason}") from error


def follow_local_run(
    run: LocalRun,
    events: EventLog,
    *,
    poll_seconds: float = 0.2,
    on_poll: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """The job's messages in order, live, until its terminal message or the flow's end.

    `on_poll` runs before every read, so the caller can act (e.g. request a stop) while no
    message arrives.
    """
    while True:
        if on_poll is not None:
            on_poll()
        has_ended = not run.is_running  # read before the events: the last batch is complete
        for event in events.read(run.job_id, run.last_seq):
            run.last_seq = event.seq
            yield event.message()
            if event.type in TERMINAL_TYPES:
                return
        if has_ended:
            return
        time.sleep(poll_seconds)
