"""JobService: flow-run creation without Prefect's client back-off, and the view cache."""

from __future__ import annotations

import asyncio
from typing import Any, cast
from uuid import uuid4

from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from api.services.jobs import LIVE_VIEW_SECONDS, JobService, JobView
from mlcanvas.jobs.event_log import EventLog
from mlcanvas.settings import Settings


def test_client_retries_are_off_inside_the_creation_context_only(tmp_path: Any) -> None:
    service = JobService(cast(Any, None), Settings(data_dir=tmp_path), cast(Any, None))
    default = PREFECT_CLIENT_MAX_RETRIES.value()
    assert default > 0

    with service._without_client_retries():
        assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
    assert PREFECT_CLIENT_MAX_RETRIES.value() == default

    first = service._without_client_retries().settings
    assert service._without_client_retries().settings is first  # prepared once, not per call


def test_a_queued_view_is_reread_while_a_running_one_is_served_stale(tmp_path: Any) -> None:
    """A watcher who saw the first epoch must not be told "queued" (the run left the queue),
    while pollers of a running job are answered from the cache as Prefect is re-read behind."""
    script = iter(["queued", "running", "completed"])

    class Scripted(JobService):
        async def _read_view(self, kind: str, job_id: str) -> JobView:
            return JobView(job_id, kind, next(script), None, FlowRun(flow_id=uuid4()))

    events = EventLog(f"sqlite:///{tmp_path / 'events.db'}")
    service = Scripted(cast(Any, None), Settings(data_dir=tmp_path), events)

    async def scenario() -> list[str]:
        seen = [(await service.view("nn", "a" * 32)).status]  # first read: queued
        await asyncio.sleep(LIVE_VIEW_SECONDS + 0.05)
        seen.append((await service.view("nn", "a" * 32)).status)  # re-read now: running
        await asyncio.sleep(LIVE_VIEW_SECONDS + 0.05)
        seen.append((await service.view("nn", "a" * 32)).status)  # cached; refresh behind
        await asyncio.sleep(0.05)
        seen.append((await service.view("nn", "a" * 32)).status)  # the refreshed view
        return seen

    assert asyncio.run(scenario()) == ["queued", "running", "running", "completed"]
