"""Health and the recent-jobs list (for `mlcanvas jobs`)."""

from __future__ import annotations

import time
from typing import Annotated

import httpx
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import EventsDep, JobsDep, SettingsDep
from api.schemas import DependencyHealth, HealthResponse, JobsResponse, JobSummary
from api.services.jobs import status_of

router = APIRouter(tags=["system"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/health", response_model=HealthResponse)
async def dependencies(jobs: JobsDep, events: EventsDep, settings: SettingsDep) -> HealthResponse:
    """Each dependency: Prefect server, the executor's deployments, MLflow, the event log."""
    deps: dict[str, DependencyHealth] = {}
    try:
        started = time.perf_counter()
        await jobs.client.api_healthcheck()
        deps["prefect"] = DependencyHealth(
            ok=True,
            url=settings.prefect_url,
            detail=f"{(time.perf_counter() - started) * 1000:.0f} ms",
        )
    except Exception as exc:  # reported, not raised: this endpoint describes failures
        deps["prefect"] = DependencyHealth(ok=False, url=settings.prefect_url, detail=str(exc))
    try:
        await jobs.deployment_id("nn")
        await jobs.deployment_id("rf")
        deps["executor"] = DependencyHealth(
            ok=True, url=settings.work_pool, detail="deployments registered"
        )
    except Exception as exc:
        deps["executor"] = DependencyHealth(ok=False, url=settings.work_pool, detail=str(exc))
    mlflow_url = settings.mlflow_tracking_uri or f"http://{settings.host}:{settings.mlflow_port}"
    if mlflow_url.startswith("http"):
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                response = await client.get(f"{mlflow_url}/health")
            deps["mlflow"] = DependencyHealth(ok=response.status_code == 200, url=mlflow_url)
        except httpx.HTTPError as exc:
            deps["mlflow"] = DependencyHealth(ok=False, url=mlflow_url, detail=str(exc))
    try:
        await run_in_threadpool(events.is_stop_requested, "0" * 32)
        deps["event_log"] = DependencyHealth(ok=True, url=settings.events_url)
    except Exception as exc:
        deps["event_log"] = DependencyHealth(ok=False, url=settings.events_url, detail=str(exc))
    ok = all(d.ok for d in deps.values())
    return HealthResponse(status="ok" if ok else "degraded", dependencies=deps)


@router.get("/api/jobs", response_model=JobsResponse)
async def recent_jobs(
    jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> JobsResponse:
    out = []
    for kind, run in await jobs.recent(limit):
        training = ((run.parameters or {}).get("graph") or {}).get("training") or {}
        out.append(
            JobSummary(
                job_id=run.id.hex,
                kind=kind,
                status=status_of(run, stop_requested=False),
                name=run.name,
                dataset=training.get("dataset"),
                created_at=run.created.isoformat() if run.created else None,
            )
        )
    return JobsResponse(jobs=out)
