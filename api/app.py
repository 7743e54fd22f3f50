"""FastAPI app factory: resources built in `lifespan`, kept on app.state, reached through deps.

The API never trains: it validates, submits Prefect flow runs, and reads Prefect, the event
log and job bundles. Run with `uvicorn api.app:create_app --factory`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prefect.client.orchestration import PrefectClient
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.infer_hot_path import DeployInferHotPath
from api.routes import deploy, nn, rf, system, ws
from api.services.deployments import open_deployments, tune_process_for_serving
from api.services.event_hub import EventHub
from api.services.jobs import JobService
from api.services.models import ModelCache
from mlcanvas.jobs.event_log import get_event_log
from mlcanvas.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The events database lives here; started beside the executor, the API may be first.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        events = get_event_log(settings.events_url)
        async with PrefectClient(api=settings.prefect_url) as client:
            jobs = JobService(client, settings, events)
            app.state.settings = settings
            app.state.events = events
            app.state.jobs = jobs
            app.state.hub = EventHub(events, jobs)
            app.state.models = ModelCache()
            app.state.deployments = await run_in_threadpool(
                open_deployments, settings, jobs, app.state.models
            )
            tune_process_for_serving()
            log.info("API ready: Prefect %s, events %s", settings.prefect_url, settings.events_url)
            yield
            await app.state.hub.close()
            await run_in_threadpool(app.state.deployments.close)

    app = FastAPI(
        title="MLCanvas",
        version="0.1.0",
        description="Backend of the MLCanvas visual network designer: jobs are Prefect flow "
        "runs, tracked in MLflow.",
        lifespan=lifespan,
    )
    # Added first, so it runs inside CORS: the deployment infer hot path (api/infer_hot_path.py).
    app.add_middleware(DeployInferHotPath)
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=".*",
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    install_error_handlers(app)
    routers = (deploy.router, system.router, nn.router, nn.datasets_router, rf.router, ws.router)
    for router in routers:
        app.include_router(router)
    return app
