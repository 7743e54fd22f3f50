"""Deployments in the API process: what must hold before a job is served, model loading, and
the infer hot path.

Records, logs and counters live in `mlcanvas.deployments.DeploymentStore`; the loaded models
live in the shared `ModelCache` (bounded LRU). The hot path (`infer`) runs in a worker thread
and reads only memory and the cache: counters and logs are flushed in the background.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from api.services.jobs import JobService, JobView
from api.services.models import ModelCache, infer_nn, infer_rf
from mlcanvas.deployments.record import LOCAL_TARGET, RUNNING, Deployment
from mlcanvas.deployments.store import DeploymentStore
from mlcanvas.errors import (
    InferenceInputError,
    InvalidInputError,
    MLCanvasError,
    NotFoundError,
    NotReadyError,
)
from mlcanvas.jobs.bundle import ARTIFACT, FILES, job_dir
from mlcanvas.jobs.ids import check_job_id
from mlcanvas.settings import Settings

log = logging.getLogger(__name__)

REMOTE_NOT_SUPPORTED = (
    "Only local deployment is supported right now. Remote targets are planned next."
)
ARTIFACT_SUFFIX = {"nn": "pt", "rf": "pkl"}


def normalise_target(target: str | None) -> str:
    """Trimmed and lowercased; only `local` exists (contract §7)."""
    cleaned = (target or LOCAL_TARGET).strip().lower()
    if cleaned != LOCAL_TARGET:
        raise InvalidInputError(REMOTE_NOT_SUPPORTED, target=target)
    return cleaned


class DeploymentService:
    def __init__(
        self, store: DeploymentStore, jobs: JobService, models: ModelCache, settings: Settings
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.models = models
        self.settings = settings
        self._folders: dict[str, Path] = {}

    # --- control plane ------------------------------------------------------------------
    async def create(self, job_id: str, target: str | None, name: str | None) -> Deployment:
        """Deploy a finished NN or RF job: its bundle and artifact must exist and load."""
        target = normalise_target(target)
        view = await self._finished_job(check_job_id(job_id))
        await run_in_threadpool(self._load_model, view.kind, view.job_id)
        record = await run_in_threadpool(
            self.store.create, job_id=view.job_id, kind=view.kind, name=name, target=target
        )
        log.info("deployed %s job %s as %s", view.kind, view.job_id, record.deployment_id)
        return record

    async def _finished_job(self, job_id: str) -> JobView:
        try:
            view = await self.jobs.view("nn", job_id)
        except NotFoundError:
            view = await self.jobs.view("rf", job_id)
        if view.status == "failed":
            raise NotReadyError(
                f"Job {job_id} failed ({view.error}); only finished jobs can be deployed",
                job_id=job_id,
                status=view.status,
            )
        if not view.terminal:
            raise NotReadyError(
                f"Job {job_id} is still {view.status}; deploy it once it has finished",
                job_id=job_id,
                status=view.status,
            )
        return view

    def _load_model(self, kind: str, job_id: str) -> None:
        """Load (or find cached) the job's model; the contract's 404s when files are missing."""
        folder = job_dir(self.settings, kind, job_id)
        if not (folder / FILES["graph"]).exists():
            raise NotFoundError(
                f"No graph bundle found for job_id: {job_id}. "
                "Retrain or restart with a recent job.",
                job_id=job_id,
            )
        if not (folder / ARTIFACT[kind]).exists():
            raise NotFoundError(
                f"No .{ARTIFACT_SUFFIX[kind]} artifact found for job_id: {job_id}", job_id=job_id
            )
        if kind == "nn":
            self.models.nn(folder)
        else:
            self.models.rf(folder)

    async def start(self, deployment_id: str) -> Deployment:
        """Unchanged when running; else check the registry entry, reload the model, run."""
        record = self.store.get(deployment_id)
        if record.is_running:
            return record
        await run_in_threadpool(self.store.resolve_version, deployment_id)
        await run_in_threadpool(self._load_model, record.kind, record.job_id)
        return await run_in_threadpool(self.store.set_status, deployment_id, RUNNING)

    async def stop(self, deployment_id: str) -> Deployment:
        return await run_in_threadpool(self.store.delete, deployment_id)

    # --- hot path (worker thread) ---------------------------------------------------------
    def infer(self, deployment_id: str, inputs: Any, return_probabilities: bool) -> bytes:
        """One forward pass over the request's rows; the reply as JSON bytes.

        Rejected input is logged (`inference_request_invalid`) and not counted.
        """
        record = self.store.get(deployment_id)
        if not record.is_running:
            raise NotReadyError("Deployment is not running", deployment_id=deployment_id)
        folder = self._folder(record)
        try:
            if record.kind == "nn":
                result = infer_nn(
                    self.models,
                    folder,
                    inputs,
                    return_probabilities=return_probabilities,
                    status="completed",
                    what="deployed model",
                )
                output_shape = result["output_shape"]
            else:
                result = infer_rf(
                    self.models, folder, inputs, return_probabilities=return_probabilities
                )
                output_shape = [result["input_shape"][0], len(result["classes"])]
        except InferenceInputError as exc:
            self.store.log(
                deployment_id,
                "inference_request_invalid",
                f"Inference request rejected: {exc.message}",
                {"status_code": 400, "detail": exc.to_detail()},
                level="error",
            )
            raise
        self.store.record_use(
            deployment_id,
            input_shape=result["input_shape"],
            output_shape=output_shape,
            prediction_count=len(result["predictions"]),
        )
        return orjson.dumps({"job_id": record.job_id, **result, "deployment_id": deployment_id})

    def _folder(self, record: Deployment) -> Path:
        folder = self._folders.get(record.deployment_id)
        if folder is None:
            folder = self._folders[record.deployment_id] = job_dir(
                self.settings, record.kind, record.job_id
            )
        return folder


def open_deployments(settings: Settings, jobs: JobService, models: ModelCache) -> DeploymentService:
    """Build the service at start-up: records restored (running ones come back stopped) and
    the background flush started. If MLflow is unreachable now, the restore is retried on
    first use instead of keeping the API down."""
    store = DeploymentStore.open(settings)
    try:
        store.restore()
    except MLCanvasError:
        log.exception("could not restore deployments at start-up; retrying on first use")
    store.start_background_flush()
    return DeploymentService(store, jobs, models, settings)
