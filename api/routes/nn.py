"""NN endpoints (contract §4): each route parses, calls one service function, returns a model."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import JobsDep, ModelsDep, SettingsDep
from api.schemas import (
    CompileResponse,
    DatasetsResponse,
    InferRequest,
    JobStatus,
    NNInferResponse,
    StopRequest,
    StopResponse,
    TrainResponse,
)
from api.services.exports import export_file
from api.services.models import infer_nn
from mlcanvas.datasets.registry import list_nn_datasets
from mlcanvas.graph import NNGraph, ValidationReport, validate_graph
from mlcanvas.jobs.bundle import job_dir
from mlcanvas.jobs.ids import check_job_id
from mlcanvas.jobs.nn_prepare import compile_nn, prepare_nn_training

router = APIRouter(prefix="/api/model", tags=["nn"])
datasets_router = APIRouter(tags=["datasets"])

EMPTY_STATUS = JobStatus(
    job_id=None,
    status=None,
    terminal=None,
    error=None,
    final_metrics=None,
    has_python_source=False,
    has_artifact=False,
)


@router.post("/validate", response_model=ValidationReport)
def validate(graph: NNGraph) -> ValidationReport:
    """200 even when invalid: `valid:false` lists every error with node id and field."""
    return validate_graph(graph)


@router.post("/compile", response_model=CompileResponse)
def compile_graph(graph: NNGraph) -> CompileResponse:
    prepared = compile_nn(graph)
    return CompileResponse(
        summary=prepared.summary, python_source=prepared.python_source, warnings=prepared.warnings
    )


@router.post("/train", response_model=TrainResponse)
async def train(graph: NNGraph, jobs: JobsDep) -> TrainResponse:
    """Validates, creates a `train-nn` flow run, writes the bundle, answers `queued`."""
    prepared = prepare_nn_training(graph)
    job_id = await jobs.submit(
        "nn",
        graph.to_graph_json(),
        bundle={
            "python_source": prepared.python_source,
            "graph": prepared.graph_json,
            "training": prepared.training.model_dump(),
            "summary": prepared.summary,
            "warnings": prepared.warnings,
        },
    )
    return TrainResponse(job_id=job_id)


@router.get("/status", response_model=JobStatus)
async def status(job_id: Annotated[str, Query()], jobs: JobsDep) -> JobStatus:
    view = await jobs.view("nn", check_job_id(job_id))
    return JobStatus(**jobs.status_body(view))


@router.get("/latest", response_model=JobStatus)
async def latest(jobs: JobsDep) -> JobStatus:
    job_id = await jobs.latest("nn")
    if job_id is None:
        return EMPTY_STATUS
    return JobStatus(**jobs.status_body(await jobs.view("nn", job_id)))


@router.post("/stop", response_model=StopResponse)
async def stop(jobs: JobsDep, body: Annotated[StopRequest | None, Body()] = None) -> StopResponse:
    job_id, state = await jobs.stop("nn", body.job_id if body else None, source="api")
    return StopResponse(job_id=job_id, status=state)


@router.post("/infer", response_model=NNInferResponse, response_model_exclude_none=True)
async def infer(
    request: InferRequest, jobs: JobsDep, models: ModelsDep, settings: SettingsDep
) -> NNInferResponse:
    view = await jobs.view("nn", check_job_id(request.job_id))
    result = await run_in_threadpool(
        infer_nn,
        models,
        job_dir(settings, "nn", view.job_id),
        request.inputs,
        return_probabilities=request.return_probabilities,
        status=view.status,
    )
    return NNInferResponse(job_id=view.job_id, **result)


@router.get("/export", response_class=FileResponse)
async def export(
    job_id: Annotated[str, Query()],
    settings: SettingsDep,
    jobs: JobsDep,
    format: Literal["py", "pt"] = "py",  # noqa: A002 - the contract's parameter name
) -> FileResponse:
    """`py`: the generated model.py; `pt`: the state_dict, both served from the bundle."""
    view = await jobs.view("nn", check_job_id(job_id))
    return export_file(settings, "nn", view.job_id, format)


@datasets_router.get("/api/datasets", response_model=DatasetsResponse)
def datasets() -> DatasetsResponse:
    return DatasetsResponse(datasets=list_nn_datasets())
