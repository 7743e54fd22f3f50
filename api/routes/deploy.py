"""Deployment endpoints under /api/deploy (contract §7), for finished NN and RF jobs.

Ids are checked (`^[0-9a-f]{32}$`, else 404) before any storage is touched. Infer is the hot
path: the raw body goes to the inference worker (api/services/deploy_inference.py) and the
reply comes back as ready-made JSON bytes; with a well-formed id it is served before routing
(api/infer_hot_path.py), the route documents it and answers the malformed ids.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.requests import Request

from api.deps import DeploymentsDep, get_deployments
from api.schemas import NNInferResponse, RFInferResponse
from api.services.deploy_inference import DeploymentInferRequest
from mlcanvas.deployments.log_book import KEEP_PER_DEPLOYMENT
from mlcanvas.deployments.record import Deployment, check_deployment_id

router = APIRouter(prefix="/api/deploy", tags=["deployments"])

DEFAULT_LOG_LIMIT = 200


class DeployRequest(BaseModel):
    job_id: str = Field(description="32-hex id of a finished NN or RF job.")
    target: str | None = Field(default="local", description="Only `local` exists for now.")
    name: str | None = Field(default=None, max_length=200, description="Display name.")


class DeploymentOut(BaseModel):
    """The contract's deployment object, plus the job family and its MLflow model."""

    deployment_id: str
    job_id: str
    kind: str = Field(description="`nn` or `rf`.")
    status: str = Field(description="`running` or `stopped`.")
    target: str
    endpoint_path: str = Field(description="`/api/deploy/<deployment_id>/infer`.")
    created_at: str
    last_used_at: str | None
    request_count: int = Field(description="Successful inferences (persisted).")
    name: str | None
    model_name: str = Field(description="Registered model in the MLflow registry.")
    model_version: str
    model_uri: str = Field(description="`models:/<name>@d-<deployment_id>`.")

    @classmethod
    def of(cls, record: Deployment) -> DeploymentOut:
        return cls(**record.to_wire())


class DeploymentList(BaseModel):
    deployments: list[DeploymentOut] = Field(description="Newest first.")


class DeploymentLog(BaseModel):
    timestamp: str
    level: str
    event: str
    message: str
    details: dict[str, Any] | None


class DeploymentLogs(BaseModel):
    deployment_id: str
    logs: list[DeploymentLog] = Field(description="The last `limit` entries, oldest first.")


class DeployedNNInferResponse(NNInferResponse):
    deployment_id: str


class DeployedRFInferResponse(RFInferResponse):
    deployment_id: str


async def infer(deployment_id: str, request: Request) -> Response:
    """Infer through a running deployment; counts and logs the request.

    Requests with a well-formed id are answered by api/infer_hot_path.py before routing, the
    same way: the raw body goes to the inference worker, which parses and checks it (a schema
    problem is still a 422) and batches it with concurrent requests into one forward pass; the
    reply comes back as ready JSON bytes.
    """
    deployments = await get_deployments(request)
    checked_id = check_deployment_id(deployment_id)
    reply = await deployments.infer(checked_id, await request.body())
    return Response(reply, media_type="application/json")


router.add_api_route(
    "/{deployment_id}/infer",
    infer,
    methods=["POST"],
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": DeploymentInferRequest.model_json_schema()}},
        }
    },
    responses={
        200: {
            "model": DeployedNNInferResponse | DeployedRFInferResponse,
            "description": "The job infer body plus `deployment_id` (NN or RF).",
        }
    },
)


@router.post("", response_model=DeploymentOut)
async def create(request: DeployRequest, deployments: DeploymentsDep) -> DeploymentOut:
    """Deploy a finished job: registers its model version, answers `running`."""
    record = await deployments.create(request.job_id, request.target, request.name)
    return DeploymentOut.of(record)


@router.get("/list", response_model=DeploymentList)
def list_deployments(deployments: DeploymentsDep) -> DeploymentList:
    return DeploymentList(deployments=[DeploymentOut.of(r) for r in deployments.store.list()])


@router.get("/status", response_model=DeploymentOut)
def status(deployment_id: Annotated[str, Query()], deployments: DeploymentsDep) -> DeploymentOut:
    return DeploymentOut.of(deployments.store.get(check_deployment_id(deployment_id)))


@router.get("/logs", response_model=DeploymentLogs)
def logs(
    deployment_id: Annotated[str, Query()],
    deployments: DeploymentsDep,
    limit: Annotated[int, Query(description="Clamped to [1, 500].")] = DEFAULT_LOG_LIMIT,
) -> DeploymentLogs:
    entries = deployments.store.logs(
        check_deployment_id(deployment_id), max(1, min(KEEP_PER_DEPLOYMENT, limit))
    )
    return DeploymentLogs(
        deployment_id=deployment_id,
        logs=[DeploymentLog(**entry.to_wire()) for entry in entries],
    )


@router.delete("/{deployment_id}", response_model=DeploymentOut)
async def stop(deployment_id: str, deployments: DeploymentsDep) -> DeploymentOut:
    """Stops the deployment and keeps its record; repeatable."""
    return DeploymentOut.of(await deployments.stop(check_deployment_id(deployment_id)))


@router.post("/{deployment_id}/start", response_model=DeploymentOut)
async def start(deployment_id: str, deployments: DeploymentsDep) -> DeploymentOut:
    """Unchanged when running; otherwise reloads the model and runs again."""
    return DeploymentOut.of(await deployments.start(check_deployment_id(deployment_id)))
