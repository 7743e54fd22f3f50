"""Jobs are Prefect flow runs: submit, read status, find the latest, stop.

The API keeps no job state of its own: status comes from Prefect (one read, ~5 ms), final
metrics and files from the job bundle, stop requests go to the durable event log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from uuid import UUID, uuid4

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId, FlowRunFilter
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES
from prefect.states import Failed
from starlette.concurrency import run_in_threadpool

from mlcanvas.errors import DependencyUnavailableError, NotFoundError, NotReadyError
from mlcanvas.jobs.bundle import ARTIFACT, FILES, job_dir, read_json, write_bundle
from mlcanvas.jobs.event_log import EventLog
from mlcanvas.jobs.ids import check_job_id, flow_run_id_of
from mlcanvas.jobs.naming import describe_graph
from mlcanvas.settings import Settings

log = logging.getLogger(__name__)

FLOW_OF = {"nn": "train-nn", "rf": "train-rf"}
TERMINAL = {"completed", "stopped", "failed"}
CREATE_ATTEMPTS = 8
LIVE_VIEW_SECONDS = 0.25
LIVE_VIEW_MAX_SECONDS = 2.0
VIEW_CACHE_SIZE = 4096
NO_JOBS = {"nn": "No active job to stop", "rf": "No active RF job to stop"}


def status_of(run: FlowRun, stop_requested: bool) -> str:
    """Prefect state → contract status (contract §4 'Statuses')."""
    state = run.state
    if state is None:
        return "queued"
    kind = state.type
    if kind in (StateType.SCHEDULED, StateType.PENDING, StateType.PAUSED):
        return "stopping" if stop_requested else "queued"
    if kind == StateType.RUNNING:
        return "stopping" if stop_requested else "running"
    if kind == StateType.CANCELLING:
        return "stopping"
    if kind == StateType.COMPLETED:
        return "stopped" if state.name == "Stopped" else "completed"
    if kind == StateType.CANCELLED:
        return "stopped"
    return "failed"


@dataclass(frozen=True)
class JobView:
    job_id: str
    kind: str
    status: str
    error: str | None
    run: FlowRun

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class JobService:
    def __init__(self, client: PrefectClient, settings: Settings, events: EventLog) -> None:
        self.client = client
        self.settings = settings
        self.events = events
        self._deployments: dict[str, UUID] = {}
        self._create_lock = asyncio.Lock()
        self._views: OrderedDict[tuple[str, str], tuple[float, JobView]] = OrderedDict()
        self._refreshing: dict[tuple[str, str], asyncio.Task[JobView]] = {}

    async def deployment_id(self, kind: str) -> UUID:
        """Cached: the deployment id never changes while the executor's registration stands."""
        if kind not in self._deployments:
            flow = FLOW_OF[kind]
            try:
                deployment = await self.client.read_deployment_by_name(f"{flow}/{flow}")
            except ObjectNotFound as exc:
                raise DependencyUnavailableError(
                    f"Deployment {flow}/{flow} is not registered: is the executor running "
                    "(`mlcanvas executor` or `make serve`)?"
                ) from exc
            except httpx.HTTPError as exc:
                raise DependencyUnavailableError(f"Prefect server unreachable: {exc}") from exc
            self._deployments[kind] = deployment.id
        return self._deployments[kind]

    async def submit(
        self,
        kind: str,
        graph: dict[str, Any],
        *,
        bundle: dict[str, Any],
    ) -> str:
        """Create the flow run and write the bundle before answering (contract §4)."""
        run = await self._create_run(kind, graph)
        job_id = run.id.hex
        try:
            await run_in_threadpool(write_bundle, self.settings, kind=kind, job_id=job_id, **bundle)
        except OSError as exc:
            await self.client.set_flow_run_state(
                run.id, Failed(message=f"Could not write the job bundle: {exc}"), force=True
            )
            raise
        log.info("submitted %s job %s (%s)", kind, job_id, run.name)
        return job_id

    @cached_property
    def _no_retry_settings(self) -> Any:
        return get_settings_context().settings.copy_with_update(
            updates={PREFECT_CLIENT_MAX_RETRIES: 0}
        )

    def _without_client_retries(self) -> SettingsContext:
        """Prefect's settings with its client's own retries off, for this context only.

        Prepared once: `temporary_settings` re-reads every settings source per call (~35 ms
        here, most of a POST /train), while entering a prepared context costs microseconds.
        """
        profile = get_settings_context().profile
        return SettingsContext(profile=profile, settings=self._no_retry_settings)

    async def _create_run(self, kind: str, graph: dict[str, Any]) -> FlowRun:
        """Prefect on sqlite answers 503 ("database is locked") when writers collide, and its
        client then backs off 2, 4, 8 s. Creations are serialised here and retried quickly;
        the idempotency key makes a retry after a dropped connection return the same run."""
        deployment = await self.deployment_id(kind)
        key = uuid4().hex
        delay = 0.05
        async with self._create_lock:
            for attempt in range(CREATE_ATTEMPTS):
                try:
                    with self._without_client_retries():
                        return await self.client.create_flow_run_from_deployment(
                            deployment,
                            parameters={"graph": graph},
                            name=describe_graph(kind, graph),
                            tags=["mlcanvas", kind],
                            idempotency_key=key,
                        )
                except (httpx.HTTPStatusError, httpx.TransportError) as exc:
                    retryable = not isinstance(exc, httpx.HTTPStatusError) or (
                        exc.response.status_code in (502, 503, 504)
                    )
                    if not retryable or attempt == CREATE_ATTEMPTS - 1:
                        raise DependencyUnavailableError(
                            f"Prefect server could not create the run: {exc}"
                        ) from exc
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover

    async def view(self, kind: str, job_id: str, *, fresh: bool = False) -> JobView:
        """Terminal views never change and are cached. A live view is served from the cache
        for up to LIVE_VIEW_MAX_SECONDS while one background read refreshes it once it is
        older than LIVE_VIEW_SECONDS, so pollers of a running job never wait on Prefect
        (stale-while-revalidate); queued views are re-read instead (`_max_age`).
        Stop requests are always read fresh; `fresh=True` reads a live run from Prefect now
        (for decisions such as deploying, stopping)."""
        key = (kind, job_id)
        cached = self._views.get(key)
        now = time.monotonic()
        if fresh or cached is None or now - cached[0] > self._max_age(cached[1]):
            if cached is not None and cached[1].terminal:
                return cached[1]
            return await self._refresh(key)
        stamp, view = cached
        if view.terminal:
            return view
        if now - stamp > LIVE_VIEW_SECONDS and key not in self._refreshing:
            task = asyncio.create_task(self._refresh(key))
            self._refreshing[key] = task
            task.add_done_callback(self._refresh_done)
        if view.status in ("queued", "running"):
            if await run_in_threadpool(self.events.is_stop_requested, job_id):
                view = replace(view, status="stopping")
        return view

    @staticmethod
    def _max_age(view: JobView) -> float:
        """A queued run leaves the queue within about a second, and a watcher who has already
        seen its first epoch must not read "queued": queued views are re-read, not served, once
        older than LIVE_VIEW_SECONDS."""
        return LIVE_VIEW_SECONDS if view.status == "queued" else LIVE_VIEW_MAX_SECONDS

    def _refresh_done(self, task: asyncio.Task[JobView]) -> None:
        for key, running in list(self._refreshing.items()):
            if running is task:
                del self._refreshing[key]
        if not task.cancelled() and task.exception() is not None:
            log.warning("background status refresh failed: %s", task.exception())

    async def _refresh(self, key: tuple[str, str]) -> JobView:
        view = await self._read_view(*key)
        self._views[key] = (time.monotonic(), view)
        self._views.move_to_end(key)
        while len(self._views) > VIEW_CACHE_SIZE:
            self._views.popitem(last=False)
        return view

    async def _read_view(self, kind: str, job_id: str) -> JobView:
        flow_run_id = flow_run_id_of(job_id)
        try:
            run = await self.client.read_flow_run(flow_run_id)
        except ObjectNotFound as exc:
            raise NotFoundError(f"Unknown job_id: {job_id}", job_id=job_id) from exc
        except httpx.HTTPError as exc:
            raise DependencyUnavailableError(f"Prefect server unreachable: {exc}") from exc
        if run.deployment_id != await self.deployment_id(kind):
            raise NotFoundError(f"Unknown job_id: {job_id}", job_id=job_id)
        stop = False
        if run.state is not None and not run.state.is_final():
            stop = await run_in_threadpool(self.events.is_stop_requested, job_id)
        status = status_of(run, stop)
        error = None
        if status == "failed":
            error = (run.state.message if run.state else None) or "Job failed"
        return JobView(job_id, kind, status, error, run)

    async def latest(self, kind: str) -> str | None:
        runs = await self.client.read_flow_runs(
            deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[await self.deployment_id(kind)])
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
        return runs[0].id.hex if runs else None

    async def recent(self, limit: int) -> list[tuple[str, FlowRun]]:
        ids = {await self.deployment_id(kind): kind for kind in FLOW_OF}
        runs = await self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(ids))),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
        )
        return [(ids[run.deployment_id], run) for run in runs if run.deployment_id in ids]

    def status_body(self, view: JobView) -> dict[str, Any]:
        folder = job_dir(self.settings, view.kind, view.job_id)
        metadata = _read_metadata(folder / FILES["metadata"])
        return {
            "job_id": view.job_id,
            "status": view.status,
            "terminal": view.terminal,
            "error": view.error,
            "final_metrics": metadata.get("final_metrics") if view.terminal else None,
            "has_python_source": (folder / FILES["python_source"]).exists(),
            "has_artifact": (folder / ARTIFACT[view.kind]).exists(),
        }

    async def stop(self, kind: str, job_id: str | None, *, source: str) -> tuple[str, str]:
        """Cooperative stop: recorded durably; the loop ends between batches and saves.
        A terminal job is never changed."""
        if job_id is None:
            job_id = await self.latest(kind)
            if job_id is None:
                raise NotReadyError(NO_JOBS[kind])
        check_job_id(job_id)
        view = await self.view(kind, job_id, fresh=True)
        if view.terminal:
            return job_id, view.status
        await run_in_threadpool(self.events.request_stop, job_id, source)
        return job_id, "stopping"


def _read_metadata(path: Any) -> dict[str, Any]:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return {}
