"""Reconciles runs whose process died with their executor: they must not stay Running.

Prefect leaves a run Running when its process and worker die together. On start-up and
periodically, runs of our work pool that are Pending/Running/Cancelling and whose recorded
process (the launcher's PID, `infrastructure_pid`) is gone are set Crashed with a reason, and
the job gets its terminal event. Assumes one executor host per work pool (the PID is local).
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from mlcanvas.jobs.bundle import job_dir, read_json, update_metadata
from mlcanvas.jobs.event_log import get_event_log
from mlcanvas.settings import Settings
from mlcanvas.stack.supervisor import pid_alive

log = logging.getLogger(__name__)

ACTIVE = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
_GRACE = timedelta(seconds=60)


async def sweep_dead_runs(client: PrefectClient, settings: Settings) -> list[str]:
    """Crash runs with no live process; returns the job ids it reconciled."""
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=ACTIVE))
        ),
        work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[settings.work_pool])),
        limit=200,
    )
    now = datetime.now(UTC)
    swept = []
    for run in runs:
        pid = int(run.infrastructure_pid) if (run.infrastructure_pid or "").isdigit() else None
        if pid is not None and pid_alive(pid):
            continue
        if _flow_process_alive(settings, run.id.hex):
            continue  # the launcher is gone but the run's own process is still saving
        changed = run.state.timestamp if run.state and run.state.timestamp else now
        if pid is None and now - changed < _GRACE:
            continue  # being submitted right now
        reason = (
            f"The executor process running this job is gone (pid {pid}); "
            "it was probably killed or the machine restarted."
        )
        await client.set_flow_run_state(run.id, Crashed(message=reason), force=True)
        _record_failure(settings, run.id.hex, reason)
        swept.append(run.id.hex)
        log.warning("marked flow run %s crashed: %s", run.id, reason)
    return swept


def _job_kind(settings: Settings, job_id: str) -> str:
    return "rf" if job_dir(settings, "rf", job_id).exists() else "nn"


def _flow_process_alive(settings: Settings, job_id: str) -> bool:
    """The run's own process (forked child) records its pid and host in metadata.json."""
    path = job_dir(settings, _job_kind(settings, job_id), job_id) / "metadata.json"
    if not path.exists():
        return False
    metadata = read_json(path)
    pid = metadata.get("pid")
    return metadata.get("host") == socket.gethostname() and isinstance(pid, int) and pid_alive(pid)


def _record_failure(settings: Settings, job_id: str, reason: str) -> None:
    kind = _job_kind(settings, job_id)
    events = get_event_log(settings.events_url)
    terminal = ("training_done", "error", "rf_done", "rf_error")
    if events.last_of_type(job_id, terminal) is None:
        events.append(job_id, "error" if kind == "nn" else "rf_error", {"message": reason})
    folder = job_dir(settings, kind, job_id)
    if (folder / "metadata.json").exists():
        update_metadata(folder, status="failed", terminal=True, error=reason)
