"""Dependencies as small functions plus Annotated aliases; everything comes from app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from api.services.deployments import DeploymentService
from api.services.event_hub import EventHub
from api.services.jobs import JobService
from api.services.models import ModelCache
from mlcanvas.jobs.event_log import EventLog
from mlcanvas.settings import Settings


def get_app_settings(request: HTTPConnection) -> Settings:
    return request.app.state.settings


def get_jobs(request: HTTPConnection) -> JobService:
    return request.app.state.jobs


def get_models(request: HTTPConnection) -> ModelCache:
    return request.app.state.models


def get_events(request: HTTPConnection) -> EventLog:
    return request.app.state.events


def get_hub(request: HTTPConnection) -> EventHub:
    return request.app.state.hub


async def get_deployments(request: HTTPConnection) -> DeploymentService:
    """Async on purpose: FastAPI runs sync dependencies in a worker thread, one hop per
    request on the deployment infer hot path."""
    return request.app.state.deployments


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
ModelsDep = Annotated[ModelCache, Depends(get_models)]
EventsDep = Annotated[EventLog, Depends(get_events)]
HubDep = Annotated[EventHub, Depends(get_hub)]
DeploymentsDep = Annotated[DeploymentService, Depends(get_deployments)]
