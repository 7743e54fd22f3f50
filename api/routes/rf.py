"""Random-forest endpoints under /api/rf (contract §6)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import JobsDep, ModelsDep, SettingsDep
from api.routes.nn import EMPTY_STATUS
from api.schemas import (
    CompileResponse,
    DatasetsResponse,
    InferRequest,
    JobStatus,
    RFInferResponse,
    RFTrainResponse,
    StopRequest,
    StopResponse,
)
from api.services.exports import export_file
from api.services.models import infer_rf
from mlcanvas.datasets.registry import list_rf_datasets
from mlcanvas.errors import GraphValidationError
from mlcanvas.graph import RFGraph, ValidationReport, validate_rf_graph
from mlcanvas.jobs.bundle import job_dir
from mlcanvas.jobs.ids import check_job_id
from mlcanvas.jobs.rf_prepare import compile_rf, prepare_rf_training, rf_dataset_spec

router = APIRouter(prefix="/api/rf", tags=["random-forest"])


@router.post("/validate", response_model=ValidationReport)
def validate(graph: RFGraph) -> ValidationReport:
    return validate_rf_graph(graph)


@router.post("/compile", response_model=CompileResponse)
def compile_graph(graph: RFGraph) -> CompileResponse:
    try:
        spec = rf_dataset_spec(graph)
    except GraphValidationError:  # compile does not check the dataset; generic names then
        spec = None
    prepared = compile_rf(graph, spec)
    return CompileResponse(
        summary=prepared.summary, python_source=prepared.python_source, warnings=[]
    )


@router.post("/train", response_model=RFTrainResponse)
async def train(graph: RFGraph, jobs: JobsDep) -> RFTrainResponse:
    prepared, _spec = prepare_rf_training(graph)
    job_id = await jobs.submit(
        "rf",
        graph.to_graph_json(),
        bundle={
            "python_source": prepared.python_source,
            "graph": prepared.graph_json,
            "training": prepared.training.model_dump(),
            "summary": prepared.summary,
            "warnings": [],
        },
    )
    return RFTrainResponse(job_id=job_id)


@router.get("/status", response_model=JobStatus)
async def status(job_id: Annotated[str, Query()], jobs: JobsDep) -> JobStatus:
    view = await jobs.view("rf", check_job_id(job_id))
    return JobStatus(**jobs.status_body(view))


@router.get("/latest", response_model=JobStatus)
async def latest(jobs: JobsDep) -> JobStatus:
    job_id = await jobs.latest("rf")
    if job_id is None:
        return EMPTY_STATUS
    return JobStatus(**jobs.status_body(await jobs.view("rf", job_id)))


@router.post("/stop", response_model=StopResponse)
async def stop(jobs: JobsDep, body: Annotated[StopRequest | None, Body()] = None) -> StopResponse:
    job_id, state = await jobs.stop("rf", body.job_id if body else None, source="api")
    return StopResponse(job_id=job_id, status=state)


@router.post("/infer", response_model=RFInferResponse)
async def infer(
    request: InferRequest, jobs: JobsDep, models: ModelsDep, settings: SettingsDep
) -> RFInferResponse:
    view = await jobs.view("rf", check_job_id(request.job_id))
    result: dict[str, Any] = await run_in_threadpool(
        infer_rf,
        models,
        job_dir(settings, "rf", view.job_id),
        request.inputs,
        return_probabilities=request.return_probabilities,
    )
    return RFInferResponse(job_id=view.job_id, **result)


@router.get("/export", response_class=FileResponse)
async def export(
    job_id: Annotated[str, Query()],
    settings: SettingsDep,
    jobs: JobsDep,
    format: Literal["py", "pkl"] = "py",  # noqa: A002 - the contract's parameter name
) -> FileResponse:
    view = await jobs.view("rf", check_job_id(job_id))
    return export_file(settings, "rf", view.job_id, format)


@router.get("/datasets", response_model=DatasetsResponse)
def datasets() -> DatasetsResponse:
    return DatasetsResponse(datasets=list_rf_datasets())
