"""Request and response models of the wire contract; their descriptions are the OpenAPI docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StopRequest(BaseModel):
    job_id: str | None = Field(default=None, description="Job to stop; null/absent = newest job.")


class StopResponse(BaseModel):
    job_id: str
    status: str = Field(description="`stopping` for an active job, else its terminal status.")


class InferRequest(BaseModel):
    job_id: str = Field(description="32-hex job id.")
    inputs: Any = Field(description="One sample, a batch, or flat rows (contract §4).")
    return_probabilities: bool = True


class CompileResponse(BaseModel):
    valid: bool = True
    summary: dict[str, Any]
    python_source: str
    warnings: list[str]


class TrainResponse(BaseModel):
    job_id: str
    status: str = "queued"
    training_backend: str = "local"
    modal_app_name: str | None = None
    modal_function_name: str | None = None


class RFTrainResponse(BaseModel):
    job_id: str
    status: str = "queued"


class JobStatus(BaseModel):
    job_id: str | None
    status: str | None
    terminal: bool | None
    error: str | None
    final_metrics: dict[str, float] | None = None
    has_python_source: bool
    has_artifact: bool


class NNInferResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    job_id: str
    input_shape: list[int]
    output_shape: list[int]
    logits: list[list[float]]
    predictions: list[int]
    probabilities: list[list[float]] | None = None


class RFInferResponse(BaseModel):
    job_id: str
    input_shape: list[int]
    prediction_indices: list[int]
    predictions: list[Any]
    classes: list[str]
    probabilities: list[list[float]] | None = None


class DatasetsResponse(BaseModel):
    datasets: list[dict[str, Any]]


class JobSummary(BaseModel):
    job_id: str
    kind: str
    status: str
    name: str
    dataset: str | None
    created_at: str | None


class JobsResponse(BaseModel):
    jobs: list[JobSummary]


class DependencyHealth(BaseModel):
    ok: bool
    url: str
    detail: str | None = None


class HealthResponse(BaseModel):
    status: str
    dependencies: dict[str, DependencyHealth]
